//! What the browser tests of the components share: a container with a size, a provider without
//! a connection whose handle the test holds, synthetic messages, DOM queries.
#![allow(dead_code)] // each test file uses its own part

use std::cell::RefCell;
use std::time::Duration;

use bytes::Bytes;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasmqtt::codec::{Publish, QoS};
use wasmqtt::proto::SubscriptionId;
use wasmqtt::ui::model::UiEvent;
use wasmqtt::ui::*;

thread_local! {
    /// The handle of the last provider `Grab` ran in.
    pub static HANDLE: RefCell<Option<Mqtt>> = const { RefCell::new(None) };
}

/// Captures the provider's handle for the test.
#[component]
pub fn Grab() -> impl IntoView {
    let m = use_mqtt();
    HANDLE.with(|h| *h.borrow_mut() = Some(m));
}

/// A fresh container with a fixed size, so virtual lists have a viewport.
pub fn container() -> web_sys::HtmlElement {
    let el: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    el.set_attribute(
        "style",
        "width: 1200px; height: 700px; display: flex; flex-direction: column;",
    )
    .unwrap();
    document().body().unwrap().append_child(&el).unwrap();
    el
}

pub async fn frames() {
    // Two animation frames' worth: the provider redraws once per frame.
    gloo_timers::future::sleep(Duration::from_millis(60)).await;
}

pub fn all(root: &web_sys::Element, selector: &str) -> Vec<web_sys::Element> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().unchecked_into())
        .collect()
}

pub fn text(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

pub fn message(topic: &str, payload: &[u8], sub: Option<u64>) -> UiEvent {
    let mut p = Publish::new(topic, Bytes::copy_from_slice(payload));
    p.qos = QoS::AtLeastOnce;
    UiEvent::Message {
        at_ms: js_sys::Date::now(),
        publish: p,
        subscriptions: sub.map(SubscriptionId).into_iter().collect(),
    }
}

/// Mounts `view` inside a manual (unconnected) provider; returns the container and the handle.
pub fn mount(view: fn() -> AnyView) -> (web_sys::HtmlElement, Mqtt, impl Drop) {
    let el = container();
    let handle = leptos::mount::mount_to(el.clone(), move || {
        view! {
            <MqttProvider manual=true>
                <Grab/>
                {view()}
            </MqttProvider>
        }
    });
    let mqtt = HANDLE
        .with(|h| h.borrow_mut().take())
        .expect("the provider ran");
    (el, mqtt, handle)
}

/// Submits the form `selector` finds, as pressing Enter in it would (its submit handler runs).
pub fn submit(root: &web_sys::Element, selector: &str) {
    root.query_selector(selector)
        .unwrap()
        .expect(selector)
        .unchecked_into::<web_sys::HtmlFormElement>()
        .request_submit()
        .unwrap();
}
