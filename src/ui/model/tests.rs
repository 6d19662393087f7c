//! The reducer as the dashboard uses it: client events in, what the page shows out.

use std::time::Duration;

use super::*;
use crate::codec::ReasonCode;
use crate::proto::{Instant, Message, ServerInfo};

fn publish(topic: &str, payload: &str) -> Publish {
    Publish::new(topic, Bytes::copy_from_slice(payload.as_bytes()))
}

fn msg(d: &mut Dashboard, at: f64, topic: &str, payload: &str, subs: &[SubscriptionId]) -> Changed {
    d.apply(UiEvent::Message {
        at_ms: at,
        publish: publish(topic, payload),
        subscriptions: subs.to_vec(),
    })
}

fn subscribe(d: &mut Dashboard, filter: &str, id: u64, op: u64) {
    d.apply(UiEvent::Subscribe {
        filter: filter.into(),
        qos: QoS::AtLeastOnce,
        no_local: false,
        retain_as_published: false,
        retain_handling: 0,
        id: SubscriptionId(id),
        op: OpId(op),
    });
}

fn tick(d: &mut Dashboard, at: f64, messages_in: u64) -> Changed {
    let metrics = Metrics {
        messages_in,
        rtt: Some(Duration::from_micros(1500)),
        rtt_samples: 1,
        ..Default::default()
    };
    d.apply(UiEvent::Tick {
        at_ms: at,
        metrics,
        connected_for_ms: Some(at),
        next_attempt_in_ms: None,
    })
}

fn test_server_info() -> ServerInfo {
    ServerInfo {
        session_present: false,
        client_id: "c".into(),
        keep_alive: 20,
        receive_maximum: 10,
        maximum_qos: QoS::ExactlyOnce,
        retain_available: true,
        maximum_packet_size: None,
        topic_alias_maximum: 0,
        wildcard_subscription_available: true,
        subscription_identifier_available: true,
        shared_subscription_available: true,
        url: "ws://x".into(),
        properties: Default::default(),
    }
}

fn dashboard() -> Dashboard {
    Dashboard::new(Limits::default(), PresenceConfig::default())
}

#[test]
fn a_session_as_the_operator_sees_it() {
    let mut d = dashboard();
    d.apply(UiEvent::Connecting {
        at_ms: 0.0,
        url: "ws://127.0.0.1:9001/mqtt".into(),
        attempt: 0,
    });
    assert!(matches!(d.conn, ConnState::Connecting { attempt: 0, .. }));
    d.apply(UiEvent::Connected {
        at_ms: 1000.0,
        session_present: false,
    });
    subscribe(&mut d, "devices/#", 1, 10);
    subscribe(&mut d, "devices/+/status", 2, 11);
    assert_eq!(d.subs[0].state, SubState::Pending);
    d.apply(UiEvent::Subscribed {
        op: OpId(10),
        result: Ok(vec![Ok(QoS::AtMostOnce)]),
    });
    d.apply(UiEvent::Subscribed {
        op: OpId(11),
        result: Ok(vec![Err("NotAuthorized (0x87)".into())]),
    });
    assert_eq!(d.subs[0].state, SubState::Active(QoS::AtMostOnce));
    assert!(matches!(&d.subs[1].state, SubState::Failed(e) if e.contains("0x87")));
    assert!(d.notices.last().unwrap().text.contains("devices/+/status"));
    assert_ne!(d.subs[0].color, d.subs[1].color);

    tick(&mut d, 2000.0, 0);
    let c = msg(
        &mut d,
        2100.0,
        "devices/dev-1/status",
        "online",
        &[SubscriptionId(1)],
    );
    assert!(c.has(Changed::LOG | Changed::TREE | Changed::DEVICES | Changed::SUBS));
    for i in 0..9 {
        msg(
            &mut d,
            2200.0 + f64::from(i),
            "devices/dev-1/telemetry",
            "{\"temp\":20}",
            &[SubscriptionId(1)],
        );
    }
    tick(&mut d, 3000.0, 10);
    assert_eq!(d.subs[0].count, 10);
    assert_eq!(
        d.subs[0].last_payload.as_deref(),
        Some(&b"{\"temp\":20}"[..])
    );
    assert_eq!(d.subs[0].rate, 10.0);
    assert_eq!(d.health.rate_in, 10.0);
    assert_eq!(d.health.rtt_ms, Some(1.5));
    assert_eq!(d.health.history_in, [10.0]);
    assert_eq!(d.log.visible_len(), 10);
    assert_eq!(d.log.visible(0).unwrap().color, Some(d.subs[0].color));
    assert_eq!(
        d.devices
            .get("dev-1")
            .unwrap()
            .shown(3000.0, &d.devices.config),
        Shown::Online
    );
    assert_eq!(d.tree.total(), 10);

    // The link dies; the client will retry.
    d.apply(UiEvent::Disconnected {
        cause: Some("keep-alive timeout (dead link)".into()),
        at_ms: 4000.0,
        error: Some("keep-alive timeout".into()),
        retry_at_ms: Some(5200.0),
    });
    assert_eq!(
        d.conn,
        ConnState::Waiting {
            retry_at_ms: Some(5200.0)
        }
    );
    assert_eq!(d.last_error.as_deref(), Some("keep-alive timeout"));
    d.apply(UiEvent::Connecting {
        at_ms: 5200.0,
        url: "ws://127.0.0.1:9001/mqtt".into(),
        attempt: 1,
    });
    d.apply(UiEvent::Connected {
        at_ms: 5300.0,
        session_present: true,
    });
    assert_eq!(d.last_error, None);
    assert_eq!(d.connections, 2);

    // The user ends it.
    d.apply(UiEvent::Disconnected {
        cause: None,
        at_ms: 6000.0,
        error: None,
        retry_at_ms: None,
    });
    assert_eq!(d.conn, ConnState::Disconnected);

    // The connection's history in figures.
    let s = &d.conn_stats;
    assert_eq!((s.attempts, s.successes), (d.connections, d.connections));
    assert_eq!(
        s.causes(),
        [("keep-alive timeout (dead link)".to_string(), 1)]
    );
    assert_eq!(s.rtt().map(|r| (r.p50, r.samples)), Some((1.5, 1)));
}

#[test]
fn a_crashed_device_shows_offline_when_its_will_arrives() {
    let mut d = dashboard();
    msg(&mut d, 0.0, "devices/pump-2/status", "online", &[]);
    msg(
        &mut d,
        1000.0,
        "devices/pump-2/telemetry",
        "{\"temp\":3.5}",
        &[],
    );
    msg(&mut d, 2000.0, "devices/pump-2/status", "offline", &[]);
    let dev = d.devices.get("pump-2").unwrap();
    assert_eq!(dev.shown(2000.0, &d.devices.config), Shown::Offline);
    assert_eq!(dev.drops, 1);
    assert_eq!(d.devices.census(2000.0).offline, 1);
}

#[test]
fn publish_outcomes_reach_the_user_only_for_the_pages_own_publishes() {
    let mut d = dashboard();
    let p = build_publish("cmd/lamp", "on", 1, false, "text/plain", "a=1, b = 2").unwrap();
    assert_eq!(p.properties.user_properties.len(), 2);
    d.apply(UiEvent::Sent {
        at_ms: 1.0,
        publish: p,
        op: OpId(5),
    });
    let e = d.log.visible(0).unwrap();
    assert!(e.outgoing);
    assert_eq!(
        e.properties.as_deref(),
        Some("content-type: text/plain · a=1 · b=2")
    );
    // Sent messages are in the log but not in the tree (the tree is what the broker sent us).
    assert_eq!(d.tree.total(), 0);
    assert_eq!(
        d.apply(UiEvent::Published {
            op: OpId(99),
            error: Some("x".into())
        }),
        Changed::default()
    );
    d.apply(UiEvent::Published {
        op: OpId(5),
        error: Some("QoS 2 is not supported".into()),
    });
    assert!(d
        .notices
        .last()
        .unwrap()
        .text
        .contains("publish failed: QoS 2"));
    // Invalid input says what is wrong before anything is sent.
    assert!(build_publish("a/+/b", "", 0, false, "", "")
        .unwrap_err()
        .contains("a/+/b"));
    assert!(build_publish("a", "", 0, false, "", "novalue")
        .unwrap_err()
        .contains("name=value"));
}

#[test]
fn notices_are_bounded() {
    let mut d = dashboard();
    for i in 0..500 {
        d.apply(UiEvent::Notice {
            at_ms: f64::from(i),
            error: false,
            text: i.to_string(),
        });
    }
    assert_eq!(d.notices.len(), MAX_NOTICES);
    assert_eq!(d.notices.last().unwrap().text, "499");
}

#[test]
fn health_history_is_bounded() {
    let mut d = dashboard();
    for i in 0..1000u64 {
        tick(&mut d, i as f64 * 1000.0, i * 5);
    }
    assert_eq!(d.health.history_in.len(), HISTORY);
    assert_eq!(d.health.rate_in, 5.0);
}

#[test]
fn subscribing_again_replaces_and_the_list_is_bounded() {
    let mut d = Dashboard::new(
        Limits {
            subscriptions: 3,
            ..Limits::default()
        },
        PresenceConfig::default(),
    );
    subscribe(&mut d, "a", 1, 1);
    subscribe(&mut d, "a", 2, 2);
    assert_eq!(d.subs.len(), 1);
    subscribe(&mut d, "b", 3, 3);
    subscribe(&mut d, "c", 4, 4);
    assert!(!d.can_subscribe());
    d.apply(UiEvent::Unsubscribed { filter: "b".into() });
    assert!(d.can_subscribe());
    assert_eq!(
        d.subs.iter().map(|s| s.filter.as_str()).collect::<Vec<_>>(),
        ["a", "c"]
    );
}

#[test]
fn client_events_become_ui_events() {
    let wall = |i: Instant| 1_000_000.0 + i.as_micros() as f64 / 1000.0;
    let mut info = test_server_info();
    info.session_present = true;
    assert_eq!(
        UiEvent::from_event(Event::Connected(Box::new(info)), 5.0, wall),
        Some(UiEvent::Connected {
            at_ms: 5.0,
            session_present: true
        })
    );
    let lost = Event::Disconnected {
        error: Some(ClientError::KeepAliveTimeout(20)),
        reconnect_at: Some(Instant::from_micros(2_000_000)),
    };
    match UiEvent::from_event(lost, 5.0, wall) {
        Some(UiEvent::Disconnected {
            cause: Some(cause),
            error: Some(e),
            retry_at_ms: Some(at),
            ..
        }) => {
            assert!(!e.is_empty());
            assert_eq!(cause, "keep-alive timeout (dead link)");
            assert_eq!(at, 1_002_000.0);
        }
        other => panic!("{other:?}"),
    }
    let m = Message {
        publish: publish("t", "p"),
        subscriptions: vec![SubscriptionId(3)],
    };
    assert!(matches!(
        UiEvent::from_event(Event::Message(Box::new(m)), 1.0, wall),
        Some(UiEvent::Message { .. })
    ));
    let refused = Event::Subscribed {
        id: OpId(1),
        result: Ok(vec![Err(ReasonCode::NotAuthorized)]),
    };
    match UiEvent::from_event(refused, 1.0, wall) {
        Some(UiEvent::Subscribed { result: Ok(v), .. }) => {
            // The reason code's text carries its number once (it read "... (0x87) (0x87)").
            assert_eq!(v[0].as_ref().unwrap_err(), "Not authorized (0x87)")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_flood_stays_within_every_bound() {
    let limits = Limits {
        log_entries: 1000,
        log_bytes: 1 << 20,
        tree_nodes: 500,
        subscriptions: 10,
    };
    let presence = PresenceConfig {
        max_devices: 100,
        ..Default::default()
    };
    let mut d = Dashboard::new(limits, presence);
    for i in 0..20_000u32 {
        msg(
            &mut d,
            f64::from(i),
            &format!("devices/d{i}/telemetry"),
            "{\"temp\":1}",
            &[],
        );
    }
    assert_eq!(d.log.len(), 1000);
    assert!(d.tree.len() <= 500);
    assert_eq!(d.devices.all().len(), 100);
    assert!(d.tree.overflow() > 0 && d.devices.refused() > 0);
}

#[test]
fn other_presence_patterns_rebuild_the_board_from_what_was_seen() {
    let mut d = dashboard();
    msg(&mut d, 1.0, "site/north/pump-1/state", "online", &[]);
    msg(
        &mut d,
        2.0,
        "site/north/pump-1/metrics",
        "{\"pressure\": 2.5}",
        &[],
    );
    assert!(d.devices.all().is_empty());
    d.set_presence(PresenceConfig {
        status: "site/+/{id}/state".into(),
        telemetry: "site/+/{id}/metrics".into(),
        spark_field: "pressure".into(),
        ..PresenceConfig::default()
    });
    let dev = d.devices.get("pump-1").unwrap();
    assert_eq!(
        (dev.presence, dev.spark.as_slice()),
        (devices::Presence::Online, &[2.5f32][..])
    );
}

/// Whether `part` lies inside `buffer`'s memory (a slice that keeps all of it alive).
fn pins(part: &[u8], buffer: &Bytes) -> bool {
    let (p, b) = (part.as_ptr() as usize, buffer.as_ptr() as usize);
    !part.is_empty() && p >= b && p < b + buffer.len()
}

#[test]
fn what_the_dashboard_keeps_of_a_message_is_a_copy() {
    // Defect 3 of the reliability issue: the topic tree's payload prefix and each
    // subscription's last payload were slices of the receive buffer, so large messages on
    // distinct topics kept whole buffers alive and exhausted memory.
    let mut d = dashboard();
    subscribe(&mut d, "big/#", 1, 1);
    let frame = Bytes::from(vec![b'x'; 1 << 20]);
    let payload = frame.slice(10..100_000);
    d.apply(UiEvent::Message {
        at_ms: 1.0,
        publish: Publish::new("big/1", payload),
        subscriptions: vec![SubscriptionId(1)],
    });
    let last = d.subs[0].last_payload.clone().unwrap();
    assert!(
        !pins(&last, &frame),
        "a subscription's last payload pins the frame"
    );
    let entry = d.log.get(0).unwrap();
    assert!(!pins(&entry.payload, &frame), "the log pins the frame");
    let tree = &d.tree;
    let pinned = (0..10_000)
        .filter_map(|i| tree.node(i))
        .filter_map(|n| n.last.as_ref())
        .any(|l| pins(l, &frame));
    assert!(!pinned, "the topic tree pins the frame");
}

#[test]
fn ending_the_connection_settles_subscriptions_never_acknowledged() {
    // With a profile switch the old connection's late events are dropped (defect 15 of the
    // reliability issue), so the model itself settles what that connection left pending.
    let mut d = dashboard();
    subscribe(&mut d, "old/#", 1, 1);
    assert_eq!(d.subs[0].state, SubState::Pending);
    d.apply(UiEvent::Disconnected {
        cause: None,
        at_ms: 5.0,
        error: None,
        retry_at_ms: None,
    });
    assert!(matches!(d.subs[0].state, SubState::Failed(_)));
    // The next connection numbers its operations and subscriptions from 1 again: its answers
    // and messages are its own.
    subscribe(&mut d, "new/#", 1, 1);
    d.apply(UiEvent::Subscribed {
        op: OpId(1),
        result: Ok(vec![Ok(QoS::AtLeastOnce)]),
    });
    let new = d.subs.iter().find(|s| s.filter == "new/#").unwrap();
    assert_eq!(new.state, SubState::Active(QoS::AtLeastOnce));
    let old = d.subs.iter().find(|s| s.filter == "old/#").unwrap();
    assert!(matches!(old.state, SubState::Failed(_)));
    msg(&mut d, 6.0, "new/x", "1", &[SubscriptionId(1)]);
    let counts: Vec<(String, u64)> = d.subs.iter().map(|s| (s.filter.clone(), s.count)).collect();
    assert_eq!(counts, [("old/#".into(), 0), ("new/#".into(), 1)]);
}

#[test]
fn the_log_counts_what_it_shows_of_properties_in_its_byte_bound() {
    // Defect 15 of the reliability issue: the byte bound counted topics and payloads only, so
    // messages with large user properties went past it.
    use crate::ui::model::log::{LogEntry, MessageLog};
    let mut log = MessageLog::new(1000, 10_000);
    for i in 0..100 {
        log.push(LogEntry {
            seq: 0,
            at_ms: 0.0,
            topic: format!("t/{i}").into(),
            payload: Bytes::from_static(b"x"),
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            outgoing: false,
            color: None,
            properties: Some("p".repeat(1000)),
        });
    }
    assert!(log.bytes() <= 10_000, "{} bytes kept", log.bytes());
    assert!(log.len() < 100);
}

#[test]
fn what_a_device_sends_is_kept_within_bounds() {
    // Defect 15 of the reliability issue: field names, values and descriptions were kept
    // whole, so a device could grow the board's memory without bound.
    use crate::ui::model::devices::{MAX_FIELD_NAME, MAX_FIELD_VALUE, MAX_META};
    let mut d = dashboard();
    let big = "x".repeat(100_000);
    let telemetry = format!("{{\"{big}\": \"{big}\", \"t\": 21}}");
    msg(&mut d, 1.0, "devices/dev-1/telemetry", &telemetry, &[]);
    msg(
        &mut d,
        2.0,
        "devices/dev-1/meta",
        &format!("{{\"m\": \"{big}\", \"n\": \"{big}\"}}"),
        &[],
    );
    let dev = d.devices.get("dev-1").unwrap();
    for (name, value) in &dev.fields {
        assert!(
            name.chars().count() <= MAX_FIELD_NAME + 1,
            "{} chars",
            name.len()
        );
        assert!(
            value.chars().count() <= MAX_FIELD_VALUE + 1,
            "{} chars",
            value.len()
        );
    }
    assert!(dev.meta.as_ref().unwrap().chars().count() <= MAX_META + 1);
    assert!(dev.fields.iter().any(|(n, v)| n == "t" && v == "21"));
}

#[test]
fn a_very_deep_topic_does_not_overflow_the_stack() {
    // Defect 15 of the reliability issue: the topic tree looked a node's topic up
    // recursively, one frame per level; a topic of tens of thousands of levels (65,535 bytes
    // allow 32,768) overflowed the stack.
    let topic = vec!["a"; 30_000].join("/");
    let mut tree = crate::ui::model::TopicTree::new(100_000);
    tree.record(&topic, &Bytes::from_static(b"deep"), false, 1.0);
    let deepest = (0..40_000)
        .filter(|&i| tree.node(i).is_some())
        .max()
        .unwrap();
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || tree.topic_of(deepest))
        .unwrap();
    assert_eq!(handle.join().expect("stack overflow").len(), topic.len());
}

#[test]
fn shadows_read_with_another_convention_are_rebuilt_from_what_was_seen() {
    let mut d = dashboard();
    let c = msg(
        &mut d,
        1.0,
        "devices/a/shadow/reported",
        r#"{"version":2,"state":{"x":1}}"#,
        &[],
    );
    assert!(c.has(Changed::SHADOWS));
    msg(
        &mut d,
        2.0,
        "things/t1/state",
        r#"{"version":5,"state":{"fw":"2"}}"#,
        &[],
    );
    assert!(d.shadows.get("t1").is_none());
    let c = d.set_shadow_config(crate::ui::model::ShadowConfig {
        reported: "things/{id}/state".into(),
        ..Default::default()
    });
    assert!(c.has(Changed::SHADOWS));
    let t1 = d
        .shadows
        .get("t1")
        .expect("rebuilt from the tree's last values");
    assert_eq!(t1.reported.as_ref().unwrap().version, 5);
    assert!(
        d.shadows.get("a").is_none(),
        "the old convention's topics are not read any more"
    );
}

/// Found on the dev cluster's health view: "time connected 0.0%" after 12 s connected. The first
/// attempt was stamped with the reducer's clock before any event had set it (0), so the share
/// was taken over the whole epoch.
#[test]
fn the_share_of_time_connected_counts_from_the_first_attempt_on_the_wall_clock() {
    let mut d = dashboard();
    let t0 = 1_796_000_000_000.0; // a wall-clock instant, as the browser driver gives
    d.apply(UiEvent::Connecting {
        at_ms: t0,
        url: "ws://127.0.0.1:9001/mqtt".into(),
        attempt: 0,
    });
    d.apply(UiEvent::Connected {
        at_ms: t0 + 1000.0,
        session_present: false,
    });
    tick(&mut d, t0 + 11_000.0, 0);
    let share = d.conn_stats.connected_share(d.now_ms).unwrap();
    assert!(
        (share - 10.0 / 11.0).abs() < 1e-9,
        "connected 10 s of 11: {share}"
    );
}
