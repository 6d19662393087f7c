//! wasmqtt's task runner. `cargo xtask <task>`:
//!
//! - `dev`   build the dashboard and serve it with trunk (the main job); `--cluster 3`: against
//!   a 3-node rmqtt cluster
//! - `test`  every test: native, fuzz (briefly), Node tests of the package, browser tests
//! - `pkg`   build the npm package into `pkg/` (`--names`: with function names, for profiling)
//! - `bench` benchmarks; figures go to BENCHMARKS.md by hand
//! - `size-floor` the size of the codec and client core alone, beside the package's
//! - `bench-cluster` the fleet over a 3-node rmqtt cluster, 30,000 devices by default
//! - `screenshots` the dashboard's main views into docs/ (for README)
//! - `sim`   the deterministic simulation of the client over many seeds, for hours
//! - `fuzz`  the fuzz targets (decoder, client, session import, JSON reader), for long
//! - `setup` install the tools the other tasks need (they call it themselves)
//!
//! Every task first installs what is missing, and is fast when everything is present.

mod csp;
mod fuzz;
mod minify;
mod pkg;
mod proc;
mod sim;
mod tasks;
mod tools;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, rest)) => (t.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "dev" => tasks::dev(rest),
        "test" => tasks::test(rest),
        "pkg" => pkg::pkg_task(rest),
        "size-floor" => pkg::size_floor(),
        "bench" => tasks::bench(rest),
        "bench-cluster" => tasks::bench_cluster(rest),
        "browser-tests" => tasks::browser_only(),
        "screenshots" => tasks::screenshots(),
        "sim" => sim::sim(rest),
        "fuzz" => fuzz::long(rest),
        "csp" => csp::csp(rest),
        "setup" => tools::setup(tools::Need::all()).and_then(|()| tools::fleet_build_deps()),
        _ => {
            eprintln!(
                "usage: cargo xtask <dev|test|pkg|bench|sim|fuzz|setup>\n\
                 \x20 dev    serve the dashboard (main job; --devices N, --cluster NODES, --port P)\n\
                 \x20 test   run every test (add `--quick` to skip fuzzing and browsers)\n\
                 \x20 pkg    build the npm package into pkg/\n\
                 \x20 bench  run the benchmarks\n\
                 \x20 size-floor  the codec and client core alone, beside the package's size\n\
                 \x20 bench-cluster [devices]  the fleet over a 3-node cluster (30,000 devices)\n\
                 \x20 sim    the client's deterministic simulation over many seeds (--hours H)\n\
                 \x20 fuzz   the fuzz targets for long (TARGET, --minutes M)\n\
                 \x20 setup  install the tools the tasks need"
            );
            return if task == "help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}
