//! DOM tests of the dashboard's components in real headless browsers. Most feed the model
//! synthetic events (deterministic); the last connects a provider to the mosquitto started by
//! `cargo xtask test` (`WASMQTT_TEST_WS`).
#![cfg(all(target_arch = "wasm32", feature = "ui"))]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use wasmqtt::codec::QoS;
use wasmqtt::proto::{OpId, SubscriptionId};
use wasmqtt::ui::model::UiEvent;
use wasmqtt::ui::*;

wasm_bindgen_test_configure!(run_in_browser);

mod ui_common;
use ui_common::*;

#[wasm_bindgen_test]
async fn the_log_draws_only_what_is_in_view_even_with_100000_messages() {
    let (el, mqtt, _h) = mount(|| view! { <MessageLog/> }.into_any());
    for i in 0..100_000u32 {
        mqtt.apply(message(
            &format!("devices/d{}/telemetry", i % 500),
            format!("{{\"n\":{i}}}").as_bytes(),
            None,
        ));
    }
    frames().await;
    let rows = all(&el, "[data-testid=log-row]");
    assert!(
        !rows.is_empty() && rows.len() < 80,
        "{} rows in the DOM",
        rows.len()
    );
    // Newest first.
    assert_eq!(
        text(&el, "[data-testid=log-row] [data-testid=log-payload]"),
        "{\"n\":99999}"
    );
    assert!(el.text_content().unwrap().contains("100000 kept"));
    // Filtering by an MQTT filter.
    let input: web_sys::HtmlInputElement = el
        .query_selector("[data-testid=log-filter]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_value("devices/d7/+");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    frames().await;
    let topics: Vec<String> = all(&el, "[data-testid=log-topic]")
        .iter()
        .map(|e| e.text_content().unwrap())
        .collect();
    assert!(
        !topics.is_empty() && topics.iter().all(|t| t == "devices/d7/telemetry"),
        "{topics:?}"
    );
}

#[wasm_bindgen_test]
async fn payloads_and_topics_are_text_never_html() {
    let (el, mqtt, _h) = mount(|| view! { <MessageLog/> <TopicTree/> }.into_any());
    let xss = "<img src=x onerror=alert(1)>";
    mqtt.apply(message("<b>bold</b>/x", xss.as_bytes(), None));
    frames().await;
    assert_eq!(text(&el, "[data-testid=log-payload]"), xss);
    assert_eq!(text(&el, "[data-testid=log-topic]"), "<b>bold</b>/x");
    // Open the detail pane, where the payload is shown in full.
    let row: web_sys::HtmlElement = el
        .query_selector("[data-testid=log-row]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    row.click();
    frames().await;
    assert_eq!(text(&el, "[data-testid=log-detail-payload]"), xss);
    assert!(
        all(&el, "img").is_empty(),
        "markup from a payload was interpreted"
    );
    assert!(
        all(&el, "b").is_empty(),
        "markup from a topic was interpreted"
    );
}

#[wasm_bindgen_test]
async fn the_device_board_shows_births_wills_and_counts() {
    let (el, mqtt, _h) = mount(|| view! { <DeviceGrid/> }.into_any());
    for id in ["dev-1", "dev-2", "dev-3"] {
        mqtt.apply(message(&format!("devices/{id}/status"), b"online", None));
        mqtt.apply(message(
            &format!("devices/{id}/telemetry"),
            b"{\"temp\": 21.5, \"rssi\": -60}",
            None,
        ));
    }
    mqtt.apply(message("devices/dev-2/status", b"offline", None));
    frames().await;
    let state = |id: &str| {
        el.query_selector(&format!("[data-device='{id}']"))
            .unwrap()
            .map(|e| e.get_attribute("data-state").unwrap_or_default())
    };
    assert_eq!(state("dev-1").as_deref(), Some("online"));
    assert_eq!(state("dev-2").as_deref(), Some("offline"));
    assert_eq!(text(&el, "[data-testid=census-online]"), "2");
    assert_eq!(text(&el, "[data-testid=census-offline]"), "1");
    assert!(text(&el, "[data-device='dev-1']").contains("temp 21.5"));
    // Search.
    let input: web_sys::HtmlInputElement = el
        .query_selector("[data-testid=device-search]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_value("dev-3");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    frames().await;
    assert_eq!(all(&el, "[data-testid=device-row]").len(), 1);
}

#[wasm_bindgen_test]
async fn ten_thousand_devices_keep_the_dom_small() {
    let (el, mqtt, _h) = mount(|| view! { <DeviceGrid/> }.into_any());
    for i in 0..10_000 {
        mqtt.apply(message(&format!("devices/d{i:05}/status"), b"online", None));
    }
    frames().await;
    let rows = all(&el, "[data-testid=device-row]");
    assert!(!rows.is_empty() && rows.len() < 60, "{} rows", rows.len());
    assert!(text(&el, "[data-testid=census]").contains("10000"));
}

#[wasm_bindgen_test]
async fn a_list_follows_its_own_height_not_only_window_resizes() {
    // A list's box changes size without the window resizing when a panel opens or the page's
    // layout moves: it must draw rows for its new height, not keep the one measured at mount.
    // The dashboard's stylesheet and its tab panel bound the list by its container, as on the
    // page.
    let style = document().create_element("style").unwrap();
    style.set_text_content(Some(include_str!("../style/main.css")));
    document().head().unwrap().append_child(&style).unwrap();
    let (el, mqtt, _h) = mount(|| view! { <MessageLog/> }.into_any());
    el.set_class_name("tabpanel");
    for i in 0..1_000u32 {
        mqtt.apply(message(
            "devices/d1/telemetry",
            format!("{i}").as_bytes(),
            None,
        ));
    }
    frames().await;
    let tall = all(&el, "[data-testid=log-row]").len();
    el.style().set_property("height", "300px").unwrap();
    frames().await;
    let short = all(&el, "[data-testid=log-row]").len();
    el.style().set_property("height", "700px").unwrap();
    frames().await;
    let again = all(&el, "[data-testid=log-row]").len();
    style.remove();
    assert!(
        short < tall,
        "{tall} rows at 700 px, {short} rows at 300 px: the list kept its old height"
    );
    assert_eq!(again, tall, "back at 700 px");
}

/// A broker nothing listens on (a refused loopback port): the client exists, and retries,
/// without any broker.
fn unreachable_broker() -> Settings {
    Settings {
        url: "ws://127.0.0.1:1/".into(),
        subscriptions: vec![],
        ..Settings::default()
    }
}

/// Counts how often it is built.
#[component]
fn Built(n: Arc<AtomicU32>, id: &'static str) -> impl IntoView {
    n.fetch_add(1, Ordering::Relaxed);
    view! { <p data-testid=id>{id}</p> }
}

#[wasm_bindgen_test]
async fn later_parts_come_after_their_frames_in_order_and_once() {
    let el = container();
    let built = Arc::new(AtomicU32::new(0));
    let b = built.clone();
    let _h = leptos::mount::mount_to(el.clone(), move || {
        let (b1, b2) = (b.clone(), b.clone());
        view! {
            <Built n=b.clone() id="now"/>
            <Later frame=1><Built n=b1.clone() id="one"/></Later>
            <Later frame=3><Built n=b2.clone() id="three"/></Later>
        }
    });
    let seen = |id: &str| !all(&el, &format!("[data-testid={id}]")).is_empty();
    assert!(
        seen("now") && !seen("one") && !seen("three"),
        "only the first part at mount"
    );
    // One frame (and the task after it) later: the first deferred part, not yet the third.
    let mut one_first = false;
    for _ in 0..100 {
        gloo_timers::future::sleep(Duration::from_millis(2)).await;
        if seen("one") {
            one_first = !seen("three");
            break;
        }
    }
    assert!(one_first, "the frame-1 part comes before the frame-3 part");
    frames().await;
    frames().await;
    assert!(seen("one") && seen("three"));
    assert_eq!(built.load(Ordering::Relaxed), 3, "each part built once");
}

#[wasm_bindgen_test]
async fn a_later_part_removed_before_its_frame_is_never_built() {
    let el = container();
    let built = Arc::new(AtomicU32::new(0));
    let b = built.clone();
    let handle = leptos::mount::mount_to(el.clone(), move || {
        view! { <Later frame=2><Built n=b.clone() id="gone"/></Later> }
    });
    drop(handle);
    frames().await;
    frames().await;
    assert_eq!(built.load(Ordering::Relaxed), 0);
    assert!(all(&el, "[data-testid=gone]").is_empty());
}

#[wasm_bindgen_test]
async fn a_provider_connects_after_its_first_frame_unless_told_otherwise_first() {
    let settings = unreachable_broker;
    let el = container();
    // A component that subscribes as it mounts, before the connection exists.
    let _h = leptos::mount::mount_to(el.clone(), move || {
        view! { <MqttProvider settings=settings()><Grab/><Latest filter="early/#".into()/></MqttProvider> }
    });
    let mqtt = HANDLE.with(|h| h.borrow_mut().take()).unwrap();
    assert!(!mqtt.has_client(), "not in the task that mounts the page");
    frames().await;
    frames().await;
    assert!(mqtt.has_client(), "connected one frame later");
    // Its subscription is sent with the connection, not refused for coming first.
    let (filters, notices) = mqtt
        .with(|m| {
            (
                m.subs.iter().map(|s| s.filter.clone()).collect::<Vec<_>>(),
                m.notices.iter().map(|n| n.text.clone()).collect::<Vec<_>>(),
            )
        })
        .unwrap();
    assert_eq!(filters, ["early/#"], "{notices:?}");
    assert!(
        notices.iter().all(|n| !n.contains("subscribe")),
        "{notices:?}"
    );

    // A disconnect before that frame wins: the provider stays unconnected.
    let el = container();
    let _h2 = leptos::mount::mount_to(el.clone(), move || {
        view! { <MqttProvider settings=settings()><Grab/></MqttProvider> }
    });
    let mqtt = HANDLE.with(|h| h.borrow_mut().take()).unwrap();
    mqtt.disconnect();
    frames().await;
    frames().await;
    assert!(!mqtt.has_client());
}

#[wasm_bindgen_test]
async fn the_view_follows_the_address_back_and_forward() {
    let window = web_sys::window().unwrap();
    window.location().set_hash("devices").unwrap();
    let el = container();
    let _h = leptos::mount::mount_to(el.clone(), || view! { <Dashboard/> });
    let selected = |el: &web_sys::HtmlElement| {
        all(el, "[role=tab][aria-selected=true]")
            .iter()
            .map(|t| t.id())
            .collect::<Vec<_>>()
    };
    let settle = || gloo_timers::future::sleep(Duration::from_millis(250));
    settle().await;
    assert_eq!(selected(&el), ["tab-devices"]);
    // A link or a typed address changes the fragment: the view follows.
    window.location().set_hash("topics").unwrap();
    settle().await;
    assert_eq!(selected(&el), ["tab-topics"]);
    assert_eq!(
        all(&el, ".tabpanel section.tree").len(),
        1,
        "the topic tree is shown"
    );
    // Back and forward move between the views.
    window.history().unwrap().back().unwrap();
    settle().await;
    assert_eq!(selected(&el), ["tab-devices"]);
    window.history().unwrap().forward().unwrap();
    settle().await;
    assert_eq!(selected(&el), ["tab-topics"]);
    // A fragment that names no view leaves the view as it is.
    window.location().set_hash("nothing-here").unwrap();
    settle().await;
    assert_eq!(selected(&el), ["tab-topics"]);
}

#[wasm_bindgen_test]
async fn components_share_a_subscription_until_the_last_one_goes() {
    // Subscriptions are kept (pending) without a broker.
    let settings = unreachable_broker();
    let (a, b, c) = (
        RwSignal::new(true),
        RwSignal::new(true),
        RwSignal::new(false),
    );
    let el = container();
    let _h = leptos::mount::mount_to(el.clone(), move || {
        view! {
            <MqttProvider settings=settings.clone()>
                <Grab/>
                {move || a.get().then(|| view! { <Latest filter="shared/#".into()/> })}
                {move || b.get().then(|| view! { <Latest filter="shared/#".into()/> })}
                {move || c.get().then(|| view! { <Latest filter="mine/#".into()/> })}
            </MqttProvider>
        }
    });
    let mqtt = HANDLE.with(|h| h.borrow_mut().take()).unwrap();
    let filters = || {
        mqtt.with(|m| m.subs.iter().map(|s| s.filter.clone()).collect::<Vec<_>>())
            .unwrap()
    };
    frames().await;
    frames().await;
    assert_eq!(filters(), ["shared/#"], "one subscription for two users");
    a.set(false);
    frames().await;
    assert_eq!(filters(), ["shared/#"], "the other component still uses it");
    a.set(true);
    b.set(false);
    frames().await;
    assert_eq!(filters(), ["shared/#"]);
    a.set(false);
    frames().await;
    assert!(filters().is_empty(), "the last user gone: unsubscribed");
    a.set(true);
    frames().await;
    assert_eq!(filters(), ["shared/#"], "a new user subscribes again");

    // A filter the user subscribed (the form) is theirs: a component using it and going away
    // leaves it.
    mqtt.subscribe("mine/#", 1, false, false, 0);
    c.set(true);
    frames().await;
    c.set(false);
    frames().await;
    assert_eq!(filters(), ["shared/#", "mine/#"]);
}

#[wasm_bindgen_test]
async fn a_profile_switch_subscribes_again_what_components_use() {
    let settings = unreachable_broker();
    let el = container();
    let _h = leptos::mount::mount_to(el.clone(), move || {
        view! {
            <MqttProvider settings=settings.clone()>
                <Grab/>
                <Latest filter="plant/#".into()/>
            </MqttProvider>
        }
    });
    let mqtt = HANDLE.with(|h| h.borrow_mut().take()).unwrap();
    frames().await;
    frames().await;
    // Another profile: the old connection's subscriptions end with it; the component still
    // wants its filter, so the new connection subscribes it.
    mqtt.connect(Settings {
        url: "ws://127.0.0.1:2/".into(),
        subscriptions: vec![("other/#".into(), 0)],
        ..Settings::default()
    });
    frames().await;
    let state = |f: &str| {
        mqtt.with(|m| {
            m.subs
                .iter()
                .find(|s| s.filter == f)
                .map(|s| s.state.clone())
        })
        .flatten()
    };
    assert_eq!(
        state("plant/#"),
        Some(wasmqtt::ui::model::SubState::Pending),
        "still wanted by a component"
    );
    assert_eq!(
        state("other/#"),
        Some(wasmqtt::ui::model::SubState::Pending)
    );
}

#[wasm_bindgen_test]
async fn subscriptions_show_their_state_and_counts() {
    let (el, mqtt, _h) = mount(|| view! { <SubscriptionList/> }.into_any());
    mqtt.apply(UiEvent::Subscribe {
        filter: "devices/#".into(),
        qos: QoS::AtLeastOnce,
        no_local: false,
        retain_as_published: false,
        retain_handling: 0,
        id: SubscriptionId(1),
        op: OpId(1),
    });
    mqtt.apply(UiEvent::Subscribed {
        op: OpId(1),
        result: Ok(vec![Ok(QoS::AtLeastOnce)]),
    });
    for _ in 0..3 {
        mqtt.apply(message("devices/a/status", b"online", Some(1)));
    }
    frames().await;
    let row = el.query_selector("[data-testid=sub-row]").unwrap().unwrap();
    let t = row.text_content().unwrap();
    assert!(
        t.contains("devices/#") && t.contains("active") && t.contains("3 msgs"),
        "{t}"
    );
}

#[wasm_bindgen_test]
async fn the_topic_tree_expands_and_collapses() {
    let (el, mqtt, _h) = mount(|| view! { <TopicTree/> }.into_any());
    mqtt.apply(message("devices/a/status", b"online", None));
    mqtt.apply(message("devices/b/status", b"online", None));
    frames().await;
    assert_eq!(all(&el, "[data-testid=tree-row]").len(), 1);
    let twisty: web_sys::HtmlElement = el
        .query_selector("[data-testid=tree-row] .twisty")
        .unwrap()
        .unwrap()
        .unchecked_into();
    twisty.click();
    frames().await;
    let names: Vec<String> = all(&el, "[data-testid=tree-row] .tree-name")
        .iter()
        .map(|e| e.text_content().unwrap())
        .collect();
    assert_eq!(names, ["devices", "a", "b"]);
}

#[wasm_bindgen_test]
async fn the_status_says_when_it_will_retry_and_why() {
    let (el, mqtt, _h) = mount(|| view! { <ConnectionStatus/> }.into_any());
    mqtt.apply(UiEvent::Disconnected {
        cause: None,
        at_ms: js_sys::Date::now(),
        error: Some("the server did not answer PINGREQ within 15 s (keep-alive)".into()),
        retry_at_ms: Some(js_sys::Date::now() + 4000.0),
    });
    frames().await;
    assert!(text(&el, "[data-testid=conn-state]").starts_with("reconnecting in"));
    assert!(text(&el, "[data-testid=conn-error]").contains("PINGREQ"));
}

/// An embedder's component: the last message of one filter, through `use_subscription`.
#[component]
fn Latest(filter: String) -> impl IntoView {
    let sub = use_subscription(filter, 1);
    view! {
        <p data-testid="latest">
            {move || sub.with(|s| format!("{} {} {}", s.active, s.count,
                s.last_payload.as_ref().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default()))}
        </p>
    }
}

#[wasm_bindgen_test]
#[allow(clippy::option_env_unwrap)] // a clear message when run outside `cargo xtask test`
async fn a_provider_connects_subscribes_and_publishes_through_a_real_broker() {
    let url =
        option_env!("WASMQTT_TEST_WS").expect("WASMQTT_TEST_WS: run through `cargo xtask test`");
    let el = container();
    let topic = format!("ui-test/{}", (js_sys::Math::random() * 1e9) as u64);
    // The provider subscribes to nothing itself: the embedder's component does.
    let settings = Settings {
        url: url.into(),
        subscriptions: vec![],
        ..Settings::default()
    };
    let filter = format!("{topic}/#");
    let _h = leptos::mount::mount_to(el.clone(), move || {
        view! {
            <MqttProvider settings=settings.clone()>
                <Grab/><ConnectionStatus/><Latest filter=filter.clone()/><MessageLog/>
            </MqttProvider>
        }
    });
    let mqtt = HANDLE.with(|h| h.borrow_mut().take()).unwrap();
    for _ in 0..200 {
        if text(&el, "[data-testid=conn-state]") == "connected"
            && mqtt
                .with(|m| {
                    m.subs
                        .iter()
                        .all(|s| matches!(s.state, wasmqtt::ui::model::SubState::Active(_)))
                })
                .unwrap_or(false)
        {
            break;
        }
        gloo_timers::future::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(text(&el, "[data-testid=conn-state]"), "connected");
    mqtt.publish(&format!("{topic}/hello"), "<i>hi</i>", 1, false, "", "")
        .unwrap();
    for _ in 0..200 {
        if mqtt.with(|m| m.log.len()).unwrap_or(0) >= 2 {
            break;
        }
        gloo_timers::future::sleep(Duration::from_millis(25)).await;
    }
    frames().await;
    // One row for what was sent, one for what came back through the subscription.
    let payloads: Vec<String> = all(&el, "[data-testid=log-payload]")
        .iter()
        .map(|e| e.text_content().unwrap())
        .collect();
    assert_eq!(payloads, ["<i>hi</i>", "<i>hi</i>"]);
    assert_eq!(
        text(&el, "[data-testid=latest]"),
        "true 1 <i>hi</i>",
        "{}",
        el.inner_html().chars().take(600).collect::<String>()
    );
    assert!(all(&el, "i").is_empty());
    mqtt.disconnect();
}

#[wasm_bindgen_test]
#[allow(clippy::option_env_unwrap)]
async fn after_a_profile_switch_the_old_connection_changes_nothing() {
    // Defect 15 of the reliability issue: the old driver kept feeding the shared model, and
    // both numbered their operations from 1, so the old one's cancelled subscribe marked the
    // new one failed.
    let url =
        option_env!("WASMQTT_TEST_WS").expect("WASMQTT_TEST_WS: run through `cargo xtask test`");
    let el = container();
    let first = Settings {
        url: "ws://127.0.0.1:9/mqtt".into(),
        subscriptions: vec![("old/#".into(), 1)],
        ..Settings::default()
    };
    let _h = leptos::mount::mount_to(el.clone(), move || {
        view! { <MqttProvider settings=first.clone()><Grab/><ConnectionStatus/></MqttProvider> }
    });
    let mqtt = HANDLE.with(|h| h.borrow_mut().take()).unwrap();
    gloo_timers::future::sleep(Duration::from_millis(100)).await;
    mqtt.connect(Settings {
        url: url.into(),
        subscriptions: vec![("new/#".into(), 1)],
        ..Settings::default()
    });
    let state = || {
        mqtt.with(|m| {
            m.subs
                .iter()
                .find(|s| s.filter == "new/#")
                .map(|s| s.state.clone())
        })
        .flatten()
    };
    for _ in 0..200 {
        if matches!(state(), Some(wasmqtt::ui::model::SubState::Active(_))) {
            break;
        }
        gloo_timers::future::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        matches!(state(), Some(wasmqtt::ui::model::SubState::Active(_))),
        "{:?} {:?}",
        state(),
        mqtt.with(|m| (
            format!("{:?}", m.conn),
            m.subs
                .iter()
                .map(|s| (s.filter.clone(), s.state.clone()))
                .collect::<Vec<_>>(),
            m.notices.iter().map(|n| n.text.clone()).collect::<Vec<_>>()
        ))
    );
    mqtt.disconnect();
}

#[wasm_bindgen_test]
#[allow(clippy::option_env_unwrap)]
async fn a_failover_list_reaches_the_broker_that_answers() {
    let url =
        option_env!("WASMQTT_TEST_WS").expect("WASMQTT_TEST_WS: run through `cargo xtask test`");
    let el = container();
    // A dead node first (nothing listens on port 1), then the live one: as a cluster whose first
    // node is down.
    let settings = Settings {
        url: format!("ws://127.0.0.1:1/mqtt, {url}"),
        subscriptions: vec![],
        ..Settings::default()
    };
    let _h = leptos::mount::mount_to(el.clone(), move || {
        view! {
            <MqttProvider settings=settings.clone()>
                <Grab/><ConnectionStatus/><ConnectionHistory/>
            </MqttProvider>
        }
    });
    let mqtt = HANDLE.with(|h| h.borrow_mut().take()).unwrap();
    for _ in 0..300 {
        if text(&el, "[data-testid=conn-state]") == "connected" {
            break;
        }
        gloo_timers::future::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(text(&el, "[data-testid=conn-state]"), "connected");
    frames().await;
    let s = mqtt.with(|m| m.conn_stats.clone()).unwrap();
    assert_eq!(s.urls().1, Some(url), "connected through the second URL");
    assert_eq!(
        text(&el, "[data-testid=conn-url]"),
        url,
        "the header names the node in use, not the list"
    );
    assert!(
        s.attempts >= 2,
        "the dead node was tried first: {} attempts",
        s.attempts
    );
    assert_eq!(s.successes, 1);
    mqtt.disconnect();
}
