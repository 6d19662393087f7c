//! Keep-alive: PINGREQ when nothing was sent for the interval; dead links noticed within 1.5x.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

fn sim(keep_alive: u16) -> Sim {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.keep_alive = keep_alive;
    let mut sim = Sim::new(cfg);
    sim.connect();
    sim
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn pingreq_when_nothing_was_sent_even_while_receiving() {
    // [MQTT-3.1.2-22]: received traffic does not postpone the PINGREQ.
    let mut sim = sim(10);
    for _ in 0..9 {
        sim.advance(secs(1));
        sim.send(publish("t", "x", QoS::AtMostOnce, 0));
        assert!(sim.sent().is_empty());
    }
    sim.advance(Duration::from_millis(999));
    assert!(sim.sent().is_empty());
    sim.advance(Duration::from_millis(1));
    assert_eq!(sim.sent(), vec![Packet::PingReq]);
}

#[test]
fn a_pingreq_also_goes_out_when_nothing_was_received_while_sending() {
    // Sending into a dead link must not hide it: nothing received for the interval -> ping.
    let mut sim = sim(10);
    for _ in 0..9 {
        sim.advance(secs(1));
        sim.publish("t", "x", QoS::AtMostOnce);
    }
    sim.sent();
    sim.advance(secs(1));
    assert_eq!(sim.sent(), vec![Packet::PingReq]);
}

#[test]
fn no_ping_while_traffic_flows_both_ways() {
    let mut sim = sim(10);
    for _ in 0..60 {
        sim.advance(secs(1));
        sim.publish("t", "x", QoS::AtLeastOnce);
        for p in sim.sent() {
            if let Packet::Publish(p) = p {
                sim.send(Packet::PubAck(PubResp::new(p.packet_id)));
            } else {
                panic!("unexpected {p:?}");
            }
        }
    }
}

#[test]
fn a_dead_link_is_noticed_within_one_and_a_half_keep_alives() {
    let mut sim = sim(10);
    let start = sim.now;
    // The broker freezes: nothing answers the PINGREQ sent at 10 s.
    sim.advance(secs(10));
    assert_eq!(sim.sent(), vec![Packet::PingReq]);
    sim.advance(Duration::from_millis(4_999));
    assert!(sim.client.is_connected());
    sim.advance(Duration::from_millis(1));
    assert!(!sim.client.is_connected());
    assert_eq!(sim.now - start, Duration::from_millis(15_000));
    let events = sim.events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                error: Some(ClientError::KeepAliveTimeout(5_000)),
                reconnect_at: Some(_)
            }
        )),
        "{events:?}"
    );
    // MQTT 5: no DISCONNECT into a dead link is required; the transport is closed.
    assert_eq!(sim.close_requests, 1);
}

#[test]
fn pingresp_keeps_the_link_and_measures_the_round_trip() {
    let mut sim = sim(10);
    sim.advance(secs(10));
    assert_eq!(sim.sent(), vec![Packet::PingReq]);
    sim.advance(Duration::from_millis(37));
    sim.send(Packet::PingResp);
    assert_eq!(sim.client.metrics().rtt, Some(Duration::from_millis(37)));
    // A broker that answers every ping keeps the link up indefinitely.
    let mut pings = 0;
    for _ in 0..120 {
        sim.advance(secs(1));
        for p in sim.sent() {
            assert_eq!(p, Packet::PingReq);
            pings += 1;
            sim.send(Packet::PingResp);
        }
    }
    assert!(sim.client.is_connected());
    assert_eq!(pings, 12);
}

#[test]
fn keep_alive_zero_sends_no_pings() {
    let mut sim = sim(0);
    sim.advance(secs(3600));
    assert!(sim.sent().is_empty());
    assert!(sim.client.is_connected());
}

#[test]
fn check_liveness_pings_at_once_and_finds_a_dead_link_fast() {
    // The page became visible again: probe now instead of waiting up to 1.5x keep alive.
    let mut sim = sim(60);
    sim.advance(secs(5));
    sim.client.check_liveness(sim.now);
    sim.run();
    assert_eq!(sim.sent(), vec![Packet::PingReq]);
    sim.advance(secs(30));
    assert!(!sim.client.is_connected());
}

#[test]
fn the_ping_timeout_is_configurable() {
    let mut cfg = config(ProtocolVersion::V3_1_1);
    cfg.keep_alive = 30;
    cfg.ping_timeout = Some(Duration::from_secs(2));
    let mut sim = Sim::new(cfg);
    sim.connect();
    sim.advance(secs(30));
    sim.advance(secs(2));
    assert!(!sim.client.is_connected());
}
