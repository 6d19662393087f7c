//! Alerts: rules over the fleet (a telemetry field under or over a threshold, a device silent for
//! more than N of its intervals, a rollout that failed or was refused), evaluated once a second.
//! An alert is raised when its condition starts holding for a device and ends when it stops;
//! the operator can dismiss it, and it stays dismissed until its condition clears and holds again.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::devices::Devices;
use super::shadow::{Shadows, Sync};

/// Rules at most.
pub const MAX_RULES: usize = 16;
/// Alerts held at most (more are counted, not kept).
pub const MAX_ACTIVE: usize = 5_000;

/// When a rule fires for a device.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A telemetry field (top level) under a value.
    Below {
        /// The field.
        field: String,
        /// The threshold.
        value: f64,
    },
    /// A telemetry field over a value.
    Above {
        /// The field.
        field: String,
        /// The threshold.
        value: f64,
    },
    /// Nothing from the device for more than this many of its usual intervals.
    Silent {
        /// How many intervals.
        intervals: f64,
    },
    /// Its desired state was refused, or accepted and failed (an upgrade that did not take).
    RolloutFailed,
}

/// A rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its number.
    pub id: u32,
    /// Its name, as shown.
    pub name: String,
    /// When it fires.
    pub condition: Condition,
}

/// A raised alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The rule.
    pub rule: u32,
    /// The device.
    pub device: String,
    /// Since when, ms since the Unix epoch.
    pub since_ms: f64,
    /// What was seen ("battery 12", "silent 45 s", "failed: checksum").
    pub detail: String,
}

/// Per rule: alerts now, and raised in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleCount {
    /// Holding now (dismissed or not).
    pub active: usize,
    /// Raised since the page opened.
    pub raised: u64,
}

/// The rules and what they raised.
// Design: alerts are keyed by (rule, device) in a BTreeMap so the list is stable and a device
// never has two alerts for one rule; dismissal is a set beside it, cleared for a key when its
// condition clears, so a problem that comes back is shown again.
#[derive(Debug, Clone)]
pub struct Alerts {
    rules: Vec<Rule>,
    active: BTreeMap<(u32, String), Alert>,
    dismissed: HashSet<(u32, String)>,
    raised: HashMap<u32, u64>,
    /// Alerts holding at the last evaluation but not kept, because [`MAX_ACTIVE`] were.
    pub overflow: u64,
    next: u32,
}

impl Default for Alerts {
    fn default() -> Self {
        let mut a = Alerts {
            rules: Vec::new(),
            active: BTreeMap::new(),
            dismissed: HashSet::new(),
            raised: HashMap::new(),
            overflow: 0,
            next: 0,
        };
        let below = Condition::Below {
            field: "battery".into(),
            value: 20.0,
        };
        for (name, c) in [
            ("battery under 20%", below),
            (
                "silent for 3 intervals",
                Condition::Silent { intervals: 3.0 },
            ),
            ("rollout failed or refused", Condition::RolloutFailed),
        ] {
            let _ = a.add(name, c);
        }
        a
    }
}

impl Alerts {
    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Adds a rule; its id, or why not.
    pub fn add(&mut self, name: &str, condition: Condition) -> Result<u32, String> {
        if self.rules.len() >= MAX_RULES {
            return Err(format!("at most {MAX_RULES} rules: remove one first"));
        }
        match &condition {
            Condition::Below { field, value } | Condition::Above { field, value }
                if field.trim().is_empty() || !value.is_finite() =>
            {
                return Err("a threshold rule needs a field and a number".into())
            }
            Condition::Silent { intervals } if intervals.is_nan() || *intervals <= 0.0 => {
                return Err("silent for how many intervals? a number over 0".into())
            }
            _ => {}
        }
        self.next += 1;
        self.rules.push(Rule {
            id: self.next,
            name: name.trim().to_string(),
            condition,
        });
        Ok(self.next)
    }

    /// Removes a rule and its alerts.
    pub fn remove(&mut self, id: u32) {
        self.rules.retain(|r| r.id != id);
        self.active.retain(|k, _| k.0 != id);
        self.dismissed.retain(|k| k.0 != id);
        self.raised.remove(&id);
    }

    /// Re-evaluates every rule for every device; true if the alerts changed.
    pub fn evaluate(&mut self, devices: &Devices, shadows: &Shadows, now: f64) -> bool {
        let mut holding: BTreeMap<(u32, String), String> = BTreeMap::new();
        for rule in &self.rules {
            for d in devices.all() {
                let field = |name: &str| {
                    d.fields
                        .iter()
                        .find(|(k, _)| k == name)
                        .and_then(|(_, v)| v.trim().parse::<f64>().ok())
                };
                let detail = match &rule.condition {
                    Condition::Below { field: f, value } => {
                        field(f).filter(|x| x < value).map(|x| format!("{f} {x}"))
                    }
                    Condition::Above { field: f, value } => {
                        field(f).filter(|x| x > value).map(|x| format!("{f} {x}"))
                    }
                    Condition::Silent { intervals } => d.interval_ms.and_then(|i| {
                        let quiet = now - d.last_seen_ms;
                        (quiet > i * intervals)
                            .then(|| format!("silent {}", super::format::ago(quiet)))
                    }),
                    Condition::RolloutFailed => match shadows.sync(&d.id) {
                        s @ (Sync::Failed(_) | Sync::Rejected(_)) => Some(s.describe()),
                        _ => None,
                    },
                };
                if let Some(detail) = detail {
                    holding.insert((rule.id, d.id.clone()), detail);
                }
            }
        }
        let before = self.active.len();
        let mut changed = false;
        self.overflow = 0;
        self.active.retain(|k, _| holding.contains_key(k));
        self.dismissed.retain(|k| holding.contains_key(k));
        changed |= self.active.len() != before;
        for (key, detail) in holding {
            let full = self.active.len() >= MAX_ACTIVE;
            match self.active.get_mut(&key) {
                Some(a) => {
                    if a.detail != detail {
                        a.detail = detail;
                        changed = true;
                    }
                }
                None if full => self.overflow += 1,
                None => {
                    *self.raised.entry(key.0).or_default() += 1;
                    self.active.insert(
                        key.clone(),
                        Alert {
                            rule: key.0,
                            device: key.1,
                            since_ms: now,
                            detail,
                        },
                    );
                    changed = true;
                }
            }
        }
        changed
    }

    /// The alerts to show (not dismissed), by rule then device.
    pub fn shown(&self) -> impl Iterator<Item = &Alert> {
        self.active
            .iter()
            .filter(|(k, _)| !self.dismissed.contains(*k))
            .map(|(_, a)| a)
    }

    /// How many are shown.
    pub fn shown_count(&self) -> usize {
        self.active.len() - self.dismissed.len()
    }

    /// Per rule, in rule order.
    pub fn counts(&self) -> Vec<(Rule, RuleCount)> {
        self.rules
            .iter()
            .map(|r| {
                let active = self.active.keys().filter(|k| k.0 == r.id).count();
                let raised = self.raised.get(&r.id).copied().unwrap_or(0);
                (r.clone(), RuleCount { active, raised })
            })
            .collect()
    }

    /// Hides an alert until its condition clears and holds again.
    pub fn dismiss(&mut self, rule: u32, device: &str) {
        let key = (rule, device.to_string());
        if self.active.contains_key(&key) {
            self.dismissed.insert(key);
        }
    }

    /// Hides every alert shown now.
    pub fn dismiss_all(&mut self) {
        self.dismissed.extend(self.active.keys().cloned());
    }
}

/// Reads a rule as typed: `battery < 20`, `temp > 30.5`, or `silent > 5` (silent for more
/// than 5 of the device's usual intervals).
pub fn parse_threshold(text: &str) -> Result<Condition, String> {
    let (field, op, value) = text
        .split_once('<')
        .map(|(f, v)| (f, '<', v))
        .or_else(|| text.split_once('>').map(|(f, v)| (f, '>', v)))
        .ok_or_else(|| format!("write a rule as field < number or field > number, not {text:?}"))?;
    let field = field.trim().to_string();
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{:?} is not a number", value.trim()))?;
    if field.is_empty() {
        return Err("which field? write it before the < or >".into());
    }
    if field
        .chars()
        .any(|c| c.is_whitespace() || "<>=".contains(c))
    {
        return Err(format!("{field:?} is not a field name"));
    }
    if field == "silent" {
        return match op {
            '>' if value > 0.0 => Ok(Condition::Silent { intervals: value }),
            _ => Err("silence is a rule with >: silent > 3 is more than 3 intervals".into()),
        };
    }
    Ok(if op == '<' {
        Condition::Below { field, value }
    } else {
        Condition::Above { field, value }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::model::devices::PresenceConfig;
    use crate::ui::model::shadow::ShadowConfig;
    use bytes::Bytes;

    fn telemetry(d: &mut Devices, id: &str, battery: f64, now: f64) {
        let p = Bytes::from(format!(r#"{{"battery":{battery}}}"#));
        d.record(&format!("devices/{id}/telemetry"), &p, now);
    }

    fn shown(a: &Alerts) -> Vec<(u32, String)> {
        a.shown().map(|x| (x.rule, x.device.clone())).collect()
    }

    #[test]
    fn raised_when_a_condition_starts_cleared_when_it_ends() {
        let mut d = Devices::new(PresenceConfig::default());
        let s = Shadows::new(ShadowConfig::default());
        let mut a = Alerts::default();
        telemetry(&mut d, "a", 50.0, 0.0);
        telemetry(&mut d, "b", 15.0, 0.0);
        assert!(a.evaluate(&d, &s, 0.0));
        assert_eq!(shown(&a), [(1, "b".to_string())]);
        assert_eq!(a.shown().next().unwrap().detail, "battery 15");
        assert!(!a.evaluate(&d, &s, 500.0), "nothing new");
        telemetry(&mut d, "b", 80.0, 1000.0);
        telemetry(&mut d, "a", 10.0, 1000.0);
        assert!(a.evaluate(&d, &s, 1000.0));
        assert_eq!(shown(&a), [(1, "a".to_string())]);
        let battery = &a.counts()[0].1;
        assert_eq!((battery.active, battery.raised), (1, 2));
    }

    #[test]
    fn dismissed_until_it_clears_and_comes_back() {
        let mut d = Devices::new(PresenceConfig::default());
        let s = Shadows::new(ShadowConfig::default());
        let mut a = Alerts::default();
        telemetry(&mut d, "b", 15.0, 0.0);
        a.evaluate(&d, &s, 0.0);
        a.dismiss(1, "b");
        assert!(shown(&a).is_empty());
        assert_eq!(
            a.counts()[0].1.active,
            1,
            "dismissed is still counted as holding"
        );
        telemetry(&mut d, "b", 12.0, 100.0);
        a.evaluate(&d, &s, 100.0);
        assert!(shown(&a).is_empty(), "still the same problem");
        telemetry(&mut d, "b", 90.0, 200.0);
        a.evaluate(&d, &s, 200.0);
        telemetry(&mut d, "b", 11.0, 300.0);
        a.evaluate(&d, &s, 300.0);
        assert_eq!(shown(&a), [(1, "b".to_string())], "it came back");
        a.dismiss_all();
        assert_eq!(a.shown_count(), 0);
    }

    #[test]
    fn silence_is_measured_in_the_device_s_own_intervals() {
        let mut d = Devices::new(PresenceConfig::default());
        let s = Shadows::new(ShadowConfig::default());
        let mut a = Alerts::default();
        for t in 0..5 {
            telemetry(&mut d, "slow", 50.0, f64::from(t) * 10_000.0);
            telemetry(&mut d, "fast", 50.0, f64::from(t) * 1_000.0);
        }
        // At 45 s: "fast" (1 s interval) has been silent 41 s; "slow" (10 s) 5 s.
        a.evaluate(&d, &s, 45_000.0);
        assert_eq!(shown(&a), [(2, "fast".to_string())]);
        assert_eq!(a.shown().next().unwrap().detail, "silent 41 s");
    }

    #[test]
    fn a_failed_or_refused_rollout_raises_one() {
        let mut d = Devices::new(PresenceConfig::default());
        let mut s = Shadows::new(ShadowConfig::default());
        let mut a = Alerts::default();
        for id in ["x", "y"] {
            d.record(&format!("devices/{id}/status"), &Bytes::from("online"), 0.0);
            s.desire(id, Default::default(), 0.0).unwrap();
            let mut m = serde_json::Map::new();
            m.insert("setpoint".into(), 99.into());
            s.desire(id, m, 0.0).unwrap();
        }
        s.record(
            "devices/x/shadow/rejected",
            br#"{"version":2,"reason":"out of range"}"#,
            1.0,
        );
        a.evaluate(&d, &s, 1.0);
        assert_eq!(shown(&a), [(3, "x".to_string())]);
        assert_eq!(a.shown().next().unwrap().detail, "rejected: out of range");
    }

    #[test]
    fn rules_and_alerts_are_bounded_and_typed_rules_read() {
        let mut a = Alerts::default();
        assert_eq!(
            parse_threshold(" temp > 30.5 "),
            Ok(Condition::Above {
                field: "temp".into(),
                value: 30.5
            })
        );
        assert_eq!(
            parse_threshold("rssi<-80"),
            Ok(Condition::Below {
                field: "rssi".into(),
                value: -80.0
            })
        );
        assert!(parse_threshold("temp = 3")
            .unwrap_err()
            .contains("field < number"));
        assert!(parse_threshold("temp > hot")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_threshold(" < 3").unwrap_err().contains("which field"));
        assert!(parse_threshold("rssi >< 3")
            .unwrap_err()
            .contains("not a field name"));
        assert!(a.add("x", Condition::Silent { intervals: 0.0 }).is_err());
        while a.rules().len() < MAX_RULES {
            a.add(
                "t",
                Condition::Above {
                    field: "t".into(),
                    value: 1.0,
                },
            )
            .unwrap();
        }
        assert!(a
            .add("one more", Condition::RolloutFailed)
            .unwrap_err()
            .contains("at most"));
        a.remove(1);
        assert_eq!(a.rules().len(), MAX_RULES - 1);

        let mut d = Devices::new(PresenceConfig::default());
        let s = Shadows::new(ShadowConfig::default());
        let mut a = Alerts::default();
        for i in 0..(MAX_ACTIVE + 10) {
            telemetry(&mut d, &format!("d{i}"), 5.0, 0.0);
        }
        a.evaluate(&d, &s, 0.0);
        assert_eq!(a.shown_count(), MAX_ACTIVE);
        assert_eq!(a.overflow, 10);
    }
}
