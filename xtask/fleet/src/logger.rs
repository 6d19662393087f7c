//! The broker's log (rmqtt and its plugins write through the `log` crate) on standard error:
//! errors by default, more with `WASMQTT_FLEET_LOG=warn|info|debug|trace`, none with `off`.
//! A cluster node that cannot join says why here before it exits.

use log::{LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, m: &Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record) {
        if self.enabled(r.metadata()) {
            eprintln!("wasmqtt-fleet [{} {}] {}", r.level(), r.target(), r.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger at the level `WASMQTT_FLEET_LOG` names (default: errors).
pub fn init() {
    let level = match std::env::var("WASMQTT_FLEET_LOG").as_deref() {
        Ok("off") => LevelFilter::Off,
        Ok("warn") => LevelFilter::Warn,
        Ok("info") => LevelFilter::Info,
        Ok("debug") => LevelFilter::Debug,
        Ok("trace") => LevelFilter::Trace,
        _ => LevelFilter::Error,
    };
    if log::set_logger(&Stderr).is_ok() {
        log::set_max_level(level);
    }
}
