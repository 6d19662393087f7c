//! The Leptos dashboard and its embeddable components.
//!
//! For now a placeholder: the page that proves the wasm build, trunk and Leptos work together,
//! with a small packet encoder to play with. The dashboard issue grows it into the real thing.

use leptos::prelude::*;

use crate::codec::{Packet, ProtocolVersion, Publish, QoS};

/// Hex of a PUBLISH, or the reason it cannot be encoded.
fn encode_publish(topic: &str, payload: &str, qos: u8, v5: bool) -> String {
    let mut p = Publish::new(topic, payload.to_string().into_bytes());
    p.qos = QoS::from_u8(qos).unwrap_or_default();
    p.packet_id = if qos > 0 { 1 } else { 0 };
    let v = if v5 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V3_1_1
    };
    match Packet::Publish(p).to_bytes(v) {
        Ok(bytes) => bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
        Err(e) => format!("cannot encode: {e}"),
    }
}

/// The placeholder page.
#[component]
pub fn App() -> impl IntoView {
    let (topic, set_topic) = signal("devices/lamp-1/cmd".to_string());
    let (payload, set_payload) = signal("on".to_string());
    let (qos, set_qos) = signal(1u8);
    let (v5, set_v5) = signal(true);
    let encoded = move || encode_publish(&topic.get(), &payload.get(), qos.get(), v5.get());
    view! {
        <main class="placeholder">
            <h1>"wasmqtt"</h1>
            <p class="lead">
                "An MQTT 3.1.1 / 5.0 client for the browser, written in Rust. "
                "The codec runs here, in WebAssembly; the live dashboard is on its way."
            </p>
            <section class="card">
                <h2>"Encode a PUBLISH"</h2>
                <label>"Topic "
                    <input data-testid="topic" prop:value=topic
                        on:input=move |ev| set_topic.set(event_target_value(&ev)) />
                </label>
                <label>"Payload "
                    <input data-testid="payload" prop:value=payload
                        on:input=move |ev| set_payload.set(event_target_value(&ev)) />
                </label>
                <label>"QoS "
                    <select on:change=move |ev| set_qos.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0">"0"</option>
                        <option value="1" selected>"1"</option>
                        <option value="2">"2"</option>
                    </select>
                </label>
                <label>
                    <input type="checkbox" prop:checked=v5
                        on:change=move |ev| set_v5.set(event_target_checked(&ev)) />
                    " MQTT 5"
                </label>
                <pre data-testid="encoded">{encoded}</pre>
            </section>
        </main>
    }
}

/// Entry point of the dashboard build (`trunk serve`).
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}
