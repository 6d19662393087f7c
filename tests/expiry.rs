//! Message expiry: expired messages leave the outbox; the remaining interval is what is sent.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

fn expiring(topic: &str, secs: u32, qos: QoS) -> Publish {
    let mut p = Publish::new(topic, "x");
    p.qos = qos;
    p.properties.message_expiry_interval = Some(secs);
    p
}

#[test]
fn an_expired_message_leaves_the_outbox_while_offline() {
    let mut sim = Sim::v5();
    let short = sim
        .client
        .publish(sim.now, expiring("a", 10, QoS::AtLeastOnce))
        .unwrap();
    let long = sim
        .client
        .publish(sim.now, expiring("b", 100, QoS::AtLeastOnce))
        .unwrap();
    sim.run();
    sim.advance(Duration::from_secs(10));
    assert_eq!(sim.published(), vec![(short, Err(ClientError::Expired))]);
    assert_eq!(sim.client.metrics().outbox_messages, 1);
    sim.advance(Duration::from_secs(30));
    sim.connect();
    let sent = sim.sent();
    let Packet::Publish(p) = &sent[0] else {
        panic!("{sent:?}")
    };
    assert_eq!(&*p.topic, "b");
    // 100 s interval, 40 s queued: 60 s remain.
    assert_eq!(p.properties.message_expiry_interval, Some(60));
    let _ = long;
}

#[test]
fn a_message_expiring_behind_the_quota_is_dropped_when_its_turn_comes() {
    let mut sim = Sim::v5();
    sim.connect_with(connack_props(|p| p.receive_maximum = Some(1)));
    sim.publish("first", "x", QoS::AtLeastOnce);
    let late = sim
        .client
        .publish(sim.now, expiring("late", 5, QoS::AtLeastOnce))
        .unwrap();
    sim.run();
    let first_id = match &sim.sent()[0] {
        Packet::Publish(p) => p.packet_id,
        p => panic!("{p:?}"),
    };
    sim.advance(Duration::from_secs(6));
    let done = sim.published();
    assert!(
        done.contains(&(late, Err(ClientError::Expired))),
        "{done:?}"
    );
    sim.send(Packet::PubAck(PubResp::new(first_id)));
    assert!(sim.sent().is_empty());
}

#[test]
fn a_resent_message_carries_its_remaining_interval_and_is_not_dropped() {
    // [MQTT-4.3.3-7]: once sent, the QoS 2 flow continues whatever the expiry.
    let mut cfg = config(ProtocolVersion::V5);
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(600);
    let mut sim = Sim::new(cfg);
    sim.connect();
    sim.publish_with(expiring("t", 100, QoS::ExactlyOnce));
    sim.sent();
    sim.drop_connection("x");
    sim.advance(Duration::from_secs(30));
    let c = ConnAck {
        session_present: true,
        ..ConnAck::default()
    };
    sim.reconnect_with(c);
    let sent = sim.sent();
    let Packet::Publish(p) = &sent[0] else {
        panic!("{sent:?}")
    };
    assert!(p.dup);
    // 30 s offline plus the reconnect backoff (under 1 s): 69 or 70 s remain.
    let left = p.properties.message_expiry_interval.unwrap();
    assert!((69..=70).contains(&left), "{left}");
}

trait PublishWith {
    fn publish_with(&mut self, p: Publish) -> OpId;
}

impl PublishWith for Sim {
    fn publish_with(&mut self, p: Publish) -> OpId {
        let id = self.client.publish(self.now, p).unwrap();
        self.run();
        id
    }
}
