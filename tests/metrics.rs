//! Metrics: RTT, messages and bytes both ways, in-flight, outbox, reconnects, next attempt.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;

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
