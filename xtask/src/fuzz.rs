//! Fuzzing with cargo-fuzz (nightly): every target briefly on each test run, and
//! `cargo xtask fuzz [TARGET] [--minutes M]` for long runs (default: every target, 10 minutes
//! each). Crashes land in tests/fuzz/artifacts/TARGET/ with the command that replays them.

use crate::proc::{cmd, run, Result};
use crate::tools::{self, Need};

/// Each target and the seconds a test run gives it.
pub const TARGETS: &[(&str, u32)] = &[
    ("decode", 20),        // the streaming decoder, every version, any chunking
    ("client", 15),        // the client core: inbound bytes and API calls interleaved
    ("session_import", 8), // stored sessions: corrupt, truncated, older, hostile
    ("json", 7),           // the dashboard's JSON reader
    ("tape", 5),           // the tapes the package's JavaScript writes for Rust to read
];

fn fuzz(target: &str, seconds: u32) -> Result {
    run(&mut cmd(
        "cargo",
        &[
            "+nightly",
            "fuzz",
            "run",
            "--fuzz-dir",
            "tests/fuzz",
            target,
            "--",
            &format!("-max_total_time={seconds}"),
        ],
    ))
}

/// The brief run of every target that `cargo xtask test` makes.
pub fn quick() -> Result {
    for (target, seconds) in TARGETS {
        println!("\n== fuzzing {target} ({seconds} s)");
        fuzz(target, *seconds)?;
    }
    Ok(())
}

/// `cargo xtask fuzz [TARGET] [--minutes M]`.
pub fn long(args: &[String]) -> Result {
    tools::setup(Need {
        fuzz: true,
        ..Need::default()
    })?;
    let minutes: u32 = match args.iter().position(|a| a == "--minutes") {
        Some(i) => args
            .get(i + 1)
            .and_then(|m| m.parse().ok())
            .ok_or("--minutes needs a number")?,
        None => 10,
    };
    let only = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<u32>().is_err());
    if let Some(t) = only {
        if !TARGETS.iter().any(|(name, _)| name == t) {
            let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "no fuzz target {t}: the targets are {}",
                names.join(", ")
            ));
        }
    }
    for (target, _) in TARGETS {
        if only.is_none_or(|t| t == target) {
            println!("\n== fuzzing {target} for {minutes} minutes");
            fuzz(target, minutes * 60)?;
        }
    }
    Ok(())
}
