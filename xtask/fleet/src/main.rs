//! `wasmqtt-fleet`: what the dashboard talks to when nothing else is given. An embedded MQTT 5
//! broker (rmqtt, a real broker crate: TCP for the devices, WebSocket for browsers) and a fleet of
//! simulated devices, each one a wasmqtt client core driven over TCP by `link.rs`.
//!
//! ```text
//! wasmqtt-fleet [--ws-port 9001] [--tcp-port 1883] [--devices 50] [--interval-ms 2000]
//!               [--crash-every-s 300] [--seed N] [--broker-only] [--devices-only tcp://host:port,..]
//!               [--first-device N]
//!               [--node-id N --grpc-addrs 1@127.0.0.1:P,.. --raft-addrs 1@127.0.0.1:Q,..]
//! ```
//! Prints `ready ws://127.0.0.1:<port>/mqtt` once the broker listens and the devices are started.
//! With `--node-id`, the broker is one node of an rmqtt raft cluster (cluster.rs); with several
//! URLs, `--devices-only` spreads the devices over them, each with the others as its failover list.

mod broker;
mod cluster;
mod device;
mod link;
mod logger;
mod origin;
mod twin;

use std::time::Duration;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub ws_port: u16,
    pub tcp_port: u16,
    pub devices: usize,
    /// The first device's number (`dev-{first+1}`): several processes can share a fleet.
    pub first_device: usize,
    pub interval: Duration,
    pub crash_every: Duration,
    pub seed: u64,
    pub broker: bool,
    /// Where the devices connect when the broker is not ours: one URL or a cluster's nodes.
    pub device_urls: Vec<String>,
    /// This broker as one node of a cluster.
    pub cluster: Option<cluster::Cluster>,
    /// Exit when standard input closes (the dev tool holds it open: when the dev tool dies,
    /// however it dies, the broker goes with it).
    pub exit_with_parent: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ws_port: 9001,
            tcp_port: 1883,
            devices: 50,
            first_device: 0,
            interval: Duration::from_millis(2000),
            crash_every: Duration::from_secs(300),
            seed: 0x5EED,
            broker: true,
            device_urls: Vec::new(),
            cluster: None,
            exit_with_parent: false,
        }
    }
}

const USAGE: &str =
    "usage: wasmqtt-fleet [--ws-port P] [--tcp-port P] [--devices N] [--interval-ms MS] \
[--crash-every-s S] [--seed N] [--broker-only] [--devices-only tcp://host:port,..] [--first-device N] [--exit-with-parent] \
[--node-id N --grpc-addrs 1@127.0.0.1:P,.. --raft-addrs 1@127.0.0.1:Q,..]";

/// The most devices one process runs (each is a tokio task with a socket: see BENCHMARKS.md,
/// "The fleet over a cluster", for where this machine stops).
pub const MAX_DEVICES: usize = 50_000;

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let (mut node_id, mut grpc, mut raft) = (None, None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag} wants a number, not {v:?}"))
        };
        match flag.as_str() {
            "--ws-port" => o.ws_port = number(value()?)? as u16,
            "--tcp-port" => o.tcp_port = number(value()?)? as u16,
            "--devices" => {
                o.devices = number(value()?)? as usize;
                if o.devices > MAX_DEVICES {
                    return Err(format!("--devices is at most {MAX_DEVICES}"));
                }
            }
            "--first-device" => o.first_device = number(value()?)? as usize,
            "--interval-ms" => o.interval = Duration::from_millis(number(value()?)?.max(10)),
            "--crash-every-s" => o.crash_every = Duration::from_secs(number(value()?)?),
            "--seed" => o.seed = number(value()?)?,
            "--broker-only" => o.devices = 0,
            "--exit-with-parent" => o.exit_with_parent = true,
            "--devices-only" => {
                o.broker = false;
                o.device_urls = value()?
                    .split([',', ' '])
                    .filter(|u| !u.is_empty())
                    .map(String::from)
                    .collect();
                if o.device_urls.is_empty() {
                    return Err("--devices-only wants one or more tcp://host:port URLs".into());
                }
            }
            "--node-id" => node_id = Some(number(value()?)?),
            "--grpc-addrs" => grpc = Some(value()?),
            "--raft-addrs" => raft = Some(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    match (node_id, grpc, raft) {
        (None, None, None) => {}
        (Some(id), Some(g), Some(r)) => o.cluster = Some(cluster::Cluster::new(id, &g, &r)?),
        _ => {
            return Err(format!(
                "a cluster node needs --node-id, --grpc-addrs and --raft-addrs together\n{USAGE}"
            ))
        }
    }
    if o.cluster.is_some() && !o.broker {
        return Err("--node-id runs a broker: it does not go with --devices-only".into());
    }
    Ok(o)
}

fn main() -> std::process::ExitCode {
    logger::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasmqtt-fleet: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(o: Options) -> Result<(), String> {
    let device_urls = if o.device_urls.is_empty() {
        vec![format!("tcp://127.0.0.1:{}", o.tcp_port)]
    } else {
        o.device_urls.clone()
    };
    let broker = if o.broker {
        Some(broker::start(o.tcp_port, o.ws_port, o.cluster.as_ref()).await?)
    } else {
        None
    };
    let fleet = device::Fleet::start(&o, &device_urls);
    if o.broker {
        println!("ready ws://127.0.0.1:{}/mqtt", o.ws_port);
    } else {
        println!("ready (devices only)");
    }
    let parent_gone = async {
        if !o.exit_with_parent {
            return std::future::pending().await;
        }
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::select! {
        r = async { match broker { Some(b) => b.await, None => std::future::pending().await } } => {
            fleet.stop();
            r
        }
        _ = tokio::signal::ctrl_c() => {
            fleet.stop();
            Ok(())
        }
        _ = parent_gone => {
            fleet.stop();
            Ok(())
        }
    }
}
