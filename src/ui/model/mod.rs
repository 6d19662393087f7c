//! The dashboard's state as a pure reducer: `Dashboard::apply(UiEvent) -> Changed`. No DOM, no
//! clock, no network: the provider turns the client's events (and a once-a-second tick with the
//! client's metrics) into `UiEvent`s, and the components draw what is here. Tested natively.
//!
//! Length: the reducer's one `apply` match over every event, and the events' conversion from the
//! client's; the parts it updates (log, tree, devices, settings, JSON) are modules of their own.

pub mod alerts;
pub mod connstats;
pub mod devices;
pub mod fleet;
pub mod format;
pub mod json;
pub mod log;
pub mod nodes;
pub mod rollout;
pub mod series;
pub mod settings;
pub mod shadow;
pub mod tree;

use bytes::Bytes;

use crate::codec::{ByteStr, Publish, QoS};
use crate::proto::{ClientError, Event, Metrics, OpId, SubscriptionId};

pub use alerts::Alerts;
pub use devices::{Device, DeviceSort, Devices, PresenceConfig, Shown};
pub use format::PayloadFormat;
pub use log::{LogEntry, MessageLog, TopicFilter};
pub use rollout::{Progress, Rollout, Rollouts};
pub use settings::Settings;
pub use shadow::{ShadowConfig, Shadows, Sync};
pub use tree::TopicTree;

/// Colours a subscription can take (CSS classes `c0`..`c7`).
pub const COLORS: u8 = 8;
/// Points of rate history kept for the health charts (one a second).
pub const HISTORY: usize = 120;
/// Notices kept.
pub const MAX_NOTICES: usize = 50;

/// The bounds of everything input can grow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Messages kept in the log.
    pub log_entries: usize,
    /// Topic and payload bytes kept in the log.
    pub log_bytes: usize,
    /// Nodes of the topic tree.
    pub tree_nodes: usize,
    /// Subscriptions.
    pub subscriptions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            log_entries: 100_000,
            log_bytes: 64 << 20,
            tree_nodes: 100_000,
            subscriptions: 200,
        }
    }
}

/// The connection as the header shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    /// Not started.
    Idle,
    /// Opening a connection.
    Connecting {
        /// The URL tried.
        url: String,
        /// Attempt number since the last stable connection.
        attempt: u32,
    },
    /// Connected.
    Connected {
        /// Since when, ms since the Unix epoch.
        since_ms: f64,
        /// The server kept our session.
        session_present: bool,
    },
    /// Lost; trying again at `retry_at_ms` (None: not retrying on its own).
    Waiting {
        /// When the next attempt starts.
        retry_at_ms: Option<f64>,
    },
    /// Stopped for a reason the user must act on (bad credentials, takeover).
    Stopped,
    /// Ended by the user.
    Disconnected,
}

/// A subscription in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// The filter.
    pub filter: String,
    /// Requested QoS.
    pub qos: QoS,
    /// MQTT 5 No Local.
    pub no_local: bool,
    /// MQTT 5 Retain As Published.
    pub retain_as_published: bool,
    /// MQTT 5 Retain Handling (0..2).
    pub retain_handling: u8,
    /// Colour index.
    pub color: u8,
    /// The client's id for it.
    pub id: SubscriptionId,
    /// Where it stands.
    pub state: SubState,
    /// Messages it matched.
    pub count: u64,
    /// Messages a second, over the last tick.
    pub rate: f64,
    count_at_tick: u64,
    /// When the last one came.
    pub last_at: Option<f64>,
    /// Its topic and the start of its payload.
    pub last: Option<(String, String)>,
    /// The whole payload of the last one (shared with the log, not copied).
    pub last_payload: Option<Bytes>,
}

/// A subscription's standing.
#[derive(Debug, Clone, PartialEq)]
pub enum SubState {
    /// Sent (or waiting for the connection), not acknowledged yet.
    Pending,
    /// Granted at this QoS.
    Active(QoS),
    /// Refused, with the reason.
    Failed(String),
}

/// The health panel's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    /// Last measured round trip (PINGREQ to PINGRESP), ms.
    pub rtt_ms: Option<f64>,
    /// Smoothed round trip, ms.
    pub rtt_smoothed_ms: Option<f64>,
    /// Messages a second received.
    pub rate_in: f64,
    /// Messages a second sent.
    pub rate_out: f64,
    /// Bytes a second received.
    pub bytes_rate_in: f64,
    /// Bytes a second sent.
    pub bytes_rate_out: f64,
    /// The counters at the last tick.
    pub metrics: Metrics,
    /// Recent `rate_in` values, oldest first.
    pub history_in: Vec<f32>,
    /// Recent `rate_out` values.
    pub history_out: Vec<f32>,
    /// Connected for, ms.
    pub connected_for_ms: Option<f64>,
    /// Next reconnection attempt in, ms.
    pub next_attempt_in_ms: Option<f64>,
    last_tick_ms: Option<f64>,
}

/// A message for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// When, ms since the Unix epoch.
    pub at_ms: f64,
    /// An error (else information).
    pub error: bool,
    /// What happened, and what to do.
    pub text: String,
}

/// What the reducer takes.
#[derive(Debug, Clone, PartialEq)]
pub enum UiEvent {
    /// A connection attempt started.
    Connecting {
        /// When (wall clock, ms).
        at_ms: f64,
        /// URL tried.
        url: String,
        /// Attempt number.
        attempt: u32,
    },
    /// Connected.
    Connected {
        /// When.
        at_ms: f64,
        /// The server kept our session.
        session_present: bool,
    },
    /// The connection ended.
    Disconnected {
        /// When.
        at_ms: f64,
        /// Why (None: the user ended it).
        error: Option<String>,
        /// The next attempt, if one is scheduled.
        retry_at_ms: Option<f64>,
        /// Why, grouped by cause and reason code (`connstats::cause`); None: the user ended it.
        cause: Option<String>,
    },
    /// The client stopped until the user acts.
    Stopped {
        /// Why, and what to do.
        error: String,
        /// Why, grouped (`connstats::cause`).
        cause: String,
    },
    /// A message arrived.
    Message {
        /// When.
        at_ms: f64,
        /// The PUBLISH.
        publish: Publish,
        /// The subscriptions it matched.
        subscriptions: Vec<SubscriptionId>,
    },
    /// This page published a message (shown in the log as outgoing).
    Sent {
        /// When.
        at_ms: f64,
        /// The PUBLISH.
        publish: Publish,
        /// The operation, to report its outcome.
        op: OpId,
    },
    /// A publish completed (or failed).
    Published {
        /// The operation.
        op: OpId,
        /// Why it failed.
        error: Option<String>,
    },
    /// The user subscribed.
    Subscribe {
        /// The filter.
        filter: String,
        /// Options.
        qos: QoS,
        /// No Local.
        no_local: bool,
        /// Retain As Published.
        retain_as_published: bool,
        /// Retain Handling.
        retain_handling: u8,
        /// The client's id for it.
        id: SubscriptionId,
        /// The operation.
        op: OpId,
    },
    /// The server answered a SUBSCRIBE: one outcome per filter, or why it failed.
    Subscribed {
        /// The operation.
        op: OpId,
        /// Outcomes.
        result: Result<Vec<Result<QoS, String>>, String>,
    },
    /// The user unsubscribed.
    Unsubscribed {
        /// The filter.
        filter: String,
    },
    /// Something the user should read.
    Notice {
        /// When.
        at_ms: f64,
        /// An error.
        error: bool,
        /// Text.
        text: String,
    },
    /// Once a second: the time and the client's counters; rates and staleness move on.
    Tick {
        /// Now, ms since the Unix epoch.
        at_ms: f64,
        /// The counters.
        metrics: Metrics,
        /// ms the client has been connected, if it is.
        connected_for_ms: Option<f64>,
        /// ms until the next attempt, if one is scheduled.
        next_attempt_in_ms: Option<f64>,
    },
}

impl UiEvent {
    /// The reducer's view of a client event. `at_ms` is the wall clock; `to_wall` turns the
    /// client's instants into it. None for events the dashboard does not show.
    pub fn from_event(
        e: Event,
        at_ms: f64,
        to_wall: impl Fn(crate::proto::Instant) -> f64,
    ) -> Option<UiEvent> {
        Some(match e {
            Event::Connecting { attempt, url } => UiEvent::Connecting {
                at_ms,
                url,
                attempt,
            },
            Event::Connected(info) => UiEvent::Connected {
                at_ms,
                session_present: info.session_present,
            },
            Event::Disconnected {
                error,
                reconnect_at,
            } => UiEvent::Disconnected {
                at_ms,
                cause: error.as_ref().map(connstats::cause),
                error: error.map(|e| e.to_string()),
                retry_at_ms: reconnect_at.map(to_wall),
            },
            Event::Stopped(e) => UiEvent::Stopped {
                cause: connstats::cause(&e),
                error: e.to_string(),
            },
            Event::Message(m) => UiEvent::Message {
                at_ms,
                publish: m.publish,
                subscriptions: m.subscriptions,
            },
            Event::Published { id, result, .. } => UiEvent::Published {
                op: id,
                error: result.err().map(|e| e.to_string()),
            },
            Event::Subscribed { id, result } => UiEvent::Subscribed {
                op: id,
                result: result
                    .map(|g| {
                        g.into_iter()
                            .map(|r| r.map_err(|code| code.to_string()))
                            .collect()
                    })
                    .map_err(|e: ClientError| e.to_string()),
            },
            _ => return None,
        })
    }
}

/// What an event changed, so only those parts of the page are drawn again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changed(pub u16);

impl Changed {
    /// The connection state.
    pub const CONN: u16 = 1;
    /// The message log.
    pub const LOG: u16 = 2;
    /// The topic tree.
    pub const TREE: u16 = 4;
    /// The device board.
    pub const DEVICES: u16 = 8;
    /// The subscription list.
    pub const SUBS: u16 = 16;
    /// The health figures.
    pub const HEALTH: u16 = 32;
    /// The notices.
    pub const NOTICES: u16 = 64;
    /// The device shadows and rollouts.
    pub const SHADOWS: u16 = 128;
    /// The alerts.
    pub const ALERTS: u16 = 256;
    /// The time-series charts.
    pub const CHARTS: u16 = 512;

    /// Whether any of `bits` changed.
    pub fn has(self, bits: u16) -> bool {
        self.0 & bits != 0
    }
}

impl std::ops::BitOrAssign for Changed {
    fn bitor_assign(&mut self, rhs: Changed) {
        self.0 |= rhs.0;
    }
}

/// Everything the dashboard shows.
// Design: one plain struct updated by `apply` only, so every behaviour of the page that does not
// depend on the DOM is a native test; each part is bounded (see `Limits`), and `apply` reports
// what it touched so the provider redraws only that, once per animation frame.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The connection.
    pub conn: ConnState,
    /// The last error, in words, until the next successful connection.
    pub last_error: Option<String>,
    /// The message log.
    pub log: MessageLog,
    /// The topic tree.
    pub tree: TopicTree,
    /// The device board.
    pub devices: Devices,
    /// The device shadows.
    pub shadows: Shadows,
    /// The rollouts started from this page.
    pub rollouts: Rollouts,
    /// The alert rules and what they raised.
    pub alerts: Alerts,
    /// The connection's history in figures.
    pub conn_stats: connstats::ConnStats,
    /// The broker's figures per node, where it publishes them (`$SYS`).
    pub nodes: nodes::BrokerNodes,
    /// The time-series charts.
    pub charts: series::Charts,
    /// Subscriptions, in the order added.
    pub subs: Vec<Subscription>,
    pending_subs: Vec<(OpId, SubscriptionId)>,
    /// Health.
    pub health: Health,
    /// Notices, newest last.
    pub notices: Vec<Notice>,
    publishes: Vec<OpId>,
    /// Connections made.
    pub connections: u64,
    /// The time of the last event or tick.
    pub now_ms: f64,
    limits: Limits,
}

impl Dashboard {
    /// An empty dashboard.
    pub fn new(limits: Limits, presence: PresenceConfig) -> Dashboard {
        Dashboard {
            conn: ConnState::Idle,
            last_error: None,
            log: MessageLog::new(limits.log_entries, limits.log_bytes),
            tree: TopicTree::new(limits.tree_nodes),
            devices: Devices::new(presence),
            shadows: Shadows::new(ShadowConfig::default()),
            rollouts: Rollouts::default(),
            alerts: Alerts::default(),
            conn_stats: Default::default(),
            nodes: Default::default(),
            charts: Default::default(),
            subs: Vec::new(),
            pending_subs: Vec::new(),
            health: Health::default(),
            notices: Vec::new(),
            publishes: Vec::new(),
            connections: 0,
            now_ms: 0.0,
            limits,
        }
    }

    /// The bounds in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Finds devices with other patterns: the board is rebuilt from the last value of every
    /// topic the tree remembers (so nothing has to be received again).
    pub fn set_presence(&mut self, config: PresenceConfig) -> Changed {
        self.devices = Devices::new(config);
        let mut values = self.tree.values();
        values.sort_by(|a, b| a.2.total_cmp(&b.2));
        for (topic, payload, at) in values {
            self.devices.record(&topic, &payload, at);
        }
        Changed(Changed::DEVICES)
    }

    /// Reads shadows with another convention, rebuilt from the retained values the tree holds.
    pub fn set_shadow_config(&mut self, config: ShadowConfig) -> Changed {
        self.shadows = Shadows::new(config);
        self.rollouts = Rollouts::default();
        let mut values = self.tree.values();
        values.sort_by(|a, b| a.2.total_cmp(&b.2));
        for (topic, payload, at) in values {
            self.shadows.record(&topic, &payload, at);
        }
        Changed(Changed::SHADOWS)
    }

    /// Whether another subscription may be added.
    pub fn can_subscribe(&self) -> bool {
        self.subs.len() < self.limits.subscriptions
    }

    /// Applies one event.
    pub fn apply(&mut self, ev: UiEvent) -> Changed {
        match ev {
            UiEvent::Connecting {
                at_ms,
                url,
                attempt,
            } => {
                self.now_ms = at_ms;
                self.conn_stats.on_connecting(&url, at_ms);
                self.conn = ConnState::Connecting { url, attempt };
                Changed(Changed::CONN)
            }
            UiEvent::Connected {
                at_ms,
                session_present,
            } => {
                self.now_ms = at_ms;
                self.conn_stats.on_connected(at_ms);
                self.conn = ConnState::Connected {
                    since_ms: at_ms,
                    session_present,
                };
                self.last_error = None;
                self.connections += 1;
                Changed(Changed::CONN)
            }
            UiEvent::Disconnected {
                at_ms,
                error,
                retry_at_ms,
                cause,
            } => {
                self.now_ms = at_ms;
                self.conn_stats.on_ended(at_ms, cause.as_deref());
                let mut c = Changed(Changed::CONN);
                if let Some(e) = error {
                    c |= self.notice(at_ms, true, format!("connection lost: {e}"));
                    self.last_error = Some(e);
                    self.conn = ConnState::Waiting { retry_at_ms };
                } else {
                    self.conn = ConnState::Disconnected;
                    // Ended by the page: what was never acknowledged never will be (the
                    // connection's own late events are not applied any more), and the next
                    // connection numbers its operations from 1 again.
                    self.pending_subs.clear();
                    self.publishes.clear();
                    for s in &mut self.subs {
                        // Its identifier was the ended client's: the next one numbers from 1
                        // again, so the row must never match its operations or messages.
                        s.id = SubscriptionId(u64::MAX);
                        let settled = match &s.state {
                            SubState::Pending => "not acknowledged before the connection was ended",
                            SubState::Active(_) => "ended with the connection",
                            SubState::Failed(_) => continue,
                        };
                        s.state = SubState::Failed(settled.into());
                        c |= Changed(Changed::SUBS);
                    }
                }
                c
            }
            UiEvent::Stopped { error, cause } => {
                self.conn_stats.on_ended(self.now_ms, Some(&cause));
                self.conn = ConnState::Stopped;
                let now = self.now_ms;
                let c = self.notice(now, true, error.clone());
                self.last_error = Some(error);
                Changed(Changed::CONN | c.0)
            }
            UiEvent::Message {
                at_ms,
                publish,
                subscriptions,
            } => {
                self.now_ms = at_ms;
                self.message(at_ms, publish, &subscriptions, None)
            }
            UiEvent::Sent { at_ms, publish, op } => {
                self.now_ms = at_ms;
                if self.publishes.len() >= 100 {
                    self.publishes.remove(0);
                }
                self.publishes.push(op);
                self.message(at_ms, publish, &[], Some(()))
            }
            UiEvent::Published { op, error } => {
                let Some(i) = self.publishes.iter().position(|&o| o == op) else {
                    return Changed::default();
                };
                self.publishes.remove(i);
                match error {
                    Some(e) => {
                        let now = self.now_ms;
                        self.notice(now, true, format!("publish failed: {e}"))
                    }
                    None => Changed::default(),
                }
            }
            UiEvent::Subscribe {
                filter,
                qos,
                no_local,
                retain_as_published,
                retain_handling,
                id,
                op,
            } => {
                let color = (0..COLORS)
                    .min_by_key(|c| self.subs.iter().filter(|s| s.color == *c).count())
                    .unwrap_or(0);
                self.subs.retain(|s| s.filter != filter);
                self.subs.push(Subscription {
                    filter,
                    qos,
                    no_local,
                    retain_as_published,
                    retain_handling,
                    color,
                    id,
                    state: SubState::Pending,
                    count: 0,
                    rate: 0.0,
                    count_at_tick: 0,
                    last_at: None,
                    last: None,
                    last_payload: None,
                });
                self.pending_subs.push((op, id));
                Changed(Changed::SUBS)
            }
            UiEvent::Subscribed { op, result } => {
                let ids: Vec<SubscriptionId> = self
                    .pending_subs
                    .iter()
                    .filter(|(o, _)| *o == op)
                    .map(|(_, id)| *id)
                    .collect();
                self.pending_subs.retain(|(o, _)| *o != op);
                let mut c = Changed(Changed::SUBS);
                for (k, id) in ids.iter().enumerate() {
                    let state = match &result {
                        Ok(outcomes) => match outcomes.get(k) {
                            Some(Ok(q)) => SubState::Active(*q),
                            Some(Err(e)) => SubState::Failed(format!("refused by the server: {e}")),
                            None => SubState::Failed("no answer for this filter".into()),
                        },
                        Err(e) => SubState::Failed(e.clone()),
                    };
                    if let Some(s) = self.subs.iter_mut().find(|s| s.id == *id) {
                        if let SubState::Failed(e) = &state {
                            let text = format!("subscription {} failed: {e}", s.filter);
                            s.state = state;
                            let now = self.now_ms;
                            c |= self.notice(now, true, text);
                        } else {
                            s.state = state;
                        }
                    }
                }
                c
            }
            UiEvent::Unsubscribed { filter } => {
                self.subs.retain(|s| s.filter != filter);
                Changed(Changed::SUBS)
            }
            UiEvent::Notice { at_ms, error, text } => self.notice(at_ms, error, text),
            UiEvent::Tick {
                at_ms,
                metrics,
                connected_for_ms,
                next_attempt_in_ms,
            } => self.tick(at_ms, metrics, connected_for_ms, next_attempt_in_ms),
        }
    }

    fn message(
        &mut self,
        at_ms: f64,
        publish: Publish,
        subs: &[SubscriptionId],
        outgoing: Option<()>,
    ) -> Changed {
        // What is kept of the message is a copy: topic and payload are slices of the receive
        // buffer, which they would keep alive for as long as the log, the tree or a
        // subscription holds them.
        let mut publish = publish;
        publish.payload = Bytes::copy_from_slice(&publish.payload);
        publish.topic = ByteStr::from(publish.topic.as_str());
        let mut c = Changed(Changed::LOG);
        let mut color = None;
        for s in &mut self.subs {
            if subs.contains(&s.id) {
                s.count += 1;
                s.last_at = Some(at_ms);
                s.last = Some((
                    publish.topic.to_string(),
                    format::preview(&publish.payload, 60),
                ));
                s.last_payload = Some(publish.payload.clone());
                color.get_or_insert(s.color);
                c |= Changed(Changed::SUBS);
            }
        }
        if outgoing.is_none() {
            self.tree
                .record(&publish.topic, &publish.payload, publish.retain, at_ms);
            c |= Changed(Changed::TREE);
            if self.devices.record(&publish.topic, &publish.payload, at_ms) {
                c |= Changed(Changed::DEVICES);
            } else if self.shadows.record(&publish.topic, &publish.payload, at_ms) {
                c |= Changed(Changed::SHADOWS);
            }
            if self.charts.record(&publish.topic, &publish.payload, at_ms) {
                c |= Changed(Changed::CHARTS);
            }
            if self.nodes.record(&publish.topic, &publish.payload, at_ms) {
                c |= Changed(Changed::HEALTH);
            }
        }
        let properties = describe_properties(&publish);
        self.log.push(LogEntry {
            seq: 0,
            at_ms,
            topic: publish.topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            dup: publish.dup,
            outgoing: outgoing.is_some(),
            color,
            properties,
        });
        c
    }

    fn notice(&mut self, at_ms: f64, error: bool, text: String) -> Changed {
        if self.notices.len() >= MAX_NOTICES {
            self.notices.remove(0);
        }
        self.notices.push(Notice { at_ms, error, text });
        Changed(Changed::NOTICES)
    }

    fn tick(
        &mut self,
        at_ms: f64,
        m: Metrics,
        connected_for_ms: Option<f64>,
        next_attempt_in_ms: Option<f64>,
    ) -> Changed {
        let h = &mut self.health;
        if let Some(last) = h.last_tick_ms {
            let dt = ((at_ms - last) / 1000.0).max(1e-3);
            let per_s = |now: u64, before: u64| now.saturating_sub(before) as f64 / dt;
            h.rate_in = per_s(m.messages_in, h.metrics.messages_in);
            h.rate_out = per_s(m.messages_out, h.metrics.messages_out);
            h.bytes_rate_in = per_s(m.bytes_in, h.metrics.bytes_in);
            h.bytes_rate_out = per_s(m.bytes_out, h.metrics.bytes_out);
            for s in &mut self.subs {
                s.rate = per_s(s.count, s.count_at_tick);
            }
            for (hist, v) in [
                (&mut h.history_in, h.rate_in),
                (&mut h.history_out, h.rate_out),
            ] {
                if hist.len() == HISTORY {
                    hist.remove(0);
                }
                hist.push(v as f32);
            }
        }
        for s in &mut self.subs {
            s.count_at_tick = s.count;
        }
        h.rtt_ms = m.rtt.map(|d| d.as_secs_f64() * 1000.0);
        h.rtt_smoothed_ms = m.rtt_smoothed.map(|d| d.as_secs_f64() * 1000.0);
        self.conn_stats.on_rtt(h.rtt_ms, m.rtt_samples);
        h.metrics = m;
        h.connected_for_ms = connected_for_ms;
        h.next_attempt_in_ms = next_attempt_in_ms;
        h.last_tick_ms = Some(at_ms);
        self.now_ms = at_ms;
        let mut c = Changed(Changed::HEALTH | Changed::SUBS | Changed::DEVICES | Changed::CONN);
        if self.alerts.evaluate(&self.devices, &self.shadows, at_ms) {
            c |= Changed(Changed::ALERTS);
        }
        self.charts.prune(at_ms);
        c |= Changed(Changed::CHARTS); // the time axis moves on
                                       // Staleness and "last seen" move with time alone.
        c
    }
}

/// MQTT 5 properties of a message worth a line in the log.
fn describe_properties(p: &Publish) -> Option<String> {
    let props = &p.properties;
    let mut parts = Vec::new();
    if let Some(ct) = &props.content_type {
        parts.push(format!("content-type: {ct}"));
    }
    if let Some(rt) = &props.response_topic {
        parts.push(format!("response-topic: {rt}"));
    }
    if let Some(e) = props.message_expiry_interval {
        parts.push(format!("expiry: {e} s"));
    }
    if props.payload_format_indicator == Some(true) {
        parts.push("utf-8".into());
    }
    for (k, v) in props.user_properties.iter().take(8) {
        parts.push(format!("{k}={v}"));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// A publish from the form, validated into a PUBLISH.
pub fn build_publish(
    topic: &str,
    payload: &str,
    qos: u8,
    retain: bool,
    content_type: &str,
    user_properties: &str,
) -> Result<Publish, String> {
    let topic = topic.trim();
    crate::codec::validate_topic_name(topic)
        .map_err(|e| format!("cannot publish to {topic:?}: {e}"))?;
    let mut p = Publish::new(
        ByteStr::from(topic),
        Bytes::from(payload.as_bytes().to_vec()),
    );
    p.qos = QoS::from_u8(qos).ok_or("QoS must be 0, 1 or 2")?;
    p.retain = retain;
    if !content_type.trim().is_empty() {
        p.properties.content_type = Some(content_type.trim().into());
    }
    for pair in user_properties
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            format!("user properties are name=value pairs separated by commas, not {pair:?}")
        })?;
        p.properties
            .user_properties
            .push((k.trim().into(), v.trim().into()));
    }
    Ok(p)
}

#[cfg(test)]
mod tests;
