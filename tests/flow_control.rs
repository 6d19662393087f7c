//! Flow control: Receive Maximum both ways, Maximum Packet Size both ways, server capabilities.

mod common;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

fn ids(sim: &mut Sim) -> Vec<u16> {
    sim.sent()
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p.packet_id),
            _ => None,
        })
        .collect()
}

#[test]
fn never_more_unacknowledged_than_the_servers_receive_maximum() {
    // [MQTT-3.3.4-7], [MQTT-4.9.0-2]: mosquitto announces 20; MQTT.js ignores it.
    let mut sim = Sim::v5();
    sim.connect_with(connack_props(|p| p.receive_maximum = Some(20)));
    for i in 0..100 {
        sim.publish("t", &i.to_string(), QoS::AtLeastOnce);
    }
    let mut acked = 0;
    let mut outstanding: Vec<u16> = ids(&mut sim);
    assert_eq!(outstanding.len(), 20);
    while let Some(id) = outstanding.first().copied() {
        outstanding.remove(0);
        sim.send(Packet::PubAck(PubResp::new(id)));
        acked += 1;
        outstanding.extend(ids(&mut sim));
        assert!(
            outstanding.len() <= 20,
            "{} unacknowledged",
            outstanding.len()
        );
    }
    assert_eq!(acked, 100);
}

#[test]
fn other_packets_are_not_held_back_by_the_quota() {
    // [MQTT-3.3.4-8]
    let mut sim = Sim::v5();
    sim.connect_with(connack_props(|p| p.receive_maximum = Some(1)));
    sim.publish("t", "1", QoS::AtLeastOnce);
    sim.publish("t", "2", QoS::AtLeastOnce);
    assert_eq!(ids(&mut sim).len(), 1);
    sim.subscribe("s", QoS::AtMostOnce);
    assert!(matches!(&sim.sent()[..], [Packet::Subscribe(_)]));
    sim.send(publish("x", "y", QoS::AtLeastOnce, 3));
    assert_eq!(sim.sent(), vec![Packet::PubAck(PubResp::new(3))]);
}

#[test]
fn a_server_exceeding_our_receive_maximum_is_disconnected() {
    // [MQTT-3.3.4-9]: DISCONNECT 0x93, and the excess message is not delivered.
    let mut cfg = config(ProtocolVersion::V5);
    cfg.receive_maximum = Some(2);
    let mut sim = Sim::new(cfg);
    let c = sim.connect();
    assert_eq!(c.properties.receive_maximum, Some(2));
    sim.send(publish("a", "1", QoS::ExactlyOnce, 1));
    sim.send(publish("a", "2", QoS::ExactlyOnce, 2));
    assert_eq!(sim.messages().len(), 2);
    sim.sent();
    sim.send(publish("a", "3", QoS::ExactlyOnce, 3));
    assert!(sim.messages().is_empty());
    let sent = sim.sent();
    assert!(sent.iter().any(|p| matches!(p, Packet::Disconnect(d) if d.reason_code == ReasonCode::ReceiveMaximumExceeded)), "{sent:?}");
    // Defect 12 of the reliability issue: the PUBREC went out before the check, so the
    // server believed the refused message delivered.
    assert!(
        !sent
            .iter()
            .any(|p| matches!(p, Packet::PubRec(r) if r.packet_id == 3)),
        "the refused message was acknowledged: {sent:?}"
    );
    let events = sim.events();
    assert!(events.iter().any(|e| matches!(e, Event::Disconnected { error: Some(e), .. } if e.reason_code() == Some(ReasonCode::ReceiveMaximumExceeded))), "{events:?}");
}

#[test]
fn the_servers_maximum_packet_size_is_respected() {
    // [MQTT-3.2.2-15]: never send a packet larger than the server accepts.
    let mut sim = Sim::v5();
    sim.connect_with(connack_props(|p| p.maximum_packet_size = Some(100)));
    let big = Publish::new("t", vec![0u8; 200]);
    assert!(matches!(
        sim.client.publish(sim.now, big),
        Err(ClientError::PacketTooLarge { max: 100, .. })
    ));
    let ok = Publish::new("t", vec![0u8; 50]);
    sim.client.publish(sim.now, ok).unwrap();
    sim.run();
    assert_eq!(ids(&mut sim).len(), 1);
}

#[test]
fn a_queued_message_too_large_for_the_new_server_fails_instead_of_being_sent() {
    let mut sim = Sim::v5();
    let op = sim
        .client
        .publish(sim.now, Publish::new("t", vec![0u8; 200]))
        .unwrap();
    sim.connect_with(connack_props(|p| p.maximum_packet_size = Some(100)));
    assert!(ids(&mut sim).is_empty());
    assert!(
        matches!(&sim.published()[..], [(id, Err(ClientError::PacketTooLarge { .. }))] if *id == op)
    );
}

#[test]
fn our_maximum_packet_size_is_announced_and_enforced() {
    // An oversized PUBLISH from the server: DISCONNECT 0x95, nothing delivered.
    let mut cfg = config(ProtocolVersion::V5);
    cfg.maximum_packet_size = 1024;
    let mut sim = Sim::new(cfg);
    let c = sim.connect();
    assert_eq!(c.properties.maximum_packet_size, Some(1024));
    let mut p = Publish::new("t", vec![1u8; 2000]);
    p.qos = QoS::AtMostOnce;
    sim.send(Packet::Publish(p));
    assert!(sim.messages().is_empty());
    assert!(sim.sent().iter().any(
        |p| matches!(p, Packet::Disconnect(d) if d.reason_code == ReasonCode::PacketTooLarge)
    ));
    assert!(!sim.client.is_connected());
}

#[test]
fn maximum_qos_and_retain_available_are_respected() {
    // [MQTT-3.2.2-11], [MQTT-3.2.2-14]
    let mut sim = Sim::v5();
    sim.connect_with(connack_props(|p| {
        p.maximum_qos = Some(QoS::AtLeastOnce);
        p.retain_available = Some(false);
    }));
    let q2 = Publish {
        qos: QoS::ExactlyOnce,
        ..Publish::new("t", "")
    };
    assert!(matches!(
        sim.client.publish(sim.now, q2),
        Err(ClientError::QoSNotSupported {
            max: QoS::AtLeastOnce,
            ..
        })
    ));
    let retained = Publish {
        retain: true,
        ..Publish::new("t", "")
    };
    assert_eq!(
        sim.client.publish(sim.now, retained),
        Err(ClientError::RetainNotSupported)
    );
}

#[test]
fn before_v5_the_window_is_20_while_qos_2_is_in_flight_and_qos_1_alone_is_not_limited() {
    // A 3.1.1 server cannot announce a Receive Maximum, but mosquitto keeps a quota of 20 QoS 2
    // messages awaiting PUBREL: beyond it, it acknowledges a message and drops it (measured
    // with mosquitto 2.0: 500 sent at once, 500 acknowledged, 20 delivered). So 20 at once.
    let mut sim = Sim::v4();
    sim.connect();
    for i in 0..50 {
        sim.publish("t", &i.to_string(), QoS::ExactlyOnce);
    }
    assert_eq!(ids(&mut sim).len(), DEFAULT_V3_INFLIGHT as usize);
    // QoS 1 holds no state in the server once acknowledged (2,000 at once to mosquitto: all
    // delivered): as in MQTT.js, only packet identifiers limit it.
    let mut sim = Sim::v4();
    sim.connect();
    for i in 0..500 {
        sim.publish("t", &i.to_string(), QoS::AtLeastOnce);
    }
    assert_eq!(ids(&mut sim).len(), 500);
    // Order is kept: a QoS 1 message behind QoS 2 messages waiting for room waits too
    // [MQTT-4.6.0-6].
    let mut sim = Sim::v4();
    sim.connect();
    for i in 0..21 {
        sim.publish("t", &i.to_string(), QoS::ExactlyOnce);
    }
    sim.publish("t", "after", QoS::AtLeastOnce);
    assert_eq!(
        ids(&mut sim).len(),
        20,
        "the 21st QoS 2 and the QoS 1 behind it wait"
    );
    // While a QoS 2 message is in flight, 20 in all: with 20 QoS 2 messages awaiting PUBREL
    // mosquitto drops a QoS 1 message too, with a PUBACK that looks like success (measured
    // across a broker restart: `tests/mosquitto.rs`).
    let mut sim = Sim::v4();
    sim.connect();
    for i in 0..10 {
        sim.publish("t", &i.to_string(), QoS::ExactlyOnce);
    }
    for i in 0..50 {
        sim.publish("t", &i.to_string(), QoS::AtLeastOnce);
    }
    assert_eq!(ids(&mut sim).len(), 20);
    // QoS 1 messages already out beyond 20: a QoS 2 message waits until fewer than 20 are.
    let mut sim = Sim::v4();
    sim.connect();
    for i in 0..50 {
        sim.publish("t", &i.to_string(), QoS::AtLeastOnce);
    }
    sim.publish("t", "two", QoS::ExactlyOnce);
    assert_eq!(ids(&mut sim).len(), 50);
    // Configurable.
    let mut cfg = config(ProtocolVersion::V3_1_1);
    cfg.max_inflight = Some(5);
    let mut sim = Sim::new(cfg);
    sim.connect();
    for i in 0..50 {
        sim.publish("t", &i.to_string(), QoS::AtLeastOnce);
    }
    assert_eq!(ids(&mut sim).len(), 5);
}
