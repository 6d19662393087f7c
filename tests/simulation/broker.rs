//! The model broker: what an MQTT 3.1.1 / 5.0 server does that a client depends on, and a
//! strict judge of everything the client sends. Any protocol violation by the client is a
//! `Err(String)` that fails the simulation run.
//!
//! It keeps one connection at a time (the simulated client is the only one; other clients
//! appear as `inject`ed messages), sessions by client identifier with expiry, retained
//! messages, its own QoS 1/2 redelivery, slow acknowledgements, and an `epoch` that moves
//! whenever a session is discarded, so the checker knows when duplicates are allowed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::Below;
use wasmqtt::codec::*;
use wasmqtt::proto::{matches, Instant, Rng};

/// What this broker allows; fixed for one run (CONNACK announces it on MQTT 5).
#[derive(Debug, Clone)]
pub struct Limits {
    pub receive_maximum: u16,
    pub topic_alias_maximum: u16,
    pub maximum_packet_size: Option<u32>,
    /// Longest delay before an acknowledgement goes out.
    pub ack_delay_ms: u64,
}

/// Which side sent an application message, and where it was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub qos: QoS,
    pub epoch: u64,
    /// Queued while the client's view of the session had diverged from the broker's (see
    /// `Broker::new_session_unseen`): a QoS 2 message may then be dropped as a duplicate.
    pub exempt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutStage {
    Ack,
    Rec,
    Comp,
}

/// A session kept for a client identifier.
// Design: the state a real broker keeps across connections, nothing more, so "session present"
// means exactly what the specification says it means.
#[derive(Debug, Default)]
struct Stored {
    subs: BTreeMap<String, QoS>,
    /// Incoming QoS 2 identifiers: PUBREC owed or sent, PUBREL not yet received.
    in_qos2: BTreeSet<u16>,
    /// Incoming QoS 2 identifiers completed (a repeated PUBREL is answered again).
    in_done: BTreeSet<u16>,
    /// To the client, unacknowledged, in the order sent.
    out: Vec<(u16, Publish, OutStage)>,
    /// To the client, waiting for its Receive Maximum.
    queue: VecDeque<Publish>,
    next_id: u16,
    expiry: u32,
    gone_at: Option<Instant>,
    epoch: u64,
}

/// The live connection.
#[derive(Debug)]
struct Conn {
    decoder: Decoder,
    client_id: Option<String>,
    keep_alive: u16,
    last_rx: Instant,
    in_aliases: BTreeMap<u16, String>,
    /// The client's limits toward us.
    receive_maximum: u16,
    maximum_packet_size: u32,
    topic_alias_maximum: u16,
    out_aliases: BTreeMap<String, u16>,
    /// Acknowledgements held back (slow broker), with when they go out.
    delayed: VecDeque<(Instant, Packet)>,
    /// PUBACKs owed (they count against our Receive Maximum until sent).
    owed_pubacks: BTreeSet<u16>,
}

/// The broker.
#[derive(Debug)]
pub struct Broker {
    pub v: ProtocolVersion,
    pub limits: Limits,
    sessions: BTreeMap<String, Stored>,
    retained: BTreeMap<String, Publish>,
    conn: Option<Conn>,
    out: Vec<u8>,
    close: bool,
    /// Bumped whenever a session is discarded.
    pub epoch: u64,
    /// Application messages received from the client, by tag.
    pub received: BTreeMap<String, Vec<Seen>>,
    /// Messages for the client that it can never get (larger than its Maximum Packet Size).
    pub undeliverable: BTreeSet<String>,
    /// Messages queued for the client's session, by tag, with the session's epoch.
    pub queued_for_client: BTreeMap<String, Seen>,
    pub rng: Rng,
    /// Every identifier ever PUBREC'd to the client, in any session: a client may hold a
    /// PUBREL for a session the broker lost while the client could not tell (the CONNACK of
    /// the replacing session never reached it), which is answered "not found"; a PUBREL for
    /// an identifier never PUBREC'd at all is a client bug.
    ever_pubrec: BTreeSet<u16>,
    copies: u64,
    /// A CONNECT made a new session whose CONNACK (Session Present 0) the client may not
    /// have seen; cleared by the world when the client reports a session not present.
    pub new_session_unseen: bool,
    /// Set by the world while the client's session state and the broker's diverge.
    pub exempt: bool,
}

/// The tag that names an application message: its payload up to the first '|'.
pub fn tag(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .position(|b| *b == b'|')
        .unwrap_or(payload.len());
    String::from_utf8_lossy(&payload[..end]).into_owned()
}

impl Broker {
    pub fn new(v: ProtocolVersion, limits: Limits, seed: u64) -> Broker {
        Broker {
            v,
            limits,
            sessions: BTreeMap::new(),
            retained: BTreeMap::new(),
            conn: None,
            out: Vec::new(),
            close: false,
            epoch: 0,
            received: BTreeMap::new(),
            undeliverable: BTreeSet::new(),
            queued_for_client: BTreeMap::new(),
            rng: Rng::new(seed),
            ever_pubrec: BTreeSet::new(),
            copies: 0,
            new_session_unseen: false,
            exempt: false,
        }
    }

    /// A new connection (a second one replaces the first, as a takeover would).
    pub fn accept(&mut self, now: Instant) {
        self.drop_conn(now);
        let mut decoder = Decoder::new(self.v);
        // MQTT 3.1.1 cannot announce a limit, so only MQTT 5 holds the client to one.
        if let Some(max) = self.limits.maximum_packet_size.filter(|_| self.v.is_v5()) {
            decoder.set_max_packet_size(max as usize);
        }
        self.conn = Some(Conn {
            decoder,
            client_id: None,
            keep_alive: 0,
            last_rx: now,
            in_aliases: BTreeMap::new(),
            receive_maximum: u16::MAX,
            maximum_packet_size: u32::MAX,
            topic_alias_maximum: 0,
            out_aliases: BTreeMap::new(),
            delayed: VecDeque::new(),
            owed_pubacks: BTreeSet::new(),
        });
        self.close = false;
    }

    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Bytes to send to the client.
    pub fn take_out(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Whether the broker closed the connection (after sending what `take_out` returned).
    pub fn take_close(&mut self) -> bool {
        std::mem::take(&mut self.close)
    }

    /// The connection is gone (closed by either side, or found dead).
    pub fn handle_close(&mut self, now: Instant) {
        self.drop_conn(now);
    }

    fn drop_conn(&mut self, now: Instant) {
        let Some(conn) = self.conn.take() else { return };
        let Some(id) = conn.client_id else { return };
        if let Some(s) = self.sessions.get_mut(&id) {
            s.gone_at = Some(now);
            if s.expiry == 0 {
                self.discard(&id);
            }
        }
    }

    fn discard(&mut self, id: &str) {
        if self.sessions.remove(id).is_some() {
            self.epoch += 1;
        }
    }

    /// A restart: the connection is cut; sessions survive it or not.
    pub fn restart(&mut self, now: Instant, keep_sessions: bool) {
        self.drop_conn(now);
        self.out.clear();
        if !keep_sessions && !self.sessions.is_empty() {
            self.sessions.clear();
            self.epoch += 1;
        }
    }

    /// The server ends the connection with a DISCONNECT (MQTT 5) or by closing (3.1.1).
    pub fn server_disconnect(&mut self, reason: ReasonCode, reference: Option<&str>) {
        if self.conn.as_ref().is_none_or(|c| c.client_id.is_none()) {
            return;
        }
        if self.v.is_v5() {
            let mut d = Disconnect::new(reason);
            d.properties.server_reference = reference.map(ByteStr::from);
            self.send(&Packet::Disconnect(d));
        }
        self.close = true;
    }

    /// Time passed: slow acknowledgements fall due, idle connections and sessions expire.
    pub fn tick(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                s.gone_at.is_some_and(|at| {
                    now.saturating_duration_since(at) >= Duration::from_secs(u64::from(s.expiry))
                })
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.discard(&id);
        }
        let Some(conn) = &mut self.conn else { return };
        // [MQTT-3.1.2-24]: one and a half keep alives of silence and the server closes.
        if conn.keep_alive > 0
            && now.saturating_duration_since(conn.last_rx).as_millis()
                > u128::from(conn.keep_alive) * 1500
        {
            self.close = true;
            return;
        }
        let mut due = Vec::new();
        while conn.delayed.front().is_some_and(|(at, _)| *at <= now) {
            due.extend(conn.delayed.pop_front().map(|(_, p)| p));
        }
        for p in due {
            if let (Packet::PubAck(a), Some(c)) = (&p, &mut self.conn) {
                c.owed_pubacks.remove(&a.packet_id);
            }
            self.send(&p);
        }
        self.pump_out();
    }

    /// When `tick` next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let conn = self.conn.as_ref();
        let acks = conn.and_then(|c| c.delayed.front().map(|(at, _)| *at));
        let idle = conn
            .filter(|c| c.keep_alive > 0)
            .map(|c| c.last_rx + Duration::from_millis(u64::from(c.keep_alive) * 1500 + 1));
        let expiry = self
            .sessions
            .values()
            .filter_map(|s| {
                s.gone_at
                    .map(|at| at + Duration::from_secs(u64::from(s.expiry)))
            })
            .min();
        [acks, idle, expiry].into_iter().flatten().min()
    }

    /// A message from another client, routed to the simulated client's subscriptions.
    pub fn inject(&mut self, publish: Publish) {
        self.route(publish);
        self.pump_out();
    }

    fn send(&mut self, p: &Packet) {
        // What we send is valid by construction; an encode failure is a bug in this model.
        let bytes = p
            .to_bytes(self.v)
            .expect("the model broker's packet encodes");
        self.out.extend_from_slice(&bytes);
    }

    /// An acknowledgement now or, on a slow broker, later (order kept).
    fn ack(&mut self, now: Instant, p: Packet) {
        let delay = self.rng.below(self.limits.ack_delay_ms);
        let Some(conn) = &mut self.conn else { return };
        if delay == 0 && conn.delayed.is_empty() {
            if let Packet::PubAck(a) = &p {
                conn.owed_pubacks.remove(&a.packet_id);
            }
            self.send(&p);
        } else {
            let at = conn
                .delayed
                .back()
                .map_or(now, |(t, _)| *t)
                .max(now + Duration::from_millis(delay));
            conn.delayed.push_back((at, p));
        }
    }

    /// Bytes from the client.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) -> Result<(), String> {
        let Some(conn) = &mut self.conn else {
            return Ok(());
        };
        conn.last_rx = now;
        conn.decoder.push(data);
        loop {
            let Some(conn) = &mut self.conn else {
                return Ok(());
            };
            let packet = match conn.decoder.decode() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    return Err(format!(
                        "the client sent a malformed or oversize packet: {e}"
                    ))
                }
            };
            self.handle_packet(now, packet)?;
        }
        self.pump_out();
        Ok(())
    }

    fn handle_packet(&mut self, now: Instant, packet: Packet) -> Result<(), String> {
        let connected = self.conn.as_ref().is_some_and(|c| c.client_id.is_some());
        match packet {
            Packet::Connect(c) if !connected => self.on_connect(now, *c),
            Packet::Connect(_) => Err("a second CONNECT on one connection [MQTT-3.1.0-2]".into()),
            _ if !connected => Err("a packet before CONNECT [MQTT-3.1.0-1]".into()),
            Packet::Publish(p) => self.on_publish(now, p),
            Packet::PubRel(r) => self.on_pubrel(now, r.packet_id),
            Packet::PubAck(r) => self.on_out_ack(r.packet_id, OutStage::Ack, &r),
            Packet::PubRec(r) => self.on_out_ack(r.packet_id, OutStage::Rec, &r),
            Packet::PubComp(r) => self.on_out_ack(r.packet_id, OutStage::Comp, &r),
            Packet::Subscribe(s) => self.on_subscribe(now, s),
            Packet::Unsubscribe(u) => {
                let s = self.session_mut();
                let mut codes = Vec::new();
                for f in &u.filters {
                    codes.push(match s.subs.remove(f.as_str()) {
                        Some(_) => ReasonCode::Success,
                        None => ReasonCode::NoSubscriptionExisted,
                    });
                }
                let codes = if self.v.is_v5() { codes } else { Vec::new() };
                self.ack(
                    now,
                    Packet::UnsubAck(UnsubAck {
                        packet_id: u.packet_id,
                        reason_codes: codes,
                        properties: Properties::default(),
                    }),
                );
                Ok(())
            }
            Packet::PingReq => {
                self.send(&Packet::PingResp);
                Ok(())
            }
            Packet::Disconnect(d) => {
                if let Some(secs) = d.properties.session_expiry_interval {
                    let s = self.session_mut();
                    if s.expiry == 0 && secs > 0 {
                        return Err(
                            "DISCONNECT raised a zero session expiry [MQTT-3.14.2-2]".into()
                        );
                    }
                    s.expiry = secs;
                }
                self.close = true;
                Ok(())
            }
            other => Err(format!("a client does not send {}", other.packet_type())),
        }
    }

    fn session_mut(&mut self) -> &mut Stored {
        let id = self
            .conn
            .as_ref()
            .and_then(|c| c.client_id.clone())
            .unwrap_or_default();
        self.sessions.entry(id).or_default()
    }

    fn on_connect(&mut self, now: Instant, c: Connect) -> Result<(), String> {
        if c.protocol != self.v {
            return Err(format!(
                "CONNECT asks for {:?}, the run uses {:?}",
                c.protocol, self.v
            ));
        }
        let id = c.client_id.to_string();
        let expiry = if self.v.is_v5() {
            c.properties.session_expiry_interval.unwrap_or(0)
        } else if c.clean_start {
            0
        } else {
            u32::MAX
        };
        if c.clean_start {
            self.discard(&id);
        }
        let present = self.sessions.contains_key(&id);
        let epoch = self.epoch;
        let s = self.sessions.entry(id.clone()).or_default();
        if !present {
            s.epoch = epoch;
            s.next_id = 1;
        }
        let new_session = !present;
        s.expiry = expiry;
        s.gone_at = None;
        let conn = self.conn.as_mut().ok_or("no connection")?;
        conn.client_id = Some(id);
        conn.keep_alive = c.keep_alive;
        conn.receive_maximum = c.properties.receive_maximum.unwrap_or(u16::MAX);
        conn.maximum_packet_size = c.properties.maximum_packet_size.unwrap_or(u32::MAX);
        conn.topic_alias_maximum = c.properties.topic_alias_maximum.unwrap_or(0);
        let mut ack = ConnAck {
            session_present: present,
            ..ConnAck::default()
        };
        if self.v.is_v5() {
            ack.properties.receive_maximum = Some(self.limits.receive_maximum);
            ack.properties.topic_alias_maximum = Some(self.limits.topic_alias_maximum);
            ack.properties.maximum_packet_size = self.limits.maximum_packet_size;
        }
        self.send(&Packet::ConnAck(ack));
        if new_session {
            self.new_session_unseen = true;
        }
        if present {
            // [MQTT-4.4.0-1]: unacknowledged PUBLISHes again with DUP, PUBRELs again, in order.
            let s = self.session_mut();
            let again: Vec<Packet> = s
                .out
                .iter()
                .map(|(id, p, stage)| match stage {
                    OutStage::Comp => Packet::PubRel(PubResp::new(*id)),
                    _ => {
                        let mut p = p.clone();
                        p.dup = true;
                        p.packet_id = *id;
                        Packet::Publish(p)
                    }
                })
                .collect();
            for p in again {
                self.send(&p);
            }
        }
        let _ = now;
        Ok(())
    }

    fn on_publish(&mut self, now: Instant, mut p: Publish) -> Result<(), String> {
        let v5 = self.v.is_v5();
        let limits = self.limits.clone();
        let conn = self.conn.as_mut().ok_or("no connection")?;
        if let Some(alias) = p.properties.topic_alias.take() {
            if !v5 || alias == 0 || alias > limits.topic_alias_maximum {
                return Err(format!(
                    "topic alias {alias} beyond the server's Topic Alias Maximum {} [MQTT-3.3.2-9]",
                    limits.topic_alias_maximum
                ));
            }
            if p.topic.is_empty() {
                match conn.in_aliases.get(&alias) {
                    Some(t) => p.topic = ByteStr::from(t.as_str()),
                    None => {
                        return Err(format!("unknown topic alias {alias} [MQTT-3.3.4-?] (0x82)"))
                    }
                }
            } else {
                conn.in_aliases.insert(alias, p.topic.to_string());
            }
        } else if p.topic.is_empty() {
            return Err("an empty topic without a topic alias".into());
        }
        let owed = conn.owed_pubacks.len();
        let id = p.packet_id;
        let stored = self
            .sessions
            .get_mut(conn.client_id.as_deref().unwrap_or_default())
            .ok_or("no session")?;
        let in_use = stored.in_qos2.len() + owed;
        let tag = tag(&p.payload);
        let mut deliver = true;
        match p.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce | QoS::ExactlyOnce => {
                let reused = conn.owed_pubacks.contains(&id) || stored.in_qos2.contains(&id);
                if reused && !p.dup {
                    return Err(format!(
                        "packet identifier {id} reused while still in use [MQTT-2.2.1-3]"
                    ));
                }
                if !reused && in_use >= usize::from(limits.receive_maximum) && v5 {
                    return Err(format!(
                        "more than the server's Receive Maximum of {} unacknowledged [MQTT-3.3.4-7]",
                        limits.receive_maximum
                    ));
                }
                // mosquitto's quota before MQTT 5 counts QoS 2 messages awaiting PUBREL: with
                // 20 of them it acknowledges a QoS 2 or a QoS 1 message and drops it (measured
                // with mosquitto 2.0), so a client that sends one then loses it.
                if !reused
                    && !v5
                    && stored.in_qos2.len() >= usize::from(wasmqtt::proto::DEFAULT_V3_INFLIGHT)
                {
                    return Err(format!(
                        "a QoS {} message while 20 QoS 2 messages await PUBREL over MQTT 3.1.x: mosquitto drops it",
                        p.qos as u8
                    ));
                }
                if p.qos == QoS::AtLeastOnce {
                    conn.owed_pubacks.insert(id);
                    self.ack(now, Packet::PubAck(PubResp::new(id)));
                } else {
                    deliver = !stored.in_qos2.contains(&id);
                    stored.in_qos2.insert(id);
                    self.ever_pubrec.insert(id);
                    stored.in_done.remove(&id);
                    self.ack(now, Packet::PubRec(PubResp::new(id)));
                }
            }
        }
        if !deliver {
            return Ok(());
        }
        let seen = self.received.entry(tag.clone()).or_default();
        let twice = p.qos == QoS::ExactlyOnce
            && seen
                .iter()
                .any(|s| s.qos == QoS::ExactlyOnce && s.epoch == self.epoch);
        if twice {
            return Err(format!(
                "QoS 2 message {tag} reached the broker twice in one session [MQTT-4.3.3]"
            ));
        }
        seen.push(Seen {
            qos: p.qos,
            epoch: self.epoch,
            exempt: false,
        });
        if p.retain {
            if p.payload.is_empty() {
                self.retained.remove(p.topic.as_str());
            } else {
                let mut r = p.clone();
                r.properties = Properties::default();
                self.retained.insert(p.topic.to_string(), r);
            }
        }
        p.retain = false;
        p.dup = false;
        p.properties = Properties::default();
        self.route(p);
        Ok(())
    }

    fn on_pubrel(&mut self, now: Instant, id: u16) -> Result<(), String> {
        let v5 = self.v.is_v5();
        let ever = self.ever_pubrec.contains(&id);
        let s = self.session_mut();
        let mut comp = PubResp::new(id);
        if s.in_qos2.remove(&id) {
            s.in_done.insert(id);
        } else if !s.in_done.contains(&id) {
            if !ever {
                return Err(format!("PUBREL for packet identifier {id}, never PUBREC'd"));
            }
            if v5 {
                comp.reason_code = ReasonCode::PacketIdentifierNotFound;
            }
        }
        self.ack(now, Packet::PubComp(comp));
        Ok(())
    }

    fn on_out_ack(&mut self, id: u16, got: OutStage, r: &PubResp) -> Result<(), String> {
        let s = self.session_mut();
        let Some(i) = s.out.iter().position(|(x, _, _)| *x == id) else {
            return Err(format!(
                "{got:?} acknowledgement for packet identifier {id} never sent"
            ));
        };
        // PUBACKs in the order the PUBLISHes were sent [MQTT-4.6.0-2].
        if got == OutStage::Ack {
            let first = s
                .out
                .iter()
                .find(|(_, _, st)| *st == OutStage::Ack)
                .map(|e| e.0);
            if first != Some(id) {
                return Err(format!(
                    "PUBACK {id} before PUBACK {first:?}, whose PUBLISH was sent first [MQTT-4.6.0-2]"
                ));
            }
        }
        let stage = s.out[i].2;
        match (stage, got) {
            (OutStage::Ack, OutStage::Ack) | (OutStage::Comp, OutStage::Comp) => {
                s.out.remove(i);
            }
            (OutStage::Rec, OutStage::Rec) if r.reason_code.is_error() => {
                s.out.remove(i);
            }
            (OutStage::Rec | OutStage::Comp, OutStage::Rec) => {
                s.out[i].2 = OutStage::Comp;
                self.send(&Packet::PubRel(PubResp::new(id)));
            }
            _ => {
                return Err(format!(
                    "{got:?} for packet identifier {id} in stage {stage:?}"
                ))
            }
        }
        Ok(())
    }

    fn on_subscribe(&mut self, now: Instant, s: Subscribe) -> Result<(), String> {
        let mut codes = Vec::new();
        let mut retained = Vec::new();
        for sub in &s.subscriptions {
            let f = sub.filter.to_string();
            // Now and then a filter is refused, as an ACL would.
            if f.starts_with("deny") {
                codes.push(if self.v.is_v5() {
                    ReasonCode::NotAuthorized
                } else {
                    ReasonCode::UnspecifiedError
                });
                continue;
            }
            codes.push(ReasonCode::granting(sub.options.qos));
            for (topic, m) in &self.retained {
                if matches(&f, topic) {
                    let mut m = m.clone();
                    m.qos = m.qos.min(sub.options.qos);
                    m.retain = true;
                    retained.push(m);
                }
            }
            self.session_mut().subs.insert(f, sub.options.qos);
        }
        self.ack(
            now,
            Packet::SubAck(SubAck {
                packet_id: s.packet_id,
                reason_codes: codes,
                properties: Properties::default(),
            }),
        );
        let st = self.session_mut();
        st.queue.extend(retained);
        Ok(())
    }

    /// Puts a message on the simulated client's session queue if a subscription matches.
    fn route(&mut self, p: Publish) {
        let Some(id) = self
            .conn
            .as_ref()
            .and_then(|c| c.client_id.clone())
            .or_else(|| {
                // Offline: the only session is the simulated client's.
                self.sessions.keys().next().cloned()
            })
        else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let granted = s
            .subs
            .iter()
            .filter(|(f, _)| matches(f, &p.topic))
            .map(|(_, q)| *q)
            .max();
        let Some(granted) = granted else { return };
        let mut m = p;
        m.qos = m.qos.min(granted);
        // Each copy routed to the client is told apart by its tag ("b7#3"): the same message
        // published twice is two copies, one copy delivered twice is a duplicate.
        self.copies += 1;
        let t = tag(&m.payload);
        let mut payload = format!(
            "{}#{}",
            t.split('#').next().unwrap_or_default(),
            self.copies
        )
        .into_bytes();
        payload.extend_from_slice(&m.payload[t.len()..]);
        m.payload = payload.into();
        if m.qos == QoS::AtMostOnce && self.conn.is_none() {
            return;
        }
        self.queued_for_client.insert(
            tag(&m.payload),
            Seen {
                qos: m.qos,
                epoch: s.epoch,
                exempt: self.exempt,
            },
        );
        s.queue.push_back(m);
    }

    /// Sends queued messages to the client while its Receive Maximum allows.
    fn pump_out(&mut self) {
        let Some(conn) = &mut self.conn else { return };
        let Some(id) = conn.client_id.clone() else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let mut packets = Vec::new();
        while s.out.len() < usize::from(conn.receive_maximum) {
            let Some(mut m) = s.queue.pop_front() else {
                break;
            };
            let mut wire = m.clone();
            if m.qos != QoS::AtMostOnce {
                let mut pid = s.next_id.max(1);
                while s.out.iter().any(|(x, _, _)| *x == pid) {
                    pid = pid.checked_add(1).unwrap_or(1);
                }
                s.next_id = pid.checked_add(1).unwrap_or(1);
                m.packet_id = pid;
                wire.packet_id = pid;
            }
            // A topic alias now and then, within what the client allows.
            if self.v.is_v5() && conn.topic_alias_maximum > 0 && self.rng.below(2) == 0 {
                let next = conn.out_aliases.len() as u16 + 1;
                match conn.out_aliases.get(m.topic.as_str()) {
                    Some(a) => {
                        wire.properties.topic_alias = Some(*a);
                        wire.topic = ByteStr::new();
                    }
                    None if next <= conn.topic_alias_maximum => {
                        conn.out_aliases.insert(m.topic.to_string(), next);
                        wire.properties.topic_alias = Some(next);
                    }
                    None => {}
                }
            }
            let packet = Packet::Publish(wire);
            let size = packet.encoded_len(self.v).unwrap_or(usize::MAX);
            if size > conn.maximum_packet_size as usize {
                // [MQTT-3.1.2-25]: discarded as if sent; the alias stays unused (a fresh
                // mapping would be unknown to the client, so undo it).
                if let Packet::Publish(w) = &packet {
                    if !w.topic.is_empty() && w.properties.topic_alias.is_some() {
                        conn.out_aliases.remove(m.topic.as_str());
                    }
                }
                self.undeliverable.insert(tag(&m.payload));
                continue;
            }
            if m.qos != QoS::AtMostOnce {
                let stage = if m.qos == QoS::AtLeastOnce {
                    OutStage::Ack
                } else {
                    OutStage::Rec
                };
                m.topic = ByteStr::from(m.topic.as_str());
                s.out.push((m.packet_id, m, stage));
            }
            packets.push(packet);
        }
        for p in packets {
            self.send(&p);
        }
    }

    /// What is still owed to the client (for the final check).
    pub fn owed_to_client(&self) -> usize {
        self.sessions
            .values()
            .map(|s| s.queue.len() + s.out.len())
            .sum()
    }
}
