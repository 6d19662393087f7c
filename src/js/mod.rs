//! The npm package's facade: `#[wasm_bindgen]` exports used by the hand-written ES modules in
//! this folder, which give JavaScript callers an MQTT.js-style client (`wasmqtt`, feature `js`)
//! and `mqtt-packet`-shaped objects (`wasmqtt/codec`, feature `codec-api`). The two are built
//! as separate wasm modules, so a page using the client never loads the codec's parser.
//! Errors become JavaScript values only here.

pub mod tape;

#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod client;
#[cfg(all(target_arch = "wasm32", any(feature = "js", feature = "codec-api")))]
mod codec;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod tests;
