//! The tasks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::pkg::pkg;
use crate::proc::{cmd, free_port, port_free, root, run, wait_for_port, Result, Service};
use crate::tools::{self, tools_bin, Need};

/// PATH with the npm-installed tools (wasm-opt 132) first.
fn tool_path() -> String {
    let old = std::env::var("PATH").unwrap_or_default();
    format!("{}:{old}", tools_bin().display())
}

/// Builds the dashboard with trunk (release) into dist/.
pub fn dashboard_dist() -> Result<PathBuf> {
    // Trunk builds offline (Trunk.toml): fetch the crates first on a fresh machine.
    run(&mut cmd("cargo", &["fetch"]))?;
    run(cmd("trunk", &["build", "--release"]).env("PATH", tool_path()))?;
    Ok(root().join("dist"))
}

/// Installs what `npm pack` makes of pkg/ into tests/js/node_modules/wasmqtt, so the tests
/// use the package as users get it (its files list, its exports), not the folder. Its one
/// optional peer, `ws`, is among the tests' own dependencies.
fn install_package() -> Result {
    let root = root();
    let packs = root.join("target/npm");
    let _ = std::fs::remove_dir_all(&packs);
    std::fs::create_dir_all(&packs).map_err(|e| e.to_string())?;
    run(cmd("npm", &["pack", "--silent", "--pack-destination"])
        .arg(&packs)
        .current_dir(root.join("pkg")))?;
    let tarball = std::fs::read_dir(&packs)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .ok_or("npm pack made no tarball")?;
    let to = root.join("tests/js/node_modules/wasmqtt");
    let _ = std::fs::remove_dir_all(&to);
    std::fs::create_dir_all(&to).map_err(|e| e.to_string())?;
    run(cmd("tar", &["-xzf"])
        .arg(&tarball)
        .arg("-C")
        .arg(&to)
        .arg("--strip-components=1"))
}

/// The Node tests of the package (node --test); with `dashboard`, the dashboard's end-to-end
/// test gets the built page and the fleet binary.
fn node_tests(quick: bool, dashboard: Option<(PathBuf, PathBuf)>) -> Result {
    install_package()?;
    let dir = root().join("tests/js");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    // --test-force-exit: a test whose clean-up failed must not hang the run on a leaked handle
    // (the test files kill the processes they started when they exit: env.mjs `track`).
    let mut c = cmd(
        "node",
        &["--test", "--test-force-exit", "--test-reporter=spec"],
    );
    c.args(&files);
    if quick {
        c.env("WASMQTT_SKIP_BROWSER", "1");
    }
    if let Some((dist, fleet)) = dashboard {
        c.env("WASMQTT_DIST", dist).env("WASMQTT_FLEET", fleet);
    }
    run(&mut c)
}

/// A mosquitto on loopback for the browser tests (plain TCP and WebSocket listeners).
fn mosquitto(dir: &Path) -> Result<(Service, u16)> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    // Run as root it drops to its own user, which must be able to write here.
    let _ = crate::proc::spawn(cmd("chmod", &["777"]).arg(dir)).and_then(|mut c| c.wait());
    let (tcp, ws) = (free_port(), free_port());
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "per_listener_settings false\nallow_anonymous true\nlog_dest stderr\n\
             listener {tcp} 127.0.0.1\nprotocol mqtt\n\
             listener {ws} 127.0.0.1\nprotocol websockets\nsocket_domain ipv4\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut broker = Service::start(
        "mosquitto",
        cmd("/usr/sbin/mosquitto", &["-c"])
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    )?;
    wait_for_port(ws, Duration::from_secs(10))?;
    broker.check_alive()?;
    Ok((broker, ws))
}

/// wasm-bindgen-test in headless Chromium and Firefox, through their webdrivers on loopback,
/// against a mosquitto started here.
fn browser_tests() -> Result {
    let dir = root().join("target/browser-tests");
    let (_broker, ws) = mosquitto(&dir.join("mosquitto"))?;
    let ws_url = format!("ws://127.0.0.1:{ws}/mqtt");

    println!("-- Chromium");
    let driver_port = free_port();
    let mut driver = Service::start(
        "chromedriver",
        cmd("chromedriver", &[&format!("--port={driver_port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    )?;
    wait_for_port(driver_port, Duration::from_secs(20))?;
    driver.check_alive()?;
    wasm_tests("CHROMEDRIVER_REMOTE", driver_port, &ws_url)?;
    drop(driver);

    println!("-- Firefox");
    let profiles = dir.join("firefox-profiles");
    std::fs::create_dir_all(&profiles).map_err(|e| e.to_string())?;
    let gecko_port = free_port();
    let mut gecko = Service::start(
        "geckodriver",
        cmd(
            "geckodriver",
            &[
                "--port",
                &gecko_port.to_string(),
                "--marionette-port",
                &free_port().to_string(),
                "--websocket-port",
                &free_port().to_string(),
                "--profile-root",
            ],
        )
        .arg(&profiles)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null()),
    )?;
    wait_for_port(gecko_port, Duration::from_secs(20))?;
    gecko.check_alive()?;
    wasm_tests("GECKODRIVER_REMOTE", gecko_port, &ws_url)
}

/// The wasm-bindgen tests (driver and components) through the webdriver on `port`; `remote` is
/// the runner's variable naming which kind it is.
fn wasm_tests(remote: &str, port: u16, ws_url: &str) -> Result {
    run(cmd(
        "cargo",
        &[
            "test",
            "--target",
            "wasm32-unknown-unknown",
            "--features",
            "ui",
            "--test",
            "web",
            "--test",
            "web_ui",
            "--test",
            "web_fleet",
        ],
    )
    .env(remote, format!("http://127.0.0.1:{port}"))
    .env(
        "WASM_BINDGEN_TEST_ADDRESS",
        format!("127.0.0.1:{}", free_port()),
    )
    .env("WASM_BINDGEN_TEST_TIMEOUT", "90")
    .env("WASMQTT_TEST_WS", ws_url)
    .env("PATH", tool_path()))
}

/// Only the wasm-bindgen browser tests (for working on the driver).
pub fn browser_only() -> Result {
    tools::setup(Need {
        wasm: true,
        browsers: true,
        firefox: true,
        brokers: true,
        ..Need::default()
    })?;
    browser_tests()
}

pub fn test(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    tools::setup(Need {
        wasm: true,
        trunk: !quick,
        browsers: !quick,
        firefox: !quick,
        brokers: true,
        node_deps: true,
        fuzz: !quick,
    })?;
    println!("\n== native tests (codec, client core, dashboard model, fake and real brokers)");
    run(&mut cmd("cargo", &["test", "-p", "wasmqtt", "-p", "xtask"]))?;
    // The fleet's own tests, in the profile its binary is built with (no second rmqtt build).
    run(&mut cmd(
        "cargo",
        &["test", "--profile", "tool", "-p", "wasmqtt-fleet"],
    ))?;
    if !quick {
        crate::fuzz::quick()?;
    }
    println!("\n== npm package and its Node tests");
    pkg()?;
    let dashboard = if quick {
        None
    } else {
        // README's first command, run as a newcomer runs it; trunk builds dist/ for it, and the
        // dashboard's Node tests use that build.
        println!("\n== the main job, as README's first command starts it (`cargo xtask dev`; its page in headless Chromium)");
        run(&mut cmd("node", &["tests/js/main-job.check.mjs"]))?;
        Some((root().join("dist"), fleet_binary()?))
    };
    node_tests(quick, dashboard)?;
    if !quick {
        println!(
            "\n== browser tests of the wasm build and the driver (headless Chromium, Firefox)"
        );
        browser_tests()?;
    }
    println!("\nall tests passed");
    Ok(())
}

pub fn bench(args: &[String]) -> Result {
    let _ = args;
    tools::setup(Need {
        wasm: true,
        trunk: true,
        node_deps: true,
        browsers: true,
        brokers: true,
        ..Need::default()
    })?;
    println!("\n== native codec");
    run(&mut cmd(
        "cargo",
        &["bench", "-p", "wasmqtt", "--bench", "codec"],
    ))?;
    println!("\n== JS API in Node, against mqtt-packet");
    pkg()?;
    install_package()?;
    run(&mut cmd("node", &["tests/js/bench/codec.bench.mjs"]))?;
    println!("\n== the client in headless Chromium, against MQTT.js (a few minutes)");
    run(&mut cmd("node", &["tests/js/bench/browser.bench.mjs"]))?;
    let (dist, fleet) = (dashboard_dist()?, fleet_binary()?);
    println!("\n== the dashboard's start-up, task by task, against the same DOM without script (a few minutes)");
    run(cmd("node", &["tests/js/bench/startup.bench.mjs"])
        .env("WASMQTT_DIST", &dist)
        .env("WASMQTT_FLEET", &fleet))?;
    println!("\n== the dashboard with 10,000 simulated devices (a few minutes)");
    run(cmd("node", &["tests/js/bench/dashboard.bench.mjs"])
        .env("WASMQTT_DIST", dist)
        .env("WASMQTT_FLEET", fleet))
}

/// The fleet over a 3-node cluster, as many devices as asked (default 30,000): connection time,
/// spread over nodes, CPU and memory per process, telemetry through a shared subscription.
/// `cargo xtask bench-cluster [devices] [interval-ms] [seconds]`; figures go to BENCHMARKS.md.
pub fn bench_cluster(args: &[String]) -> Result {
    tools::setup(Need {
        node_deps: true,
        ..Need::default()
    })?;
    let fleet = fleet_binary()?;
    let mut c = cmd("node", &["tests/js/bench/cluster.bench.mjs"]);
    c.args(args).env("WASMQTT_FLEET", fleet);
    run(&mut c)
}

/// Ports the embedded broker prefers (the dashboard's default broker is ws://127.0.0.1:9001).
const FLEET_WS_PORT: u16 = 9001;
const FLEET_TCP_PORT: u16 = 1883;

/// `preferred` when `prefer` is set and it is free, else any free port.
fn pick_port(preferred: u16, prefer: bool) -> u16 {
    if prefer && port_free(preferred) {
        preferred
    } else {
        free_port()
    }
}

/// Starts the fleet binary as a service named `name` with `args`; it exits with this process
/// (`--exit-with-parent`: it watches its stdin, which closes when xtask exits).
fn spawn_fleet(bin: &std::path::Path, name: &str, args: &[&str]) -> Result<Service> {
    let mut all = args.to_vec();
    all.push("--exit-with-parent");
    Service::start(
        name,
        cmd(bin.to_str().unwrap_or("wasmqtt-fleet"), &all)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null()),
    )
}

/// Builds the dev tool's broker and device fleet (xtask/fleet) and returns the binary.
pub fn fleet_binary() -> Result<PathBuf> {
    // rmqtt's raft plugin generates its gRPC code with the system's protoc.
    tools::fleet_build_deps()?;
    run(&mut cmd(
        "cargo",
        &["build", "--profile", "tool", "-p", "wasmqtt-fleet"],
    ))?;
    Ok(root().join("target/tool/wasmqtt-fleet"))
}

/// Starts the embedded broker and `devices` simulated devices; returns it and its ws:// URL.
pub fn start_fleet(devices: usize, prefer_default_ports: bool) -> Result<(Service, String)> {
    let bin = fleet_binary()?;
    let pick = |preferred: u16| pick_port(preferred, prefer_default_ports);
    let (ws, tcp) = (pick(FLEET_WS_PORT), pick(FLEET_TCP_PORT));
    let mut fleet = spawn_fleet(
        &bin,
        "wasmqtt-fleet",
        &[
            "--ws-port",
            &ws.to_string(),
            "--tcp-port",
            &tcp.to_string(),
            "--devices",
            &devices.to_string(),
        ],
    )?;
    wait_for_port(ws, Duration::from_secs(30))?;
    fleet.check_alive()?;
    Ok((fleet, format!("ws://127.0.0.1:{ws}/mqtt")))
}

/// A cluster of rmqtt nodes on loopback (rmqtt's raft plugin; xtask/fleet/src/cluster.rs), each
/// its own process, and the simulated devices spread over them.
pub struct Cluster {
    _nodes: Vec<Service>,
    pub ws: Vec<String>,
    pub tcp: Vec<u16>,
    _devices: Option<Service>,
}

/// Starts `n` nodes and `devices` devices over them; `prefer_default_ports` puts node k's
/// WebSocket on 9000+k and its TCP listener on 1882+k when they are free.
pub fn start_cluster(n: usize, devices: usize, prefer_default_ports: bool) -> Result<Cluster> {
    let bin = fleet_binary()?;
    let pick = |preferred: u16| pick_port(preferred, prefer_default_ports);
    let ports: Vec<(u16, u16)> = (0..n as u16)
        .map(|k| (pick(FLEET_WS_PORT + k), pick(FLEET_TCP_PORT + k)))
        .collect();
    // `id@127.0.0.1:port` for each node: its gRPC server, and its raft endpoint.
    let list = || {
        (1..=n)
            .map(|id| format!("{id}@127.0.0.1:{}", free_port()))
            .collect::<Vec<_>>()
            .join(",")
    };
    let (grpc, raft) = (list(), list());
    let mut nodes = Vec::new();
    for (k, (ws, tcp)) in ports.iter().enumerate() {
        let node = spawn_fleet(
            &bin,
            &format!("rmqtt node {}", k + 1),
            &[
                "--broker-only",
                "--node-id",
                &(k + 1).to_string(),
                "--grpc-addrs",
                &grpc,
                "--raft-addrs",
                &raft,
                "--ws-port",
                &ws.to_string(),
                "--tcp-port",
                &tcp.to_string(),
            ],
        )?;
        nodes.push(node);
    }
    // A node opens its listeners once it has joined the cluster (node 1 leads a new one).
    for (node, (ws, _)) in nodes.iter_mut().zip(&ports) {
        wait_for_port(*ws, Duration::from_secs(90))?;
        node.check_alive()?;
    }
    let tcp: Vec<u16> = ports.iter().map(|(_, t)| *t).collect();
    let devices = if devices > 0 {
        let urls: Vec<String> = tcp.iter().map(|p| format!("tcp://127.0.0.1:{p}")).collect();
        let mut d = spawn_fleet(
            &bin,
            "wasmqtt-fleet (devices)",
            &[
                "--devices-only",
                &urls.join(","),
                "--devices",
                &devices.to_string(),
            ],
        )?;
        d.check_alive()?;
        Some(d)
    } else {
        None
    };
    Ok(Cluster {
        _nodes: nodes,
        ws: ports
            .iter()
            .map(|(ws, _)| format!("ws://127.0.0.1:{ws}/mqtt"))
            .collect(),
        tcp,
        _devices: devices,
    })
}

/// The main job: the embedded broker with simulated devices, and the dashboard served by trunk.
/// `--devices N` (default 50); `--cluster N`: N rmqtt nodes in a raft cluster instead of one
/// broker, the devices spread over them, the dashboard given the nodes as its failover list;
/// `--port P`: the dashboard on 127.0.0.1:P instead of 8080.
pub fn dev(args: &[String]) -> Result {
    let number = |flag: &str, max: usize| -> Result<Option<usize>> {
        match args.iter().position(|a| a == flag) {
            Some(i) => args
                .get(i + 1)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= max)
                .map(Some)
                .ok_or_else(|| format!("{flag} wants a number up to {max}")),
            None => Ok(None),
        }
    };
    let devices = number("--devices", 50_000)?.unwrap_or(50);
    let cluster = number("--cluster", 9)?.filter(|n| *n > 1);
    let port = match number("--port", u16::MAX.into())? {
        Some(0) => return Err("--port wants a number from 1 to 65535".into()),
        Some(p) => p,
        None => 8080,
    };
    if let Some(a) = args.iter().find(|a| {
        a.starts_with("--") && !["--devices", "--cluster", "--port"].contains(&a.as_str())
    }) {
        return Err(format!(
            "unknown option {a}: cargo xtask dev [--devices N] [--cluster NODES] [--port P]"
        ));
    }
    tools::setup(Need {
        wasm: true,
        trunk: true,
        ..Need::default()
    })?;
    // Trunk builds offline (Trunk.toml): fetch the crates first on a fresh machine.
    run(&mut cmd("cargo", &["fetch"]))?;
    let (_fleet, _cluster, page) = if let Some(n) = cluster {
        let c = start_cluster(n, devices, true)?;
        // The dashboard gets the nodes as its failover list, node 1 first.
        let page = format!("http://127.0.0.1:{port}/?broker={}", c.ws.join(","));
        println!(
            "\n  rmqtt cluster:   {n} nodes (raft), WebSocket {}\n                   devices over TCP {}",
            c.ws.join(" "),
            c.tcp
                .iter()
                .map(|p| format!("127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        (None, Some(c), page)
    } else {
        let (fleet, ws) = start_fleet(devices, true)?;
        let page = if ws == format!("ws://127.0.0.1:{FLEET_WS_PORT}/mqtt") {
            format!("http://127.0.0.1:{port}/")
        } else {
            format!("http://127.0.0.1:{port}/?broker={ws}")
        };
        println!("\n  embedded broker: {ws}");
        (Some(fleet), None, page)
    };
    println!(
        "  devices:         {devices} simulated\n  dashboard:       {page}\n  (the first build takes a few minutes; Ctrl-C stops everything)\n"
    );
    run(cmd(
        "trunk",
        &["serve", "--release", "--port", &port.to_string()],
    )
    .env("PATH", tool_path()))
}

/// Screenshots of the dashboard's main views into docs/.
pub fn screenshots() -> Result {
    tools::setup(Need {
        wasm: true,
        trunk: true,
        node_deps: true,
        browsers: true,
        ..Need::default()
    })?;
    let (dist, fleet) = (dashboard_dist()?, fleet_binary()?);
    run(cmd("node", &["tests/js/screenshots.mjs", "docs"])
        .env("WASMQTT_DIST", dist)
        .env("WASMQTT_FLEET", fleet))
}
