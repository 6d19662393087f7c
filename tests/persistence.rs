//! The session as a value: exported, imported into a new client (a page reload), resumed.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

fn persistent() -> Config {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(3600);
    cfg
}

#[test]
fn a_reloaded_client_resumes_inflight_outbox_qos2_ids_and_subscriptions() {
    let mut sim = Sim::new(persistent());
    sim.connect_with(connack_props(|p| p.receive_maximum = Some(2)));
    sim.events();
    sim.subscribe("cmd/#", QoS::ExactlyOnce);
    sim.grant_subscriptions();
    sim.publish("a", "1", QoS::AtLeastOnce);
    sim.publish("b", "2", QoS::ExactlyOnce);
    sim.publish("c", "3", QoS::AtLeastOnce); // beyond the quota: still queued
    let sent = sim.sent();
    let Packet::Publish(b) = &sent[1] else {
        panic!("{sent:?}")
    };
    sim.send(Packet::PubRec(PubResp::new(b.packet_id)));
    sim.send(publish("cmd/x", "once", QoS::ExactlyOnce, 33));
    assert_eq!(sim.messages().len(), 1);
    sim.sent();

    // The page reloads: export, then a new client imports (new clock epoch, 10 s later).
    let wall = 1_700_000_000_000u64;
    let state = sim.client.export_session(sim.now, wall);
    let mut sim2 = Sim::new(persistent());
    sim2.now = Instant::from_millis(5);
    sim2.client
        .import_session(&state, sim2.now, wall + 10_000)
        .unwrap();
    assert_eq!(sim2.client.metrics().inflight_out, 2);
    assert_eq!(sim2.client.metrics().outbox_messages, 1);
    assert_eq!(sim2.client.subscriptions().count(), 1);
    sim2.connect_with(ConnAck {
        session_present: true,
        ..connack_props(|p| p.receive_maximum = Some(2))
    });
    let again = sim2.sent();
    assert!(
        matches!(&again[0], Packet::Publish(p) if p.dup && &p.payload[..] == b"1"),
        "{again:?}"
    );
    assert!(
        matches!(&again[1], Packet::PubRel(r) if r.packet_id == b.packet_id),
        "{again:?}"
    );
    // The server re-delivers the QoS 2 message whose PUBREL it never sent: not delivered twice.
    let Packet::Publish(mut dup) = publish("cmd/x", "once", QoS::ExactlyOnce, 33) else {
        panic!()
    };
    dup.dup = true;
    sim2.send(Packet::Publish(dup));
    assert!(sim2.messages().is_empty());
}

#[test]
fn message_age_survives_the_reload() {
    let mut sim = Sim::new(persistent());
    let mut p = Publish::new("t", "x");
    p.properties.message_expiry_interval = Some(60);
    sim.client.publish(sim.now, p).unwrap();
    let wall = 1_700_000_000_000u64;
    let state = sim
        .client
        .export_session(sim.now + Duration::from_secs(20), wall);
    // Reopened 30 s later: 50 s of the 60 have passed.
    let mut sim2 = Sim::new(persistent());
    sim2.client
        .import_session(&state, sim2.now, wall + 30_000)
        .unwrap();
    sim2.connect();
    let Packet::Publish(p) = &sim2.sent()[0] else {
        panic!()
    };
    assert_eq!(p.properties.message_expiry_interval, Some(10));
}

#[test]
fn garbage_is_refused() {
    let mut sim = Sim::v5();
    assert!(sim.client.import_session(b"nope", sim.now, 0).is_err());
    assert!(sim
        .client
        .import_session(b"WQS1\x00\x00\x00\x01\x02", sim.now, 0)
        .is_err());
    let state = Sim::new(persistent()).client.export_session(sim.now, 0);
    assert!(sim
        .client
        .import_session(&state[..state.len() - 1], sim.now, 0)
        .is_err());
    assert!(sim.client.import_session(&state, sim.now, 0).is_ok());
}

#[test]
fn messages_published_while_the_session_loads_are_kept() {
    let mut old = Sim::new(persistent());
    old.publish("t", "restored", QoS::AtLeastOnce);
    let state = old.client.export_session(old.now, 0);
    let mut sim = Sim::new(persistent());
    // The application publishes before the stored session has been read.
    sim.publish("t", "new", QoS::AtLeastOnce);
    sim.client.import_session(&state, sim.now, 0).unwrap();
    sim.connect();
    let payloads: Vec<String> = sim
        .sent()
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(String::from_utf8_lossy(&p.payload).into_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(payloads, vec!["restored", "new"]);
}

#[test]
fn subscribes_made_while_a_session_loads_keep_the_subscription_bound() {
    // Found by the simulation (seed 38): the restored registry and the subscribes of the
    // loading page together went past max_subscriptions once acknowledged.
    let mut cfg = persistent();
    cfg.max_subscriptions = 2;
    let mut sim = Sim::new(cfg.clone());
    sim.connect();
    sim.subscribe("a", QoS::AtLeastOnce);
    sim.subscribe("b", QoS::AtLeastOnce);
    sim.grant_subscriptions();
    let state = sim.client.export_session(sim.now, 1_000);

    let mut sim2 = Sim::new(cfg);
    let (op, _) = sim2
        .client
        .subscribe(
            sim2.now,
            vec![("c".into(), SubscriptionOptions::default())],
            None,
            vec![],
        )
        .unwrap();
    sim2.client.import_session(&state, sim2.now, 1_000).unwrap();
    sim2.run();
    let refused = sim2.events().into_iter().any(|e| {
        matches!(e, Event::Subscribed { id, result: Err(ClientError::TooMany { max: 2, .. }) } if id == op)
    });
    assert!(refused, "the subscribe beyond the bound was not refused");
    sim2.connect_with(ConnAck {
        session_present: true,
        ..ConnAck::default()
    });
    sim2.grant_subscriptions();
    assert_eq!(sim2.client.subscriptions().count(), 2);
}

#[test]
fn a_session_is_not_imported_into_a_started_client() {
    // A live session must never be replaced by a stored one (defect 5 of the reliability
    // issue: connect() while the stored session loads replaced the live session).
    let mut sim = Sim::new(persistent());
    let state = sim.client.export_session(sim.now, 1_000);
    sim.connect();
    assert!(sim.client.import_session(&state, sim.now, 1_000).is_err());
}

#[test]
fn a_corrupt_stored_session_is_refused_not_trusted() {
    // Found by fuzzing session import: a subscription numbered u64::MAX overflowed the
    // client's numbering on import. Every stored number is checked on the way in.
    let mut s = Session::default();
    s.registry.insert(ActiveSubscription {
        id: SubscriptionId(u64::MAX),
        filter: "a".into(),
        options: SubscriptionOptions::default(),
        identifier: None,
    });
    let bytes = s.export(Instant::from_millis(1), 1);
    assert!(Session::import(&bytes, Instant::from_millis(1), 1).is_err());
    let mut c = Client::new(persistent());
    assert!(c
        .import_session(&bytes, Instant::from_millis(1), 1)
        .is_err());
}

#[test]
fn the_storage_key_carries_no_secrets_and_survives_a_new_token() {
    // Defect 13 of the reliability issue: the key held the whole URL, query tokens included,
    // so a freshly signed URL found nothing (and the token sat in IndexedDB's key list).
    let a = storage_key(
        "wss://user:pw@broker.example:8884/mqtt?token=abc#x",
        "panel",
    );
    let b = storage_key("wss://broker.example:8884/mqtt?token=def", "panel");
    assert_eq!(a, "wss://broker.example:8884/mqtt#panel");
    assert_eq!(a, b);
    assert_ne!(a, storage_key("wss://broker.example:8884/mqtt", "other"));
    assert_ne!(a, storage_key("wss://broker.example:8885/mqtt", "panel"));
}
