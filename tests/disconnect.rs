//! Disconnecting on purpose: graceful (waits, then DISCONNECT, no will, no reconnect) or forced.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

#[test]
fn a_graceful_disconnect_waits_for_inflight_messages() {
    let mut sim = Sim::v5();
    sim.connect();
    let op = sim.publish("t", "last words", QoS::AtLeastOnce);
    let Packet::Publish(p) = &sim.sent()[0] else {
        panic!()
    };
    sim.client.disconnect(sim.now, DisconnectOptions::default());
    sim.run();
    assert!(sim.sent().is_empty(), "waits for the PUBACK");
    sim.send(Packet::PubAck(PubResp::new(p.packet_id)));
    // [MQTT-3.14.4-3]: Normal disconnection, so the server discards the will.
    assert_eq!(sim.sent(), vec![Packet::Disconnect(Disconnect::default())]);
    assert_eq!(sim.close_requests, 1);
    let events = sim.events();
    assert!(events.contains(&Event::Published {
        id: op,
        result: Ok(ReasonCode::Success),
        packet_id: Some(p.packet_id),
    }));
    assert!(events.contains(&Event::Disconnected {
        error: None,
        reconnect_at: None
    }));
    sim.advance(Duration::from_secs(3600));
    assert_eq!(
        sim.opened.len(),
        1,
        "no reconnect after the application disconnects"
    );
    assert_eq!(sim.client.state_name(), "idle");
}

#[test]
fn the_grace_period_is_bounded_and_force_skips_it() {
    let mut cfg = config(ProtocolVersion::V3_1_1);
    cfg.disconnect_timeout = Duration::from_secs(3);
    let mut sim = Sim::new(cfg);
    sim.connect();
    let op = sim.publish("t", "x", QoS::AtLeastOnce);
    sim.sent();
    sim.client.disconnect(sim.now, DisconnectOptions::default());
    sim.advance(Duration::from_secs(3));
    assert_eq!(sim.sent(), vec![Packet::Disconnect(Disconnect::default())]);
    // Not persistent: the unfinished operation is cancelled.
    assert!(sim.events().contains(&Event::Published {
        id: op,
        result: Err(ClientError::Cancelled),
        packet_id: None,
    }));

    let mut sim = Sim::v5();
    sim.connect();
    sim.publish("t", "x", QoS::AtLeastOnce);
    sim.sent();
    sim.client.disconnect(
        sim.now,
        DisconnectOptions {
            force: true,
            ..DisconnectOptions::default()
        },
    );
    sim.run();
    assert_eq!(sim.sent(), vec![Packet::Disconnect(Disconnect::default())]);
}

#[test]
fn disconnect_with_will_message() {
    let mut sim = Sim::v5();
    sim.connect();
    sim.client.disconnect(
        sim.now,
        DisconnectOptions {
            force: true,
            reason: Some(ReasonCode::DisconnectWithWillMessage),
            session_expiry_interval: Some(0),
        },
    );
    sim.run();
    let sent = sim.sent();
    let Packet::Disconnect(d) = &sent[0] else {
        panic!()
    };
    assert_eq!(d.reason_code, ReasonCode::DisconnectWithWillMessage);
    assert_eq!(d.properties.session_expiry_interval, Some(0));
}

#[test]
fn a_persistent_session_keeps_unfinished_messages() {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(600);
    let mut sim = Sim::new(cfg);
    sim.connect();
    sim.publish("t", "x", QoS::AtLeastOnce);
    sim.sent();
    sim.client.disconnect(
        sim.now,
        DisconnectOptions {
            force: true,
            ..DisconnectOptions::default()
        },
    );
    sim.run();
    assert!(sim.published().is_empty());
    assert_eq!(sim.client.metrics().inflight_out, 1);
    sim.client.start(sim.now);
    sim.run();
    sim.sent();
    sim.send(Packet::ConnAck(ConnAck {
        session_present: true,
        ..ConnAck::default()
    }));
    assert!(matches!(&sim.sent()[0], Packet::Publish(p) if p.dup));
}

#[test]
fn disconnect_while_waiting_to_reconnect() {
    let mut sim = Sim::v4();
    sim.connect();
    sim.drop_connection("x");
    sim.events();
    sim.client.disconnect(sim.now, DisconnectOptions::default());
    sim.run();
    assert!(sim.events().contains(&Event::Disconnected {
        error: None,
        reconnect_at: None
    }));
    sim.advance(Duration::from_secs(600));
    assert_eq!(sim.opened.len(), 1);
}

#[test]
fn starting_again_during_a_graceful_drain_keeps_the_connection() {
    // Found by the simulation (seed 159): end() then connect again while the drain waited
    // for an acknowledgement; the drain still closed the connection, cancelled what was
    // published after the restart, and left the client idle although started: a hang.
    let mut sim = Sim::v5();
    sim.connect();
    sim.publish("t", "a", QoS::AtLeastOnce);
    let Packet::Publish(first) = &sim.sent()[0] else {
        panic!()
    };
    sim.client.disconnect(sim.now, DisconnectOptions::default());
    sim.run();
    sim.client.start(sim.now);
    sim.run();
    let op = sim.publish("t", "b", QoS::AtLeastOnce);
    sim.advance(Duration::from_secs(30));
    assert!(sim.client.is_connected(), "the restart was ignored");
    assert_eq!(sim.close_requests, 0);
    let sent = sim.sent();
    assert!(
        !sent.iter().any(|p| matches!(p, Packet::Disconnect(_))),
        "{sent:?}"
    );
    sim.send(Packet::PubAck(PubResp::new(first.packet_id)));
    let Some(Packet::Publish(second)) = sent.into_iter().find(|p| matches!(p, Packet::Publish(_)))
    else {
        panic!("the message published after the restart was not sent")
    };
    sim.send(Packet::PubAck(PubResp::new(second.packet_id)));
    assert!(sim.published().contains(&(op, Ok(ReasonCode::Success))));
}

#[test]
fn starting_again_while_an_ended_connection_closes_reconnects() {
    let mut sim = Sim::v5();
    sim.connect();
    sim.auto_open = true;
    sim.client.disconnect(
        sim.now,
        DisconnectOptions {
            force: true,
            ..Default::default()
        },
    );
    // The driver has not reported the close yet when the application starts again.
    while sim.client.poll_transmit(sim.now).is_some() {}
    assert_eq!(sim.client.poll_transport(), Some(TransportAction::Close));
    sim.client.start(sim.now);
    sim.open = false;
    sim.client.handle_close(sim.now, None);
    sim.run();
    assert!(
        sim.sent().iter().any(|p| matches!(p, Packet::Connect(_))),
        "not reconnecting: {}",
        sim.client.state_name()
    );
    sim.send(Packet::ConnAck(ConnAck::default()));
    assert!(sim.client.is_connected());
}

#[test]
fn operations_after_end_fail_at_once() {
    // Defect 14 of the reliability issue: publish() after end() waited silently forever.
    for persistent in [false, true] {
        let mut cfg = config(ProtocolVersion::V5);
        if persistent {
            cfg.clean_start = false;
            cfg.session_expiry_interval = Some(60);
        }
        let mut sim = Sim::new(cfg);
        sim.connect();
        sim.client.disconnect(sim.now, DisconnectOptions::default());
        sim.run();
        let mut p = Publish::new("t", "late");
        p.qos = QoS::AtLeastOnce;
        assert!(matches!(
            sim.client.publish(sim.now, p),
            Err(ClientError::Ended)
        ));
        let o = SubscriptionOptions::default();
        assert!(matches!(
            sim.client
                .subscribe(sim.now, vec![("t".into(), o)], None, vec![]),
            Err(ClientError::Ended)
        ));
        assert!(matches!(
            sim.client.unsubscribe(sim.now, vec!["t".into()]),
            Err(ClientError::Ended)
        ));
        // Starting again makes it usable.
        sim.client.start(sim.now);
        sim.run();
        sim.publish("t", "again", QoS::AtMostOnce);
    }
}

#[test]
fn a_link_lost_during_the_graceful_drain_still_ends_the_client() {
    // Defect 4 of the reliability issue: the drain waited for a PUBACK, the link dropped,
    // and the unfinished operations of a non-persistent session never completed.
    let mut sim = Sim::v5();
    sim.connect();
    let op = sim.publish("t", "x", QoS::AtLeastOnce);
    sim.sent();
    sim.client.disconnect(sim.now, DisconnectOptions::default());
    sim.run();
    sim.drop_connection("reset");
    let events = sim.events();
    assert!(
        events.contains(&Event::Published {
            id: op,
            result: Err(ClientError::Cancelled),
            packet_id: None,
        }),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Disconnected {
            reconnect_at: None,
            ..
        }
    )));
    sim.advance(Duration::from_secs(120));
    assert!(sim.opened.len() == 1, "reconnected after end()");
}
