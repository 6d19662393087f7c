//! Simulated devices. Each is a wasmqtt client core over TCP (link.rs) that behaves like a field
//! device: a will `offline` and a retained `online` birth on `devices/{id}/status`, a retained
//! description on `devices/{id}/meta`, JSON telemetry on `devices/{id}/telemetry` at a steady rate,
//! commands on `devices/{id}/cmd` answered on `devices/{id}/ack`, and now and then a crash (the
//! socket dropped without DISCONNECT, so the broker publishes the will) and a comeback.
//!
//! Commands: `crash` (drop off now), `reboot` (a clean restart), `{"interval_ms": N}` (report rate);
//! anything else is acknowledged with `"ok": false`. Each device also keeps a shadow (twin.rs):
//! reported and desired state on `devices/{id}/shadow/...`, and firmware upgrades.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmqtt::codec::{ProtocolVersion, Publish, QoS, SubscriptionOptions, Will};
use wasmqtt::proto::{ClientError, Config, Event, Granted, Rng};

use crate::link::Link;
use crate::twin::{Out, Twin};
use crate::Options;

/// The running fleet.
// Design: every device is an independent tokio task owning its client core (no shared state
// but the stop flag), so 10,000 devices cost 10,000 small tasks and a crash is just dropping a
// task's socket.
pub struct Fleet {
    stop: Arc<AtomicBool>,
}

impl Fleet {
    /// Starts `o.devices` devices, spread over the first two seconds (longer for large fleets). Device n connects to
    /// `urls[n % len]` first and fails over to the others in turn (a cluster's nodes).
    pub fn start(o: &Options, urls: &[String]) -> Fleet {
        let stop = Arc::new(AtomicBool::new(false));
        let epoch = tokio::time::Instant::now();
        // At most ~2,000 connections a second: a large fleet coming up is not a connect storm.
        let spread = Duration::from_millis(2000.max(o.devices as u64 / 2));
        for k in 0..o.devices {
            // Several processes share a large fleet: each numbers its devices from its own first.
            let n = o.first_device + k;
            let spec = Spec {
                id: device_id(n),
                n,
                urls: (0..urls.len())
                    .map(|k| urls[(n + k) % urls.len()].clone())
                    .collect(),
                interval: o.interval,
                crash_every: o.crash_every,
                seed: o.seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                start_after: spread * k as u32 / o.devices.max(1) as u32,
            };
            let stop = stop.clone();
            tokio::spawn(async move { run(spec, epoch, stop).await });
        }
        Fleet { stop }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `dev-0001` ...: sortable, and the same for the same index on every run.
pub fn device_id(n: usize) -> String {
    format!("dev-{:04}", n + 1)
}

struct Spec {
    id: String,
    n: usize,
    /// The failover list, this device's first node first.
    urls: Vec<String>,
    interval: Duration,
    crash_every: Duration,
    seed: u64,
    start_after: Duration,
}

const MODELS: [&str; 4] = [
    "TH-200 thermo-hygrometer",
    "AQ-7 air quality",
    "PM-3 power meter",
    "TH-210 thermo-hygrometer",
];
const ROOMS: [&str; 8] = [
    "Lab 1",
    "Lab 2",
    "Cold room",
    "Server room",
    "Office 3.14",
    "Warehouse A",
    "Warehouse B",
    "Roof",
];

/// A device's readings, drifting like real sensors.
// Design: values random-walk around a per-device baseline, so sparklines look like sensors and
// not like noise; the battery drains slowly and recharges when it gets low.
struct Sensors {
    temp: f64,
    base_temp: f64,
    humidity: f64,
    battery: f64,
    rssi: f64,
    power: f64,
}

impl Sensors {
    fn new(rng: &mut Rng, n: usize) -> Sensors {
        let base_temp = if ROOMS[n % ROOMS.len()] == "Cold room" {
            4.0
        } else {
            18.0 + unit(rng) * 8.0
        };
        Sensors {
            temp: base_temp,
            base_temp,
            humidity: 35.0 + unit(rng) * 25.0,
            battery: 40.0 + unit(rng) * 60.0,
            rssi: -45.0 - unit(rng) * 40.0,
            power: 50.0 + unit(rng) * 900.0,
        }
    }

    fn step(&mut self, rng: &mut Rng) {
        let noise = |rng: &mut Rng, scale: f64| (unit(rng) - 0.5) * scale;
        self.temp += noise(rng, 0.6) + (self.base_temp - self.temp) * 0.05;
        self.humidity = (self.humidity + noise(rng, 1.5)).clamp(5.0, 95.0);
        self.battery -= 0.02 + unit(rng) * 0.03;
        if self.battery < 8.0 {
            self.battery = 100.0;
        }
        self.rssi = (self.rssi + noise(rng, 3.0)).clamp(-95.0, -35.0);
        self.power = (self.power + noise(rng, 40.0)).clamp(0.0, 2000.0);
    }

    fn json(&self, uptime_s: u64, seq: u64) -> String {
        format!(
            "{{\"temp\":{:.2},\"humidity\":{:.1},\"battery\":{:.0},\"rssi\":{:.0},\"power\":{:.1},\"uptime\":{uptime_s},\"seq\":{seq}}}",
            self.temp, self.humidity, self.battery, self.rssi, self.power
        )
    }
}

/// A uniform number in [0, 1).
fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// An exponentially distributed delay with this mean (crashes arrive at random).
fn exponential(rng: &mut Rng, mean: Duration) -> Duration {
    let u = unit(rng).max(1e-9);
    Duration::from_secs_f64((-u.ln() * mean.as_secs_f64()).min(mean.as_secs_f64() * 20.0))
}

/// Subscribes the device to its commands and its desired state (QoS 1).
fn subscribe(link: &mut Link, spec: &Spec, desired: &str) {
    let qos1 = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    let now = link.now();
    let _ = link.client.subscribe(
        now,
        vec![
            (format!("devices/{}/cmd", spec.id).into(), qos1),
            (desired.to_string().into(), qos1),
        ],
        None,
        Vec::new(),
    );
}

/// Why a subscription of the device's did not take, if it did not: a filter refused (a SUBACK
/// failure code) or the whole operation failed. The device then subscribes again.
fn refusal(result: &Result<Vec<Granted>, ClientError>) -> Option<String> {
    match result {
        Ok(granted) => granted
            .iter()
            .find_map(|g| g.err())
            .map(|r| format!("{r:?}")),
        Err(e) => Some(e.to_string()),
    }
}

fn publish(topic: String, payload: String, qos: QoS, retain: bool) -> Publish {
    let mut p = Publish::new(topic, payload.into_bytes());
    p.qos = qos;
    p.retain = retain;
    p
}

/// How a life of the device ended.
enum End {
    Crash,
    Reboot,
    Stop,
}

async fn run(spec: Spec, epoch: tokio::time::Instant, stop: Arc<AtomicBool>) {
    let mut rng = Rng::new(spec.seed);
    let mut sensors = Sensors::new(&mut rng, spec.n);
    let mut twin = Twin::new(spec.n, MODELS[spec.n % MODELS.len()], spec.interval);
    tokio::time::sleep(spec.start_after).await;
    let mut seq = 0u64;
    loop {
        match life(
            &spec,
            epoch,
            &stop,
            &mut rng,
            &mut sensors,
            &mut twin,
            &mut seq,
        )
        .await
        {
            End::Stop => return,
            End::Reboot => tokio::time::sleep(Duration::from_millis(500)).await,
            End::Crash => {
                // Off the air for a while, as a device that lost power or network.
                let down = Duration::from_secs(5) + Duration::from_millis(rng.up_to(15_000));
                tokio::time::sleep(down).await;
            }
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// One connection's worth of device life: from power-on to a crash, a reboot, or the end.
async fn life(
    spec: &Spec,
    epoch: tokio::time::Instant,
    stop: &AtomicBool,
    rng: &mut Rng,
    sensors: &mut Sensors,
    twin: &mut Twin,
    seq: &mut u64,
) -> End {
    let since_start = || tokio::time::Instant::now() - epoch;
    let shadow = |to: &str| format!("devices/{}/shadow/{to}", spec.id);
    let desired = shadow("desired");
    // Shadow documents waiting for their time (late reports, answers): lost with a crash.
    let mut outbox: Vec<Out> = Vec::new();
    let status = format!("devices/{}/status", spec.id);
    let mut cfg = Config::new(spec.urls[0].clone());
    cfg.urls = spec.urls.clone();
    cfg.protocol = ProtocolVersion::V5;
    cfg.client_id = spec.id.clone();
    cfg.keep_alive = 30;
    cfg.seed = rng.next_u64();
    cfg.will = Some(Will {
        topic: status.clone().into(),
        payload: "offline".into(),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Default::default(),
    });
    let mut link = Link::new(cfg, epoch);
    let born = tokio::time::Instant::now();
    let now = link.now();
    link.client.start(now);
    let crash_at = born + exponential(rng, spec.crash_every);
    let jitter = |rng: &mut Rng, d: Duration| d.mul_f64(0.8 + unit(rng) * 0.4);
    let mut next_report = born + jitter(rng, twin.interval());
    let mut events = Vec::new();
    let mut resubscribe_at: Option<tokio::time::Instant> = None;
    link.flush(&mut events).await;
    loop {
        if stop.load(Ordering::Relaxed) {
            return End::Stop;
        }
        let now_t = tokio::time::Instant::now();
        if now_t >= crash_at {
            return End::Crash; // dropping the link drops the socket: the broker sends the will
        }
        let before = twin.firmware().to_string();
        outbox.extend(twin.poll(since_start(), rng));
        if twin.firmware() != before && link.client.is_connected() {
            // Upgraded: the description says the new version too.
            let now = link.now();
            let _ = link.client.publish(now, meta(spec, twin));
        }
        if !outbox.is_empty() && link.client.is_connected() {
            let now = since_start();
            outbox.sort_by_key(|o| o.due);
            let due = outbox.iter().take_while(|o| o.due <= now).count();
            let t = link.now();
            for o in outbox.drain(..due) {
                let p = publish(shadow(o.to), o.payload, QoS::AtLeastOnce, o.retain);
                let _ = link.client.publish(t, p);
            }
        }
        if now_t >= next_report {
            next_report = now_t + jitter(rng, twin.interval());
            if link.client.is_connected() {
                sensors.step(rng);
                *seq += 1;
                let body = sensors.json(born.elapsed().as_secs(), *seq);
                let now = link.now();
                let _ = link.client.publish(
                    now,
                    publish(
                        format!("devices/{}/telemetry", spec.id),
                        body,
                        QoS::AtMostOnce,
                        false,
                    ),
                );
            }
        }
        if resubscribe_at.is_some_and(|at| now_t >= at) && link.client.is_connected() {
            resubscribe_at = None;
            subscribe(&mut link, spec, &desired);
        }
        let mut wake = next_report
            .min(crash_at)
            .min(now_t + Duration::from_millis(500));
        for at in outbox.iter().map(|o| o.due).chain(twin.next_wake()) {
            wake = wake.min(epoch + at);
        }
        link.step(wake, &mut events).await;
        for e in events.drain(..) {
            match e {
                Event::Connected(_) => {
                    let now = link.now();
                    let c = &mut link.client;
                    let _ = c.publish(
                        now,
                        publish(status.clone(), "online".into(), QoS::AtLeastOnce, true),
                    );
                    let _ = c.publish(now, meta(spec, twin));
                    subscribe(&mut link, spec, &desired);
                    resubscribe_at = None;
                    outbox.extend(twin.on_connect(since_start(), rng));
                }
                Event::Subscribed { result, .. } => {
                    // A real device does not give up its commands: a refused or failed
                    // subscription (a cluster whose raft leader is busy answers 0x80 or times
                    // out) is tried again, 1-3 s later.
                    if let Some(why) = refusal(&result) {
                        let again = Duration::from_secs(1)
                            + Duration::from_millis((unit(rng) * 2000.0) as u64);
                        log::warn!(
                            "{}: subscription refused ({why}); again in {again:?}",
                            spec.id
                        );
                        resubscribe_at = Some(tokio::time::Instant::now() + again);
                    }
                }
                Event::Message(m) if m.publish.topic.as_str() == desired => {
                    outbox.extend(twin.on_desired(&m.publish.payload, since_start(), rng));
                    // A shorter interval takes effect now, not after the old one.
                    let sooner = tokio::time::Instant::now() + twin.interval();
                    next_report = next_report.min(sooner);
                }
                Event::Message(m) => {
                    let cmd = String::from_utf8_lossy(&m.publish.payload)
                        .trim()
                        .to_string();
                    let (ok, end) = match cmd.as_str() {
                        "crash" => (true, Some(End::Crash)),
                        "reboot" => (true, Some(End::Reboot)),
                        c if c.contains("\"interval_ms\"") => match parse_interval(c) {
                            Some(ms) => {
                                let ms = ms.clamp(10, 3_600_000);
                                outbox.extend(twin.set_interval(ms, since_start(), rng));
                                next_report = tokio::time::Instant::now() + twin.interval();
                                (true, None)
                            }
                            None => (false, None),
                        },
                        _ => (false, None),
                    };
                    let now = link.now();
                    let ack = format!("{{\"cmd\":{},\"ok\":{ok}}}", json_string(&cmd));
                    let _ = link.client.publish(
                        now,
                        publish(
                            format!("devices/{}/ack", spec.id),
                            ack,
                            QoS::AtLeastOnce,
                            false,
                        ),
                    );
                    link.flush(&mut Vec::new()).await;
                    match end {
                        Some(End::Reboot) => {
                            // A clean restart: say goodbye (no will), come back at once.
                            let now = link.now();
                            let _ = link.client.publish(
                                now,
                                publish(status.clone(), "offline".into(), QoS::AtLeastOnce, true),
                            );
                            link.client.disconnect(now, Default::default());
                            let until = tokio::time::Instant::now() + Duration::from_secs(2);
                            while link.client.is_connected() && tokio::time::Instant::now() < until
                            {
                                link.step(until, &mut Vec::new()).await;
                            }
                            return End::Reboot;
                        }
                        Some(End::Crash) => return End::Crash,
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
}

/// The retained description: model, room, firmware.
fn meta(spec: &Spec, twin: &Twin) -> Publish {
    let doc = format!(
        "{{\"model\":\"{}\",\"room\":\"{}\",\"firmware\":\"{}\"}}",
        MODELS[spec.n % MODELS.len()],
        ROOMS[(spec.n / 2) % ROOMS.len()],
        twin.firmware()
    );
    publish(
        format!("devices/{}/meta", spec.id),
        doc,
        QoS::AtLeastOnce,
        true,
    )
}

fn parse_interval(s: &str) -> Option<u64> {
    let rest = &s[s.find("\"interval_ms\"")? + "\"interval_ms\"".len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_and_acknowledgements_are_json() {
        assert_eq!(parse_interval("{\"interval_ms\": 500}"), Some(500));
        assert_eq!(parse_interval("{\"interval_ms\":\"x\"}"), None);
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
        assert_eq!(device_id(0), "dev-0001");
    }

    // A cluster whose raft leader is busy refuses SUBSCRIBEs (0x80) during a connection storm;
    // a device that took that as final never got its commands.
    #[test]
    fn a_refused_or_failed_subscription_is_one_to_make_again() {
        use wasmqtt::codec::ReasonCode;
        let granted = Ok(vec![Ok(QoS::AtLeastOnce), Ok(QoS::AtMostOnce)]);
        assert_eq!(refusal(&granted), None);
        let one_refused = Ok(vec![
            Ok(QoS::AtLeastOnce),
            Err(ReasonCode::UnspecifiedError),
        ]);
        assert_eq!(refusal(&one_refused).as_deref(), Some("UnspecifiedError"));
        let failed = Err(ClientError::NotConnected);
        assert!(refusal(&failed).is_some());
    }
}
