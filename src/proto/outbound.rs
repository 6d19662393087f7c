//! The outgoing message flow of a session: from the outbox to the wire within the server's
//! quota and limits, again on a resumed session, and what a lost session means for the
//! messages in flight.

use crate::codec::{ByteStr, Packet, ProtocolVersion, PubResp, Publish, QoS, ReasonCode};

use super::link::Link;
use super::session::{expired, remaining_expiry, Inflight, Queued, Session, Stage};
use super::{ClientError, Instant, OpId};

/// Bytes of PUBLISHes encoded per fill: one WebSocket message each, small enough that the
/// driver's back-pressure check between batches stays meaningful.
pub(crate) const BATCH_BYTES: usize = 64 * 1024;

/// A publish that completed: its operation, and the acknowledging reason code or an error.
pub(crate) type Completion = (Option<OpId>, Result<ReasonCode, ClientError>);

// Design: the flow works on the session (outbox, in-flight, packet identifiers) and the live
// connection (quota, limits, aliases) and returns completions; the client coordinator only
// routes them to events, so every rule about what may go on the wire is here, in one place.
impl Session {
    /// Moves messages from the outbox to `tx` while the server's quota (its Receive Maximum
    /// and our `window`, of which QoS 2 messages may take `exactly_once_window`) and the batch
    /// size allow [MQTT-3.3.4-7], in order (a QoS 2 message waiting for room holds back those
    /// behind it [MQTT-4.6.0-6]), within the server's limits
    /// (Maximum QoS, Retain Available, Maximum Packet Size) as this connection's CONNACK
    /// announced them. Returns the publishes completed on the way (sent at QoS 0, refused,
    /// expired) and how many messages went out.
    pub(crate) fn fill(
        &mut self,
        link: &mut Link,
        window: u16,
        exactly_once_window: u16,
        v: ProtocolVersion,
        tx: &mut Vec<u8>,
        now: Instant,
    ) -> (Vec<Completion>, u64) {
        let quota = usize::from(link.server.receive_maximum.min(window).max(1));
        let exactly_once_quota = usize::from(exactly_once_window.max(1)).min(quota);
        let mut completed = Vec::new();
        let mut sent = 0;
        // One batch in all: bytes already waiting (acknowledgements, a fill of `fill_now`) count.
        while tx.len() < BATCH_BYTES {
            let Some(front) = self.outbox.front() else {
                break;
            };
            if expired(&front.publish, front.queued_at, now) {
                let q = self.outbox.pop_front().map(|q| q.op);
                completed.push((q.flatten(), Err(ClientError::Expired)));
                continue;
            }
            if front.publish.qos != QoS::AtMostOnce && self.inflight.len() >= quota {
                break;
            }
            // While a QoS 2 message is in flight (or this is one), everything in flight counts
            // against the QoS 2 quota: mosquitto's quota before MQTT 5 counts QoS 2 messages
            // awaiting PUBREL, and once it is used up it drops a QoS 1 message too, with a 3.1.1
            // PUBACK that looks like success (see `Config::max_inflight`).
            if front.publish.qos != QoS::AtMostOnce
                && (front.publish.qos == QoS::ExactlyOnce || self.inflight.exactly_once() > 0)
                && self.inflight.len() >= exactly_once_quota
            {
                break;
            }
            let Some(q) = self.outbox.pop_front() else {
                break;
            };
            // Limits of this server, checked again: it may differ from the one published to.
            if q.publish.qos > link.server.maximum_qos {
                completed.push((
                    q.op,
                    Err(ClientError::QoSNotSupported {
                        requested: q.publish.qos,
                        max: link.server.maximum_qos,
                    }),
                ));
                continue;
            }
            if q.publish.retain && !link.server.retain_available {
                completed.push((q.op, Err(ClientError::RetainNotSupported)));
                continue;
            }
            let id = if q.publish.qos == QoS::AtMostOnce {
                0
            } else {
                match self.ids.allocate() {
                    Some(id) => id,
                    None => {
                        self.outbox.requeue_front(vec![q]);
                        break;
                    }
                }
            };
            let mut wire = q.publish.clone();
            wire.packet_id = id;
            if q.publish.properties.message_expiry_interval.is_some() {
                // (Touching the properties of a message that has none would allocate them.)
                wire.properties.message_expiry_interval =
                    remaining_expiry(&q.publish, q.queued_at, now);
            }
            // An alias is used, and a new one defined, only if the packet still fits the
            // server's limit with it; else the message goes with its topic alone.
            let alias = if v.is_v5() {
                link.out_aliases.lookup(&wire.topic)
            } else {
                None
            };
            let max = link.server.maximum_packet_size.map(|m| m as usize);
            let before = tx.len();
            let mut sized = None;
            let mut packet = Packet::Publish(wire);
            for with_alias in [alias, None] {
                let Packet::Publish(p) = &mut packet else {
                    break;
                };
                match with_alias {
                    Some((a, with_topic)) => {
                        p.properties.topic_alias = Some(a);
                        if !with_topic {
                            p.topic = ByteStr::new();
                        }
                    }
                    None if alias.is_some() => {
                        // The alias made it too large: the topic alone, as published.
                        p.properties.topic_alias = None;
                        p.topic = q.publish.topic.clone();
                    }
                    None => {}
                }
                let result = packet.encode(v, tx);
                let size = tx.len() - before;
                sized = Some((result, size));
                if max.is_some_and(|m| size > m) {
                    tx.truncate(before);
                    if with_alias.is_some() {
                        continue;
                    }
                } else if result.is_ok() && matches!(with_alias, Some((_, true))) {
                    link.out_aliases.define(&q.publish.topic);
                }
                break;
            }
            let Some((result, mut size)) = sized else {
                continue;
            };
            if let (Some(m), Some((_, false)), Packet::Publish(sent)) = (max, alias, &packet) {
                // Sent alias-only, it fits; its resend on another connection carries the
                // topic [MQTT-3.3.2-7] and must fit too, so the full form decides.
                let mut full = sent.clone();
                full.dup = true;
                full.topic = q.publish.topic.clone();
                full.properties.topic_alias = None;
                let full_size = Packet::Publish(full).encoded_len(v).unwrap_or(usize::MAX);
                if full_size > m && tx.len() > before {
                    tx.truncate(before);
                    size = full_size;
                }
            }
            if let Err(e) = result {
                tx.truncate(before);
                self.ids.remove(id);
                completed.push((q.op, Err(ClientError::Encode(e))));
                continue;
            }
            if let Some(max) = max.filter(|m| size > *m) {
                // [MQTT-3.2.2-15]: never send it.
                self.ids.remove(id);
                completed.push((
                    q.op,
                    Err(ClientError::PacketTooLarge {
                        size,
                        max: max as u32,
                    }),
                ));
                continue;
            }
            sent += 1;
            if q.publish.qos == QoS::AtMostOnce {
                completed.push((q.op, Ok(ReasonCode::Success)));
            } else {
                let stage = if q.publish.qos == QoS::AtLeastOnce {
                    Stage::AwaitAck
                } else {
                    Stage::AwaitRec
                };
                self.inflight.push_back(Inflight {
                    id,
                    publish: q.publish,
                    stage,
                    op: q.op,
                    queued_at: q.queued_at,
                    key: q.key,
                    removed: false,
                });
            }
        }
        (completed, sent)
    }

    /// A resumed session: unacknowledged PUBLISHes again with DUP, PUBRELs again, in the
    /// original order [MQTT-4.4.0-1], [MQTT-4.6.0-1], never with a topic alias [MQTT-3.3.2-7].
    /// A message this server's `max` packet size excludes is not sent: it completes with an
    /// error (returned). A message the application removed goes again too: the rule has no
    /// exception, and at QoS 2 it is what lets the server release the identifier (a new
    /// message on an identifier it holds would be taken for a duplicate, [MQTT-4.3.3-9]).
    pub(crate) fn resend(
        &mut self,
        max: Option<u32>,
        v: ProtocolVersion,
        tx: &mut Vec<u8>,
        now: Instant,
    ) -> Vec<Completion> {
        let max = max.map_or(usize::MAX, |m| m as usize);
        let mut too_large = Vec::new();
        for m in self.inflight.iter() {
            let packet = match m.stage {
                Stage::AwaitAck | Stage::AwaitRec => {
                    let mut p = m.publish.clone();
                    p.dup = true;
                    p.packet_id = m.id;
                    p.properties.topic_alias = None;
                    p.properties.message_expiry_interval =
                        remaining_expiry(&m.publish, m.queued_at, now);
                    Packet::Publish(p)
                }
                Stage::AwaitComp => Packet::PubRel(PubResp::new(m.id)),
            };
            let before = tx.len();
            let _ = packet.encode(v, tx);
            if tx.len() - before > max {
                // This server accepts less than the one it was sent to [MQTT-3.2.2-15].
                too_large.push((m.id, tx.len() - before));
                tx.truncate(before);
            }
        }
        let mut completed = Vec::new();
        for (id, size) in too_large {
            if let Some(m) = self.take_inflight(id) {
                let max = max as u32;
                completed.push((m.op, Err(ClientError::PacketTooLarge { size, max })));
            }
        }
        completed
    }

    /// The server has no session for us [MQTT-3.2.2-5]: messages it never acknowledged go
    /// again as new publications, first (at least once, never lost: the outbox may then hold
    /// up to the in-flight window more than its bounds, and refuses new messages until it is
    /// back under them); those it acknowledged with PUBREC are complete (it took ownership
    /// [MQTT-4.3.3-8]: returned); incoming QoS 2 state is gone with the server's.
    pub(crate) fn server_forgot(&mut self) -> Vec<Completion> {
        let mut again = Vec::new();
        let mut done = Vec::new();
        for m in self.inflight.take_all() {
            match m.stage {
                _ if m.removed => {} // given up on, completed: not sent as a new message
                Stage::AwaitComp => done.push((m.op, Ok(ReasonCode::Success))),
                _ => again.push(Queued {
                    publish: Publish {
                        dup: false,
                        ..m.publish
                    },
                    op: m.op,
                    queued_at: m.queued_at,
                    key: m.key,
                }),
            }
        }
        self.outbox.requeue_front(again);
        self.received_qos2.clear();
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ServerInfo;

    fn link(receive_maximum: u16, maximum_packet_size: Option<u32>) -> Link {
        let server = ServerInfo {
            receive_maximum,
            maximum_packet_size,
            ..ServerInfo::unlimited()
        };
        Link::new(server, Instant::from_millis(0), 0, 0)
    }

    fn queue(s: &mut Session, payload: usize, qos: QoS) {
        crate::proto::session::testing::queue(s, "t", vec![b'x'; payload], qos);
    }

    #[test]
    fn the_quota_and_the_batch_bound_what_one_fill_sends() {
        let v = ProtocolVersion::V5;
        let now = Instant::from_millis(1);
        let mut s = Session::default();
        for _ in 0..5 {
            queue(&mut s, 10, QoS::AtLeastOnce);
        }
        let mut tx = Vec::new();
        let (done, sent) = s.fill(&mut link(3, None), u16::MAX, u16::MAX, v, &mut tx, now);
        assert!(done.is_empty());
        assert_eq!((sent, s.inflight.len(), s.outbox.len()), (3, 3, 2));
        // Large messages: one fill stops after a batch's worth.
        let mut s = Session::default();
        for _ in 0..4 {
            queue(&mut s, 40_000, QoS::AtMostOnce);
        }
        let mut tx = Vec::new();
        let (done, sent) = s.fill(&mut link(10, None), u16::MAX, u16::MAX, v, &mut tx, now);
        assert_eq!((sent, done.len()), (2, 2));
        assert!(tx.len() >= BATCH_BYTES && tx.len() < 2 * BATCH_BYTES);
    }

    #[test]
    fn a_lost_session_requeues_what_the_server_never_acknowledged() {
        let v = ProtocolVersion::V5;
        let now = Instant::from_millis(1);
        let mut s = Session::default();
        queue(&mut s, 1, QoS::AtLeastOnce);
        queue(&mut s, 1, QoS::ExactlyOnce);
        let mut tx = Vec::new();
        let _ = s.fill(&mut link(10, None), u16::MAX, u16::MAX, v, &mut tx, now);
        let id = s.inflight.iter().nth(1).unwrap().id;
        s.inflight.get_mut(id).unwrap().stage = Stage::AwaitComp;
        let done = s.server_forgot();
        assert_eq!(done.len(), 1, "the PUBREC'd message is the server's now");
        assert_eq!((s.inflight.len(), s.outbox.len()), (0, 1));
        assert!(!s.outbox.front().unwrap().publish.dup);
    }
}
