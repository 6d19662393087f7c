//! wasmqtt: an MQTT 3.1, 3.1.1 and 5.0 client for the browser.
//!
//! The layers depend on each other in one direction only:
//! `codec` (bytes <-> packets) <- `proto` (the sans-IO client) <- `web` (the browser driver)
//! <- {`ui` (Leptos), `js` (the npm package facade)}.
//! `codec` and `proto` never read the clock and never touch the network, so they build and are
//! tested natively.
#![deny(unsafe_code)]
// The npm package is built with nightly at opt-level "z" (size) and `--cfg wasmqtt_speed`, which
// optimises the few hot decode functions for speed instead.
#![cfg_attr(wasmqtt_speed, feature(optimize_attribute))]
#![deny(missing_docs)]

#[doc(hidden)]
#[macro_use]
pub mod text;

pub mod codec;
pub mod proto;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(any(feature = "js", feature = "codec-api", test))]
pub mod js;

#[cfg(any(feature = "ui", test))]
pub mod ui;
