//! The sans-IO MQTT client: a state machine that knows everything about being an MQTT 3.1.1 /
//! 5.0 client and nothing about sockets or clocks.
//!
//! Drive a [`Client`] with `handle_open` / `handle_bytes` / `handle_close` / `handle_timeout`
//! (time is always an argument) and drain `poll_transmit`, `poll_transport`, `poll_event` and
//! `poll_timeout` after every input. The browser driver (`web`) and the tests' TCP driver are
//! two such drivers.

mod acks;
mod alias;
mod client;
mod config;
mod error;
mod event;
mod link;
mod metrics;
mod mirror;
mod outbound;
mod pending;
mod reconnect;
mod requests;
mod rng;
mod session;
mod stored;
mod time;
mod timers;
mod topic;

pub use alias::{InAliases, OutAliases};
pub use client::{Client, DisconnectOptions, RequestOptions};
pub use config::{Config, OutboxConfig, OutboxPolicy, ReconnectConfig, DEFAULT_V3_INFLIGHT};
pub use error::ClientError;
pub use event::{Event, Granted, Message, OpId, ServerInfo, TransportAction};
pub use metrics::Metrics;
pub use mirror::{
    whole_of as session_of_store_entries, Entry as StoreEntry, Mirror, MirrorChanges, QUEUED_BASE,
};
pub use reconnect::{resolve_reference, Decision, Ending, Reconnect};
pub use rng::Rng;
pub use session::{storage_key, Inflight, InflightQueue, Outbox, Queued, Session, Stage};
pub use stored::{assemble as assemble_session, Changes as SessionChanges, StoredKeys};
pub use time::Instant;
pub use topic::{filter_of, matches, ActiveSubscription, Registry, SubscriptionId};
