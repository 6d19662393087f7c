//! DOM tests of the operator's components (`<DeviceShadow>`, `<Rollouts>`, `<FleetStats>`, ...)
//! in real headless browsers, fed synthetic messages (deterministic; the fleet end to end is
//! tests/js/shadows.test.mjs).
#![cfg(all(target_arch = "wasm32", feature = "ui"))]

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use wasmqtt::ui::model::json::Json;
use wasmqtt::ui::model::Changed;
use wasmqtt::ui::*;

wasm_bindgen_test_configure!(run_in_browser);

mod ui_common;
use ui_common::*;

fn reported(mqtt: &Mqtt, id: &str, version: u64, state: &str) {
    let doc = format!("{{\"version\":{version},\"state\":{state}}}");
    mqtt.apply(message(
        &format!("devices/{id}/shadow/reported"),
        doc.as_bytes(),
        None,
    ));
}

fn attr(el: &web_sys::Element, selector: &str, name: &str) -> String {
    el.query_selector(selector)
        .unwrap()
        .and_then(|e| e.get_attribute(name))
        .unwrap_or_default()
}

fn type_into(el: &web_sys::Element, selector: &str, value: &str) {
    let input = el.query_selector(selector).unwrap().expect(selector);
    if let Some(t) = input.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        t.set_value(value);
    } else {
        input
            .unchecked_ref::<web_sys::HtmlInputElement>()
            .set_value(value);
    }
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

fn click(el: &web_sys::Element, selector: &str) {
    el.query_selector(selector)
        .unwrap()
        .expect(selector)
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
}

#[wasm_bindgen_test]
async fn the_panel_shows_reported_desired_and_delta_and_never_goes_back() {
    let (el, mqtt, _h) = mount(|| view! { <DeviceShadow id="d1"/> }.into_any());
    frames().await;
    assert_eq!(attr(&el, "[data-testid=shadow-sync]", "data-sync"), "none");
    reported(&mqtt, "d1", 2, r#"{"firmware":"1.3.0","setpoint":20}"#);
    mqtt.apply(message(
        "devices/d1/shadow/desired",
        br#"{"version":1,"state":{"firmware":"1.4.0","setpoint":20.0}}"#,
        None,
    ));
    frames().await;
    assert!(text(&el, "[data-testid=shadow-reported-version]").contains("v2"));
    assert!(text(&el, "[data-testid=shadow-desired-version]").contains("v1"));
    assert_eq!(
        text(&el, "[data-testid=shadow-delta]"),
        "{\n  \"firmware\": \"1.4.0\"\n}",
        "20 and 20.0 are the same setpoint"
    );
    assert_eq!(
        attr(&el, "[data-testid=shadow-sync]", "data-sync"),
        "pending"
    );
    // A report older than the one shown changes nothing shown.
    reported(&mqtt, "d1", 1, r#"{"firmware":"1.0.0","setpoint":5}"#);
    frames().await;
    assert!(text(&el, "[data-testid=shadow-reported-version]").contains("v2"));
    assert!(text(&el, "[data-testid=shadow-reported]").contains("1.3.0"));
    assert!(text(&el, "[data-testid=shadow-counts]").contains("1 stale ignored"));
    // Accepted, upgrading, upgraded.
    mqtt.apply(message(
        "devices/d1/shadow/accepted",
        br#"{"version":1}"#,
        None,
    ));
    reported(
        &mqtt,
        "d1",
        3,
        r#"{"firmware":"1.3.0","setpoint":20,"ota":{"state":"downloading","progress":40}}"#,
    );
    frames().await;
    assert_eq!(
        attr(&el, "[data-testid=shadow-sync]", "data-sync"),
        "upgrading"
    );
    assert_eq!(text(&el, "[data-testid=shadow-sync]"), "upgrading 40%");
    reported(
        &mqtt,
        "d1",
        4,
        r#"{"firmware":"1.4.0","setpoint":20,"ota":{"state":"done"}}"#,
    );
    frames().await;
    assert_eq!(
        attr(&el, "[data-testid=shadow-sync]", "data-sync"),
        "in-sync"
    );
    assert_eq!(text(&el, "[data-testid=shadow-delta]"), "none");
    let history = text(&el, "[data-testid=shadow-history]");
    for line in [
        "reported v4: firmware, ota",
        "accepted desired v1",
        "ignored reported v1: older than v2",
        "desired v1 set elsewhere: firmware, setpoint",
    ] {
        assert!(history.contains(line), "{line:?} not in {history:?}");
    }
}

#[wasm_bindgen_test]
async fn the_desired_editor_says_what_is_wrong_and_errors_are_shown() {
    let (el, mqtt, _h) = mount(|| view! { <DeviceShadow id="d2"/> }.into_any());
    reported(&mqtt, "d2", 1, r#"{"setpoint":20}"#);
    frames().await;
    let button = || {
        el.query_selector("[data-testid=set-desired]")
            .unwrap()
            .unwrap()
            .has_attribute("disabled")
    };
    type_into(&el, "[data-testid=desired-editor]", "{\"setpoint\": ");
    frames().await;
    assert!(text(&el, "[data-testid=desired-status]").starts_with("not valid JSON"));
    assert!(button(), "what is not JSON cannot be sent");
    type_into(&el, "[data-testid=desired-editor]", "\"22\"");
    frames().await;
    assert!(text(&el, "[data-testid=desired-status]").contains("must be a JSON object"));
    type_into(&el, "[data-testid=desired-editor]", "{\"setpoint\": 22}");
    frames().await;
    assert!(!button());
    assert_eq!(text(&el, "[data-testid=desired-status]"), "");
    // Without a connection the page says so, and nothing is held as desired.
    click(&el, "[data-testid=set-desired]");
    frames().await;
    assert_eq!(
        text(&el, "[data-testid=desired-status]"),
        "not connected: connect first"
    );
    assert!(text(&el, "[data-testid=shadow-desired]").contains("none yet"));
}

#[wasm_bindgen_test]
async fn a_rollout_is_shown_converging() {
    let (el, mqtt, _h) = mount(|| view! { <Rollouts/> }.into_any());
    let ids: Vec<String> = (1..=4).map(|i| format!("r{i}")).collect();
    for id in &ids {
        mqtt.apply(message(&format!("devices/{id}/status"), b"online", None));
        reported(&mqtt, id, 1, r#"{"firmware":"1.3.0"}"#);
    }
    frames().await;
    assert_eq!(
        text(&el, "[data-testid=rollout-start]"),
        "Set on 10% of 4 devices"
    );
    // Started as the provider would (a rollout needs a connection to publish).
    let patch = match wasmqtt::ui::model::json::parse(r#"{"firmware":"1.4.0"}"#) {
        Some(Json::Object(m)) => m,
        _ => unreachable!(),
    };
    mqtt.update(|m| {
        let now = m.now_ms;
        m.rollouts
            .start(&mut m.shadows, patch, &ids, 1.0, now)
            .unwrap();
        Changed(Changed::SHADOWS)
    });
    frames().await;
    let figure = |name: &str| attr(&el, "[data-testid=rollout]", name);
    assert_eq!(
        (figure("data-total"), figure("data-pending")),
        ("4".into(), "4".into())
    );
    reported(&mqtt, "r1", 2, r#"{"firmware":"1.4.0"}"#);
    mqtt.apply(message(
        "devices/r2/shadow/rejected",
        br#"{"version":1,"reason":"no"}"#,
        None,
    ));
    mqtt.apply(message(
        "devices/r3/shadow/accepted",
        br#"{"version":1}"#,
        None,
    ));
    reported(
        &mqtt,
        "r3",
        2,
        r#"{"firmware":"1.3.0","ota":{"state":"failed","reason":"flash"}}"#,
    );
    frames().await;
    assert_eq!(
        [
            figure("data-in-sync"),
            figure("data-rejected"),
            figure("data-failed"),
            figure("data-pending")
        ],
        ["1", "1", "1", "1"]
    );
    let line = text(&el, "[data-testid=rollout]");
    assert!(
        line.contains("1 in sync") && line.contains("1 rejected"),
        "{line}"
    );
    // Without a connection, starting one says so.
    click(&el, "[data-testid=rollout-start]");
    frames().await;
    assert_eq!(
        text(&el, "[data-testid=rollout-status]"),
        "not connected: connect first"
    );
}

#[wasm_bindgen_test]
async fn picking_a_bar_filters_the_board_and_picking_it_again_clears_it() {
    let (el, mqtt, _h) = mount(|| view! { <FleetStats/><DeviceGrid/> }.into_any());
    for i in 0..9 {
        let fw = if i < 3 { "1.2.0" } else { "1.3.0" };
        mqtt.apply(message(&format!("devices/f{i}/status"), b"online", None));
        mqtt.apply(message(
            &format!("devices/f{i}/meta"),
            format!(r#"{{"model":"TH-200","firmware":"{fw}"}}"#).as_bytes(),
            None,
        ));
        mqtt.apply(message(
            &format!("devices/f{i}/telemetry"),
            format!(r#"{{"battery":{}}}"#, 10 * i + 5).as_bytes(),
            None,
        ));
    }
    frames().await;
    let bar = |facet: &str, label: &str| {
        format!("[data-facet='{facet}'] [data-testid=fleet-bar][data-label='{label}']")
    };
    assert_eq!(attr(&el, &bar("Firmware", "1.3.0"), "data-count"), "6");
    assert_eq!(attr(&el, &bar("Firmware", "1.2.0"), "data-count"), "3");
    assert_eq!(attr(&el, &bar("Battery %", "80–90"), "data-count"), "1");
    assert_eq!(all(&el, "[data-testid=device-row]").len(), 9);
    click(&el, &bar("Firmware", "1.2.0"));
    frames().await;
    let shown: Vec<String> = all(&el, "[data-testid=device-row]")
        .iter()
        .map(|r| r.get_attribute("data-device").unwrap())
        .collect();
    assert_eq!(shown, ["f0", "f1", "f2"]);
    assert_eq!(attr(&el, &bar("Firmware", "1.2.0"), "aria-pressed"), "true");
    assert!(text(&el, "[data-testid=board-pick]").contains("Firmware: 1.2.0 · 3 shown"));
    // Another bar replaces the pick; the same bar again clears it.
    click(&el, &bar("Battery %", "80–90"));
    frames().await;
    assert_eq!(all(&el, "[data-testid=device-row]").len(), 1);
    click(&el, &bar("Battery %", "80–90"));
    frames().await;
    assert_eq!(all(&el, "[data-testid=device-row]").len(), 9);
    assert!(el
        .query_selector("[data-testid=board-pick]")
        .unwrap()
        .is_none());
}

#[wasm_bindgen_test]
async fn alerts_are_raised_dismissed_and_counted_per_rule() {
    let (el, mqtt, _h) = mount(|| view! { <AlertBadge/><Alerts/> }.into_any());
    let tick = |mqtt: &Mqtt| {
        mqtt.apply(wasmqtt::ui::model::UiEvent::Tick {
            at_ms: js_sys::Date::now(),
            metrics: Default::default(),
            connected_for_ms: None,
            next_attempt_in_ms: None,
        })
    };
    for (id, battery) in [("a1", 50), ("a2", 12), ("a3", 7)] {
        mqtt.apply(message(
            &format!("devices/{id}/telemetry"),
            format!(r#"{{"battery":{battery},"rssi":-90}}"#).as_bytes(),
            None,
        ));
    }
    tick(&mqtt);
    frames().await;
    let shown = |el: &web_sys::HtmlElement| {
        all(el, "[data-testid=alert]")
            .iter()
            .map(|a| a.get_attribute("data-device").unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(shown(&el), ["a2", "a3"]);
    assert_eq!(text(&el, "[data-testid=alert-badge]"), "2 alerts");
    let battery = "[data-testid=alert-rule][data-rule='battery under 20%']";
    assert_eq!(attr(&el, battery, "data-active"), "2");
    // Dismissed: gone from the list and the badge, still counted for its rule.
    click(&el, "[data-device=a2] [data-testid=alert-dismiss]");
    frames().await;
    assert_eq!(shown(&el), ["a3"]);
    assert_eq!(text(&el, "[data-testid=alert-badge]"), "1 alert");
    assert_eq!(attr(&el, battery, "data-active"), "2");
    // A rule typed by the operator.
    type_into(&el, "[data-testid=alert-rule-input]", "rssi < low");
    submit(&el, ".rule-form");
    frames().await;
    assert!(text(&el, "[data-testid=alert-rule-error]").contains("not a number"));
    type_into(&el, "[data-testid=alert-rule-input]", "rssi < -85");
    submit(&el, ".rule-form");
    tick(&mqtt);
    frames().await;
    assert_eq!(text(&el, "[data-testid=alert-rule-error]"), "");
    assert_eq!(
        attr(
            &el,
            "[data-testid=alert-rule][data-rule='rssi < -85']",
            "data-active"
        ),
        "3"
    );
    click(&el, "[data-testid=alerts-dismiss-all]");
    frames().await;
    assert!(shown(&el).is_empty());
    assert!(el
        .query_selector("[data-testid=alert-badge]")
        .unwrap()
        .is_none());
}

#[wasm_bindgen_test]
async fn the_connection_history_shows_spread_success_and_causes() {
    use wasmqtt::ui::model::UiEvent;
    let (el, mqtt, _h) = mount(|| view! { <ConnectionHistory/> }.into_any());
    let now = js_sys::Date::now();
    for (i, url) in ["ws://127.0.0.1:1/mqtt", "ws://127.0.0.1:2/mqtt"]
        .iter()
        .enumerate()
    {
        mqtt.apply(UiEvent::Connecting {
            at_ms: now + i as f64,
            url: url.to_string(),
            attempt: i as u32,
        });
        mqtt.apply(UiEvent::Connected {
            at_ms: now + i as f64,
            session_present: false,
        });
        if i == 0 {
            mqtt.apply(UiEvent::Disconnected {
                at_ms: now + 0.5,
                error: Some("lost".into()),
                retry_at_ms: None,
                cause: Some("connection lost".into()),
            });
        }
    }
    for n in 1..=10u64 {
        mqtt.apply(UiEvent::Tick {
            at_ms: now + 2.0,
            metrics: wasmqtt::proto::Metrics {
                rtt: Some(std::time::Duration::from_millis(n)),
                rtt_samples: n,
                ..Default::default()
            },
            connected_for_ms: Some(1.0),
            next_attempt_in_ms: None,
        });
    }
    frames().await;
    assert_eq!(
        text(&el, "[data-testid=health-rtt-spread] .card-value"),
        "5.0 / 9.0 / 10.0 ms"
    );
    assert_eq!(
        text(&el, "[data-testid=health-success] .card-value"),
        "2 of 2 connected"
    );
    assert_eq!(
        text(&el, "[data-testid=health-broker] .card-value"),
        "ws://127.0.0.1:2/mqtt"
    );
    assert!(text(&el, "[data-testid=health-broker]").contains("1 failover, 2 URLs used"));
    assert_eq!(text(&el, "[data-testid=health-cause]"), "connection lost1");
}

#[wasm_bindgen_test]
async fn a_time_series_is_drawn_with_axes_legend_and_values_under_the_pointer() {
    use wasmqtt::ui::model::UiEvent;
    let (el, mqtt, _h) = mount(|| view! { <TimeSeries/> }.into_any());
    type_into(&el, "[data-testid=chart-topic]", "devices/#/x");
    submit(&el, ".chart-form");
    frames().await;
    assert!(text(&el, "[data-testid=chart-error]").contains("not a topic or filter"));
    type_into(&el, "[data-testid=chart-topic]", "devices/+/telemetry");
    type_into(&el, "[data-testid=chart-path]", "temp");
    submit(&el, ".chart-form");
    frames().await;
    assert_eq!(text(&el, "[data-testid=chart-error]"), "");
    assert_eq!(text(&el, "[data-testid=chart-last]"), "no data yet");
    let now = js_sys::Date::now();
    for i in 0..60 {
        let p = wasmqtt::codec::Publish::new(
            "devices/c1/telemetry",
            format!(r#"{{"temp":{}}}"#, 20 + i % 3).into_bytes(),
        );
        mqtt.apply(UiEvent::Message {
            at_ms: now - 60_000.0 + f64::from(i) * 1000.0,
            publish: p,
            subscriptions: Vec::new(),
        });
    }
    mqtt.apply(UiEvent::Tick {
        at_ms: now,
        metrics: Default::default(),
        connected_for_ms: None,
        next_attempt_in_ms: None,
    });
    frames().await;
    assert_eq!(all(&el, "[data-testid=chart-series]").len(), 1);
    assert!(text(&el, "[data-testid=chart-legend]").contains("devices/+/telemetry · temp"));
    let line = attr(&el, "path.line", "d");
    assert!(
        line.matches(" L").count() >= 40,
        "one point per bucket: {line}"
    );
    let labels: Vec<String> = all(&el, "svg.timeseries text")
        .iter()
        .map(|t| t.text_content().unwrap_or_default())
        .collect();
    assert!(
        labels.iter().any(|l| l == "20"),
        "a y tick at 20: {labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.len() == 8 && l.contains(':')),
        "time ticks: {labels:?}"
    );
    // The pointer over the last minute reads values back.
    let svg = el
        .query_selector("[data-testid=chart-svg]")
        .unwrap()
        .unwrap();
    let r = svg.get_bounding_client_rect();
    let init = web_sys::MouseEventInit::new();
    init.set_client_x((r.left() + r.width() * 0.97) as i32);
    init.set_client_y((r.top() + r.height() / 2.0) as i32);
    let ev = web_sys::MouseEvent::new_with_mouse_event_init_dict("mousemove", &init).unwrap();
    svg.dispatch_event(&ev).unwrap();
    frames().await;
    let hover = text(&el, "[data-testid=chart-hover]");
    assert!(
        hover.contains("devices/+/telemetry · temp: 2"),
        "a value under the pointer: {hover}"
    );
}

#[wasm_bindgen_test]
async fn a_board_row_opens_its_shadow_and_escape_closes_it() {
    let (el, mqtt, _h) = mount(|| view! { <DeviceGrid/> }.into_any());
    mqtt.apply(message("devices/k1/status", b"online", None));
    reported(&mqtt, "k1", 3, r#"{"firmware":"1.3.0"}"#);
    frames().await;
    click(&el, "[data-device=k1] [data-testid=open-device]");
    frames().await;
    assert_eq!(
        attr(&el, "[data-testid=device-shadow]", "data-device"),
        "k1"
    );
    assert!(text(&el, "[data-testid=shadow-reported-version]").contains("v3"));
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Escape");
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    web_sys::window().unwrap().dispatch_event(&ev).unwrap();
    frames().await;
    assert!(el
        .query_selector("[data-testid=device-shadow]")
        .unwrap()
        .is_none());
}
