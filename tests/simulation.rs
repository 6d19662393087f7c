//! Deterministic simulation of the whole client, in the manner of FoundationDB's simulator and
//! TigerBeetle's VOPR: one seed drives the sans-IO client against a model broker
//! (`simulation/broker.rs`) over a faulty link (`simulation/link.rs`), with random operations,
//! for thousands of steps, checking invariants after every step (`simulation/world.rs`,
//! `simulation/driver.rs`).
//!
//! The world, all from the seed: MQTT 3.1.1 or 5.0; a persistent session or not; the broker's
//! Receive Maximum, Topic Alias Maximum, Maximum Packet Size and acknowledgement delays; the
//! client's outbox bounds and policy, in-flight window, Receive Maximum, subscription limit.
//! Random operations: publish at every QoS and size (over the broker's packet limit and over
//! the outbox), retained, with expiry; subscribe (some filters refused) and unsubscribe; end,
//! graceful or forced, at any moment including mid-drain; start again; page reloads (the
//! session exported before every transmit and imported into a new client, with publishes made
//! while it loads); network offline / online; clock jumps (a frozen hidden tab). Faults: bytes
//! split, joined and delayed; the connection cut at any byte; half-open links; broker restarts
//! keeping or losing sessions; server DISCONNECT 0x8E, 0x89, 0x8B, 0x9C / 0x9D with a server
//! reference; messages from other clients at every QoS and size.
//!
//! Invariants (a violation fails the run and prints the seed and the last steps):
//! - the client never violates the protocol as the broker sees it: malformed or oversize
//!   packets, unknown or out-of-range topic aliases, more than the server's Receive Maximum
//!   unacknowledged, a packet identifier reused while in use, PUBREL for an identifier never
//!   PUBREC'd, acknowledgements for messages never sent, a second CONNECT;
//! - every operation completes exactly once (never twice, never for an unknown operation), and
//!   after faults stop none hangs: within 30 virtual minutes all have completed;
//! - a QoS 1/2 publish that completes successfully was received by the broker; every accepted
//!   QoS 1/2 message is delivered at least once or its completion reports an error, also when
//!   a page reload abandoned it (persistent sessions);
//! - QoS 2 exactly once, also across reloads: no message reaches the broker twice, or the
//!   application twice, unless a session was discarded in between;
//! - every QoS 1/2 message the broker queued for the client's (final) session reaches the
//!   application;
//! - the outbox, the in-flight window, incoming QoS 2 and subscriptions stay within their
//!   configured bounds after every step; `may_transmit` never hides bytes; no panic.
//!
//! Environment: `SIM_SEEDS` (default 300) seeds from `SIM_FIRST` (default 0) with `SIM_STEPS`
//! steps each (default 1,500); `SIM_SEED=n` replays one seed and prints its whole trace tail.
//! `cargo xtask sim` runs many seeds for hours. Seeds that once failed are kept in
//! `simulation/regressions.txt` and run every time.

#[path = "simulation/broker.rs"]
mod broker;
#[path = "simulation/link.rs"]
mod link;
#[path = "simulation/world.rs"]
mod world;

use wasmqtt::proto::Rng;
use world::{Stats, World};

/// `0..n` (the core's `Rng::up_to` is inclusive).
pub trait Below {
    fn below(&mut self, n: u64) -> u64;
}

impl Below for Rng {
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.up_to(n - 1)
        }
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs one seed; on failure, a report with a replay command.
fn run(seed: u64, steps: u64) -> Result<Stats, String> {
    let mut w = World::new(seed);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for _ in 0..steps {
            w.step()?;
        }
        w.settle()
    }));
    let failure = match outcome {
        Ok(Ok(())) => return Ok(w.stats),
        Ok(Err(e)) => e,
        Err(panic) => format!(
            "panic: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        ),
    };
    let trace: Vec<String> = w.trace.iter().cloned().collect();
    Err(format!(
        "seed {seed} failed at step {}: {failure}\n  world: {}\n  replay: SIM_SEED={seed} SIM_STEPS={steps} \
         cargo test --test simulation -- --nocapture\n  last steps:\n    {}",
        w.step,
        w.describe(),
        trace.join("\n    ")
    ))
}

fn regressions() -> Vec<u64> {
    include_str!("simulation/regressions.txt")
        .lines()
        .filter_map(|l| l.split('#').next())
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn seeds_keep_every_invariant() {
    let steps = env("SIM_STEPS", 1500);
    let seeds: Vec<u64> = match std::env::var("SIM_SEED") {
        Ok(s) => vec![s.parse().expect("SIM_SEED is a number")],
        Err(_) => {
            let first = env("SIM_FIRST", 0);
            let n = env("SIM_SEEDS", 300);
            regressions().into_iter().chain(first..first + n).collect()
        }
    };
    let mut total = Stats::default();
    let mut failures = Vec::new();
    for &seed in &seeds {
        match run(seed, steps) {
            Ok(s) => {
                total.steps += s.steps;
                total.published += s.published;
                total.delivered += s.delivered;
                total.received += s.received;
                total.connections += s.connections;
                total.faults += s.faults;
                total.reloads += s.reloads;
                total.removed += s.removed;
            }
            Err(report) => {
                eprintln!("{report}\n");
                failures.push(seed);
                if failures.len() >= 5 {
                    break;
                }
            }
        }
    }
    println!("simulation: {} seeds, {total:?}", seeds.len());
    assert!(failures.is_empty(), "failing seeds: {failures:?}");
    if seeds.len() >= 100 {
        assert!(
            total.removed > 0,
            "no seed removed a message in flight: the step never ran"
        );
    }
}
