//! `wasmqtt-fleet`: what the dashboard talks to when nothing else is given. An embedded MQTT 5
//! broker (rmqtt, a real broker crate: TCP for the devices, WebSocket for browsers) and a fleet of
//! simulated devices, each one a wasmqtt client core driven over TCP by `link.rs`.
//!
//! ```text
//! wasmqtt-fleet [--ws-port 9001] [--tcp-port 1883] [--devices 50] [--interval-ms 2000]
//!               [--crash-every-s 300] [--seed N] [--broker-only] [--devices-only tcp://host:port]
//! ```
//! Prints `ready ws://127.0.0.1:<port>/mqtt` once the broker listens and the devices are started.

mod broker;
mod device;
mod link;
mod origin;
mod twin;

use std::time::Duration;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub ws_port: u16,
    pub tcp_port: u16,
    pub devices: usize,
    pub interval: Duration,
    pub crash_every: Duration,
    pub seed: u64,
    pub broker: bool,
    /// Where the devices connect when the broker is not ours.
    pub device_url: Option<String>,
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
            interval: Duration::from_millis(2000),
            crash_every: Duration::from_secs(300),
            seed: 0x5EED,
            broker: true,
            device_url: None,
            exit_with_parent: false,
        }
    }
}

const USAGE: &str =
    "usage: wasmqtt-fleet [--ws-port P] [--tcp-port P] [--devices N] [--interval-ms MS] \
[--crash-every-s S] [--seed N] [--broker-only] [--devices-only tcp://host:port] [--exit-with-parent]";

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
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
                if o.devices > 10_000 {
                    return Err("--devices is at most 10,000".into());
                }
            }
            "--interval-ms" => o.interval = Duration::from_millis(number(value()?)?.max(10)),
            "--crash-every-s" => o.crash_every = Duration::from_secs(number(value()?)?),
            "--seed" => o.seed = number(value()?)?,
            "--broker-only" => o.devices = 0,
            "--exit-with-parent" => o.exit_with_parent = true,
            "--devices-only" => {
                o.broker = false;
                o.device_url = Some(value()?);
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    Ok(o)
}

fn main() -> std::process::ExitCode {
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
    let device_url = match (&o.device_url, o.broker) {
        (Some(url), _) => url.clone(),
        (None, _) => format!("tcp://127.0.0.1:{}", o.tcp_port),
    };
    let broker = if o.broker {
        Some(broker::start(o.tcp_port, o.ws_port).await?)
    } else {
        None
    };
    let fleet = device::Fleet::start(&o, device_url);
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
