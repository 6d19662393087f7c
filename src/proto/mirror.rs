//! The session as the entries of MQTT.js Stores (its `outgoingStore` and `incomingStore`), for
//! applications that bring their own storage: a store keyed by `messageId`, each entry a packet.
//!
//! - Outgoing, a message in flight is its PUBLISH (PUBACK or PUBREC awaited) or its PUBREL
//!   (PUBCOMP awaited), keyed by its packet identifier, as MQTT.js stores it; a message still
//!   queued has no identifier yet, so it is keyed `QUEUED_BASE` + its number in the session,
//!   above every identifier. Each entry carries the message's number (its order in the
//!   session), when it was published, and whether the application removed it.
//! - Incoming, a QoS 2 identifier received and not yet released (PUBREL awaited).
//!
//! A save puts the entries that are new or changed since the last committed save and deletes
//! those that left ([`changes`]); [`whole_of`] turns what a store holds (also one MQTT.js wrote:
//! no numbers, PUBLISH and PUBREL entries only) back into a session.

use bytes::Bytes;

use super::session::{IdSet, Inflight, Queued, Session, Stage};
use super::stored::sort;
use super::Instant;
use crate::codec::{decode_packet, Packet, ProtocolVersion, PubResp, Publish, QoS};

/// Queued messages are keyed from here up (packet identifiers end at 65,535).
pub const QUEUED_BASE: u64 = 65_536;

/// One outgoing entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its key (`messageId` in the store).
    pub key: u64,
    /// The PUBLISH or PUBREL, encoded as MQTT 5 (a queued QoS 1 / 2 PUBLISH carries identifier
    /// 1: it has none yet).
    pub packet: Vec<u8>,
    /// Its number in the session (its order); None when the store did not say (MQTT.js).
    pub order: Option<u64>,
    /// When it was published (Unix ms); None when the store did not say.
    pub published_at: Option<u64>,
    /// The application removed it (`removeOutgoingMessage`).
    pub removed: bool,
}

/// What a save writes to the stores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MirrorChanges {
    /// Outgoing entries to put (new or changed).
    pub put: Vec<Entry>,
    /// Outgoing keys to delete.
    pub del: Vec<u64>,
    /// Incoming identifiers to put.
    pub incoming_put: Vec<u16>,
    /// Incoming identifiers to delete.
    pub incoming_del: Vec<u16>,
    /// The tag of each entry of `put` (see [`Mirror`]).
    tags: Vec<u8>,
}

impl MirrorChanges {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.put.is_empty()
            && self.del.is_empty()
            && self.incoming_put.is_empty()
            && self.incoming_del.is_empty()
    }
}

/// What the stores hold, as far as the last committed save (or the load) knows.
// Design: a save must not rewrite every entry (a store is a database for some applications),
// so this keeps, per outgoing key, a tag of what the entry says (its stage, removed or not,
// queued); an entry is put when its tag changes. Loaded entries get a tag no session entry
// has, so the first save rewrites them in this client's form, and deletes those the session
// did not take. It changes only once a save has committed. Sorted vectors and a bit set, not
// the standard library's ordered collections: those add kilobytes to the wasm.
#[derive(Debug, Clone, Default)]
pub struct Mirror {
    /// (key, tag), sorted by key.
    out: Vec<(u64, u8)>,
    incoming: IdSet,
}

const TAG_QUEUED: u8 = 0;
const TAG_UNKNOWN: u8 = 0xff;
const REMOVED: u8 = 0x80;

impl Mirror {
    /// What a load found: these keys and identifiers, in a form yet to be rewritten.
    pub fn loaded(
        keys: impl IntoIterator<Item = u64>,
        incoming: impl IntoIterator<Item = u16>,
    ) -> Mirror {
        let mut out: Vec<(u64, u8)> = keys.into_iter().map(|k| (k, TAG_UNKNOWN)).collect();
        sort(&mut out);
        out.dedup_by_key(|e| e.0);
        let mut m = Mirror {
            out,
            incoming: IdSet::default(),
        };
        for id in incoming {
            m.incoming.insert(id);
        }
        m
    }

    fn tag(&self, key: u64) -> Option<u8> {
        self.out
            .binary_search_by_key(&key, |e| e.0)
            .ok()
            .map(|i| self.out[i].1)
    }

    /// A save of `c` committed.
    pub fn apply(&mut self, c: &MirrorChanges) {
        for k in &c.del {
            if let Ok(i) = self.out.binary_search_by_key(k, |e| e.0) {
                self.out.remove(i);
            }
        }
        for (e, tag) in c.put.iter().zip(&c.tags) {
            match self.out.binary_search_by_key(&e.key, |e| e.0) {
                Ok(i) => self.out[i].1 = *tag,
                Err(i) => self.out.insert(i, (e.key, *tag)),
            }
        }
        for id in &c.incoming_del {
            self.incoming.remove(*id);
        }
        for id in &c.incoming_put {
            self.incoming.insert(*id);
        }
    }

    /// How many outgoing entries the stores hold.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// True when the stores hold nothing.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty() && self.incoming.is_empty()
    }
}

fn stage_tag(m: &Inflight) -> u8 {
    let stage = match m.stage {
        Stage::AwaitAck => 1,
        Stage::AwaitRec => 2,
        Stage::AwaitComp => 3,
    };
    stage | if m.removed { REMOVED } else { 0 }
}

fn wall_of(at: Instant, now: Instant, wall_ms: u64) -> u64 {
    wall_ms.saturating_sub(now.saturating_duration_since(at).as_millis() as u64)
}

fn encode(p: Packet) -> Vec<u8> {
    p.to_bytes(ProtocolVersion::V5)
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

/// What a save must write so that stores holding `m` hold `s`.
pub fn changes(s: &Session, m: &Mirror, now: Instant, wall_ms: u64) -> MirrorChanges {
    let mut c = MirrorChanges::default();
    let mut live = Vec::with_capacity(s.inflight.len() + s.outbox.len());
    for f in s.inflight.iter() {
        let key = u64::from(f.id);
        live.push(key);
        let tag = stage_tag(f);
        if m.tag(key) == Some(tag) {
            continue;
        }
        let packet = if f.stage == Stage::AwaitComp {
            encode(Packet::PubRel(PubResp::new(f.id)))
        } else {
            let mut p = f.publish.clone();
            p.packet_id = f.id;
            p.properties.topic_alias = None;
            encode(Packet::Publish(p))
        };
        c.put.push(Entry {
            key,
            packet,
            order: Some(f.key),
            published_at: Some(wall_of(f.queued_at, now, wall_ms)),
            removed: f.removed,
        });
        c.tags.push(tag);
    }
    for q in s.outbox.iter() {
        let key = QUEUED_BASE + q.key;
        live.push(key);
        if m.tag(key) == Some(TAG_QUEUED) {
            continue;
        }
        let mut p = q.publish.clone();
        p.packet_id = u16::from(p.qos != QoS::AtMostOnce);
        p.dup = false;
        c.put.push(Entry {
            key,
            packet: encode(Packet::Publish(p)),
            order: Some(q.key),
            published_at: Some(wall_of(q.queued_at, now, wall_ms)),
            removed: false,
        });
        c.tags.push(TAG_QUEUED);
    }
    sort(&mut live);
    c.del = m
        .out
        .iter()
        .map(|e| e.0)
        .filter(|k| live.binary_search(k).is_err())
        .collect();
    c.incoming_put = s
        .received_qos2
        .iter()
        .filter(|id| !m.incoming.contains(*id))
        .collect();
    c.incoming_del = m
        .incoming
        .iter()
        .filter(|id| !s.received_qos2.contains(*id))
        .collect();
    c
}

/// A session from what stores hold, as [`Session::export`] bytes (for `Client::import_session`):
/// entries in the order of their numbers (those without, after, in the order given); keys up to
/// 65,535 are in flight (a PUBLISH awaits its PUBACK or PUBREC, a PUBREL its PUBCOMP), above
/// are queued.
pub fn whole_of(
    entries: Vec<Entry>,
    incoming: Vec<u16>,
    now: Instant,
    wall_ms: u64,
) -> Result<Vec<u8>, String> {
    // In order; those without a number after, as given (the sort is stable).
    let mut by_order: Vec<(u64, usize)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.order.unwrap_or(u64::MAX), i))
        .collect();
    sort(&mut by_order);
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    let at = |wall: Option<u64>| {
        let age = wall.map_or(0, |w| wall_ms.saturating_sub(w));
        Instant::from_micros(now.as_micros().saturating_sub(age.saturating_mul(1000)))
    };
    let mut s = Session::default();
    let mut next = by_order
        .iter()
        .map(|(o, _)| *o)
        .filter(|o| *o != u64::MAX)
        .max()
        .map_or(0, |n| n + 1);
    let mut queued = Vec::new();
    for (_, i) in by_order {
        let Some(e) = slots[i].take() else { continue };
        let key = e.order.unwrap_or_else(|| {
            next += 1;
            next - 1
        });
        let packet = decode_packet(Bytes::from(e.packet), ProtocolVersion::V5)
            .map_err(|err| text!("stored entry ", e.key, ": ", err))?;
        if e.key >= QUEUED_BASE {
            let Packet::Publish(mut publish) = packet else {
                return Err(text!("stored entry ", e.key, " (queued) is not a PUBLISH"));
            };
            publish.packet_id = 0;
            publish.dup = false;
            queued.push(Queued {
                publish,
                op: None,
                queued_at: at(e.published_at),
                key,
            });
            continue;
        }
        let id = u16::try_from(e.key)
            .ok()
            .filter(|id| *id != 0 && !s.ids.contains(*id))
            .ok_or_else(|| text!("bad stored packet identifier ", e.key))?;
        let (mut publish, stage) = match packet {
            Packet::Publish(p) if p.qos == QoS::AtLeastOnce => (p, Stage::AwaitAck),
            Packet::Publish(p) if p.qos == QoS::ExactlyOnce => (p, Stage::AwaitRec),
            Packet::PubRel(_) => {
                // Only its identifier matters now: the server owns the message.
                let mut p = Publish::new("$wasmqtt/released", Bytes::new());
                p.qos = QoS::ExactlyOnce;
                (p, Stage::AwaitComp)
            }
            _ => {
                return Err(text!(
                    "stored entry ",
                    id,
                    " is neither a QoS 1 / 2 PUBLISH nor a PUBREL"
                ))
            }
        };
        publish.packet_id = id;
        s.ids.insert(id);
        s.inflight.push_back(Inflight {
            id,
            publish,
            stage,
            op: None,
            queued_at: at(e.published_at),
            key,
            removed: e.removed,
        });
    }
    s.outbox.number_from(next);
    s.outbox.requeue_front(queued);
    for id in incoming {
        if id != 0 {
            s.received_qos2.insert(id);
        }
    }
    Ok(s.export(now, wall_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::session::testing::{self, send_front};

    fn queue(s: &mut Session, payload: &str, qos: QoS) {
        testing::queue(s, "t", payload.to_string(), qos);
    }

    fn session() -> Session {
        let mut s = Session::default();
        for (p, q) in [
            ("a", QoS::AtLeastOnce),
            ("b", QoS::ExactlyOnce),
            ("c", QoS::ExactlyOnce),
        ] {
            queue(&mut s, p, q);
        }
        queue(&mut s, "d", QoS::AtLeastOnce);
        queue(&mut s, "e", QoS::AtMostOnce);
        send_front(&mut s, 7, Stage::AwaitAck);
        send_front(&mut s, 3, Stage::AwaitComp);
        send_front(&mut s, 9, Stage::AwaitRec);
        s.inflight.get_mut(9).unwrap().removed = true;
        s.received_qos2.insert(40);
        s
    }

    /// What a session holds, to compare: in flight (id, stage, removed, payload unless
    /// released), queued payloads, received identifiers.
    type Shape = (Vec<(u16, Stage, bool, String)>, Vec<String>, Vec<u16>);

    fn shape(s: &Session) -> Shape {
        (
            s.inflight
                .iter()
                .map(|m| {
                    let payload = if m.stage == Stage::AwaitComp {
                        String::new()
                    } else {
                        String::from_utf8_lossy(&m.publish.payload).into()
                    };
                    (m.id, m.stage, m.removed, payload)
                })
                .collect(),
            s.outbox
                .iter()
                .map(|q| String::from_utf8_lossy(&q.publish.payload).into())
                .collect(),
            s.received_qos2.iter().collect(),
        )
    }

    const NOW: Instant = Instant::from_millis(5_000);

    #[test]
    fn a_session_round_trips_through_store_entries_in_order() {
        let s = session();
        let c = changes(&s, &Mirror::default(), NOW, 1_000_000);
        assert_eq!(c.put.len(), 5);
        assert_eq!(c.incoming_put, vec![40]);
        let keys: Vec<u64> = c.put.iter().map(|e| e.key).collect();
        assert_eq!(keys[..3], [7, 3, 9]);
        assert!(keys[3..].iter().all(|k| *k >= QUEUED_BASE));
        // Stored in any order (a store keyed by messageId streams them sorted by key).
        let mut entries = c.put.clone();
        entries.reverse();
        let bytes = whole_of(entries, c.incoming_put.clone(), NOW, 1_000_000).unwrap();
        let back = Session::import(&bytes, NOW, 1_000_000).unwrap();
        assert_eq!(shape(&back), shape(&s));
        let m = back.inflight.get(7).unwrap();
        assert_eq!(m.queued_at, Instant::from_millis(0), "its age is kept");
    }

    #[test]
    fn a_save_writes_only_what_changed() {
        let mut s = session();
        let mut m = Mirror::default();
        let c = changes(&s, &m, NOW, 0);
        m.apply(&c);
        assert!(changes(&s, &m, NOW, 0).is_empty(), "nothing changed");
        // PUBACK for 7, PUBREC for 9, a queued message goes into flight, one is received.
        s.take_inflight(7);
        s.inflight.get_mut(9).unwrap().stage = Stage::AwaitComp;
        send_front(&mut s, 11, Stage::AwaitAck);
        s.received_qos2.remove(40);
        s.received_qos2.insert(41);
        let c = changes(&s, &m, NOW, 0);
        let put: Vec<u64> = c.put.iter().map(|e| e.key).collect();
        assert_eq!(put, vec![9, 11]);
        assert_eq!(c.del.len(), 2);
        assert!(c.del.contains(&7) && c.del.iter().any(|k| *k >= QUEUED_BASE));
        assert_eq!(
            (c.incoming_put.clone(), c.incoming_del.clone()),
            (vec![41], vec![40])
        );
        m.apply(&c);
        assert!(changes(&s, &m, NOW, 0).is_empty());
    }

    #[test]
    fn loaded_entries_are_rewritten_once_and_those_not_taken_deleted() {
        let s = session();
        let m = Mirror::loaded([7, 3, 9, 500], [40, 41]);
        let c = changes(&s, &m, NOW, 0);
        assert_eq!(c.put.len(), 5, "every entry in this client's form");
        assert_eq!(c.del, vec![500]);
        assert_eq!(c.incoming_del, vec![41]);
    }

    #[test]
    fn entries_mqtt_js_wrote_are_read_in_the_order_given() {
        // MQTT.js stores the PUBLISH as sent and replaces it by the PUBREL after PUBREC; no
        // numbers, no times.
        let publish = |id: u16, qos: QoS, text: &str| {
            let mut p = Publish::new("t", text.to_string());
            p.qos = qos;
            p.packet_id = id;
            Entry {
                key: u64::from(id),
                packet: encode(Packet::Publish(p)),
                order: None,
                published_at: None,
                removed: false,
            }
        };
        let rel = Entry {
            key: 4,
            packet: encode(Packet::PubRel(PubResp::new(4))),
            order: None,
            published_at: None,
            removed: false,
        };
        let entries = vec![
            publish(2, QoS::AtLeastOnce, "x"),
            rel,
            publish(6, QoS::ExactlyOnce, "y"),
        ];
        let back = Session::import(&whole_of(entries, vec![], NOW, 0).unwrap(), NOW, 0).unwrap();
        let (inflight, queued, _) = shape(&back);
        assert_eq!(
            inflight,
            vec![
                (2, Stage::AwaitAck, false, "x".into()),
                (4, Stage::AwaitComp, false, String::new()),
                (6, Stage::AwaitRec, false, "y".into()),
            ]
        );
        assert!(queued.is_empty());
    }

    #[test]
    fn entries_that_cannot_be_a_session_are_refused_with_why() {
        let qos0 = {
            let p = Publish::new("t", "x");
            Entry {
                key: 5,
                packet: encode(Packet::Publish(p)),
                order: None,
                published_at: None,
                removed: false,
            }
        };
        let err = whole_of(vec![qos0], vec![], NOW, 0).unwrap_err();
        assert!(
            err.contains("neither a QoS 1 / 2 PUBLISH nor a PUBREL"),
            "{err}"
        );
        let garbage = Entry {
            key: 5,
            packet: vec![0xff, 0x00],
            order: None,
            published_at: None,
            removed: false,
        };
        assert!(whole_of(vec![garbage], vec![], NOW, 0)
            .unwrap_err()
            .starts_with("stored entry 5"));
    }
}
