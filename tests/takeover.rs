//! Two clients with one client id must not kick each other off forever.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

#[test]
fn disconnect_0x8e_stops_reconnecting() {
    let mut sim = Sim::v5();
    sim.connect();
    sim.send(Packet::Disconnect(Disconnect::new(
        ReasonCode::SessionTakenOver,
    )));
    let events = sim.events();
    assert!(
        events.contains(&Event::Stopped(ClientError::SessionTakenOver)),
        "{events:?}"
    );
    sim.advance(Duration::from_secs(3600));
    assert_eq!(sim.opened.len(), 1);
    // The application may take it back explicitly.
    sim.client.start(sim.now);
    sim.run();
    assert_eq!(sim.opened.len(), 2);
}

#[test]
fn connections_closed_right_after_connack_are_a_suspected_takeover() {
    // mosquitto never sends 0x8E: it just closes the older connection.
    let mut sim = Sim::v4();
    sim.connect();
    for _ in 0..2 {
        sim.advance(Duration::from_secs(1));
        sim.drop_connection("closed by the broker");
        sim.reconnect_with(ConnAck::default());
    }
    sim.advance(Duration::from_secs(1));
    sim.drop_connection("closed by the broker");
    let events = sim.events();
    assert!(
        events.contains(&Event::Stopped(ClientError::SuspectedTakeover(3))),
        "{events:?}"
    );
    assert!(ClientError::SuspectedTakeover(3)
        .to_string()
        .contains("same client id"));
}

#[test]
fn long_lived_connections_that_drop_are_not_a_takeover() {
    let mut sim = Sim::v4();
    sim.connect();
    for _ in 0..10 {
        sim.advance(Duration::from_secs(60));
        sim.drop_connection("flaky network");
        for p in sim.sent() {
            assert_eq!(p, Packet::PingReq);
        }
        sim.reconnect_with(ConnAck::default());
    }
    assert!(sim.client.is_connected());
}

#[test]
fn two_clients_with_the_same_id_stop_fighting() {
    // A broker that, like mosquitto, closes the older connection when the same id connects.
    let mut a = Sim::v4();
    let mut b = Sim::v4();
    a.client.start(a.now);
    b.client.start(b.now);
    let mut holder: Option<usize> = None;
    let mut kicks = 0;
    for _ in 0..(20 * 60 * 10) {
        for i in 0..2 {
            let (me, other) = if i == 0 {
                (&mut a, &mut b)
            } else {
                (&mut b, &mut a)
            };
            me.run();
            if me.sent().iter().any(|p| matches!(p, Packet::Connect(_))) {
                if holder == Some(1 - i) {
                    other.drop_connection("session taken over");
                    kicks += 1;
                }
                me.send(Packet::ConnAck(ConnAck::default()));
                holder = Some(i);
            }
            me.advance(Duration::from_millis(100));
        }
        // Both answer pings so only takeovers end connections.
        for s in [&mut a, &mut b] {
            if s.client.is_connected() {
                for p in s.sent() {
                    if p == Packet::PingReq {
                        s.send(Packet::PingResp);
                    }
                }
            }
        }
    }
    let stopped = [&a, &b]
        .iter()
        .filter(|s| s.client.stopped().is_some())
        .count();
    assert_eq!(stopped, 1, "exactly one gives up");
    assert_eq!(
        [&a, &b].iter().filter(|s| s.client.is_connected()).count(),
        1,
        "the other keeps the session"
    );
    assert!(kicks <= 6, "{kicks} takeovers before settling");
}
