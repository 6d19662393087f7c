//! The Leptos dashboard and its embeddable components.
//!
//! `model` is the dashboard's state as a pure reducer over the client's events: no DOM, no clock,
//! built and tested natively. The components (browser only, feature `ui`) draw it.

pub mod model;

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod placeholder;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub use placeholder::*;
