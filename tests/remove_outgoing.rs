//! Giving up on an in-flight message (MQTT.js's `removeOutgoingMessage`): its publish fails at
//! once and it is not sent as a new message if the session is lost; while the session lasts,
//! its flow goes on as MQTT requires (resent on a resumed session [MQTT-4.4.0-1]), so its
//! packet identifier is never given to another message while the server may hold it (a new
//! QoS 2 message on such an identifier would be taken for a duplicate and lost:
//! [MQTT-4.3.3-9]).

mod common;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

fn persistent() -> Sim {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(600);
    Sim::new(cfg)
}

fn sent_id(sim: &mut Sim) -> u16 {
    match sim.sent().as_slice() {
        [Packet::Publish(p)] => p.packet_id,
        other => panic!("expected one PUBLISH, got {other:?}"),
    }
}

/// The application removes message `id`; the client's events are collected.
fn remove(sim: &mut Sim, id: u16) -> bool {
    let found = sim.client.remove_outgoing(id);
    sim.run();
    found.is_some()
}

fn resume(sim: &mut Sim) {
    sim.drop_connection("reset");
    sim.reconnect_with(ConnAck {
        session_present: true,
        ..ConnAck::default()
    });
}

#[test]
fn a_removed_message_fails_at_once_and_only_once() {
    let mut sim = Sim::v5();
    sim.connect();
    let op = sim.publish("a", "x", QoS::AtLeastOnce);
    let id = sent_id(&mut sim);
    assert!(remove(&mut sim, id));
    assert_eq!(sim.published(), vec![(op, Err(ClientError::Removed))]);
    assert!(!remove(&mut sim, id), "removed twice");
    assert!(!remove(&mut sim, id + 1), "no such message");
    assert!(sim.published().is_empty());
    assert_eq!(
        ClientError::Removed.to_string().split(' ').next(),
        Some("Message"),
        "MQTT.js's message starts 'Message removed'"
    );
}

#[test]
fn a_removed_qos1_message_keeps_its_identifier_until_its_puback() {
    let mut sim = Sim::v5();
    sim.connect();
    sim.publish("a", "x", QoS::AtLeastOnce);
    let id = sent_id(&mut sim);
    remove(&mut sim, id);
    sim.published();
    assert_eq!(
        sim.client.metrics().inflight_out,
        1,
        "the identifier is held"
    );
    sim.send(Packet::PubAck(PubResp::new(id)));
    assert!(sim.published().is_empty(), "its PUBACK completes nothing");
    assert_eq!(sim.client.metrics().inflight_out, 0);
    assert!(sim.sent().is_empty());
}

#[test]
fn a_removed_message_is_still_resent_on_a_resumed_session_and_completes_nothing() {
    // [MQTT-4.4.0-1] has no exception: unacknowledged PUBLISHes go again, with their
    // identifiers. MQTT.js's removeOutgoingMessage drops the message from its store, so a
    // resumed session never sends it again: a differential test against it would not see this.
    let mut sim = persistent();
    sim.connect();
    sim.publish("a", "removed 1", QoS::AtLeastOnce);
    sim.publish("b", "removed 2", QoS::ExactlyOnce);
    let kept = sim.publish("c", "kept", QoS::AtLeastOnce);
    let ids: Vec<u16> = sim
        .sent()
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => p.packet_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(remove(&mut sim, ids[0]) && remove(&mut sim, ids[1]));
    sim.published();
    resume(&mut sim);
    let again = sim.sent();
    let resent: Vec<(u16, bool)> = again
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => (p.packet_id, p.dup),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(resent, vec![(ids[0], true), (ids[1], true), (ids[2], true)]);
    sim.send(Packet::PubAck(PubResp::new(ids[0])));
    sim.send(Packet::PubRec(PubResp::new(ids[1])));
    assert_eq!(sim.sent(), vec![Packet::PubRel(PubResp::new(ids[1]))]);
    sim.send(Packet::PubComp(PubResp::new(ids[1])));
    sim.send(Packet::PubAck(PubResp::new(ids[2])));
    assert_eq!(sim.published(), vec![(kept, Ok(ReasonCode::Success))]);
    assert_eq!(sim.client.metrics().inflight_out, 0);
}

#[test]
fn removed_messages_are_not_sent_again_when_the_server_lost_the_session() {
    // [MQTT-3.2.2-5]: unacknowledged messages go again as new ones, except those given up on.
    let mut sim = Sim::v5();
    sim.connect();
    sim.publish("a", "removed", QoS::ExactlyOnce);
    let id = sent_id(&mut sim);
    let kept = sim.publish("b", "kept", QoS::AtLeastOnce);
    sim.sent();
    remove(&mut sim, id);
    sim.published();
    sim.drop_connection("reset");
    sim.reconnect_with(ConnAck::default());
    let again: Vec<Packet> = sim.sent();
    assert_eq!(again.len(), 1, "{again:?}");
    let Packet::Publish(p) = &again[0] else {
        panic!("{again:?}")
    };
    assert_eq!(&p.payload[..], b"kept");
    assert!(
        sim.published().is_empty(),
        "the removed one completed already"
    );
    sim.send(Packet::PubAck(PubResp::new(p.packet_id)));
    assert_eq!(sim.published(), vec![(kept, Ok(ReasonCode::Success))]);
}

#[test]
fn a_removal_survives_a_page_reload() {
    // The stored session keeps the mark: after a reload into a session the server lost, the
    // removed message is not sent as a new one.
    let mut sim = persistent();
    sim.connect();
    sim.publish("a", "removed", QoS::ExactlyOnce);
    let id = sent_id(&mut sim);
    remove(&mut sim, id);
    let bytes = sim.client.export_session(sim.now, 5_000);

    let mut cfg = config(ProtocolVersion::V5);
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(600);
    let mut reloaded = Sim::new(cfg);
    reloaded
        .client
        .import_session(&bytes, reloaded.now, 6_000)
        .unwrap();
    reloaded.connect_with(ConnAck::default());
    assert!(reloaded.sent().is_empty(), "sent as a new message");
    assert_eq!(reloaded.client.metrics().inflight_out, 0);
    assert_eq!(reloaded.client.metrics().outbox_messages, 0);
}

#[test]
fn a_removed_qos2_message_is_released_when_its_pubrec_comes() {
    // [MQTT-4.3.3-4]: the PUBREC says the server owns the message; the client answers PUBREL
    // as for any, and the identifier is free at PUBCOMP.
    let mut sim = Sim::v5();
    sim.connect();
    sim.publish("a", "x", QoS::ExactlyOnce);
    let id = sent_id(&mut sim);
    remove(&mut sim, id);
    sim.published();
    sim.send(Packet::PubRec(PubResp::new(id)));
    assert_eq!(sim.sent(), vec![Packet::PubRel(PubResp::new(id))]);
    assert_eq!(sim.client.metrics().inflight_out, 1);
    sim.send(Packet::PubComp(PubResp::new(id)));
    assert!(sim.published().is_empty());
    assert_eq!(sim.client.metrics().inflight_out, 0);
}

#[test]
fn fill_now_gives_a_just_published_message_its_identifier_within_one_batch() {
    // MQTT.js code reads getLastMessageId() right after publish() to remove that message.
    let mut sim = Sim::v5();
    sim.connect();
    let mut p = Publish::new("a", "x");
    p.qos = QoS::AtLeastOnce;
    sim.client.publish(sim.now, p).unwrap();
    assert_eq!(
        sim.client.last_packet_id(),
        None,
        "queued: no identifier yet"
    );
    sim.client.fill_now(sim.now);
    let id = sim.client.last_packet_id().expect("in flight now");
    assert!(remove(&mut sim, id));
    // Bounded: messages beyond one batch of bytes stay queued until the transport takes it.
    for _ in 0..1000 {
        let mut p = Publish::new("a", vec![0u8; 1000]);
        p.qos = QoS::AtLeastOnce;
        sim.client.publish(sim.now, p).unwrap();
        sim.client.fill_now(sim.now);
    }
    let m = sim.client.metrics();
    assert!(m.inflight_out < 100, "{} in flight", m.inflight_out);
    assert!(m.outbox_messages > 900);
}

#[test]
fn identifiers_are_the_lowest_free_when_asked_and_never_one_in_use() {
    // MQTT.js's UniqueMessageIdProvider gives the lowest free identifier; either order never
    // gives one in use [MQTT-2.2.1-3], also after a reconnect.
    let mut cfg = config(ProtocolVersion::V5);
    cfg.lowest_free_ids = true;
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(600);
    let mut sim = Sim::new(cfg);
    sim.connect();
    let mut ids = Vec::new();
    for _ in 0..3 {
        sim.publish("a", "x", QoS::AtLeastOnce);
        ids.push(sent_id(&mut sim));
    }
    assert_eq!(ids, vec![1, 2, 3]);
    sim.send(Packet::PubAck(PubResp::new(2)));
    sim.publish("a", "y", QoS::AtLeastOnce);
    assert_eq!(sent_id(&mut sim), 2, "the lowest free");
    resume(&mut sim);
    sim.sent();
    sim.publish("a", "z", QoS::AtLeastOnce);
    assert_eq!(sent_id(&mut sim), 4, "1, 2 and 3 are still in flight");
    assert_eq!(sim.client.last_packet_id(), Some(4));
}
