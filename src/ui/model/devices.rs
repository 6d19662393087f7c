//! Device presence: devices discovered from topic patterns (by default a retained
//! `devices/{id}/status` birth `online` with a will `offline`, telemetry on
//! `devices/{id}/telemetry`), their state (online, offline, stale), when they were last seen,
//! their latest values and a sparkline of one field.
//!
//! Length: presence, telemetry fields, sparklines, descriptions and the board's search and
//! sort all read and write the same device records; half of the file is their tests.

use std::collections::HashMap;

use bytes::Bytes;

use super::json::{self, Json, JsonExt};

/// Points kept per sparkline.
pub const SPARK_POINTS: usize = 60;
/// Latest values kept per device (top-level telemetry fields).
pub const MAX_FIELDS: usize = 16;

/// Longest field name, field value and description kept, in characters (longer ones end in
/// "…"): what a device sends cannot grow the board's memory without bound.
pub const MAX_FIELD_NAME: usize = 40;
/// See [`MAX_FIELD_NAME`].
pub const MAX_FIELD_VALUE: usize = 80;
/// See [`MAX_FIELD_NAME`].
pub const MAX_META: usize = 160;

/// `s` cut to `max` characters, marked with "…" when cut.
fn clip(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s,
        Some((at, _)) => {
            let mut cut = s[..at].to_string();
            cut.push('…');
            cut
        }
    }
}

/// Where devices are found and what their messages mean.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceConfig {
    /// Status topic with `{id}` for one level: its payload says online or offline.
    pub status: String,
    /// Telemetry topic with `{id}`: JSON (or a bare number) with the device's readings.
    pub telemetry: String,
    /// Optional topic with `{id}` for a retained description (JSON: model, room, ...).
    pub meta: Option<String>,
    /// Status payloads meaning online (compared case-insensitively).
    pub online: Vec<String>,
    /// Status payloads meaning offline.
    pub offline: Vec<String>,
    /// A device is stale when nothing came for this many times its usual interval.
    pub stale_factor: f64,
    /// ...and at least this long (ms), so a device reporting every 100 ms is not stale after 300.
    pub stale_min_ms: f64,
    /// The telemetry field drawn as a sparkline (a dotted JSON path).
    pub spark_field: String,
    /// At most this many devices are tracked.
    pub max_devices: usize,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            status: "devices/{id}/status".into(),
            telemetry: "devices/{id}/telemetry".into(),
            meta: Some("devices/{id}/meta".into()),
            online: vec![
                "online".into(),
                "1".into(),
                "true".into(),
                "connected".into(),
            ],
            offline: vec![
                "offline".into(),
                "0".into(),
                "false".into(),
                "disconnected".into(),
                "lost".into(),
            ],
            stale_factor: 3.0,
            stale_min_ms: 5_000.0,
            spark_field: "temp".into(),
            max_devices: 20_000,
        }
    }
}

/// The `{id}` level of `topic` under `pattern`, if it matches.
pub fn capture<'t>(pattern: &str, topic: &'t str) -> Option<&'t str> {
    let mut p = pattern.split('/');
    let mut t = topic.split('/');
    let mut id = None;
    loop {
        match (p.next(), t.next()) {
            (None, None) => return id,
            (Some("{id}"), Some(level)) if !level.is_empty() => id = Some(level),
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}

/// What the status topic says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Said it is online.
    Online,
    /// Said it is offline (or its will said so).
    Offline,
    /// Only telemetry seen so far.
    Unknown,
}

/// What the board shows: presence, with staleness applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shown {
    /// Online and reporting.
    Online,
    /// Online, but silent for longer than it should be.
    Stale,
    /// Offline.
    Offline,
    /// Never said.
    Unknown,
}

impl Shown {
    /// Its name (also the CSS class).
    pub fn label(self) -> &'static str {
        match self {
            Shown::Online => "online",
            Shown::Stale => "stale",
            Shown::Offline => "offline",
            Shown::Unknown => "unknown",
        }
    }
}

/// One device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Its id (the `{id}` level).
    pub id: String,
    /// What its status topic said last.
    pub presence: Presence,
    /// When the presence last changed, ms since the Unix epoch.
    pub since_ms: f64,
    /// When anything last came from it.
    pub last_seen_ms: f64,
    /// Usual time between telemetry messages (moving average), ms.
    pub interval_ms: Option<f64>,
    last_telemetry_ms: Option<f64>,
    /// Latest top-level telemetry fields (name, value as shown).
    pub fields: Vec<(String, String)>,
    /// Recent values of the sparkline field.
    pub spark: Vec<f32>,
    /// Its description (from the meta topic), as one line.
    pub meta: Option<String>,
    /// Its description's top-level fields (name, value as shown), when it is a JSON object.
    pub meta_fields: Vec<(String, String)>,
    /// Messages from it.
    pub messages: u64,
    /// Times it went offline.
    pub drops: u32,
}

impl Device {
    fn new(id: &str, now: f64) -> Device {
        Device {
            id: id.to_string(),
            presence: Presence::Unknown,
            since_ms: now,
            last_seen_ms: now,
            interval_ms: None,
            last_telemetry_ms: None,
            fields: Vec::new(),
            spark: Vec::new(),
            meta: None,
            meta_fields: Vec::new(),
            messages: 0,
            drops: 0,
        }
    }

    /// What to show at `now`.
    pub fn shown(&self, now: f64, cfg: &PresenceConfig) -> Shown {
        match self.presence {
            Presence::Offline => Shown::Offline,
            Presence::Online | Presence::Unknown => {
                let allowed = self.interval_ms.map_or(f64::INFINITY, |i| {
                    (i * cfg.stale_factor).max(cfg.stale_min_ms)
                });
                if now - self.last_seen_ms > allowed {
                    Shown::Stale
                } else if self.presence == Presence::Online {
                    Shown::Online
                } else {
                    Shown::Unknown
                }
            }
        }
    }
}

/// Counts by state, for the board's header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    /// Online and reporting.
    pub online: usize,
    /// Online but silent.
    pub stale: usize,
    /// Offline.
    pub offline: usize,
    /// Unknown.
    pub unknown: usize,
}

/// The board.
// Design: devices are kept in arrival order in a Vec with an id -> index map (no removal, so
// indexes are stable keys for the view); staleness is not stored but computed at display time
// from `now`, so a silent device turns stale without any message arriving.
#[derive(Debug, Clone)]
pub struct Devices {
    /// The patterns.
    pub config: PresenceConfig,
    list: Vec<Device>,
    index: HashMap<String, usize>,
    refused: u64,
}

impl Devices {
    /// An empty board.
    pub fn new(config: PresenceConfig) -> Devices {
        Devices {
            config,
            list: Vec::new(),
            index: HashMap::new(),
            refused: 0,
        }
    }

    /// Takes a message; true if it concerned a device.
    pub fn record(&mut self, topic: &str, payload: &Bytes, now: f64) -> bool {
        if let Some(id) = capture(&self.config.status, topic) {
            let text = String::from_utf8_lossy(payload);
            let word = text.trim().to_ascii_lowercase();
            // A JSON status ({"state":"online"} or {"online":true}) is understood too.
            let word = match json::parse(&text) {
                Some(v @ Json::Object(_)) => v
                    .path("state")
                    .or_else(|| v.path("status"))
                    .map(|s| s.brief().to_ascii_lowercase())
                    .or_else(|| v.path("online").map(|b| b.brief()))
                    .unwrap_or(word),
                _ => word,
            };
            let presence = if self
                .config
                .online
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&word))
            {
                Presence::Online
            } else if self
                .config
                .offline
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&word))
                || payload.is_empty()
            {
                Presence::Offline
            } else {
                return false;
            };
            let Some(d) = self.device(id, now) else {
                return false;
            };
            d.messages += 1;
            if d.presence != presence {
                if presence == Presence::Offline && d.presence == Presence::Online {
                    d.drops += 1;
                }
                d.presence = presence;
                d.since_ms = now;
            }
            if presence == Presence::Online {
                d.last_seen_ms = now;
            }
            return true;
        }
        if let Some(id) = capture(&self.config.telemetry, topic) {
            let spark_field = self.config.spark_field.clone();
            let Some(d) = self.device(id, now) else {
                return false;
            };
            d.messages += 1;
            d.last_seen_ms = now;
            if let Some(prev) = d.last_telemetry_ms {
                let gap = (now - prev).max(0.0);
                d.interval_ms = Some(match d.interval_ms {
                    None => gap,
                    Some(i) => i * 0.8 + gap * 0.2,
                });
            }
            d.last_telemetry_ms = Some(now);
            let text = String::from_utf8_lossy(payload);
            match json::parse(&text) {
                Some(v @ Json::Object(_)) => {
                    let members = v.as_object().into_iter().flatten();
                    d.fields = members
                        .take(MAX_FIELDS)
                        .map(|(k, v)| {
                            (
                                clip(k.clone(), MAX_FIELD_NAME),
                                clip(v.brief(), MAX_FIELD_VALUE),
                            )
                        })
                        .collect();
                    if let Some(x) = v.path(&spark_field).and_then(Json::number) {
                        push_spark(&mut d.spark, x as f32);
                    }
                }
                Some(v) => {
                    d.fields = vec![("value".into(), clip(v.brief(), MAX_FIELD_VALUE))];
                    if let Some(x) = v.number() {
                        push_spark(&mut d.spark, x as f32);
                    }
                }
                None => d.fields = vec![("value".into(), super::format::preview(payload, 40))],
            }
            return true;
        }
        if let Some(meta) = &self.config.meta {
            if let Some(id) = capture(meta, topic) {
                let Some(d) = self.device(id, now) else {
                    return false;
                };
                let text = String::from_utf8_lossy(payload);
                d.meta_fields = match json::parse(&text) {
                    Some(Json::Object(m)) => m
                        .iter()
                        .take(MAX_FIELDS)
                        .map(|(k, v)| {
                            (
                                clip(k.clone(), MAX_FIELD_NAME),
                                clip(v.brief(), MAX_FIELD_VALUE),
                            )
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                d.meta = Some(clip(
                    if d.meta_fields.is_empty() {
                        super::format::preview(payload, 80)
                    } else {
                        let values: Vec<&str> =
                            d.meta_fields.iter().map(|(_, v)| v.as_str()).collect();
                        values.join(" · ")
                    },
                    MAX_META,
                ));
                return true;
            }
        }
        false
    }

    fn device(&mut self, id: &str, now: f64) -> Option<&mut Device> {
        let i = match self.index.get(id) {
            Some(&i) => i,
            None => {
                if self.list.len() >= self.config.max_devices {
                    self.refused += 1;
                    return None;
                }
                self.list.push(Device::new(id, now));
                self.index.insert(id.to_string(), self.list.len() - 1);
                self.list.len() - 1
            }
        };
        self.list.get_mut(i)
    }

    /// All devices, in discovery order.
    pub fn all(&self) -> &[Device] {
        &self.list
    }

    /// A device by id.
    pub fn get(&self, id: &str) -> Option<&Device> {
        self.index.get(id).map(|&i| &self.list[i])
    }

    /// Messages about devices beyond `max_devices`, ignored.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Counts by state at `now`.
    pub fn census(&self, now: f64) -> Census {
        let mut c = Census::default();
        for d in &self.list {
            match d.shown(now, &self.config) {
                Shown::Online => c.online += 1,
                Shown::Stale => c.stale += 1,
                Shown::Offline => c.offline += 1,
                Shown::Unknown => c.unknown += 1,
            }
        }
        c
    }

    /// Indexes of the devices whose id or description contains `search` (case-insensitive),
    /// in `sort` order.
    pub fn select(&self, search: &str, sort: DeviceSort, now: f64) -> Vec<usize> {
        self.select_where(search, sort, now, |_| true)
    }

    /// [`Devices::select`], of the devices `keep` keeps.
    pub fn select_where(
        &self,
        search: &str,
        sort: DeviceSort,
        now: f64,
        keep: impl Fn(&Device) -> bool,
    ) -> Vec<usize> {
        let needle = search.trim().to_lowercase();
        let mut out: Vec<usize> = (0..self.list.len())
            .filter(|&i| {
                let d = &self.list[i];
                keep(d)
                    && (needle.is_empty()
                        || d.id.to_lowercase().contains(&needle)
                        || d.meta
                            .as_deref()
                            .is_some_and(|m| m.to_lowercase().contains(&needle)))
            })
            .collect();
        let cfg = &self.config;
        match sort {
            DeviceSort::Id => out.sort_by(|&a, &b| self.list[a].id.cmp(&self.list[b].id)),
            DeviceSort::State => out.sort_by(|&a, &b| {
                let (x, y) = (&self.list[a], &self.list[b]);
                (x.shown(now, cfg), &x.id).cmp(&(y.shown(now, cfg), &y.id))
            }),
            DeviceSort::LastSeen => out.sort_by(|&a, &b| {
                self.list[b]
                    .last_seen_ms
                    .total_cmp(&self.list[a].last_seen_ms)
            }),
            DeviceSort::Drops => out.sort_by(|&a, &b| {
                let (x, y) = (&self.list[a], &self.list[b]);
                y.drops.cmp(&x.drops).then_with(|| x.id.cmp(&y.id))
            }),
        }
        out
    }
}

fn push_spark(spark: &mut Vec<f32>, x: f32) {
    if spark.len() == SPARK_POINTS {
        spark.remove(0);
    }
    spark.push(x);
}

/// Orders of the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSort {
    /// By id.
    #[default]
    Id,
    /// Online, stale, offline, unknown; then by id.
    State,
    /// Most recently seen first.
    LastSeen,
    /// Most drops first.
    Drops,
}

impl DeviceSort {
    /// Every order, in menu order.
    pub const ALL: [DeviceSort; 4] = [
        DeviceSort::Id,
        DeviceSort::State,
        DeviceSort::LastSeen,
        DeviceSort::Drops,
    ];

    /// Its name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            DeviceSort::Id => "id",
            DeviceSort::State => "state",
            DeviceSort::LastSeen => "last seen",
            DeviceSort::Drops => "drops",
        }
    }
}

/// An SVG polyline `points` attribute for a sparkline `w` x `h`.
pub fn spark_points(values: &[f32], w: f32, h: f32) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = w / (SPARK_POINTS - 1) as f32;
    let x0 = w - step * (values.len() - 1) as f32;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let x = x0 + step * i as f32;
            let y = h - 1.0 - (v - lo) / span * (h - 2.0);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn patterns_capture_the_id_level() {
        assert_eq!(
            capture("devices/{id}/status", "devices/dev-7/status"),
            Some("dev-7")
        );
        assert_eq!(
            capture("devices/{id}/status", "devices/dev-7/telemetry"),
            None
        );
        assert_eq!(capture("devices/{id}/status", "devices//status"), None);
        assert_eq!(capture("devices/{id}/status", "devices/a/b/status"), None);
        assert_eq!(
            capture("site/+/{id}/state", "site/north/pump-2/state"),
            Some("pump-2")
        );
    }

    #[test]
    fn births_wills_and_staleness() {
        let mut b = Devices::new(PresenceConfig::default());
        assert!(b.record("devices/d1/status", &p("online"), 1_000.0));
        for k in 1..=5 {
            b.record(
                "devices/d1/telemetry",
                &p(&format!("{{\"temp\": {}, \"rssi\": -60}}", 20 + k)),
                1_000.0 + k as f64 * 2_000.0,
            );
        }
        let d = b.get("d1").unwrap();
        assert_eq!(d.interval_ms, Some(2_000.0));
        assert_eq!(d.spark, [21.0, 22.0, 23.0, 24.0, 25.0]);
        assert_eq!(d.fields[0], ("temp".to_string(), "25".to_string()));
        let last = 11_000.0;
        assert_eq!(d.shown(last + 5_000.0, &b.config), Shown::Online);
        // Three intervals (but at least five seconds) of silence: stale.
        assert_eq!(d.shown(last + 6_001.0, &b.config), Shown::Stale);
        // The will arrives.
        b.record("devices/d1/status", &p("offline"), last + 7_000.0);
        let d = b.get("d1").unwrap();
        assert_eq!(
            (d.shown(last + 7_000.0, &b.config), d.drops, d.since_ms),
            (Shown::Offline, 1, last + 7_000.0)
        );
        assert_eq!(
            b.census(last + 7_000.0),
            Census {
                offline: 1,
                ..Default::default()
            }
        );
        // Birth again.
        b.record(
            "devices/d1/status",
            &p("{\"state\":\"ONLINE\"}"),
            last + 9_000.0,
        );
        assert_eq!(
            b.get("d1").unwrap().shown(last + 9_000.0, &b.config),
            Shown::Online
        );
        // Unrelated and unintelligible messages are not devices.
        assert!(!b.record("devices/d2/status", &p("maybe"), 0.0));
        assert!(!b.record("other/topic", &p("online"), 0.0));
        assert_eq!(b.all().len(), 1);
    }

    #[test]
    fn meta_search_and_sort() {
        let mut b = Devices::new(PresenceConfig::default());
        b.record("devices/b/status", &p("online"), 10.0);
        b.record("devices/a/status", &p("offline"), 20.0);
        b.record("devices/c/telemetry", &p("42.5"), 30.0);
        b.record(
            "devices/c/meta",
            &p("{\"model\":\"TH-200\",\"room\":\"Cold room\"}"),
            30.0,
        );
        assert_eq!(
            b.get("c").unwrap().meta.as_deref(),
            Some("TH-200 · Cold room")
        );
        assert_eq!(b.get("c").unwrap().spark, [42.5]);
        let ids = |v: Vec<usize>| {
            v.into_iter()
                .map(|i| b.all()[i].id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(b.select("", DeviceSort::Id, 30.0)), ["a", "b", "c"]);
        assert_eq!(ids(b.select("", DeviceSort::State, 30.0)), ["b", "a", "c"]);
        assert_eq!(
            ids(b.select("", DeviceSort::LastSeen, 30.0)),
            ["c", "a", "b"]
        );
        assert_eq!(ids(b.select("cold", DeviceSort::Id, 30.0)), ["c"]);
    }

    #[test]
    fn bounded_in_devices_and_points() {
        let mut b = Devices::new(PresenceConfig {
            max_devices: 100,
            ..Default::default()
        });
        for i in 0..150 {
            b.record(&format!("devices/d{i}/status"), &p("online"), 0.0);
        }
        assert_eq!((b.all().len(), b.refused()), (100, 50));
        for i in 0..500 {
            b.record(
                "devices/d0/telemetry",
                &p(&format!("{{\"temp\":{i}}}")),
                i as f64,
            );
        }
        assert_eq!(b.get("d0").unwrap().spark.len(), SPARK_POINTS);
        assert_eq!(*b.get("d0").unwrap().spark.last().unwrap(), 499.0);
    }

    #[test]
    fn sparkline_geometry() {
        assert_eq!(spark_points(&[1.0], 59.0, 20.0), "");
        let pts = spark_points(&[0.0, 10.0], 59.0, 20.0);
        assert_eq!(pts, "58.0,19.0 59.0,1.0");
    }
}
