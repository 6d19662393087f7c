//! `cargo xtask sim`: the deterministic simulation of the client (tests/simulation.rs) over
//! many seeds, for as long as asked, in a release build. CI runs a few hundred seeds on every
//! test run; this is the long run. A failure prints its seed with the replay command and the
//! last steps of its trace; add the seed to tests/simulation/regressions.txt once understood.
//!
//! `cargo xtask sim [--hours H | --minutes M | --seeds N] [--steps S] [--first F]`
//! (default: 10 minutes, 3,000 steps a seed, seeds from a number taken from the clock so
//! each run explores new ones; the first seed is printed, so a run can be repeated).

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::proc::Result;

const BATCH: u64 = 2_000;

fn value<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .map(Some)
            .ok_or_else(|| format!("{name} needs a number")),
    }
}

/// The number after `key: ` in the test's summary line.
fn figure(out: &str, key: &str) -> u64 {
    out.lines()
        .filter(|l| l.starts_with("simulation:"))
        .filter_map(|l| l.split(&format!("{key}: ")).nth(1))
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

pub fn sim(args: &[String]) -> Result {
    let minutes: f64 = match (
        value::<f64>(args, "--hours")?,
        value::<f64>(args, "--minutes")?,
    ) {
        (Some(h), _) => h * 60.0,
        (None, Some(m)) => m,
        (None, None) => 10.0,
    };
    let total_seeds: Option<u64> = value(args, "--seeds")?;
    let steps: u64 = value(args, "--steps")?.unwrap_or(3_000);
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let first: u64 = value(args, "--first")?.unwrap_or(1_000_000 + clock % 1_000_000_000);
    let budget = Duration::from_secs_f64(minutes * 60.0);
    match total_seeds {
        Some(n) => println!("simulation: {n} seeds from {first}, {steps} steps each"),
        None => {
            println!("simulation: seeds from {first}, {steps} steps each, for {minutes} minutes")
        }
    }
    // Built once: the batches run that binary, so editing the sources meanwhile changes
    // nothing about this run.
    let build = crate::proc::output_of(
        Command::new("cargo")
            .args(["test", "--release", "--test", "simulation", "--no-run"])
            .current_dir(crate::proc::root()),
    )
    .map_err(|e| format!("cannot build the simulation: {e}"))?;
    let log = String::from_utf8_lossy(&build.stderr);
    if !build.status.success() {
        return Err(format!("the simulation does not build:\n{log}"));
    }
    let binary = log
        .lines()
        .find_map(|l| l.trim().strip_prefix("Executable tests/simulation.rs ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .map(|path| crate::proc::root().join(path))
        .ok_or_else(|| format!("cannot find the simulation binary in:\n{log}"))?;
    let start = Instant::now();
    let (mut seeds, mut done_steps, mut published, mut faults, mut reloads, mut removed) =
        (0, 0, 0, 0, 0, 0);
    let mut next = first;
    loop {
        let batch = match total_seeds {
            Some(n) if seeds >= n => break,
            Some(n) => BATCH.min(n - seeds),
            None if start.elapsed() >= budget => break,
            None => BATCH,
        };
        let out = crate::proc::output_of(
            Command::new(&binary)
                .arg("--nocapture")
                .current_dir(crate::proc::root())
                .env("SIM_FIRST", next.to_string())
                .env("SIM_SEEDS", batch.to_string())
                .env("SIM_STEPS", steps.to_string()),
        )
        .map_err(|e| format!("cannot run the simulation: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        seeds += batch;
        next += batch;
        done_steps += figure(&text, "steps");
        published += figure(&text, "published");
        faults += figure(&text, "faults");
        reloads += figure(&text, "reloads");
        removed += figure(&text, "removed");
        println!(
            "{:>7.1} min: {seeds} seeds, {done_steps} steps, {published} publishes, {faults} faults, {reloads} reloads, {removed} removals: clean",
            start.elapsed().as_secs_f64() / 60.0
        );
        if !out.status.success() {
            let reports: Vec<&str> = text
                .split("\n\n")
                .filter(|block| block.contains(" failed at step "))
                .collect();
            for r in &reports {
                eprintln!("{r}\n");
            }
            if reports.is_empty() {
                eprintln!("{text}");
            }
            return Err(format!(
                "the simulation failed in seeds {next_first}..{next} ({} failing; reports above)",
                reports.len(),
                next_first = next - batch
            ));
        }
    }
    println!(
        "\nsimulation clean: {seeds} seeds ({first}..{next}), {done_steps} steps, {published} publishes, \
         {faults} faults, {reloads} page reloads, {removed} removals in {:.1} minutes",
        start.elapsed().as_secs_f64() / 60.0
    );
    Ok(())
}
