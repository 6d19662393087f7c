//! The components. Each reads the model of the nearest `<MqttProvider>` and tracks only the
//! version signal of the part it shows.

pub mod alerts;
pub mod charts;
pub mod common;
pub mod connection;
pub mod dashboard;
pub mod devices;
pub mod fleet;
pub mod health;
pub mod messages;
pub mod shadow;
pub mod subscriptions;
pub mod tree;
