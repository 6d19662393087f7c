//! The topic tree: every topic seen, level by level, with message counts, the last value and
//! whether it is retained. Bounded in nodes; expand and collapse are part of the state so the
//! flattened rows the view draws are computed here, and tested.

use std::collections::BTreeMap;

use bytes::Bytes;

/// Bytes of the last payload kept per topic.
pub const LAST_VALUE_BYTES: usize = 256;

/// One level of a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicNode {
    /// This level's name (empty levels are allowed in MQTT: `a//b`).
    pub name: String,
    /// Depth: 0 for first-level nodes.
    pub depth: u16,
    /// Children by name, sorted.
    pub children: BTreeMap<String, usize>,
    /// Messages on exactly this topic.
    pub messages: u64,
    /// Messages on this topic and every topic below it.
    pub total: u64,
    /// The start of the last payload on exactly this topic (None: never a message here).
    pub last: Option<Bytes>,
    /// Its full length.
    pub last_len: usize,
    /// When it arrived, ms since the Unix epoch.
    pub last_at: f64,
    /// Whether the broker holds a retained message here (as far as this page saw).
    pub retained: bool,
    /// Shown with its children.
    pub expanded: bool,
}

impl TopicNode {
    fn new(name: &str, depth: u16) -> TopicNode {
        TopicNode {
            name: name.to_string(),
            depth,
            children: BTreeMap::new(),
            messages: 0,
            total: 0,
            last: None,
            last_len: 0,
            last_at: 0.0,
            retained: false,
            expanded: false,
        }
    }
}

/// The tree.
// Design: nodes live in an arena (indexes are stable ids for the view's keys); node 0 is the
// invisible root. Counting a message touches one node per level; only a new topic or an
// expand/collapse changes the shape, and only then are the visible rows flattened again.
#[derive(Debug, Clone)]
pub struct TopicTree {
    nodes: Vec<TopicNode>,
    max_nodes: usize,
    overflow: u64,
    rows: Vec<usize>,
    rows_dirty: bool,
}

impl TopicTree {
    /// A tree of at most `max_nodes` nodes; messages on topics that would need more are only
    /// counted (see [`TopicTree::overflow`]).
    pub fn new(max_nodes: usize) -> TopicTree {
        TopicTree {
            nodes: vec![TopicNode::new("", 0)],
            max_nodes: max_nodes.max(1),
            overflow: 0,
            rows: Vec::new(),
            rows_dirty: false,
        }
    }

    /// Counts a message on `topic`.
    pub fn record(&mut self, topic: &str, payload: &Bytes, retain: bool, at_ms: f64) {
        let levels: Vec<&str> = topic.split('/').collect();
        // Find or create the path; refuse (and count) when the tree is full.
        let mut path = Vec::with_capacity(levels.len());
        let mut at = 0usize;
        let mut missing = 0usize;
        for level in &levels {
            match self.nodes[at].children.get(*level) {
                Some(&child) if missing == 0 => {
                    path.push(child);
                    at = child;
                }
                _ => missing += 1,
            }
        }
        if missing > 0 && self.nodes.len() + missing > self.max_nodes {
            self.overflow += 1;
            return;
        }
        for level in &levels[path.len()..] {
            let depth = path.len() as u16;
            let id = self.nodes.len();
            self.nodes.push(TopicNode::new(level, depth));
            self.nodes[at].children.insert((*level).to_string(), id);
            path.push(id);
            at = id;
            self.rows_dirty = true;
        }
        self.nodes[0].total += 1;
        for &n in &path {
            self.nodes[n].total += 1;
        }
        let node = &mut self.nodes[at];
        node.messages += 1;
        node.last_at = at_ms;
        node.last_len = payload.len();
        // A copy: a slice would keep the whole receive buffer alive for as long as the node.
        node.last = Some(Bytes::copy_from_slice(
            &payload[..payload.len().min(LAST_VALUE_BYTES)],
        ));
        if retain {
            // An empty retained message deletes the retained one [MQTT-3.3.1-6].
            node.retained = !payload.is_empty();
        }
    }

    /// A node.
    pub fn node(&self, id: usize) -> Option<&TopicNode> {
        self.nodes.get(id)
    }

    /// Nodes in the tree, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no topic was seen.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// Messages not placed because the tree was full.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// Messages counted in all.
    pub fn total(&self) -> u64 {
        self.nodes[0].total
    }

    /// Expands or collapses a node.
    pub fn set_expanded(&mut self, id: usize, expanded: bool) {
        if let Some(n) = self.nodes.get_mut(id) {
            if n.expanded != expanded && !n.children.is_empty() {
                n.expanded = expanded;
                self.rows_dirty = true;
            }
        }
    }

    /// Expands a node and every node below it (or collapses them all).
    pub fn set_expanded_all(&mut self, expanded: bool) {
        for n in &mut self.nodes[1..] {
            n.expanded = expanded && !n.children.is_empty();
        }
        self.rows_dirty = true;
    }

    /// Each node's parent (the root's is itself): nodes keep only their children, and a topic
    /// can have tens of thousands of levels, so lookups go up this table, never by recursion.
    fn parents(&self) -> Vec<usize> {
        let mut parent = vec![0; self.nodes.len()];
        for (id, n) in self.nodes.iter().enumerate() {
            for &c in n.children.values() {
                parent[c] = id;
            }
        }
        parent
    }

    fn topic_with(&self, parent: &[usize], id: usize) -> String {
        let mut levels = Vec::new();
        let mut at = id;
        while at != 0 && at < self.nodes.len() {
            levels.push(self.nodes[at].name.as_str());
            at = parent[at];
        }
        levels.reverse();
        levels.join("/")
    }

    /// The full topic of a node (runs on a click, not per message).
    pub fn topic_of(&self, id: usize) -> String {
        self.topic_with(&self.parents(), id)
    }

    /// Every topic with a last value: `(topic, start of the last payload, when)`.
    pub fn values(&self) -> Vec<(String, Bytes, f64)> {
        let parent = self.parents();
        self.nodes
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(id, n)| {
                let last = n.last.as_ref()?;
                Some((self.topic_with(&parent, id), last.clone(), n.last_at))
            })
            .collect()
    }

    /// The visible rows (node ids, in display order), flattened again if the shape changed.
    pub fn rows(&mut self) -> &[usize] {
        if self.rows_dirty || (self.rows.is_empty() && self.nodes.len() > 1) {
            let mut rows = Vec::new();
            let mut stack: Vec<usize> = self.nodes[0].children.values().rev().copied().collect();
            while let Some(n) = stack.pop() {
                rows.push(n);
                if self.nodes[n].expanded {
                    stack.extend(self.nodes[n].children.values().rev().copied());
                }
            }
            self.rows = rows;
            self.rows_dirty = false;
        }
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn names(t: &mut TopicTree) -> Vec<String> {
        let rows = t.rows().to_vec();
        rows.iter()
            .map(|&r| {
                let n = t.node(r).unwrap();
                format!("{}{}", "  ".repeat(n.depth as usize), n.name)
            })
            .collect()
    }

    #[test]
    fn counts_levels_and_keeps_last_values() {
        let mut t = TopicTree::new(1000);
        t.record("devices/b/status", &p("online"), true, 1.0);
        t.record("devices/a/telemetry", &p("{\"t\":1}"), false, 2.0);
        t.record("devices/a/telemetry", &p("{\"t\":2}"), false, 3.0);
        t.record("/leading/slash", &p("x"), false, 4.0);
        assert_eq!(names(&mut t), ["", "devices"]);
        t.set_expanded_all(true);
        assert_eq!(
            names(&mut t),
            [
                "",
                "  leading",
                "    slash",
                "devices",
                "  a",
                "    telemetry",
                "  b",
                "    status"
            ]
        );
        let rows = t.rows().to_vec();
        let (devices, telemetry, status) = (rows[3], rows[5], rows[7]);
        assert_eq!(t.node(devices).unwrap().total, 3);
        let n = t.node(telemetry).unwrap();
        assert_eq!(
            (n.messages, n.last.as_deref(), n.last_at),
            (2, Some(&b"{\"t\":2}"[..]), 3.0)
        );
        assert_eq!(t.topic_of(telemetry), "devices/a/telemetry");
        assert!(t.node(status).unwrap().retained);
        // An empty retained message clears the retained flag [MQTT-3.3.1-6].
        t.record("devices/b/status", &p(""), true, 5.0);
        assert!(!t.node(status).unwrap().retained);
        let mut values = t.values();
        values.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            values.iter().map(|v| v.0.as_str()).collect::<Vec<_>>(),
            ["/leading/slash", "devices/a/telemetry", "devices/b/status"]
        );
        t.set_expanded(devices, false);
        assert_eq!(names(&mut t), ["", "  leading", "    slash", "devices"]);
        assert_eq!(t.total(), 5);
    }

    #[test]
    fn bounded_in_nodes() {
        let mut t = TopicTree::new(100);
        for i in 0..1000 {
            t.record(&format!("spam/{i}"), &p(""), false, 0.0);
        }
        assert!(t.len() <= 100);
        assert_eq!(t.overflow(), 1000 - 98); // root + "spam" + 98 leaves
                                             // Known topics are still counted.
        t.record("spam/0", &p("again"), false, 0.0);
        assert_eq!(t.overflow(), 902);
        assert_eq!(t.total(), 99);
    }

    #[test]
    fn last_values_are_bounded() {
        let mut t = TopicTree::new(10);
        t.record("big", &Bytes::from(vec![1u8; 100_000]), false, 0.0);
        t.set_expanded_all(true);
        let first = t.rows()[0];
        let n = t.node(first).unwrap();
        assert_eq!(
            (n.last.as_ref().unwrap().len(), n.last_len),
            (LAST_VALUE_BYTES, 100_000)
        );
    }
}
