//! Metrics: RTT, messages and bytes both ways, in-flight, outbox, reconnects, next attempt.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::Event;

#[test]
fn metrics_follow_the_traffic() {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.keep_alive = 10;
    let mut sim = Sim::new(cfg);
    sim.connect_with(connack_props(|p| p.receive_maximum = Some(1)));
    sim.events();
    let m = sim.client.metrics();
    assert!(m.connected_since.is_some());
    assert!(m.bytes_out > 0 && m.bytes_in > 0);

    sim.publish("a", "1", QoS::AtLeastOnce);
    sim.publish("a", "2", QoS::AtLeastOnce);
    sim.send(publish("b", "x", QoS::ExactlyOnce, 4));
    let m = sim.client.metrics();
    assert_eq!((m.messages_out, m.messages_in), (1, 1));
    assert_eq!((m.inflight_out, m.inflight_in), (1, 1));
    assert_eq!((m.outbox_messages, m.outbox_bytes), (1, 2));

    sim.sent();
    sim.advance(Duration::from_secs(10));
    sim.advance(Duration::from_millis(12));
    sim.send(Packet::PingResp);
    assert_eq!(sim.client.metrics().rtt, Some(Duration::from_millis(12)));
    assert_eq!(
        sim.client.metrics().rtt_smoothed,
        Some(Duration::from_millis(12))
    );

    sim.drop_connection("x");
    let m = sim.client.metrics();
    assert!(m.next_attempt.is_some() && m.connected_since.is_none());
    sim.reconnect_with(ConnAck::default());
    assert_eq!(sim.client.metrics().reconnects, 1);
}

/// MQTT.js's `packetsend` / `packetreceive`: with packet events on, every packet the client
/// hands to the transport and every packet it receives is an event, in order, as decoded.
#[test]
fn packet_events_report_every_packet_both_ways_in_order() {
    let mut sim = Sim::v5();
    sim.client.set_packet_events(true);
    let connect = sim.connect_with(ConnAck::default());
    let packets = |events: Vec<Event>| -> Vec<(bool, Packet)> {
        events
            .into_iter()
            .filter_map(|e| match e {
                Event::PacketSent(p) => Some((true, *p)),
                Event::PacketReceived(p) => Some((false, *p)),
                _ => None,
            })
            .collect()
    };
    let seen = packets(sim.events());
    assert_eq!(
        seen,
        vec![
            (true, Packet::Connect(Box::new(connect))),
            (false, Packet::ConnAck(ConnAck::default())),
        ]
    );
    let _ = sim.publish("a/b", "x", QoS::AtLeastOnce);
    let sent = sim.sent();
    let [Packet::Publish(p)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    let id = p.packet_id;
    sim.send(Packet::PubAck(PubResp::new(id)));
    let seen = packets(sim.events());
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], (true, sent[0].clone()));
    assert_eq!(seen[1], (false, Packet::PubAck(PubResp::new(id))));

    // Off: nothing more is reported.
    sim.client.set_packet_events(false);
    let _ = sim.publish("a/b", "y", QoS::AtMostOnce);
    sim.run();
    assert!(packets(sim.events()).is_empty());
}
