//! Device shadows. Per device: the state it **reported**, the state operators **desired**, each a
//! versioned JSON document, and the **delta** (the desired keys whose reported value differs).
//!
//! Length: the convention, the documents, one device's shadow and the fleet's are one model
//! read together; its tests are in shadow_tests.rs.
//!
//! The topic convention ([`ShadowConfig`], configurable like the presence patterns):
//!
//! - `devices/{id}/shadow/reported`, retained, from the device: `{"version": 7, "state": {...}}`;
//! - `devices/{id}/shadow/desired`, retained, from the dashboard: the whole desired state,
//!   `{"version": 3, "state": {"firmware": "1.4.0"}}`;
//! - `devices/{id}/shadow/accepted` and `.../rejected`, from the device when it has read a
//!   desired version: `{"version": 3}` or `{"version": 3, "reason": "setpoint 99 out of 5..35"}`.
//!
//! Versions only move forward: a document whose version is not greater than the one held is
//! ignored (counted, and noted in the device's history), so a late or reordered report never
//! moves the shown state backwards. The same version again (a retained copy on reconnecting) is
//! a duplicate, not counted. A firmware upgrade reports its progress in the reported state
//! (`"ota": {"state": "downloading" | "installing" | "done" | "failed", "progress": 40,
//! "target": "1.4.0", "reason": "..."}`).

use std::collections::{HashMap, VecDeque};

use super::devices::capture;
use super::json::{self, Json, JsonExt, Map};

/// Where shadows are found, and their bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowConfig {
    /// Reported state topic, with `{id}` for one level.
    pub reported: String,
    /// Desired state topic, with `{id}`.
    pub desired: String,
    /// The device's acceptance of a desired version, with `{id}`.
    pub accepted: String,
    /// The device's rejection of a desired version (with a reason), with `{id}`.
    pub rejected: String,
    /// Command topic, with `{id}` (what the detail panel sends).
    pub command: String,
    /// The device's answers to commands, with `{id}` (shown in its history).
    pub ack: String,
    /// The reported field (a dotted path) where an upgrade tells its progress.
    pub progress_field: String,
    /// Desired updates sent and not answered yet, kept per device; past it the oldest is dropped
    /// (and counted, and noted).
    pub max_pending: usize,
    /// History entries kept per device.
    pub max_history: usize,
    /// Largest shadow document read, in bytes; larger ones are refused (and noted).
    pub max_document: usize,
    /// At most this many devices have a shadow.
    pub max_devices: usize,
}

impl Default for ShadowConfig {
    fn default() -> Self {
        ShadowConfig {
            reported: "devices/{id}/shadow/reported".into(),
            desired: "devices/{id}/shadow/desired".into(),
            accepted: "devices/{id}/shadow/accepted".into(),
            rejected: "devices/{id}/shadow/rejected".into(),
            command: "devices/{id}/cmd".into(),
            ack: "devices/{id}/ack".into(),
            progress_field: "ota".into(),
            max_pending: 8,
            max_history: 24,
            max_document: 8 * 1024,
            max_devices: 20_000,
        }
    }
}

impl ShadowConfig {
    /// The desired topic of a device.
    pub fn desired_topic(&self, id: &str) -> String {
        self.desired.replace("{id}", id)
    }

    /// The command topic of a device.
    pub fn command_topic(&self, id: &str) -> String {
        self.command.replace("{id}", id)
    }

    /// One filter per topic of the convention (`{id}` as `+`), to subscribe.
    pub fn filters(&self) -> Vec<String> {
        [
            &self.reported,
            &self.desired,
            &self.accepted,
            &self.rejected,
            &self.ack,
        ]
        .iter()
        .map(|p| p.replace("{id}", "+"))
        .collect()
    }
}

/// A versioned state document.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Its version.
    pub version: u64,
    /// The state.
    pub state: Map<String, Json>,
    /// When it arrived (or was set here), ms since the Unix epoch.
    pub at_ms: f64,
}

/// The device's answer to a desired version.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// It took it.
    Accepted,
    /// It refused it, saying why.
    Rejected(String),
}

/// What happened to a shadow, as its history shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new reported version, with the keys whose value changed.
    Reported {
        /// Version.
        version: u64,
        /// Changed keys (top level).
        keys: Vec<String>,
    },
    /// A new desired version; `by_us` if this page set it.
    Desired {
        /// Version.
        version: u64,
        /// Changed keys (top level).
        keys: Vec<String>,
        /// Set from this page.
        by_us: bool,
    },
    /// The device answered a desired version.
    Answered {
        /// The desired version answered.
        version: u64,
        /// The answer.
        answer: Answer,
    },
    /// A document older than the one held, ignored.
    Stale {
        /// "reported", "desired" or "answer".
        doc: &'static str,
        /// Its version.
        version: u64,
        /// The version held.
        held: u64,
    },
    /// A document that could not be read.
    Invalid {
        /// "reported", "desired" or "answer".
        doc: &'static str,
        /// Why.
        why: String,
    },
    /// An unanswered desired update dropped from the pending list (over its bound).
    Dropped {
        /// Its version.
        version: u64,
    },
    /// A command sent from this page.
    Command {
        /// What was sent (cut to [`MAX_NOTE`]).
        text: String,
    },
    /// The device's answer to a command.
    CommandAnswer {
        /// What it said (cut to [`MAX_NOTE`]).
        text: String,
    },
}

impl Change {
    /// In words, for the history list.
    pub fn describe(&self) -> String {
        let keys = |k: &[String]| {
            if k.is_empty() {
                "no change".to_string()
            } else {
                k.join(", ")
            }
        };
        match self {
            Change::Reported { version, keys: k } => format!("reported v{version}: {}", keys(k)),
            Change::Desired {
                version,
                keys: k,
                by_us,
            } => format!(
                "desired v{version} set {}: {}",
                if *by_us { "here" } else { "elsewhere" },
                keys(k)
            ),
            Change::Answered {
                version,
                answer: Answer::Accepted,
            } => format!("accepted desired v{version}"),
            Change::Answered {
                version,
                answer: Answer::Rejected(why),
            } => format!("rejected desired v{version}: {why}"),
            Change::Stale { doc, version, held } => {
                format!("ignored {doc} v{version}: older than v{held}")
            }
            Change::Invalid { doc, why } => format!("unreadable {doc}: {why}"),
            Change::Dropped { version } => {
                format!("desired v{version} unanswered and dropped: too many pending")
            }
            Change::Command { text } => format!("command sent: {text}"),
            Change::CommandAnswer { text } => format!("command answer: {text}"),
        }
    }
}

/// Longest command or answer kept in a history entry, in characters.
pub const MAX_NOTE: usize = 200;

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_NOTE) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

/// Where a device stands against its desired state.
#[derive(Debug, Clone, PartialEq)]
pub enum Sync {
    /// Nothing desired.
    NoDesired,
    /// Reported matches desired.
    InSync,
    /// Not there yet (not answered, or accepted and on its way).
    Pending,
    /// Upgrading, at this percentage.
    Upgrading(u8),
    /// The device refused the desired version.
    Rejected(String),
    /// The device accepted it and then failed (an upgrade that did not take).
    Failed(String),
}

impl Sync {
    /// In words, for a badge.
    pub fn describe(&self) -> String {
        match self {
            Sync::NoDesired => "nothing desired".into(),
            Sync::InSync => "in sync".into(),
            Sync::Pending => "pending".into(),
            Sync::Upgrading(p) => format!("upgrading {p}%"),
            Sync::Rejected(why) => format!("rejected: {why}"),
            Sync::Failed(why) => format!("failed: {why}"),
        }
    }

    /// Its name (also the CSS class and the rollout's column).
    pub fn label(&self) -> &'static str {
        match self {
            Sync::NoDesired => "none",
            Sync::InSync => "in-sync",
            Sync::Pending => "pending",
            Sync::Upgrading(_) => "upgrading",
            Sync::Rejected(_) => "rejected",
            Sync::Failed(_) => "failed",
        }
    }
}

/// One device's shadow.
// Design: documents are replaced only by greater versions (what makes reordering harmless), and
// everything that grows with traffic (history, pending updates, document size) has a bound from
// the config, so 20,000 shadows stay a few tens of MB at most.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shadow {
    /// The reported state.
    pub reported: Option<Doc>,
    /// The desired state.
    pub desired: Option<Doc>,
    /// The latest answer: desired version, answer, when.
    pub answer: Option<(u64, Answer, f64)>,
    /// Desired versions sent from this page, not answered yet: version, when sent.
    pub pending: VecDeque<(u64, f64)>,
    /// Pending updates dropped over the bound.
    pub dropped: u64,
    /// Stale documents ignored.
    pub ignored: u64,
    /// What happened, newest last: when, what.
    pub history: VecDeque<(f64, Change)>,
    /// When reported last came to match desired (None: not since desired last changed).
    pub synced_ms: Option<f64>,
}

impl Shadow {
    /// Desired keys whose reported value differs (objects compared member by member).
    pub fn delta(&self) -> Map<String, Json> {
        let empty = Map::new();
        match &self.desired {
            None => Map::new(),
            Some(d) => delta(
                &d.state,
                self.reported.as_ref().map_or(&empty, |r| &r.state),
            ),
        }
    }

    /// Where it stands; `progress_field` is where an upgrade reports progress.
    pub fn sync(&self, progress_field: &str) -> Sync {
        let Some(d) = &self.desired else {
            return Sync::NoDesired;
        };
        if self.delta().is_empty() {
            return Sync::InSync;
        }
        let accepted = match &self.answer {
            Some((v, Answer::Rejected(why), _)) if *v == d.version => {
                return Sync::Rejected(why.clone())
            }
            Some((v, Answer::Accepted, _)) => *v == d.version,
            _ => false,
        };
        let progress = self
            .reported
            .as_ref()
            .and_then(|r| Json::Object(r.state.clone()).path(progress_field).cloned());
        if let Some(p) = progress {
            let state = p.path("state").map(JsonExt::brief).unwrap_or_default();
            if accepted && state == "failed" {
                let why = p.path("reason").map(JsonExt::brief);
                return Sync::Failed(why.unwrap_or_else(|| "failed".into()));
            }
            if state == "downloading" || state == "installing" {
                let pct = p.path("progress").and_then(Json::number).unwrap_or(0.0);
                return Sync::Upgrading(pct.clamp(0.0, 100.0) as u8);
            }
        }
        Sync::Pending
    }

    /// How long the device took to match the desired state, ms (None: it has not yet).
    pub fn converged_in_ms(&self) -> Option<f64> {
        Some(self.synced_ms? - self.desired.as_ref()?.at_ms)
    }

    fn note(&mut self, max: usize, at_ms: f64, change: Change) {
        while self.history.len() >= max.max(1) {
            self.history.pop_front();
        }
        self.history.push_back((at_ms, change));
    }

    fn settle(&mut self, now: f64) {
        if self.desired.is_some() && self.delta().is_empty() {
            self.synced_ms.get_or_insert(now);
        } else {
            self.synced_ms = None;
        }
    }
}

/// Desired keys whose reported value differs, recursively for objects; a `null` desired value
/// means no wish.
pub fn delta(desired: &Map<String, Json>, reported: &Map<String, Json>) -> Map<String, Json> {
    let mut out = Map::new();
    for (k, want) in desired {
        match (want, reported.get(k)) {
            (Json::Null, _) => {}
            (Json::Object(w), Some(Json::Object(r))) => {
                let d = delta(w, r);
                if !d.is_empty() {
                    out.insert(k.clone(), Json::Object(d));
                }
            }
            (w, Some(r)) if json::same(w, r) => {}
            (w, _) => {
                out.insert(k.clone(), w.clone());
            }
        }
    }
    out
}

/// Top-level keys whose value differs between two states.
fn changed_keys(before: Option<&Map<String, Json>>, after: &Map<String, Json>) -> Vec<String> {
    let empty = Map::new();
    let before = before.unwrap_or(&empty);
    let mut keys: Vec<String> = after
        .iter()
        .filter(|(k, v)| !before.get(*k).is_some_and(|b| json::same(b, v)))
        .map(|(k, _)| k.clone())
        .chain(before.keys().filter(|k| !after.contains_key(*k)).cloned())
        .collect();
    keys.truncate(8);
    keys
}

/// Reads `{"version": N, "state": {...}}`.
fn read_doc(payload: &[u8], max: usize) -> Result<(u64, Map<String, Json>), String> {
    if payload.len() > max {
        return Err(format!("{} bytes, over the bound of {max}", payload.len()));
    }
    let text = std::str::from_utf8(payload).map_err(|_| "not UTF-8 text".to_string())?;
    let v = json::parse_or_explain(text)?;
    let version = version_of(&v)?;
    match v.get("state") {
        Some(Json::Object(m)) => Ok((version, m.clone())),
        _ => Err("no \"state\" object".into()),
    }
}

fn version_of(v: &Json) -> Result<u64, String> {
    v.get("version")
        .and_then(Json::as_u64)
        .ok_or_else(|| "no \"version\" (an integer from 0 to 2^64-1)".to_string())
}

/// Every device's shadow.
// Design: keyed by device id like the presence board, which it sits beside; it reads only the
// topics of its convention, so it never competes with presence for a message.
#[derive(Debug, Clone)]
pub struct Shadows {
    config: ShadowConfig,
    by_id: HashMap<String, Shadow>,
    /// Devices refused over `max_devices`.
    pub refused: u64,
}

/// Which document a topic carries.
enum Kind {
    Reported,
    Desired,
    Accepted,
    Rejected,
    Ack,
}

impl Shadows {
    /// No shadows yet.
    pub fn new(config: ShadowConfig) -> Shadows {
        Shadows {
            config,
            by_id: HashMap::new(),
            refused: 0,
        }
    }

    /// The convention in force.
    pub fn config(&self) -> &ShadowConfig {
        &self.config
    }

    /// A device's shadow.
    pub fn get(&self, id: &str) -> Option<&Shadow> {
        self.by_id.get(id)
    }

    /// How many devices have one.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether none has.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every device with a shadow, and it.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Shadow)> {
        self.by_id.iter()
    }

    /// Where a device stands (NoDesired if it has no shadow).
    pub fn sync(&self, id: &str) -> Sync {
        self.by_id
            .get(id)
            .map_or(Sync::NoDesired, |s| s.sync(&self.config.progress_field))
    }

    fn shadow(&mut self, id: &str) -> Option<&mut Shadow> {
        if !self.by_id.contains_key(id) {
            if self.by_id.len() >= self.config.max_devices {
                self.refused += 1;
                return None;
            }
            self.by_id.insert(id.to_string(), Shadow::default());
        }
        self.by_id.get_mut(id)
    }

    /// Takes a message; true if it was a shadow's.
    pub fn record(&mut self, topic: &str, payload: &[u8], now: f64) -> bool {
        let c = &self.config;
        let found = [
            (&c.reported, Kind::Reported),
            (&c.desired, Kind::Desired),
            (&c.accepted, Kind::Accepted),
            (&c.rejected, Kind::Rejected),
            (&c.ack, Kind::Ack),
        ]
        .into_iter()
        .find_map(|(p, k)| capture(p, topic).map(|id| (id.to_string(), k)));
        let Some((id, kind)) = found else {
            return false;
        };
        if payload.is_empty() {
            return false; // a retained document cleared: nothing to read
        }
        let (max_doc, max_hist) = (c.max_document, c.max_history);
        if matches!(kind, Kind::Ack) && !self.by_id.contains_key(&id) {
            return false; // answers of devices without a shadow are the board's business
        }
        let Some(s) = self.shadow(&id) else {
            return false;
        };
        match kind {
            Kind::Ack => {
                let text = clip(&String::from_utf8_lossy(payload));
                s.note(max_hist, now, Change::CommandAnswer { text });
            }
            Kind::Reported | Kind::Desired => {
                let name = if matches!(kind, Kind::Reported) {
                    "reported"
                } else {
                    "desired"
                };
                let (version, state) = match read_doc(payload, max_doc) {
                    Ok(d) => d,
                    Err(why) => {
                        s.note(max_hist, now, Change::Invalid { doc: name, why });
                        return true;
                    }
                };
                let slot = if matches!(kind, Kind::Reported) {
                    &mut s.reported
                } else {
                    &mut s.desired
                };
                if let Some(held) = slot.as_ref().map(|d| d.version) {
                    if version <= held {
                        if version < held {
                            s.ignored += 1;
                            s.note(
                                max_hist,
                                now,
                                Change::Stale {
                                    doc: name,
                                    version,
                                    held,
                                },
                            );
                        }
                        return true;
                    }
                }
                let keys = changed_keys(slot.as_ref().map(|d| &d.state), &state);
                *slot = Some(Doc {
                    version,
                    state,
                    at_ms: now,
                });
                let change = if matches!(kind, Kind::Reported) {
                    Change::Reported { version, keys }
                } else {
                    Change::Desired {
                        version,
                        keys,
                        by_us: false,
                    }
                };
                s.note(max_hist, now, change);
                if matches!(kind, Kind::Desired) {
                    s.synced_ms = None;
                }
                s.settle(now);
            }
            Kind::Accepted | Kind::Rejected => {
                let v = std::str::from_utf8(payload).ok().and_then(json::parse);
                let Some(version) = v.as_ref().and_then(|v| version_of(v).ok()) else {
                    let why = "an answer without a \"version\"".to_string();
                    s.note(max_hist, now, Change::Invalid { doc: "answer", why });
                    return true;
                };
                if let Some((held, _, _)) = &s.answer {
                    if version < *held {
                        let held = *held;
                        s.ignored += 1;
                        s.note(
                            max_hist,
                            now,
                            Change::Stale {
                                doc: "answer",
                                version,
                                held,
                            },
                        );
                        return true;
                    }
                }
                let answer = if matches!(kind, Kind::Accepted) {
                    Answer::Accepted
                } else {
                    let reason = v.as_ref().and_then(|v| v.get("reason"));
                    Answer::Rejected(
                        reason.map_or_else(|| "no reason given".into(), JsonExt::brief),
                    )
                };
                s.pending.retain(|(p, _)| *p > version);
                s.answer = Some((version, answer.clone(), now));
                s.note(max_hist, now, Change::Answered { version, answer });
            }
        }
        true
    }

    /// Sets a device's whole desired state from this page: the next version, held at once (the
    /// retained copy that comes back is then a duplicate). Returns the topic and the document to
    /// publish (retained, QoS 1), or why not.
    pub fn desire(
        &mut self,
        id: &str,
        state: Map<String, Json>,
        now: f64,
    ) -> Result<(String, String), String> {
        let (max_doc, max_hist, max_pending) = (
            self.config.max_document,
            self.config.max_history,
            self.config.max_pending,
        );
        let topic = self.config.desired_topic(id);
        let Some(s) = self.shadow(id) else {
            return Err(format!(
                "{id}: no room for another shadow (at most {})",
                self.config.max_devices
            ));
        };
        let version = s.desired.as_ref().map_or(0, |d| d.version) + 1;
        let doc = Json::Object(Map::from_iter([
            ("version".to_string(), Json::from(version)),
            ("state".to_string(), Json::Object(state.clone())),
        ]))
        .compact();
        if doc.len() > max_doc {
            return Err(format!(
                "the desired document is {} bytes, over the bound of {max_doc}: make it smaller",
                doc.len()
            ));
        }
        let keys = changed_keys(s.desired.as_ref().map(|d| &d.state), &state);
        s.desired = Some(Doc {
            version,
            state,
            at_ms: now,
        });
        s.synced_ms = None;
        s.settle(now);
        s.note(
            max_hist,
            now,
            Change::Desired {
                version,
                keys,
                by_us: true,
            },
        );
        s.pending.push_back((version, now));
        while s.pending.len() > max_pending.max(1) {
            let (dropped, _) = s.pending.pop_front().expect("longer than the bound");
            s.dropped += 1;
            s.note(max_hist, now, Change::Dropped { version: dropped });
        }
        Ok((topic, doc))
    }

    /// Notes a command this page sent to a device, and returns its topic.
    pub fn command(&mut self, id: &str, text: &str, now: f64) -> String {
        let max = self.config.max_history;
        let topic = self.config.command_topic(id);
        if let Some(s) = self.shadow(id) {
            s.note(max, now, Change::Command { text: clip(text) });
        }
        topic
    }

    /// Merges `patch` into a device's desired state (a `null` removes a key) and sets it.
    pub fn patch(
        &mut self,
        id: &str,
        patch: &Map<String, Json>,
        now: f64,
    ) -> Result<(String, String), String> {
        let mut state = self
            .get(id)
            .and_then(|s| s.desired.as_ref())
            .map(|d| d.state.clone())
            .unwrap_or_default();
        for (k, v) in patch {
            if v.is_null() {
                state.remove(k);
            } else {
                state.insert(k.clone(), v.clone());
            }
        }
        self.desire(id, state, now)
    }
}

/// Reads what an operator typed as a desired state: a JSON object, or why not.
pub fn read_desired(text: &str) -> Result<Map<String, Json>, String> {
    match json::parse_or_explain(text)? {
        Json::Object(m) => Ok(m),
        other => Err(format!(
            "the desired state must be a JSON object ({{\"key\": value, ...}}), not {}",
            other.brief()
        )),
    }
}

#[cfg(test)]
#[path = "shadow_tests.rs"]
mod tests;
