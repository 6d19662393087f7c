//! Session state: what must survive a reconnect (and, exported as bytes, a page reload).
//!
//! Length: the in-flight queue, the outbox, the identifier sets and the stored format belong
//! together (the format is the session's, and its tests round-trip all of them); the flow that
//! moves messages between them is in `outbound.rs`.

use std::collections::VecDeque;

use super::config::{OutboxConfig, OutboxPolicy};
use super::stored;
use super::topic::Registry;
use super::{ClientError, Instant, OpId};
use crate::codec::{Publish, QoS};

/// Where an outgoing QoS 1/2 message is in its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// QoS 1: PUBLISH sent, waiting for PUBACK.
    AwaitAck,
    /// QoS 2: PUBLISH sent, waiting for PUBREC.
    AwaitRec,
    /// QoS 2: PUBREL sent, waiting for PUBCOMP.
    AwaitComp,
}

/// An outgoing QoS 1/2 message with a packet identifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Inflight {
    /// Its packet identifier.
    pub id: u16,
    /// The message as published (no topic alias: aliases belong to one connection).
    pub publish: Publish,
    /// Where it is.
    pub stage: Stage,
    /// The operation to complete.
    pub op: Option<OpId>,
    /// When it was published (for the remaining message expiry interval on resend).
    pub queued_at: Instant,
    /// Its number in the session (see [`Queued::key`]).
    pub key: u64,
    /// The application gave up on it (MQTT.js's `removeOutgoingMessage`): its operation has
    /// completed; its protocol flow goes on while the session lasts (resent on a resumed
    /// session [MQTT-4.4.0-1], its identifier held until acknowledged), and it is not sent as
    /// a new message in a new session.
    pub removed: bool,
}

/// The in-flight messages in the order they were sent, found by packet identifier in constant
/// time.
// Design: acknowledgements usually come in order, but not always (QoS 1 and QoS 2 flows
// interleave, and a QoS 2 message waits for PUBCOMP behind later QoS 1 messages); with up to
// 65,535 in flight a linear search per acknowledgement is quadratic. Entries live in a deque
// indexed by a sequence number; a removed entry leaves a hole that is dropped once it reaches
// the front, and a paged table maps each identifier to its sequence number (pages are
// allocated on first use: a few KiB for the usual window of tens).
#[derive(Debug, Clone, Default)]
pub struct InflightQueue {
    /// Sequence number of `entries[0]` (wrapping).
    base: u32,
    entries: VecDeque<Option<Inflight>>,
    /// Sequence number by packet identifier, in 256 pages of 256.
    index: Vec<Option<Box<[u32; 256]>>>,
    len: usize,
    /// Of them, QoS 2 messages (a 3.1.1 server's quota counts those: see `Config`).
    exactly_once: usize,
    /// Topic and payload bytes held (they count against the outbox's byte bound).
    bytes: usize,
}

impl PartialEq for InflightQueue {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl InflightQueue {
    /// How many messages are in flight.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many QoS 2 messages are in flight.
    pub fn exactly_once(&self) -> usize {
        self.exactly_once
    }

    /// Topic and payload bytes of the messages in flight.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends a message; its identifier must not be in flight already.
    pub fn push_back(&mut self, m: Inflight) {
        if self.index.is_empty() {
            self.index.resize(256, None);
        }
        let seq = self.base.wrapping_add(self.entries.len() as u32);
        let page = self.index[usize::from(m.id >> 8)].get_or_insert_with(|| Box::new([0; 256]));
        page[usize::from(m.id & 0xff)] = seq;
        self.bytes += m.publish.topic.len() + m.publish.payload.len();
        self.exactly_once += usize::from(m.publish.qos == QoS::ExactlyOnce);
        self.entries.push_back(Some(m));
        self.len += 1;
    }

    fn position(&self, id: u16) -> Option<usize> {
        let page = self.index.get(usize::from(id >> 8))?.as_ref()?;
        let at = page[usize::from(id & 0xff)].wrapping_sub(self.base) as usize;
        match self.entries.get(at) {
            Some(Some(m)) if m.id == id => Some(at),
            _ => None,
        }
    }

    /// The message with this identifier.
    pub fn get(&self, id: u16) -> Option<&Inflight> {
        let at = self.position(id)?;
        self.entries[at].as_ref()
    }

    /// The message with this identifier, to change its stage.
    pub fn get_mut(&mut self, id: u16) -> Option<&mut Inflight> {
        let at = self.position(id)?;
        self.entries[at].as_mut()
    }

    /// Removes the message with this identifier.
    pub fn remove(&mut self, id: u16) -> Option<Inflight> {
        let at = self.position(id)?;
        let m = self.entries[at].take();
        self.len -= 1;
        if let Some(m) = &m {
            self.bytes -= m.publish.topic.len() + m.publish.payload.len();
            self.exactly_once -= usize::from(m.publish.qos == QoS::ExactlyOnce);
        }
        while matches!(self.entries.front(), Some(None)) {
            self.entries.pop_front();
            self.base = self.base.wrapping_add(1);
        }
        m
    }

    /// The messages in the order they were sent.
    pub fn iter(&self) -> impl Iterator<Item = &Inflight> {
        self.entries.iter().flatten()
    }

    /// Removes every message, in the order they were sent.
    pub fn take_all(&mut self) -> Vec<Inflight> {
        let all: Vec<Inflight> = self.entries.drain(..).flatten().collect();
        self.base = 0;
        self.len = 0;
        self.exactly_once = 0;
        self.bytes = 0;
        self.index.clear();
        all
    }
}

/// A message waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// The message.
    pub publish: Publish,
    /// The operation to complete.
    pub op: Option<OpId>,
    /// When it was published.
    pub queued_at: Instant,
    /// Its number in the session, given by the outbox when it enters and kept until it leaves
    /// (in flight too): what its stored record is found by, so a save writes each message
    /// once (see `stored.rs`).
    pub key: u64,
}

impl Queued {
    fn size(&self) -> usize {
        self.publish.topic.len() + self.publish.payload.len()
    }
}

/// Messages waiting to be sent, bounded in count and bytes.
// Design: one FIFO for everything not yet handed to the transport: messages published offline,
// and messages beyond the server's Receive Maximum or the socket's back-pressure while online.
// Sending pulls from its front, so order is kept and every bound is enforced in one place.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    items: VecDeque<Queued>,
    bytes: usize,
    /// The next message's number (see [`Queued::key`]).
    next_key: u64,
}

/// Operations that leave the outbox without being sent, with why.
pub type Displaced = Vec<(Option<OpId>, ClientError)>;

impl Outbox {
    /// Number of messages.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Topic and payload bytes queued.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The next message to send.
    pub fn front(&self) -> Option<&Queued> {
        self.items.front()
    }

    /// Takes the next message.
    pub fn pop_front(&mut self) -> Option<Queued> {
        let q = self.items.pop_front()?;
        self.bytes -= q.size();
        Some(q)
    }

    /// Puts messages back at the front, in order (a lost session's unacknowledged messages,
    /// or restored ones), with the numbers they have.
    pub fn requeue_front(&mut self, items: Vec<Queued>) {
        for q in items.into_iter().rev() {
            self.next_key = self.next_key.max(q.key + 1);
            self.bytes += q.size();
            self.items.push_front(q);
        }
    }

    /// Every queued message, front first.
    pub fn iter(&self) -> impl Iterator<Item = &Queued> {
        self.items.iter()
    }

    /// Adds a message under `cfg`'s bounds and policy. `held` is what the session holds
    /// outside the outbox (messages in flight, and bytes): the bounds cover every message not
    /// yet acknowledged, so messages a lost session returns to the outbox never overflow it.
    /// On success, returns the operations the policy pushed out; on failure, why the new
    /// message was refused.
    pub fn push(
        &mut self,
        mut q: Queued,
        cfg: &OutboxConfig,
        held: (usize, usize),
    ) -> Result<Displaced, ClientError> {
        let size = q.size();
        let full = |o: &Outbox| ClientError::OutboxFull {
            messages: o.items.len() + held.0,
            bytes: o.bytes + held.1,
        };
        if size > cfg.max_bytes {
            // Never fits, whatever leaves: refused as such, so nobody waits for room.
            return Err(ClientError::MessageTooLarge {
                size,
                max: cfg.max_bytes,
            });
        }
        let max_messages = cfg.max_messages.saturating_sub(held.0);
        let max_bytes = cfg.max_bytes.saturating_sub(held.1);
        if cfg.policy == OutboxPolicy::LatestPerTopic {
            if let Some(i) = self
                .items
                .iter()
                .position(|x| x.publish.topic == q.publish.topic)
            {
                // A replacement keeps the count; refuse it only if the bytes would not fit.
                if self.bytes - self.items[i].size() + size > max_bytes {
                    return Err(full(self));
                }
                let old = self.items.remove(i).map(|old| {
                    self.bytes -= old.size();
                    (old.op, ClientError::Superseded)
                });
                self.bytes += size;
                q.key = self.number();
                self.items.push_back(q);
                return Ok(old.into_iter().collect());
            }
        }
        if size > max_bytes || max_messages == 0 {
            return Err(full(self));
        }
        let mut displaced = Vec::new();
        while self.items.len() >= max_messages || self.bytes + size > max_bytes {
            if cfg.policy != OutboxPolicy::DropOldest {
                return Err(full(self));
            }
            if let Some(old) = self.pop_front() {
                displaced.push((old.op, ClientError::Dropped));
            }
        }
        self.bytes += size;
        q.key = self.number();
        self.items.push_back(q);
        Ok(displaced)
    }

    fn number(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key - 1
    }

    /// Numbers the next messages from `key` on, at least (a restored session's messages
    /// keep theirs).
    pub fn number_from(&mut self, key: u64) {
        self.next_key = self.next_key.max(key);
    }

    /// Adds a message if it fits `cfg`'s bounds (with `held` as in [`Outbox::push`]) without
    /// displacing any: a restored session's messages are never pushed out by messages
    /// published while it loaded. Gives the message back, with why, if it does not fit.
    // The message is given back by value (rarely: a restored session is full); boxing it
    // would cost every call an allocation.
    #[allow(clippy::result_large_err)]
    pub fn push_if_room(
        &mut self,
        mut q: Queued,
        cfg: &OutboxConfig,
        held: (usize, usize),
    ) -> Result<(), (Queued, ClientError)> {
        let fits = self.items.len() + held.0 < cfg.max_messages
            && self.bytes + held.1 + q.size() <= cfg.max_bytes;
        if !fits {
            let e = ClientError::OutboxFull {
                messages: self.items.len() + held.0,
                bytes: self.bytes + held.1,
            };
            return Err((q, e));
        }
        self.bytes += q.size();
        q.key = self.number();
        self.items.push_back(q);
        Ok(())
    }

    /// Removes every message whose expiry interval has passed at `now`.
    pub fn remove_expired(&mut self, now: Instant) -> Displaced {
        let mut out = Vec::new();
        let mut bytes = self.bytes;
        self.items.retain(|q| {
            if expired(&q.publish, q.queued_at, now) {
                bytes -= q.size();
                out.push((q.op, ClientError::Expired));
                false
            } else {
                true
            }
        });
        self.bytes = bytes;
        out
    }

    /// Empties the outbox, returning its operations.
    pub fn drain(&mut self) -> Vec<Queued> {
        self.bytes = 0;
        self.items.drain(..).collect()
    }
}

/// Whether a message published at `queued_at` has outlived its Message Expiry Interval.
pub fn expired(p: &Publish, queued_at: Instant, now: Instant) -> bool {
    p.properties
        .message_expiry_interval
        .is_some_and(|secs| now.saturating_duration_since(queued_at).as_secs() >= u64::from(secs))
}

/// The expiry interval left for a message published at `queued_at` [MQTT-3.3.2-6 applied to
/// clients: send what remains, not the original].
pub fn remaining_expiry(p: &Publish, queued_at: Instant, now: Instant) -> Option<u32> {
    let secs = p.properties.message_expiry_interval?;
    let elapsed = now.saturating_duration_since(queued_at).as_secs();
    Some(u64::from(secs).saturating_sub(elapsed) as u32)
}

/// A set of packet identifiers, one bit each (8 KiB, no allocation per identifier): those in
/// use by our messages, or those of QoS 2 messages received and awaiting PUBREL.
#[derive(Clone)]
pub struct IdSet {
    bits: Box<[u64; 1024]>,
    next: u16,
    used: usize,
    /// The identifier allocated last (0: none yet); kept by `clear`.
    last: u16,
    /// Allocate the lowest free identifier rather than the next in sequence; kept by `clear`.
    lowest_first: bool,
}

impl std::fmt::Debug for IdSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdSet({} used, next {})", self.used, self.next)
    }
}

impl Default for IdSet {
    fn default() -> Self {
        IdSet {
            bits: Box::new([0; 1024]),
            next: 1,
            used: 0,
            last: 0,
            lowest_first: false,
        }
    }
}

impl IdSet {
    /// Whether `id` is in use.
    pub fn contains(&self, id: u16) -> bool {
        self.bits[usize::from(id) / 64] & (1 << (id % 64)) != 0
    }

    /// Marks `id` used.
    pub fn insert(&mut self, id: u16) {
        if !self.contains(id) {
            self.bits[usize::from(id) / 64] |= 1 << (id % 64);
            self.used += 1;
        }
    }

    /// Frees `id`; whether it was in use.
    pub fn remove(&mut self, id: u16) -> bool {
        if !self.contains(id) {
            return false;
        }
        self.bits[usize::from(id) / 64] &= !(1 << (id % 64));
        self.used -= 1;
        true
    }

    /// Frees every identifier.
    pub fn clear(&mut self) {
        let (last, lowest_first) = (self.last, self.lowest_first);
        *self = IdSet::default();
        self.last = last;
        self.lowest_first = lowest_first;
    }

    /// Whether `allocate` gives the lowest free identifier (else the next in sequence).
    pub fn set_lowest_first(&mut self, on: bool) {
        self.lowest_first = on;
    }

    /// The identifier `allocate` gave last, if any.
    pub fn last_allocated(&self) -> Option<u16> {
        (self.last != 0).then_some(self.last)
    }

    /// The identifiers in use, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        // Empty words are skipped whole: a session export walks this on every save.
        self.bits
            .iter()
            .enumerate()
            .filter(|(_, bits)| **bits != 0)
            .flat_map(|(w, &bits)| {
                let mut rest = bits;
                std::iter::from_fn(move || {
                    if rest == 0 {
                        return None;
                    }
                    let b = rest.trailing_zeros() as u16;
                    rest &= rest - 1;
                    Some(w as u16 * 64 + b)
                })
            })
    }

    /// A free non-zero identifier, never one in flight [MQTT-2.2.1-3]; None if all 65,535 are.
    pub fn allocate(&mut self) -> Option<u16> {
        if self.used >= 65535 {
            return None;
        }
        if self.lowest_first {
            for (w, bits) in self.bits.iter().enumerate() {
                // Identifier 0 is never given.
                let free = !bits & if w == 0 { !1 } else { !0 };
                if free != 0 {
                    let id = (w * 64) as u16 + free.trailing_zeros() as u16;
                    self.insert(id);
                    self.last = id;
                    return Some(id);
                }
            }
            return None;
        }
        loop {
            let id = self.next;
            self.next = if self.next == u16::MAX {
                1
            } else {
                self.next + 1
            };
            if id != 0 && !self.contains(id) {
                self.insert(id);
                self.last = id;
                return Some(id);
            }
        }
    }

    /// Identifiers in use.
    pub fn len(&self) -> usize {
        self.used
    }

    /// True when none is in use.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }
}

/// Everything of a session the client keeps.
// Design: the session is separate from the connection so reconnects, resends and persistence
// all work on one value; the client moves messages between outbox and in-flight, and the
// browser layer stores `export()` in IndexedDB.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// Identifiers in use by in-flight messages and pending (un)subscribes.
    pub ids: IdSet,
    /// Outgoing QoS 1/2 messages awaiting acknowledgement, in the order sent [MQTT-4.6.0-1].
    pub inflight: InflightQueue,
    /// Messages not yet sent.
    pub outbox: Outbox,
    /// Incoming QoS 2 identifiers received and delivered, awaiting PUBREL (exactly once).
    pub received_qos2: IdSet,
    /// Active subscriptions.
    pub registry: Registry,
}

impl Session {
    /// Whether anything worth resuming is held.
    pub fn has_state(&self) -> bool {
        !self.inflight.is_empty() || !self.received_qos2.is_empty()
    }

    /// Finds an in-flight message by identifier.
    pub fn inflight_mut(&mut self, id: u16) -> Option<&mut Inflight> {
        self.inflight.get_mut(id)
    }

    /// Removes an in-flight message, freeing its identifier.
    pub fn take_inflight(&mut self, id: u16) -> Option<Inflight> {
        let m = self.inflight.remove(id)?;
        self.ids.remove(id);
        Some(m)
    }

    /// The session as bytes (see `stored.rs` for the format).
    pub fn export(&self, now: Instant, wall_ms: u64) -> Vec<u8> {
        stored::export(self, now, wall_ms)
    }

    /// A session from [`Session::export`] bytes, re-based on this page's clock.
    pub fn import(bytes: &[u8], now: Instant, wall_ms: u64) -> Result<Session, String> {
        stored::import(bytes, now, wall_ms)
    }
}

/// The key a browser stores a session under: the broker's URL without what may carry secrets
/// or change from one page load to the next (user info, query, fragment: signed URLs and
/// tokens), and the client id.
pub fn storage_key(url: &str, client_id: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let url = match super::reconnect::split_scheme(url) {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = super::reconnect::rsplit_at(authority, b'@').map_or(authority, |(_, h)| h);
            text!(scheme, "://", host, path)
        }
        None => url.to_string(),
    };
    text!(url, "#", client_id)
}

/// Sessions built by hand for the tests of the modules that read or write them (one copy).
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use bytes::Bytes;

    /// Queues a message on `topic` with `payload` at `qos`, published at time 0.
    pub fn queue(s: &mut Session, topic: &str, payload: impl Into<Bytes>, qos: QoS) {
        let mut p = Publish::new(topic, payload);
        p.qos = qos;
        let q = Queued {
            publish: p,
            op: None,
            queued_at: Instant::from_millis(0),
            key: 0,
        };
        s.outbox.push(q, &OutboxConfig::default(), (0, 0)).unwrap();
    }

    /// Moves the outbox's first message into flight with identifier `id` at `stage`.
    pub fn send_front(s: &mut Session, id: u16, stage: Stage) {
        let q = s.outbox.pop_front().unwrap();
        s.ids.insert(id);
        s.inflight.push_back(Inflight {
            id,
            publish: q.publish,
            stage,
            op: None,
            queued_at: q.queued_at,
            key: q.key,
            removed: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u16) -> Inflight {
        Inflight {
            id,
            publish: Publish::new("t", &b"x"[..]),
            stage: Stage::AwaitAck,
            op: None,
            queued_at: Instant::from_micros(0),
            key: u64::from(id),
            removed: false,
        }
    }

    fn ids(q: &InflightQueue) -> Vec<u16> {
        q.iter().map(|m| m.id).collect()
    }

    #[test]
    fn in_flight_messages_keep_their_order_and_are_found_by_identifier() {
        // Resends must follow the original order [MQTT-4.6.0-1].
        let mut q = InflightQueue::default();
        for id in [5, 1, 300, 65535, 2] {
            q.push_back(msg(id));
        }
        assert_eq!(ids(&q), [5, 1, 300, 65535, 2]);
        assert_eq!(q.remove(300).map(|m| m.id), Some(300));
        assert!(q.get(300).is_none());
        assert!(q.remove(300).is_none(), "removed twice");
        q.get_mut(65535).unwrap().stage = Stage::AwaitComp;
        assert_eq!(q.get(65535).unwrap().stage, Stage::AwaitComp);
        assert_eq!(q.remove(5).map(|m| m.id), Some(5));
        assert_eq!(ids(&q), [1, 65535, 2]);
        assert_eq!(q.len(), 3);
        // An identifier freed and used again is found at its new place.
        q.push_back(msg(5));
        assert_eq!(ids(&q), [1, 65535, 2, 5]);
        assert!(q.get(7).is_none());
        assert_eq!(
            q.take_all().iter().map(|m| m.id).collect::<Vec<_>>(),
            [1, 65535, 2, 5]
        );
        assert!(q.is_empty() && q.get(1).is_none());
    }

    #[test]
    fn a_long_run_of_out_of_order_acknowledgements_stays_consistent() {
        let mut q = InflightQueue::default();
        let mut model: Vec<u16> = Vec::new();
        let mut next = 1u16;
        let mut rng = crate::proto::rng::Rng::new(7);
        for _ in 0..200_000 {
            if model.len() < 1000 && (rng.next_u64() % 3 != 0 || model.is_empty()) {
                while model.contains(&next) {
                    next = next.wrapping_add(1).max(1);
                }
                q.push_back(msg(next));
                model.push(next);
                next = next.wrapping_add(1).max(1);
            } else {
                let i = (rng.next_u64() % model.len() as u64) as usize;
                let id = model.remove(i);
                assert_eq!(q.remove(id).map(|m| m.id), Some(id));
            }
            assert_eq!(q.len(), model.len());
        }
        assert_eq!(ids(&q), model);
    }
}
