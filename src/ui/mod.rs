//! The Leptos dashboard and its embeddable components.
//!
//! `model` is the dashboard's state as a pure reducer over the client's events: no DOM, no clock,
//! built and tested natively. The components (browser only, feature `ui`) draw it:
//!
//! ```ignore
//! use wasmqtt::ui::*;
//! view! {
//!     <MqttProvider settings=Settings { url: "wss://broker.example/mqtt".into(), ..Default::default() }>
//!         <ConnectionStatus/>
//!         <DeviceGrid/>
//!         <MessageLog/>
//!     </MqttProvider>
//! }
//! ```

pub mod model;

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod frames;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod provider;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod view;

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub use {
    model::{Limits, PresenceConfig, Settings, ShadowConfig},
    provider::{use_mqtt, use_subscription, Mqtt, MqttProvider, SubscriptionView},
    view::alerts::{AlertBadge, Alerts},
    view::charts::TimeSeries,
    view::common::Later,
    view::connection::{ConnectionForm, ConnectionStatus},
    view::dashboard::Dashboard,
    view::devices::DeviceGrid,
    view::fleet::FleetStats,
    view::health::{ClusterNodes, ConnectionHistory, HealthPanel, Notices},
    view::messages::{MessageLog, PublishForm},
    view::shadow::{DeviceShadow, Rollouts},
    view::subscriptions::SubscriptionList,
    view::tree::TopicTree,
};

/// Entry point of the dashboard page (`trunk serve`, feature `dashboard`).
#[cfg(all(target_arch = "wasm32", feature = "dashboard"))]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // In a task of its own: the task that instantiates the module also finishes its streaming
    // compilation, and the first calls of the page's functions compile them (lazily) too; one
    // task for both ran past 50 ms (BENCHMARKS.md, the dashboard's start-up).
    leptos::prelude::set_timeout(
        || leptos::mount::mount_to_body(Dashboard),
        std::time::Duration::ZERO,
    );
}
