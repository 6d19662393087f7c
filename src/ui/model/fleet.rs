//! Fleet distributions: how the devices on the board spread over firmware versions, models,
//! battery and signal strength. Categories come from the devices' descriptions (the meta topic)
//! or, for firmware, from their reported shadow when they have one (fresher than a description
//! written at boot); numbers from their latest telemetry, in fixed bins. A bar can be picked:
//! the board then shows only its devices ([`Pick::matches`]).

use std::borrow::Cow;

use super::devices::{Device, Devices};
use super::shadow::Shadows;

/// Most bars of a category distribution; the rest are summed as "other".
pub const MAX_BARS: usize = 10;

/// What is counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Facet {
    /// A category: the value of a description field (and of the reported shadow's field of the
    /// same name when `shadow` is set).
    Category {
        /// The field.
        field: String,
        /// Prefer the reported shadow's value.
        shadow: bool,
    },
    /// A number from the latest telemetry, in bins of `step` from `lo` to `hi` (values outside
    /// go to the first or last bin).
    Bins {
        /// The telemetry field (top level).
        field: String,
        /// Lowest bin's start.
        lo: f64,
        /// Last bin's end.
        hi: f64,
        /// Bin width.
        step: f64,
    },
}

/// One distribution to show.
#[derive(Debug, Clone, PartialEq)]
pub struct FacetSpec {
    /// Its title.
    pub title: String,
    /// What it counts.
    pub facet: Facet,
}

/// The distributions shown, in order.
pub fn default_facets() -> Vec<FacetSpec> {
    let cat = |title: &str, field: &str, shadow| FacetSpec {
        title: title.into(),
        facet: Facet::Category {
            field: field.into(),
            shadow,
        },
    };
    let bins = |title: &str, field: &str, lo, hi, step| FacetSpec {
        title: title.into(),
        facet: Facet::Bins {
            field: field.into(),
            lo,
            hi,
            step,
        },
    };
    vec![
        cat("Firmware", "firmware", true),
        cat("Model", "model", false),
        bins("Battery %", "battery", 0.0, 100.0, 10.0),
        bins("Signal dBm", "rssi", -100.0, -30.0, 10.0),
    ]
}

/// A bar: a category or a bin, and how many devices are in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What it shows ("1.3.0", "20–30").
    pub label: String,
    /// Devices in it.
    pub count: usize,
    /// Picking it.
    pub pick: Pick,
}

/// One facet's bars.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// Its title.
    pub title: String,
    /// Its bars (categories by count, bins in order).
    pub bars: Vec<Bar>,
    /// Devices without a value for it.
    pub missing: usize,
}

/// A picked bar, which filters the board.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// The facet's title (shown on the board's filter chip).
    pub title: String,
    /// The facet.
    pub facet: Facet,
    /// Which bar.
    pub key: Key,
}

/// Which bar of a facet.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    /// This category.
    Is(String),
    /// Any category but these (the "other" bar).
    NoneOf(Vec<String>),
    /// Bin number `n`.
    Bin(usize),
}

impl Pick {
    /// Whether a device is in the picked bar.
    pub fn matches(&self, d: &Device, shadows: &Shadows) -> bool {
        match (&self.key, value(&self.facet, d, shadows)) {
            (Key::Is(want), Some(Value::Text(v))) => *want == v,
            (Key::NoneOf(others), Some(Value::Text(v))) => !others.iter().any(|o| *o == v),
            (Key::Bin(n), Some(Value::Num(x))) => bin(&self.facet, x) == Some(*n),
            _ => false,
        }
    }

    /// In words, for the filter chip ("Firmware: 1.3.0").
    pub fn describe(&self) -> String {
        let what = match (&self.key, &self.facet) {
            (Key::Is(v), _) => v.clone(),
            (Key::NoneOf(_), _) => "other".into(),
            (Key::Bin(n), f) => bin_label(f, *n),
        };
        format!("{}: {what}", self.title)
    }
}

// Design: values are borrowed from the board and the shadows (a category is a `Cow`, owned only
// for a non-string JSON value), so counting 10,000 devices once a second allocates nothing per
// device: an allocation each made this a 50 ms task in the 10,000-device benchmark.
enum Value<'a> {
    Text(Cow<'a, str>),
    Num(f64),
}

fn value<'a>(facet: &Facet, d: &'a Device, shadows: &'a Shadows) -> Option<Value<'a>> {
    let field = |list: &'a [(String, String)], name: &str| {
        list.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match facet {
        Facet::Category { field: f, shadow } => {
            let reported = shadow
                .then(|| shadows.get(&d.id)?.reported.as_ref()?.state.get(f.as_str()))
                .flatten()
                .map(|v| match v {
                    serde_json::Value::String(s) => Cow::Borrowed(s.as_str()),
                    other => Cow::Owned(other.to_string()),
                });
            reported
                .or_else(|| field(&d.meta_fields, f).map(Cow::Borrowed))
                .map(Value::Text)
        }
        Facet::Bins { field: f, .. } => field(&d.fields, f)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|x| x.is_finite())
            .map(Value::Num),
    }
}

fn bin(facet: &Facet, x: f64) -> Option<usize> {
    let Facet::Bins { lo, hi, step, .. } = facet else {
        return None;
    };
    let n = bins(facet);
    Some((((x - lo) / step).floor().max(0.0) as usize).min(n - 1)).filter(|_| *hi > *lo)
}

fn bins(facet: &Facet) -> usize {
    match facet {
        Facet::Bins { lo, hi, step, .. } => (((hi - lo) / step).ceil() as usize).max(1),
        Facet::Category { .. } => 0,
    }
}

fn bin_label(facet: &Facet, n: usize) -> String {
    let Facet::Bins { lo, step, .. } = facet else {
        return String::new();
    };
    let a = lo + step * n as f64;
    format!("{a}–{}", a + step)
}

/// Every facet's distribution over the board's devices.
pub fn distributions(
    devices: &Devices,
    shadows: &Shadows,
    facets: &[FacetSpec],
) -> Vec<Distribution> {
    facets
        .iter()
        .map(|spec| {
            let pick = |key| Pick {
                title: spec.title.clone(),
                facet: spec.facet.clone(),
                key,
            };
            let mut missing = 0;
            let bars = match &spec.facet {
                Facet::Category { .. } => {
                    let mut counts: std::collections::HashMap<Cow<str>, usize> = Default::default();
                    for d in devices.all() {
                        match value(&spec.facet, d, shadows) {
                            Some(Value::Text(v)) => *counts.entry(v).or_default() += 1,
                            _ => missing += 1,
                        }
                    }
                    let mut all: Vec<(String, usize)> = counts
                        .into_iter()
                        .map(|(k, n)| (k.into_owned(), n))
                        .collect();
                    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                    let rest: Vec<(String, usize)> = all.split_off(all.len().min(MAX_BARS));
                    let shown: Vec<String> = all.iter().map(|(v, _)| v.clone()).collect();
                    let mut bars: Vec<Bar> = all
                        .into_iter()
                        .map(|(label, count)| Bar {
                            pick: pick(Key::Is(label.clone())),
                            label,
                            count,
                        })
                        .collect();
                    if !rest.is_empty() {
                        bars.push(Bar {
                            label: format!("other ({})", rest.len()),
                            count: rest.iter().map(|r| r.1).sum(),
                            pick: pick(Key::NoneOf(shown)),
                        });
                    }
                    bars
                }
                Facet::Bins { .. } => {
                    let mut counts = vec![0; bins(&spec.facet)];
                    for d in devices.all() {
                        match value(&spec.facet, d, shadows).and_then(|v| match v {
                            Value::Num(x) => bin(&spec.facet, x),
                            Value::Text(_) => None,
                        }) {
                            Some(n) => counts[n] += 1,
                            None => missing += 1,
                        }
                    }
                    counts
                        .into_iter()
                        .enumerate()
                        .map(|(n, count)| Bar {
                            label: bin_label(&spec.facet, n),
                            count,
                            pick: pick(Key::Bin(n)),
                        })
                        .collect()
                }
            };
            Distribution {
                title: spec.title.clone(),
                bars,
                missing,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::model::devices::PresenceConfig;
    use crate::ui::model::shadow::ShadowConfig;
    use bytes::Bytes;

    fn fleet() -> (Devices, Shadows) {
        let mut d = Devices::new(PresenceConfig::default());
        let mut s = Shadows::new(ShadowConfig::default());
        let put = |d: &mut Devices, t: String, p: String| {
            d.record(&t, &Bytes::from(p), 0.0);
        };
        for i in 0..30 {
            let (model, fw) = match i % 3 {
                0 => ("TH-200", "1.3.0"),
                1 => ("AQ-7", "1.2.0"),
                _ => ("PM-3", "1.3.0"),
            };
            put(
                &mut d,
                format!("devices/d{i}/meta"),
                format!(r#"{{"model":"{model}","firmware":"{fw}"}}"#),
            );
            put(
                &mut d,
                format!("devices/d{i}/telemetry"),
                format!(r#"{{"battery":{},"rssi":{}}}"#, i * 4, -40 - i),
            );
        }
        // Upgraded since it booted: its shadow says 1.4.0, its description still 1.3.0.
        s.record(
            "devices/d0/shadow/reported",
            br#"{"version":1,"state":{"firmware":"1.4.0"}}"#,
            0.0,
        );
        // No telemetry, no description.
        put(&mut d, "devices/quiet/status".into(), "online".into());
        (d, s)
    }

    fn bars(dist: &Distribution) -> Vec<(String, usize)> {
        dist.bars
            .iter()
            .map(|b| (b.label.clone(), b.count))
            .collect()
    }

    #[test]
    fn categories_and_bins_over_the_fleet() {
        let (d, s) = fleet();
        let all = distributions(&d, &s, &default_facets());
        let pairs = |v: &[(&str, usize)]| {
            v.iter()
                .map(|(a, n)| (a.to_string(), *n))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bars(&all[0]),
            pairs(&[("1.3.0", 19), ("1.2.0", 10), ("1.4.0", 1)])
        );
        assert_eq!(all[0].missing, 1);
        assert_eq!(
            bars(&all[1]),
            pairs(&[("AQ-7", 10), ("PM-3", 10), ("TH-200", 10)])
        );
        // Battery 0, 4, ..., 116: ten bins of 10, the last holding 90 and above.
        let battery = bars(&all[2]);
        assert_eq!(battery.len(), 10);
        assert_eq!(battery[0], ("0–10".into(), 3));
        assert_eq!(battery[9], ("90–100".into(), 30 - 23));
        assert_eq!(battery.iter().map(|b| b.1).sum::<usize>(), 30);
        // Signal -40 .. -69 dBm.
        let signal = bars(&all[3]);
        assert_eq!(signal[0], ("-100–-90".into(), 0));
        assert_eq!(signal[5], ("-50–-40".into(), 10));
        assert_eq!(signal[6], ("-40–-30".into(), 1));
    }

    #[test]
    fn a_picked_bar_selects_its_devices() {
        let (d, s) = fleet();
        let all = distributions(&d, &s, &default_facets());
        for dist in &all {
            for bar in &dist.bars {
                let n = d.all().iter().filter(|x| bar.pick.matches(x, &s)).count();
                assert_eq!(n, bar.count, "{}", bar.pick.describe());
            }
        }
        assert_eq!(all[0].bars[2].pick.describe(), "Firmware: 1.4.0");
        assert_eq!(all[2].bars[1].pick.describe(), "Battery %: 10–20");
    }

    #[test]
    fn many_categories_end_in_other() {
        let mut d = Devices::new(PresenceConfig::default());
        let s = Shadows::new(ShadowConfig::default());
        for i in 0..(MAX_BARS + 5) {
            d.record(
                &format!("devices/d{i}/meta"),
                &Bytes::from(format!(r#"{{"model":"m{i}"}}"#)),
                0.0,
            );
        }
        let all = distributions(&d, &s, &default_facets());
        let models = &all[1];
        assert_eq!(models.bars.len(), MAX_BARS + 1);
        let other = models.bars.last().unwrap();
        assert_eq!((other.label.as_str(), other.count), ("other (5)", 5));
        let n = d.all().iter().filter(|x| other.pick.matches(x, &s)).count();
        assert_eq!(n, 5);
    }
}
