//! The offline outbox: bounded in count and bytes, with an explicit full policy; back-pressure
//! and coalescing of what is sent.

mod common;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

fn sim_with(f: impl FnOnce(&mut OutboxConfig)) -> Sim {
    let mut cfg = config(ProtocolVersion::V5);
    f(&mut cfg.outbox);
    Sim::new(cfg)
}

fn payloads(sim: &mut Sim) -> Vec<String> {
    sim.sent()
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(String::from_utf8_lossy(&p.payload).into_owned()),
            _ => None,
        })
        .collect()
}

#[test]
fn messages_published_offline_are_sent_in_order_on_connection() {
    let mut sim = Sim::v5();
    for (i, q) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .iter()
        .enumerate()
    {
        sim.publish("t", &i.to_string(), *q);
    }
    assert_eq!(sim.client.metrics().outbox_messages, 3);
    sim.connect();
    assert_eq!(payloads(&mut sim), vec!["0", "1", "2"]);
}

#[test]
fn reject_new_when_full_by_count() {
    let mut sim = sim_with(|o| o.max_messages = 2);
    sim.publish("t", "1", QoS::AtLeastOnce);
    sim.publish("t", "2", QoS::AtLeastOnce);
    let err = sim
        .client
        .publish(sim.now, Publish::new("t", "3"))
        .unwrap_err();
    assert_eq!(
        err,
        ClientError::OutboxFull {
            messages: 2,
            bytes: 4
        }
    );
    assert!(err.to_string().contains("outbox is full"));
}

#[test]
fn reject_new_when_full_by_bytes() {
    let mut sim = sim_with(|o| o.max_bytes = 100);
    sim.client
        .publish(sim.now, Publish::new("t", vec![0u8; 90]))
        .unwrap();
    assert!(matches!(
        sim.client
            .publish(sim.now, Publish::new("t", vec![0u8; 20])),
        Err(ClientError::OutboxFull { .. })
    ));
    sim.client
        .publish(sim.now, Publish::new("t", vec![0u8; 5]))
        .unwrap();
}

#[test]
fn drop_oldest_makes_room() {
    let mut sim = sim_with(|o| {
        o.max_messages = 2;
        o.policy = OutboxPolicy::DropOldest;
    });
    let a = sim.publish("t", "a", QoS::AtLeastOnce);
    sim.publish("t", "b", QoS::AtLeastOnce);
    sim.publish("t", "c", QoS::AtLeastOnce);
    assert_eq!(sim.published(), vec![(a, Err(ClientError::Dropped))]);
    sim.connect();
    assert_eq!(payloads(&mut sim), vec!["b", "c"]);
}

#[test]
fn latest_per_topic_keeps_one_message_per_topic() {
    let mut sim = sim_with(|o| o.policy = OutboxPolicy::LatestPerTopic);
    let first = sim.publish("lamp/1", "on", QoS::AtLeastOnce);
    sim.publish("lamp/2", "on", QoS::AtLeastOnce);
    sim.publish("lamp/1", "off", QoS::AtLeastOnce);
    assert_eq!(sim.published(), vec![(first, Err(ClientError::Superseded))]);
    sim.connect();
    assert_eq!(payloads(&mut sim), vec!["on", "off"]);
}

#[test]
fn qos0_offline_queuing_is_optional() {
    let mut sim = sim_with(|o| o.queue_qos0_offline = false);
    assert_eq!(
        sim.client.publish(sim.now, Publish::new("t", "x")),
        Err(ClientError::NotConnected)
    );
    sim.publish("t", "q1", QoS::AtLeastOnce);
    sim.connect();
    assert_eq!(payloads(&mut sim), vec!["q1"]);
}

#[test]
fn back_pressure_keeps_messages_in_the_bounded_outbox() {
    let mut sim = sim_with(|o| o.max_messages = 1000);
    sim.connect();
    sim.writable = false;
    for i in 0..1000 {
        sim.publish("t", &i.to_string(), QoS::AtMostOnce);
    }
    assert!(matches!(
        sim.client.publish(sim.now, Publish::new("t", "x")),
        Err(ClientError::OutboxFull { .. })
    ));
    assert!(
        sim.published().is_empty(),
        "QoS 0 completes only when handed to the transport"
    );
    sim.writable = true;
    sim.run();
    assert_eq!(payloads(&mut sim).len(), 1000);
    assert_eq!(sim.published().len(), 1000);
}

#[test]
fn packets_are_coalesced_into_bounded_batches() {
    let mut sim = Sim::v5();
    sim.connect();
    sim.batches.clear();
    for _ in 0..1000 {
        sim.client
            .publish(sim.now, Publish::new("t", vec![0u8; 200]))
            .unwrap();
    }
    sim.run();
    // ~207 KB of packets: four batches of at most 64 KiB plus one packet, never one per packet.
    assert!(sim.batches.len() <= 5, "{:?}", sim.batches);
    assert!(sim.batches.iter().all(|b| *b <= 64 * 1024 + 300));
    assert_eq!(payloads(&mut sim).len(), 1000);
}

#[test]
fn a_message_larger_than_the_whole_outbox_is_refused_as_such() {
    // Defect 2 of the reliability issue: it was refused as "outbox full", so a publisher that
    // waits for room (the JS client under 'reject-new') waited forever, and blocked every
    // later publish behind it.
    for policy in [
        OutboxPolicy::RejectNew,
        OutboxPolicy::DropOldest,
        OutboxPolicy::LatestPerTopic,
    ] {
        let mut sim = sim_with(|o| {
            o.max_bytes = 100;
            o.policy = policy;
        });
        let mut p = Publish::new("t", vec![b'x'; 200]);
        p.qos = QoS::AtLeastOnce;
        let e = sim.client.publish(sim.now, p).unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::MessageTooLarge {
                    size: 201,
                    max: 100
                }
            ),
            "{policy:?}: {e:?}"
        );
        assert_eq!(e.kind(), "MESSAGE_TOO_LARGE");
    }
}

#[test]
fn a_message_too_large_for_the_outbox_is_refused_from_its_size_before_it_is_built() {
    // Defect 10 of the reliability issue: a payload was copied (into wasm memory, then again)
    // before its size was checked. The client answers from the size alone, exactly as
    // publish would, so a caller holding the payload outside never copies it in.
    let sim = sim_with(|o| o.max_bytes = 100);
    assert!(sim.client.refuse_size(100).is_none());
    let e = sim.client.refuse_size(101).unwrap();
    assert!(
        matches!(
            e,
            ClientError::MessageTooLarge {
                size: 101,
                max: 100
            }
        ),
        "{e:?}"
    );
    // The same answer publish gives for such a message.
    let mut sim = sim;
    let published = sim
        .client
        .publish(sim.now, Publish::new("t", vec![b'x'; 100]))
        .unwrap_err();
    assert_eq!(published.kind(), e.kind());
}
