//! One simulated world: the client core driven the way the browser driver drives it, the model
//! broker, the faulty link between them, an application issuing random operations, and the
//! checker of every invariant (see `tests/simulation.rs`).
//!
//! Length: the driver model, the fault injections and the checker share the world's state;
//! split apart they would pass it all around. The sections are marked.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::Below;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

use crate::broker::{tag, Broker, Limits};
use crate::link::Link;

const URLS: [&str; 2] = ["ws://127.0.0.1:1/mqtt", "ws://127.0.0.1:2/mqtt"];
const TOPICS: [&str; 5] = ["a/1", "a/2", "b/x", "c", "b/y/z"];
const FILTERS: [&str; 7] = ["a/+", "a/1", "#", "b/#", "c", "deny/x", "b/+/z"];

/// An operation the application is waiting for.
#[derive(Debug, Clone)]
enum Op {
    Publish(String),
    Subscribe,
    Unsubscribe,
}

/// One of our publications.
#[derive(Debug, Clone)]
struct Sent {
    qos: QoS,
    /// None while outstanding; Some(ok) once its completion arrived.
    outcome: Option<bool>,
    /// Its page was reloaded before it completed: the stored session carries it on.
    abandoned: bool,
    /// Published while a reloaded page was still loading its session: not saved until then.
    loading: bool,
    /// It has a Message Expiry Interval: it may expire before it is sent.
    expires: bool,
    /// Over (or near) the broker's Maximum Packet Size: refused when its turn comes.
    too_large: bool,
}

/// Everything of one run.
// Design: the world is the driver (it owns the only clock and the transport), the broker's
// network and the application at once, so a seed fixes every interleaving and a failure
// replays exactly.
pub struct World {
    pub rng: Rng,
    pub now: Instant,
    pub step: u64,
    cfg: Config,
    client: Client,
    broker: Broker,
    link: Option<Link>,
    /// The broker still holds a connection the client already gave up (half-open).
    broker_orphan: bool,
    opening: Option<Instant>,
    broker_down_until: Option<Instant>,
    online: bool,
    app_started: bool,
    max_delay_ms: u64,
    /// The persisted session (IndexedDB), written before bytes reach the wire.
    stored: Option<Store>,
    saved_rev: u64,
    ops: BTreeMap<OpId, Op>,
    sent: BTreeMap<String, Sent>,
    /// Copies of messages the application received, by tag, with the client epoch of each
    /// delivery.
    got: BTreeMap<String, Vec<u64>>,
    next_msg: u64,
    pub trace: VecDeque<String>,
    pub stats: Stats,
    /// A violation found where it could not be returned at once.
    pending_violation: Option<String>,
    /// A reloaded page is still reading its stored session: nothing is saved (the stored
    /// session must survive another reload) and the driver defers starting.
    loading: bool,
    /// Bumped whenever the client's side of the session is lost (a reload with nothing to
    /// import): a copy delivered again after that is not a duplicate.
    client_epoch: u64,
    /// The application acknowledges messages itself (MQTT.js's handleMessage), and these
    /// (packet identifier, QoS) it has not released yet.
    manual_acks: bool,
    pub(super) held: Vec<(u16, QoS)>,
    /// How many of the last steps to keep for a failure's report (`SIM_TRACE`).
    trace_len: usize,
}

/// Figures of a run, summed over seeds for the long run's report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub steps: u64,
    pub published: u64,
    pub delivered: u64,
    pub received: u64,
    pub connections: u64,
    pub faults: u64,
    pub reloads: u64,
    /// In-flight messages the application gave up on (`remove_outgoing`).
    pub removed: u64,
}

type Check = Result<(), String>;

/// The simulated IndexedDB: an index and segments of message records, written by incremental
/// saves as the browser driver writes them (`Client::session_changes`).
#[derive(Debug, Default, Clone)]
pub struct Store {
    index: Vec<u8>,
    pub(super) segments: BTreeMap<u64, Vec<u8>>,
    /// Segments a load found that no index refers to: the next save must delete them.
    pub(super) strays: Vec<u64>,
    /// The driver's knowledge of what the store holds (rebuilt from the records at a load).
    keys: StoredKeys,
}

impl Store {
    /// Commits one save.
    pub fn save(&mut self, changes: SessionChanges) {
        for k in &changes.delete {
            self.segments.remove(k);
        }
        for seg in &changes.put {
            self.segments.insert(seg.number, seg.bytes.clone());
        }
        self.keys.apply(&changes);
        self.index = changes.index;
    }

    /// The session as a load finds it.
    pub fn whole(&self) -> Vec<u8> {
        assemble_session(&self.index, self.segments.values().map(Vec::as_slice))
    }
}

impl World {
    pub fn new(seed: u64) -> World {
        let mut rng = Rng::new(seed ^ 0x9E37_79B9_7F4A_7C15);
        let v5 = rng.below(2) == 0;
        let persistent = rng.below(2) == 0;
        let mut cfg = Config {
            urls: URLS.iter().map(|u| u.to_string()).collect(),
            protocol: if v5 {
                ProtocolVersion::V5
            } else {
                ProtocolVersion::V3_1_1
            },
            client_id: "sim".into(),
            clean_start: !persistent,
            keep_alive: 5 + rng.below(55) as u16,
            seed,
            max_subscriptions: 3 + rng.below(6) as usize,
            topic_alias_maximum: if v5 { rng.below(5) as u16 } else { 0 },
            max_inflight: pick(&mut rng, 2).then(|| 1 + rng.below(10) as u16),
            // From the seed, not the generator: the draws after it stay as they were.
            lowest_free_ids: seed % 3 == 0,
            outbox: OutboxConfig {
                max_messages: 1 + rng.below(30) as usize,
                max_bytes: 500 + rng.below(20_000) as usize,
                policy: match rng.below(3) {
                    0 => OutboxPolicy::RejectNew,
                    1 => OutboxPolicy::DropOldest,
                    _ => OutboxPolicy::LatestPerTopic,
                },
                queue_qos0_offline: rng.below(2) == 0,
            },
            ..Config::default()
        };
        cfg.reconnect.initial_delay = Duration::from_millis(100 + rng.below(2000));
        if v5 {
            if persistent {
                cfg.session_expiry_interval = Some(1 + rng.below(900) as u32);
            }
            if pick(&mut rng, 2) {
                cfg.receive_maximum = Some(1 + rng.below(20) as u16);
            }
            if pick(&mut rng, 2) {
                cfg.maximum_packet_size = 1500 + rng.below(8000) as u32;
            }
        }
        let limits = Limits {
            receive_maximum: 1 + rng.below(20) as u16,
            topic_alias_maximum: rng.below(5) as u16,
            maximum_packet_size: pick(&mut rng, 2).then(|| 600 + rng.below(5000) as u32),
            ack_delay_ms: if pick(&mut rng, 2) {
                rng.below(3000)
            } else {
                0
            },
        };
        let broker = Broker::new(cfg.protocol, limits, seed.wrapping_mul(31));
        World {
            max_delay_ms: rng.below(400),
            rng,
            now: Instant::from_millis(1_000_000),
            step: 0,
            client: Client::new(cfg.clone()),
            cfg,
            broker,
            link: None,
            broker_orphan: false,
            opening: None,
            broker_down_until: None,
            online: true,
            app_started: false,
            stored: None,
            saved_rev: u64::MAX,
            ops: BTreeMap::new(),
            sent: BTreeMap::new(),
            got: BTreeMap::new(),
            next_msg: 0,
            trace: VecDeque::new(),
            stats: Stats::default(),
            pending_violation: None,
            loading: false,
            client_epoch: 0,
            manual_acks: false,
            held: Vec::new(),
            trace_len: std::env::var("SIM_TRACE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(60),
        }
    }

    /// What this run is: printed with a failing seed.
    pub fn describe(&self) -> String {
        format!(
            "{:?}, persistent {}, outbox {:?}, broker {:?}",
            self.cfg.protocol,
            self.cfg.persistent_session(),
            self.cfg.outbox,
            self.broker.limits
        )
    }

    /// Where a message is (`SIM_WATCH=tag`, for debugging a seed): in the live client's
    /// session, in the stored one, at the broker.
    fn watch(&self) -> String {
        let Ok(tag) = std::env::var("SIM_WATCH") else {
            return String::new();
        };
        let find = |bytes: &[u8]| -> &'static str {
            let Ok(s) = Session::import(bytes, self.now, self.now.as_millis()) else {
                return "unreadable";
            };
            if s.outbox
                .iter()
                .any(|q| crate::broker::tag(&q.publish.payload) == tag)
            {
                "outbox"
            } else if s
                .inflight
                .iter()
                .any(|m| crate::broker::tag(&m.publish.payload) == tag)
            {
                "in flight"
            } else {
                "-"
            }
        };
        let live = find(&self.client.export_session(self.now, self.now.as_millis()));
        let stored = self.stored.as_ref().map_or("none", |s| find(&s.whole()));
        let broker = self.broker.received.contains_key(&tag);
        format!(" [{tag}: live {live}, stored {stored}, broker {broker}]")
    }

    fn note(&mut self, what: String) {
        let what = what + &self.watch();
        if self.trace.len() >= self.trace_len {
            self.trace.pop_front();
        }
        self.trace.push_back(format!(
            "{:>6} t={:>9}ms {what}",
            self.step,
            self.now.as_millis()
        ));
    }

    // ------------------------------------------------------------------ the random walk

    /// One random step, then every invariant.
    pub fn step(&mut self) -> Check {
        self.step += 1;
        self.stats.steps += 1;
        if self.step == 1 {
            self.start()?;
        }
        match self.rng.below(1000) {
            0..=219 => self.publish()?,
            220..=259 => self.subscribe()?,
            260..=279 => self.unsubscribe()?,
            280..=649 => {
                let d = self.rng.below(3000);
                self.advance(Duration::from_millis(d))?
            }
            650..=699 => self.inject()?,
            700..=714 => self.cut()?,
            715..=724 => self.go_silent(),
            725..=734 => self.restart()?,
            735..=749 => self.server_disconnect()?,
            750..=759 => self.end()?,
            760..=789 => {
                if !self.app_started || self.client.stopped().is_some() {
                    self.start()?
                }
            }
            790..=799 => self.reload()?,
            800..=804 => self.finish_loading()?,
            805..=812 => self.toggle_network()?,
            813..=819 => self.clock_jump()?,
            820..=824 => {
                self.manual_acks = !self.manual_acks;
                self.note(format!("app: manual acknowledgements {}", self.manual_acks));
                self.client.set_manual_acks(self.manual_acks);
            }
            825..=874 => self.release()?,
            875..=884 => self.remove_outgoing()?,
            _ => {
                let d = self.rng.below(200);
                self.advance(Duration::from_millis(d))?
            }
        }
        self.check_bounds()
    }

    fn start(&mut self) -> Check {
        self.note("app: start".into());
        self.app_started = true;
        if self.loading {
            // The driver starts once the stored session is in.
            return Ok(());
        }
        self.client.start(self.now);
        self.pump()
    }

    fn publish(&mut self) -> Check {
        let qos = QoS::from_u8(self.rng.below(3) as u8).unwrap_or_default();
        let n = self.next_msg;
        self.next_msg += 1;
        let tag = format!("c{n}");
        let extra = match self.rng.below(10) {
            0..=5 => self.rng.below(60),
            6..=7 => 200 + self.rng.below(1300),
            8 => 1500 + self.rng.below(6000),
            _ => self.cfg.outbox.max_bytes as u64 + self.rng.below(100),
        } as usize;
        let mut payload = format!("{tag}|").into_bytes();
        payload.resize(payload.len() + extra, b'x');
        let topic = TOPICS[self.rng.below(TOPICS.len() as u64) as usize];
        let mut p = Publish::new(topic, payload);
        p.qos = qos;
        p.retain = self.rng.below(10) == 0;
        if self.cfg.protocol.is_v5() && self.rng.below(10) == 0 {
            p.properties.message_expiry_interval = Some(1 + self.rng.below(120) as u32);
        }
        let expires = p.properties.message_expiry_interval.is_some();
        let size = Packet::Publish(p.clone())
            .encoded_len(self.cfg.protocol)
            .unwrap_or(usize::MAX);
        let too_large = self.cfg.protocol.is_v5()
            && self
                .broker
                .limits
                .maximum_packet_size
                .is_some_and(|m| size.saturating_add(16) > m as usize);
        let result = self.client.publish(self.now, p);
        self.note(format!(
            "app: publish {tag} {qos:?} +{extra}B on {topic}: {result:?}"
        ));
        if let Ok(op) = result {
            self.stats.published += 1;
            self.ops.insert(op, Op::Publish(tag.clone()));
            self.sent.insert(
                tag,
                Sent {
                    qos,
                    outcome: None,
                    abandoned: false,
                    loading: self.loading,
                    expires,
                    too_large,
                },
            );
        }
        self.pump()
    }

    fn filters(&mut self) -> Vec<ByteStr> {
        let n = 1 + self.rng.below(2);
        (0..n)
            .map(|_| ByteStr::from(FILTERS[self.rng.below(FILTERS.len() as u64) as usize]))
            .collect()
    }

    fn subscribe(&mut self) -> Check {
        let filters: Vec<(ByteStr, SubscriptionOptions)> = self
            .filters()
            .into_iter()
            .map(|f| {
                let qos = QoS::from_u8(self.rng.below(3) as u8).unwrap_or_default();
                (
                    f,
                    SubscriptionOptions {
                        qos,
                        ..Default::default()
                    },
                )
            })
            .collect();
        let names: Vec<String> = filters
            .iter()
            .map(|(f, o)| format!("{f}@{:?}", o.qos))
            .collect();
        let result = self.client.subscribe(self.now, filters, None, vec![]);
        self.note(format!(
            "app: subscribe {names:?}: {:?}",
            result.as_ref().map(|r| r.0)
        ));
        if let Ok((op, _)) = result {
            self.ops.insert(op, Op::Subscribe);
        }
        self.pump()
    }

    fn unsubscribe(&mut self) -> Check {
        let filters = self.filters();
        let result = self.client.unsubscribe(self.now, filters.clone());
        self.note(format!("app: unsubscribe {filters:?}: {result:?}"));
        if let Ok(op) = result {
            self.ops.insert(op, Op::Unsubscribe);
        }
        self.pump()
    }

    /// The application ends the client, gracefully or by force, at any moment.
    fn end(&mut self) -> Check {
        let force = self.rng.below(2) == 0;
        self.note(format!("app: end (force {force})"));
        self.app_started = false;
        self.client.disconnect(
            self.now,
            DisconnectOptions {
                force,
                ..Default::default()
            },
        );
        self.pump()
    }

    /// The application is done with a message it holds (any of them: out of order too).
    fn release(&mut self) -> Check {
        if self.held.is_empty() {
            return Ok(());
        }
        let (id, qos) = self
            .held
            .remove(self.rng.below(self.held.len() as u64) as usize);
        self.note(format!("app: release {id} {qos:?}"));
        self.client.release(id, qos);
        self.pump()
    }

    /// The application gives up on a message in flight (one of the last few identifiers): it
    /// may or may not arrive, once at most; a later message on its identifier must arrive.
    fn remove_outgoing(&mut self) -> Check {
        let Some(last) = self.client.last_packet_id() else {
            return Ok(());
        };
        let id = last.wrapping_sub(self.rng.below(4) as u16).max(1);
        if let Some(p) = self.client.remove_outgoing(id) {
            let tag = tag(&p.payload);
            self.note(format!("app: remove {id} ({tag})"));
            self.stats.removed += 1;
            if let Some(s) = self.sent.get_mut(&tag) {
                s.outcome = Some(false);
            }
        }
        self.pump()
    }

    /// A page reload: the page's client and its pending callbacks are gone; a persistent
    /// session comes back from storage, with operations started while it loads.
    fn reload(&mut self) -> Check {
        self.stats.reloads += 1;
        self.note("page reload".into());
        self.cut_link();
        self.opening = None;
        for (_, op) in std::mem::take(&mut self.ops) {
            if let Op::Publish(tag) = op {
                if let Some(s) = self.sent.get_mut(&tag) {
                    s.abandoned = true;
                }
            }
        }
        let mut cfg = self.cfg.clone();
        cfg.seed = self.rng.next_u64();
        self.client = Client::new(cfg);
        self.held.clear();
        self.manual_acks = false;
        self.saved_rev = u64::MAX;
        self.loading = true;
        // Operations of the new page before its stored session has loaded.
        for _ in 0..self.rng.below(3) {
            self.publish()?;
        }
        if self.rng.below(2) == 0 {
            self.finish_loading()?;
        }
        self.pump()
    }

    /// The stored session has been read: it is imported, then the client starts if the
    /// application asked it to meanwhile.
    pub(super) fn finish_loading(&mut self) -> Check {
        if !self.loading {
            return Ok(());
        }
        self.loading = false;
        self.note("driver: stored session loaded".into());
        // This page's publishes are in the client that saves now; those of a page reloaded
        // while it was loading stay lost with it.
        for s in self.sent.values_mut().filter(|s| !s.abandoned) {
            s.loading = false;
        }
        match self.stored.as_mut() {
            Some(store) if self.cfg.persistent_session() => {
                // A load knows the segments it found; now and then an earlier save left one
                // no index refers to (the next save must delete it).
                if self.rng.below(8) == 0 {
                    let stray = 1_000_000 + self.rng.below(1000);
                    // A leftover never has the number of a segment in use (numbers only
                    // grow); drawn onto one, it would overwrite a live segment (seed
                    // 797,318,998 did: the harness's fault, not the client's).
                    if let std::collections::btree_map::Entry::Vacant(e) =
                        store.segments.entry(stray)
                    {
                        let mut seg = stray.to_be_bytes().to_vec();
                        seg.extend_from_slice(&[0, 0, 0, 8]);
                        seg.extend_from_slice(&(u64::MAX - stray).to_be_bytes());
                        e.insert(seg);
                        store.strays.push(stray);
                    }
                }
                store.keys = StoredKeys::of_segments(store.segments.values().map(Vec::as_slice));
                let bytes = store.whole();
                let wall = self.now.as_millis();
                if let Err(e) = self.client.import_session(&bytes, self.now, wall) {
                    return Err(format!("the stored session did not import: {e}"));
                }
            }
            _ => {
                // The client's side of the session is gone: duplicates may follow.
                self.client_epoch += 1;
            }
        }
        if self.app_started {
            self.client.start(self.now);
        }
        self.pump()
    }

    fn toggle_network(&mut self) -> Check {
        self.online = !self.online;
        self.note(format!("network online: {}", self.online));
        if !self.online && self.rng.below(2) == 0 {
            self.go_silent();
        }
        self.client.set_network_available(self.now, self.online);
        self.pump()
    }

    /// A hidden tab: the page's timers and sockets are frozen while the world goes on, then it
    /// wakes up late and checks its connection.
    fn clock_jump(&mut self) -> Check {
        let jump = Duration::from_secs(30 + self.rng.below(600));
        self.note(format!("page frozen for {}s", jump.as_secs()));
        let end = self.now + jump;
        while let Some(at) = self.broker_side_next().filter(|at| *at <= end) {
            self.now = self.now.max(at);
            self.broker_side_due()?;
        }
        self.now = end;
        self.client.check_liveness(self.now);
        self.pump()?;
        self.due()
    }

    // ------------------------------------------------------------------ faults

    fn go_silent(&mut self) {
        if let Some(link) = &mut self.link {
            self.stats.faults += 1;
            link.silent = true;
            self.trace_push("link: half-open (silence both ways)");
        }
    }

    fn trace_push(&mut self, s: &str) {
        self.note(s.to_string());
    }

    /// The connection drops at a random byte in each direction.
    fn cut(&mut self) -> Check {
        if self.link.is_none() {
            return Ok(());
        }
        self.stats.faults += 1;
        self.note("link: cut".into());
        self.cut_link();
        self.client.handle_close(self.now, Some("cut".into()));
        self.pump()
    }

    /// Cuts the link, delivering a prefix each way (the client handles its part as a driver
    /// would, before it learns of the close), and tells the broker; the caller tells the
    /// client (or replaces it).
    fn cut_link(&mut self) {
        let Some(link) = &mut self.link else {
            return;
        };
        if !link.silent {
            let to_broker = link.to_broker.cut(&mut self.rng);
            let to_client = link.to_client.cut(&mut self.rng);
            link.silent = true;
            // Violations in the prefix still count; they surface on the next check.
            if let Err(e) = self.broker.handle_bytes(self.now, &to_broker) {
                self.pending_violation = Some(e);
            }
            let _ = self.broker.take_out();
            let _ = self.broker.take_close();
            self.client.handle_bytes(self.now, &to_client);
            if let Err(e) = self.pump() {
                self.pending_violation.get_or_insert(e);
            }
        }
        self.link = None;
        self.broker.handle_close(self.now);
        self.broker_orphan = false;
    }

    fn restart(&mut self) -> Check {
        let keep = self.rng.below(2) == 0;
        self.stats.faults += 1;
        self.note(format!("broker: restart (sessions kept: {keep})"));
        let had_link = self.link.is_some();
        self.cut_link();
        self.broker.restart(self.now, keep);
        self.broker_orphan = false;
        self.broker_down_until = Some(self.now + Duration::from_millis(self.rng.below(5000)));
        if had_link {
            self.client
                .handle_close(self.now, Some("broker restart".into()));
        }
        self.pump()
    }

    fn server_disconnect(&mut self) -> Check {
        if self.link.as_ref().is_none_or(|l| l.silent) {
            return Ok(());
        }
        let (reason, reference) = match self.rng.below(5) {
            0 => (ReasonCode::SessionTakenOver, None),
            1 => (ReasonCode::ServerBusy, None),
            2 => (ReasonCode::UseAnotherServer, Some(URLS[1])),
            3 => (ReasonCode::ServerMoved, Some(URLS[0])),
            _ => (ReasonCode::ServerShuttingDown, None),
        };
        self.stats.faults += 1;
        self.note(format!("broker: DISCONNECT {reason:?} {reference:?}"));
        self.broker.server_disconnect(reason, reference);
        self.flush_broker()
    }

    /// Another client publishes to a topic the simulated client may subscribe to.
    fn inject(&mut self) -> Check {
        let n = self.next_msg;
        self.next_msg += 1;
        let qos = QoS::from_u8(self.rng.below(3) as u8).unwrap_or_default();
        let topic = TOPICS[self.rng.below(TOPICS.len() as u64) as usize];
        let mut payload = format!("b{n}|").into_bytes();
        payload.resize(payload.len() + self.rng.below(3000) as usize, b'y');
        let mut p = Publish::new(topic, payload);
        p.qos = qos;
        self.note(format!(
            "broker: b{n} {qos:?} from another client on {topic}"
        ));
        self.broker.inject(p);
        self.flush_broker()
    }
}

fn pick(rng: &mut Rng, one_in: u64) -> bool {
    rng.below(one_in) == 0
}

#[path = "driver.rs"]
mod driver;
