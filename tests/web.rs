//! Browser tests: the wasm build in real headless Chromium (`cargo xtask test` runs them through
//! chromedriver on loopback).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;
use wasmqtt::codec::{Decoder, Packet, ProtocolVersion, Publish, QoS};

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
