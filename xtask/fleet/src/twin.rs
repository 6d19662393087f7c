//! A simulated device's side of the shadow convention (the dashboard's reader is
//! `src/ui/model/shadow.rs`; README, "Device shadows"):
//!
//! - it reports its state, retained, on `devices/{id}/shadow/reported` as
//!   `{"version": N, "state": {"firmware", "interval_ms", "setpoint", "ota"}}`, N increasing;
//!   sometimes late, and now and then an older report again after a newer one (not retained:
//!   the retained copy stays the newest), as devices behind flaky links do;
//! - it reads the desired state (retained) on `devices/{id}/shadow/desired`, checks every field,
//!   and answers on `.../shadow/accepted` (`{"version": N}`) or `.../shadow/rejected`
//!   (`{"version": N, "reason": "..."}`); an update is taken whole or not at all;
//! - a new desired `firmware` starts an upgrade: download progress, install, then the new
//!   version, or (a few percent) a failure with its reason.
//!
//! Sans-IO like the client core: time comes in as `now` (since the device started), what to
//! publish goes out as [`Out`] with the time it is due.

use std::time::Duration;

use serde_json::{json, Map, Value};
use wasmqtt::proto::Rng;

/// Firmware versions that exist.
pub const FIRMWARE: [&str; 5] = ["1.2.0", "1.3.0", "1.3.1", "1.4.0", "2.0.0"];
/// Share of upgrades that fail, in percent.
pub const UPGRADE_FAILS_PERCENT: u64 = 4;
/// Allowed ranges.
pub const INTERVAL_MS: (u64, u64) = (100, 600_000);
/// See [`INTERVAL_MS`].
pub const SETPOINT: (f64, f64) = (5.0, 35.0);

/// Something to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    /// When, since the device started.
    pub due: Duration,
    /// The topic's last level under `devices/{id}/shadow/`: reported, accepted or rejected.
    pub to: &'static str,
    /// JSON.
    pub payload: String,
    /// Retained.
    pub retain: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Downloading(u64),
    Installing,
}

#[derive(Debug, Clone)]
struct Upgrade {
    target: String,
    phase: Phase,
    fails: bool,
    next: Duration,
}

/// The device's shadow state.
// Design: one value per device that outlives its connections (a crash does not reset the
// version, so reports keep increasing across reconnects, as a device's flash-stored counter
// would); reports go out in order of due time for the retained copy, so the broker's retained
// report is always the newest.
pub struct Twin {
    version: u64,
    firmware: String,
    interval_ms: u64,
    setpoint: f64,
    ota: Value,
    model: &'static str,
    handled: u64,
    upgrade: Option<Upgrade>,
    last_doc: Option<String>,
    floor: Duration,
}

impl Twin {
    /// A device of `model` at `interval`, its firmware picked by `n` (most on 1.3.0).
    pub fn new(n: usize, model: &'static str, interval: Duration) -> Twin {
        let firmware = match n % 10 {
            0..=5 => "1.3.0",
            6..=8 => "1.2.0",
            _ => "1.3.1",
        };
        Twin {
            version: 0,
            firmware: firmware.into(),
            interval_ms: interval.as_millis() as u64,
            setpoint: 21.0,
            ota: Value::Null,
            model,
            handled: 0,
            upgrade: None,
            last_doc: None,
            floor: Duration::ZERO,
        }
    }

    /// Its firmware version.
    pub fn firmware(&self) -> &str {
        &self.firmware
    }

    /// Its reporting interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }

    /// When `poll` has something to do.
    pub fn next_wake(&self) -> Option<Duration> {
        self.upgrade.as_ref().map(|u| u.next)
    }

    /// Connected: it reports its state (a device reports on boot).
    pub fn on_connect(&mut self, now: Duration, rng: &mut Rng) -> Vec<Out> {
        self.report(now, rng)
    }

    /// The interval changed by a command: reported like any change.
    pub fn set_interval(&mut self, ms: u64, now: Duration, rng: &mut Rng) -> Vec<Out> {
        self.interval_ms = ms;
        self.report(now, rng)
    }

    /// A desired document came.
    pub fn on_desired(&mut self, payload: &[u8], now: Duration, rng: &mut Rng) -> Vec<Out> {
        let Ok(doc) = serde_json::from_slice::<Value>(payload) else {
            return Vec::new(); // not for us to answer: it has no version to answer to
        };
        let (Some(version), Some(state)) = (
            doc.get("version").and_then(Value::as_u64),
            doc.get("state").and_then(Value::as_object),
        ) else {
            return Vec::new();
        };
        if version <= self.handled {
            return Vec::new(); // the retained copy again, or an old one
        }
        self.handled = version;
        let answer_at = now + Duration::from_millis(50 + rng.up_to(250));
        if let Err(reason) = self.check(state) {
            return vec![Out {
                due: answer_at,
                to: "rejected",
                payload: json!({"version": version, "reason": reason}).to_string(),
                retain: false,
            }];
        }
        let mut out = vec![Out {
            due: answer_at,
            to: "accepted",
            payload: json!({ "version": version }).to_string(),
            retain: false,
        }];
        if let Some(ms) = state.get("interval_ms").and_then(Value::as_u64) {
            self.interval_ms = ms;
        }
        if let Some(sp) = state.get("setpoint").and_then(Value::as_f64) {
            self.setpoint = sp;
        }
        if let Some(fw) = state.get("firmware").and_then(Value::as_str) {
            if fw != self.firmware && self.upgrade.is_none() {
                self.upgrade = Some(Upgrade {
                    target: fw.to_string(),
                    phase: Phase::Downloading(0),
                    fails: rng.up_to(99) < UPGRADE_FAILS_PERCENT,
                    next: now + Duration::from_millis(300 + rng.up_to(600)),
                });
                self.ota = json!({"state": "downloading", "progress": 0, "target": fw});
            }
        }
        out.extend(self.report(answer_at, rng));
        out
    }

    /// Moves an upgrade on when its time comes.
    pub fn poll(&mut self, now: Duration, rng: &mut Rng) -> Vec<Out> {
        let Some(u) = &mut self.upgrade else {
            return Vec::new();
        };
        if now < u.next {
            return Vec::new();
        }
        u.next = now + Duration::from_millis(300 + rng.up_to(600));
        let target = u.target.clone();
        match u.phase {
            Phase::Downloading(p) => {
                let p = (p + 15 + rng.up_to(20)).min(100);
                if p >= 100 {
                    u.phase = Phase::Installing;
                    self.ota = json!({"state": "installing", "progress": 100, "target": target});
                } else {
                    u.phase = Phase::Downloading(p);
                    self.ota = json!({"state": "downloading", "progress": p, "target": target});
                }
            }
            Phase::Installing => {
                if u.fails {
                    let reason =
                        ["image checksum mismatch", "flash write failed"][rng.up_to(1) as usize];
                    self.ota = json!({"state": "failed", "target": target, "reason": reason});
                } else {
                    self.firmware = target.clone();
                    self.ota = json!({"state": "done", "target": target});
                }
                self.upgrade = None;
            }
        }
        self.report(now, rng)
    }

    /// Why this desired state cannot be taken, if it cannot.
    fn check(&self, state: &Map<String, Value>) -> Result<(), String> {
        for (k, v) in state {
            match k.as_str() {
                "firmware" => {
                    let Some(fw) = v.as_str() else {
                        return Err(format!("firmware must be a version string, not {v}"));
                    };
                    if !FIRMWARE.contains(&fw) {
                        return Err(format!(
                            "unknown firmware {fw} (known: {})",
                            FIRMWARE.join(", ")
                        ));
                    }
                    if fw.starts_with("2.") && self.model.starts_with("PM-3") {
                        return Err(format!("firmware {fw} is not built for the {}", self.model));
                    }
                    if let Some(u) = &self.upgrade {
                        if u.target != fw {
                            return Err(format!("an upgrade to {} is in progress", u.target));
                        }
                    }
                }
                "interval_ms" => match v.as_u64() {
                    Some(ms) if (INTERVAL_MS.0..=INTERVAL_MS.1).contains(&ms) => {}
                    _ => {
                        return Err(format!(
                            "interval_ms {v} out of {}..{}",
                            INTERVAL_MS.0, INTERVAL_MS.1
                        ))
                    }
                },
                "setpoint" => match v.as_f64() {
                    Some(sp) if (SETPOINT.0..=SETPOINT.1).contains(&sp) => {}
                    _ => {
                        return Err(format!(
                            "setpoint {v} out of {}..{}",
                            SETPOINT.0, SETPOINT.1
                        ))
                    }
                },
                other => {
                    return Err(format!(
                        "unknown field \"{other}\" (known: firmware, interval_ms, setpoint)"
                    ))
                }
            }
        }
        Ok(())
    }

    /// A new version of the reported state; sometimes late, now and then followed by the
    /// previous one again.
    fn report(&mut self, now: Duration, rng: &mut Rng) -> Vec<Out> {
        self.version += 1;
        let mut state = json!({
            "firmware": self.firmware,
            "interval_ms": self.interval_ms,
            "setpoint": self.setpoint,
        });
        if !self.ota.is_null() {
            state["ota"] = self.ota.clone();
        }
        let doc = json!({"version": self.version, "state": state}).to_string();
        let late = if rng.up_to(99) < 8 {
            Duration::from_millis(300 + rng.up_to(1700))
        } else {
            Duration::ZERO
        };
        // Retained reports leave in version order, whatever their delays.
        let due = (now + late).max(self.floor);
        self.floor = due;
        let mut out = vec![Out {
            due,
            to: "reported",
            payload: doc.clone(),
            retain: true,
        }];
        if let Some(prev) = self.last_doc.replace(doc) {
            if rng.up_to(99) < 5 {
                out.push(Out {
                    due: due + Duration::from_millis(200 + rng.up_to(1300)),
                    to: "reported",
                    payload: prev,
                    retain: false,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(version: u64, state: Value) -> Vec<u8> {
        json!({"version": version, "state": state})
            .to_string()
            .into_bytes()
    }

    fn version_of(o: &Out) -> u64 {
        serde_json::from_str::<Value>(&o.payload).unwrap()["version"]
            .as_u64()
            .unwrap()
    }

    #[test]
    fn an_upgrade_runs_to_the_new_version_or_fails_with_a_reason() {
        let mut done = 0;
        let mut failed = 0;
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let mut t = Twin::new(0, "TH-200 thermo-hygrometer", Duration::from_secs(2));
            let mut outs = t.on_connect(Duration::ZERO, &mut rng);
            let answer = t.on_desired(
                &desired(1, json!({"firmware": "1.4.0"})),
                Duration::ZERO,
                &mut rng,
            );
            assert_eq!(answer[0].to, "accepted");
            outs.extend(answer);
            while let Some(now) = t.next_wake() {
                outs.extend(t.poll(now, &mut rng));
                assert!(now < Duration::from_secs(60), "the upgrade ends");
            }
            let retained: Vec<&Out> = outs
                .iter()
                .filter(|o| o.to == "reported" && o.retain)
                .collect();
            // Retained reports leave in version order (so the broker keeps the newest).
            for w in retained.windows(2) {
                assert!(w[0].due <= w[1].due && version_of(w[0]) < version_of(w[1]));
            }
            let last: Value = serde_json::from_str(&retained.last().unwrap().payload).unwrap();
            match last["state"]["ota"]["state"].as_str() {
                Some("done") => {
                    assert_eq!(last["state"]["firmware"], "1.4.0");
                    done += 1;
                }
                Some("failed") => {
                    assert_eq!(last["state"]["firmware"], "1.3.0");
                    assert!(last["state"]["ota"]["reason"].is_string());
                    failed += 1;
                }
                other => panic!("ended {other:?}"),
            }
        }
        assert!(
            failed > 0 && failed < 30,
            "a few percent fail: {failed} of 200"
        );
        assert_eq!(done + failed, 200);
    }

    #[test]
    fn invalid_desired_states_are_rejected_whole_with_a_reason() {
        let mut rng = Rng::new(1);
        let mut t = Twin::new(0, "PM-3 power meter", Duration::from_secs(2));
        for (state, reason) in [
            (json!({"setpoint": 99}), "setpoint 99 out of 5..35"),
            (
                json!({"interval_ms": 5}),
                "interval_ms 5 out of 100..600000",
            ),
            (json!({"firmware": "9.9"}), "unknown firmware 9.9"),
            (
                json!({"firmware": "2.0.0"}),
                "not built for the PM-3 power meter",
            ),
            (json!({"colour": "red"}), "unknown field \"colour\""),
            (
                json!({"setpoint": 22, "firmware": 3}),
                "firmware must be a version string",
            ),
        ] {
            let v = t.handled + 1;
            let out = t.on_desired(&desired(v, state), Duration::ZERO, &mut rng);
            assert_eq!(out.len(), 1, "a rejection and no change");
            assert_eq!(out[0].to, "rejected");
            let answer: Value = serde_json::from_str(&out[0].payload).unwrap();
            assert_eq!(answer["version"], v);
            assert!(
                answer["reason"].as_str().unwrap().contains(reason),
                "{answer}"
            );
        }
        assert_eq!(
            t.setpoint, 21.0,
            "the valid setpoint of a rejected update was not applied"
        );
        // An old or repeated version is not answered again.
        assert!(t
            .on_desired(
                &desired(2, json!({"setpoint": 22})),
                Duration::ZERO,
                &mut rng
            )
            .is_empty());
        let out = t.on_desired(
            &desired(7, json!({"setpoint": 22, "interval_ms": 500})),
            Duration::ZERO,
            &mut rng,
        );
        assert_eq!(out[0].to, "accepted");
        assert_eq!(
            (t.setpoint, t.interval()),
            (22.0, Duration::from_millis(500))
        );
    }

    #[test]
    fn reports_are_sometimes_late_and_sometimes_repeated_out_of_order() {
        let mut rng = Rng::new(7);
        let mut t = Twin::new(3, "AQ-7 air quality", Duration::from_secs(2));
        let mut stale = 0;
        let mut late = 0;
        for i in 0..400u64 {
            let now = Duration::from_secs(i);
            for o in t.set_interval(1000 + i, now, &mut rng) {
                if !o.retain {
                    assert!(version_of(&o) < t.version, "the repeat is an older version");
                    stale += 1;
                } else if o.due > now {
                    late += 1;
                }
            }
        }
        assert!(stale > 5 && late > 10, "{stale} stale, {late} late");
    }
}
