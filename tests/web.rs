//! Browser tests of the wasm build and of the driver (`web`): real headless Chromium and Firefox,
//! a real mosquitto on loopback (started by `cargo xtask test`, its WebSocket URL passed in
//! `WASMQTT_TEST_WS` at build time).
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen_test::*;
use wasmqtt::codec::{Decoder, Packet, ProtocolVersion, Publish, QoS, SubscriptionOptions};
use wasmqtt::proto::{Config, Event};
use wasmqtt::web::{Driver, Notice, Options, Persistence};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn codec_runs_in_the_browser() {
    let v = ProtocolVersion::V5;
    let mut p = Publish::new("devices/7/telemetry", &b"{\"t\":21.5}"[..]);
    p.qos = QoS::ExactlyOnce;
    p.packet_id = 9;
    p.properties.content_type = Some("application/json".into());
    let packet = Packet::Publish(p);
    let bytes = packet.to_bytes(v).unwrap();
    // Delivered one byte at a time, as the smallest WebSocket frames would.
    let mut d = Decoder::new(v);
    let mut got = Vec::new();
    for b in &bytes {
        d.push(std::slice::from_ref(b));
        while let Some(p) = d.decode().unwrap() {
            got.push(p);
        }
    }
    assert_eq!(got, vec![packet]);
}

#[allow(clippy::option_env_unwrap)] // a clear message when run outside `cargo xtask test`
fn broker() -> &'static str {
    option_env!("WASMQTT_TEST_WS")
        .expect("WASMQTT_TEST_WS: run through `cargo xtask test`, which starts mosquitto")
}

type Log = Rc<RefCell<Vec<Notice>>>;

fn driver(cfg: Config, persistence: Persistence, key: &str) -> (Driver, Log) {
    let log: Log = Rc::default();
    let sink = log.clone();
    let mut opts = Options::new(cfg);
    opts.persistence = persistence;
    opts.persistence_key = Some(key.into());
    let d = Driver::new(opts, move |_, notices| sink.borrow_mut().extend(notices));
    (d, log)
}

async fn until(log: &Log, what: &str, mut pred: impl FnMut(&Notice) -> bool) -> Notice {
    for _ in 0..200 {
        if let Some(n) = log.borrow().iter().find(|n| pred(n)) {
            return n.clone();
        }
        gloo_timers::future::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}: {:?}", log.borrow());
}

fn config(v: ProtocolVersion, id: &str) -> Config {
    let mut c = Config::new(broker());
    c.protocol = v;
    c.client_id = format!("{id}-{}", js_sys::Math::random());
    c
}

async fn round_trip(v: ProtocolVersion) {
    let (d, log) = driver(config(v, "web-rt"), Persistence::Volatile, "rt");
    d.start();
    until(&log, "CONNACK", |n| {
        matches!(n, Notice::Event(Event::Connected(_)))
    })
    .await;
    let opts = SubscriptionOptions {
        qos: QoS::ExactlyOnce,
        ..Default::default()
    };
    let (op, ids) = d
        .subscribe(vec![("web/#".into(), opts)], None, vec![])
        .unwrap();
    until(
        &log,
        "SUBACK",
        |n| matches!(n, Notice::Event(Event::Subscribed { id, result: Ok(_) }) if *id == op),
    )
    .await;
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let mut p = Publish::new(
            format!("web/{}", qos as u8),
            format!("payload {}", qos as u8),
        );
        p.qos = qos;
        let op = d.publish(p).unwrap();
        until(
            &log,
            "completion",
            |n| matches!(n, Notice::Event(Event::Published { id, result: Ok(_), .. }) if *id == op),
        )
        .await;
    }
    for qos in 0..3u8 {
        let topic = format!("web/{qos}");
        let n = until(
            &log,
            "the message",
            |n| matches!(n, Notice::Event(Event::Message(m)) if *m.publish.topic == *topic),
        )
        .await;
        let Notice::Event(Event::Message(m)) = n else {
            unreachable!()
        };
        assert_eq!(m.publish.qos as u8, qos);
        assert_eq!(&m.publish.payload[..], format!("payload {qos}").as_bytes());
        assert_eq!(m.subscriptions, ids);
    }
    d.disconnect(Default::default());
    until(&log, "the disconnect", |n| {
        matches!(n, Notice::Event(Event::Disconnected { error: None, .. }))
    })
    .await;
}

#[wasm_bindgen_test]
async fn driver_round_trips_qos_0_1_2_over_mqtt_311() {
    round_trip(ProtocolVersion::V3_1_1).await;
}

#[wasm_bindgen_test]
async fn driver_round_trips_qos_0_1_2_over_mqtt_5() {
    round_trip(ProtocolVersion::V5).await;
}

#[wasm_bindgen_test]
async fn deadlines_run_in_a_worker() {
    let (d, _) = driver(
        config(ProtocolVersion::V5, "worker"),
        Persistence::Volatile,
        "w",
    );
    // The timer is taken when the client starts (and released when it is ended).
    d.start();
    assert!(
        d.unthrottled_timer(),
        "a Blob-URL Worker timer could not be created"
    );
    d.disconnect(Default::default());
    gloo_timers::future::sleep(Duration::from_millis(200)).await;
    assert!(!d.unthrottled_timer(), "an ended client kept its Worker");
}

#[wasm_bindgen_test]
async fn an_unreachable_broker_is_retried_with_a_clear_error() {
    let mut cfg = Config::new("ws://127.0.0.1:9/mqtt");
    cfg.client_id = "nowhere".into();
    cfg.reconnect.initial_delay = Duration::from_millis(50);
    let (d, log) = driver(cfg, Persistence::Volatile, "n");
    d.start();
    let n = until(&log, "the failure", |n| {
        matches!(n, Notice::Event(Event::Disconnected { .. }))
    })
    .await;
    let Notice::Event(Event::Disconnected {
        error: Some(e),
        reconnect_at: Some(_),
    }) = n
    else {
        panic!("{n:?}")
    };
    assert!(e.to_string().contains("WebSocket"), "{e}");
    d.disconnect(Default::default());
}

#[wasm_bindgen_test]
async fn a_persistent_session_survives_a_new_driver() {
    // A broker that is not there: everything published stays in the outbox, which is saved to
    // IndexedDB and read back by the next driver (a page reload).
    let mut cfg = Config::new("ws://127.0.0.1:9/mqtt");
    cfg.client_id = "persisted".into();
    cfg.protocol = ProtocolVersion::V5;
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(600);
    let key = format!("persist-{}", js_sys::Math::random());
    let (d, _log) = driver(cfg.clone(), Persistence::IndexedDb, &key);
    d.start();
    gloo_timers::future::sleep(Duration::from_millis(200)).await;
    for i in 0..5 {
        let mut p = Publish::new("saved", format!("{i}"));
        p.qos = QoS::AtLeastOnce;
        d.publish(p).unwrap();
    }
    gloo_timers::future::sleep(Duration::from_millis(500)).await;
    d.disconnect(wasmqtt::proto::DisconnectOptions {
        force: true,
        ..Default::default()
    });
    drop(d);
    let (d2, _log2) = driver(cfg, Persistence::IndexedDb, &key);
    d2.start();
    for _ in 0..100 {
        if d2.metrics().outbox_messages == 5 {
            break;
        }
        gloo_timers::future::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(d2.metrics().outbox_messages, 5);
    d2.clear_stored_session();
    d2.disconnect(Default::default());
}

fn persistent_cfg(id: &str) -> Config {
    let mut cfg = Config::new("ws://127.0.0.1:9/mqtt");
    cfg.client_id = id.into();
    cfg.protocol = ProtocolVersion::V5;
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(600);
    cfg
}

async fn publish_offline(d: &Driver, n: usize) {
    for i in 0..n {
        let mut p = Publish::new("saved", format!("{i}"));
        p.qos = QoS::AtLeastOnce;
        d.publish(p).unwrap();
    }
    gloo_timers::future::sleep(Duration::from_millis(400)).await;
}

#[wasm_bindgen_test]
async fn starting_twice_while_the_session_loads_imports_it_once() {
    // Defect 5 of the reliability issue: a second start while IndexedDB was read loaded the
    // session again (QoS 2 duplicated, or a live session replaced).
    let cfg = persistent_cfg("twice");
    let key = format!("twice-{}", js_sys::Math::random());
    let (d, _log) = driver(cfg.clone(), Persistence::IndexedDb, &key);
    d.start();
    gloo_timers::future::sleep(Duration::from_millis(200)).await;
    publish_offline(&d, 3).await;
    d.disconnect(wasmqtt::proto::DisconnectOptions {
        force: true,
        ..Default::default()
    });
    drop(d);
    let (d2, log2) = driver(cfg, Persistence::IndexedDb, &key);
    d2.start();
    d2.start();
    d2.reconnect();
    gloo_timers::future::sleep(Duration::from_millis(600)).await;
    assert_eq!(d2.metrics().outbox_messages, 3);
    let problems: Vec<String> = log2
        .borrow()
        .iter()
        .filter_map(|n| match n {
            Notice::Persistence(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    d2.clear_stored_session();
    d2.disconnect(Default::default());
}

#[wasm_bindgen_test]
async fn a_cleared_session_stays_cleared() {
    // Defect 13 of the reliability issue: clearStoredSession was undone by the next save.
    let cfg = persistent_cfg("cleared");
    let key = format!("cleared-{}", js_sys::Math::random());
    let (d, _log) = driver(cfg.clone(), Persistence::IndexedDb, &key);
    d.start();
    gloo_timers::future::sleep(Duration::from_millis(200)).await;
    publish_offline(&d, 2).await;
    // Ended, then cleared in the same task: the end's own save must not bring it back.
    d.disconnect(wasmqtt::proto::DisconnectOptions {
        force: true,
        ..Default::default()
    });
    d.clear_stored_session();
    gloo_timers::future::sleep(Duration::from_millis(400)).await;
    drop(d);
    let (d2, _log2) = driver(cfg, Persistence::IndexedDb, &key);
    d2.start();
    gloo_timers::future::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        d2.metrics().outbox_messages,
        0,
        "the cleared session came back"
    );
    d2.disconnect(Default::default());
}
