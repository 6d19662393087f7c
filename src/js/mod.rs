//! The npm package's facade: `#[wasm_bindgen]` exports used by the hand-written ES module
//! `wasmqtt.js` (shipped beside them), which gives JavaScript callers `mqtt-packet`-shaped
//! objects and an MQTT.js-style client. Errors become JavaScript values only here.

pub mod tape;

#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod client;
#[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "no-codec-api")))]
mod codec;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod tests;
