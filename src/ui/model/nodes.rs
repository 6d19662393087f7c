//! The broker's own figures per node, where the broker publishes them: rmqtt's `$SYS` plugin sends
//! `$SYS/brokers/{node}/stats` (a JSON object: `"connections.count"`, `"sessions.count"`, ...)
//! every few seconds from each node of a cluster. A node that stops sending is shown silent: on a
//! cluster, that is the first sign of a node down, seen from any other node.

use super::json::{self, JsonExt};

/// The filter that brings the figures (see [`BrokerNodes::record`]).
pub const STATS_FILTER: &str = "$SYS/brokers/+/stats";

/// At most this many nodes are kept (a topic naming more is ignored).
pub const MAX_NODES: usize = 64;

/// One node's last figures.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeFigures {
    /// The node's name as the topic gives it (rmqtt: its id).
    pub node: String,
    /// Client connections on this node.
    pub connections: Option<u64>,
    /// Sessions held by this node (connected or not).
    pub sessions: Option<u64>,
    /// Subscriptions on this node (shared ones included).
    pub subscriptions: Option<u64>,
    /// Messages queued for offline or slow clients.
    pub queued: Option<u64>,
    /// Outgoing QoS 1 and 2 messages awaiting acknowledgement.
    pub inflight: Option<u64>,
    /// Retained messages.
    pub retained: Option<u64>,
    /// When the last figures came (page clock, ms).
    pub at_ms: f64,
    /// Since when reports have come at a steady interval: the interval, learnt (ms).
    pub interval_ms: Option<f64>,
}

impl NodeFigures {
    /// Silent for more than three of its intervals (10 s while the interval is unknown).
    pub fn silent(&self, now_ms: f64) -> bool {
        now_ms - self.at_ms > 3.0 * self.interval_ms.unwrap_or(10_000.0 / 3.0)
    }
}

/// Every node heard of, by name.
// Design: a small sorted list (a cluster has a handful of nodes; MAX_NODES bounds it), replaced
// field by field from each report; a report that does not parse changes nothing.
#[derive(Debug, Clone, Default)]
pub struct BrokerNodes {
    nodes: Vec<NodeFigures>,
}

impl BrokerNodes {
    /// Takes a message if it is a node's statistics; returns whether anything changed.
    pub fn record(&mut self, topic: &str, payload: &[u8], at_ms: f64) -> bool {
        let Some(node) = topic
            .strip_prefix("$SYS/brokers/")
            .and_then(|rest| rest.strip_suffix("/stats"))
            .filter(|n| !n.is_empty() && !n.contains('/'))
        else {
            return false;
        };
        let Some(doc) = std::str::from_utf8(payload).ok().and_then(json::parse) else {
            return false;
        };
        if !doc.is_object() {
            return false;
        }
        let count = |key: &str| doc.get(key).and_then(|v| v.number()).map(|n| n as u64);
        let i = match self.nodes.binary_search_by(|n| n.node.as_str().cmp(node)) {
            Ok(i) => i,
            Err(i) => {
                if self.nodes.len() >= MAX_NODES {
                    return false;
                }
                self.nodes.insert(
                    i,
                    NodeFigures {
                        node: node.to_string(),
                        connections: None,
                        sessions: None,
                        subscriptions: None,
                        queued: None,
                        inflight: None,
                        retained: None,
                        at_ms,
                        interval_ms: None,
                    },
                );
                i
            }
        };
        let n = &mut self.nodes[i];
        let gap = at_ms - n.at_ms;
        if gap > 0.0 {
            // The interval: the smallest gap seen, so a late report does not stretch it.
            n.interval_ms = Some(n.interval_ms.map_or(gap, |i| i.min(gap)));
        }
        n.at_ms = at_ms;
        n.connections = count("connections.count");
        n.sessions = count("sessions.count");
        n.subscriptions = count("subscriptions.count");
        n.queued = count("message_queues.count");
        n.inflight = count("out_inflights.count");
        n.retained = count("retaineds.count");
        true
    }

    /// The nodes, by name.
    pub fn list(&self) -> &[NodeFigures] {
        &self.nodes
    }

    /// Connections over every node that is not silent.
    pub fn connections(&self, now_ms: f64) -> u64 {
        self.nodes
            .iter()
            .filter(|n| !n.silent(now_ms))
            .filter_map(|n| n.connections)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = r#"{"connections.count": 12, "connections.max": 20, "sessions.count": 14,
        "subscriptions.count": 30, "message_queues.count": 2, "out_inflights.count": 1, "retaineds.count": 40}"#;

    #[test]
    fn figures_per_node_from_rmqtt_stats() {
        let mut b = BrokerNodes::default();
        assert!(b.record("$SYS/brokers/2/stats", STATS.as_bytes(), 1000.0));
        assert!(b.record(
            "$SYS/brokers/1/stats",
            br#"{"connections.count": 3}"#,
            1000.0
        ));
        let l = b.list();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].node, "1");
        assert_eq!(l[1].connections, Some(12));
        assert_eq!(l[1].sessions, Some(14));
        assert_eq!(l[1].subscriptions, Some(30));
        assert_eq!(l[1].queued, Some(2));
        assert_eq!(l[1].inflight, Some(1));
        assert_eq!(l[1].retained, Some(40));
        assert_eq!(l[0].sessions, None, "a figure not sent is not made up");
        assert_eq!(b.connections(1000.0), 15);
    }

    #[test]
    fn other_topics_and_broken_payloads_change_nothing() {
        let mut b = BrokerNodes::default();
        for (topic, payload) in [
            ("$SYS/brokers/1/metrics", STATS),
            ("$SYS/brokers//stats", STATS),
            ("$SYS/brokers/1/x/stats", STATS),
            ("devices/1/stats", STATS),
            ("$SYS/brokers/1/stats", "not json"),
            ("$SYS/brokers/1/stats", "[1, 2]"),
        ] {
            assert!(
                !b.record(topic, payload.as_bytes(), 0.0),
                "{topic} {payload}"
            );
        }
        assert!(b.list().is_empty());
    }

    #[test]
    fn a_node_that_stops_reporting_is_silent() {
        let mut b = BrokerNodes::default();
        for k in 0..4 {
            b.record("$SYS/brokers/1/stats", STATS.as_bytes(), k as f64 * 5000.0);
            b.record("$SYS/brokers/2/stats", STATS.as_bytes(), k as f64 * 5000.0);
        }
        // Node 2 dies after its report at 15 s; node 1 goes on.
        b.record("$SYS/brokers/1/stats", STATS.as_bytes(), 20_000.0);
        b.record("$SYS/brokers/1/stats", STATS.as_bytes(), 25_000.0);
        b.record("$SYS/brokers/1/stats", STATS.as_bytes(), 30_000.0);
        let now = 31_000.0;
        assert_eq!(b.list()[0].interval_ms, Some(5000.0));
        assert!(!b.list()[0].silent(now));
        assert!(
            b.list()[1].silent(now),
            "16 s without a report at a 5 s interval"
        );
        assert_eq!(
            b.connections(now),
            12,
            "a silent node's connections are not counted"
        );
    }

    #[test]
    fn nodes_are_bounded() {
        let mut b = BrokerNodes::default();
        for n in 0..(MAX_NODES + 10) {
            b.record(&format!("$SYS/brokers/n{n:03}/stats"), b"{}", 0.0);
        }
        assert_eq!(b.list().len(), MAX_NODES);
        assert!(
            b.record("$SYS/brokers/n000/stats", STATS.as_bytes(), 1.0),
            "a known node is still updated"
        );
    }
}
