//! Fleet-wide desired changes (a rollout): one patch of the desired state (`{"firmware":
//! "1.4.0"}`) set on a share of a selection of devices, then on more of it, wave by wave, and
//! how the fleet converges: how many are in sync, pending, upgrading, rejected, failed, and how
//! long they took.

use super::json::{self, Json, JsonExt, Map};
use super::shadow::{delta, Shadows, Sync};

/// Rollouts kept (the oldest goes).
pub const MAX_ROLLOUTS: usize = 16;

/// One wave of a rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Wave {
    /// When it was set, ms since the Unix epoch.
    pub started_ms: f64,
    /// The devices it set.
    pub devices: Vec<String>,
    /// The desired version it set on each (same order as `devices`).
    pub versions: Vec<u64>,
}

/// A rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// Its number (from 1).
    pub id: u32,
    /// The patch, as compact JSON.
    pub label: String,
    /// The patch.
    pub patch: Map<String, Json>,
    /// Its waves, in order.
    pub waves: Vec<Wave>,
}

/// How a rollout stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Devices it set.
    pub total: usize,
    /// In sync.
    pub in_sync: usize,
    /// Not answered, or on their way.
    pub pending: usize,
    /// Upgrading now.
    pub upgrading: usize,
    /// Refused it.
    pub rejected: usize,
    /// Took it and failed.
    pub failed: usize,
    /// Given another desired state since (by another rollout or an operator) without this change.
    pub superseded: usize,
    /// Median time to sync of those in sync, ms.
    pub took_p50_ms: Option<f64>,
    /// Longest time to sync, ms.
    pub took_max_ms: Option<f64>,
}

/// The rollouts started from this page.
// Design: a rollout holds only its patch and the ids of each wave; where each device stands is
// read from the shadows when asked, so there is one truth (the shadows) and nothing to keep in
// step.
#[derive(Debug, Clone, Default)]
pub struct Rollouts {
    list: Vec<Rollout>,
    next: u32,
}

/// A stable spread of ids (FNV-1a), so a 10% wave is not the first 10% by name (one room, one
/// model) but the same sample for the same fleet.
fn spread(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Rollouts {
    /// The rollouts, oldest first.
    pub fn list(&self) -> &[Rollout] {
        &self.list
    }

    /// Sets `patch` on `share` (0 to 1) of `candidates`, skipping those an earlier wave of the
    /// same patch set: a first call with 0.1 is a 10% canary, a second with 1.0 the rest.
    /// Returns the rollout's id and the desired documents to publish (topic, payload).
    pub fn start(
        &mut self,
        shadows: &mut Shadows,
        patch: Map<String, Json>,
        candidates: &[String],
        share: f64,
        now: f64,
    ) -> Result<(u32, Vec<(String, String)>), String> {
        if patch.is_empty() {
            return Err("the rollout sets nothing: give it a desired field, such as {\"firmware\": \"1.4.0\"}".into());
        }
        if !(share > 0.0 && share <= 1.0) {
            return Err(format!(
                "the share must be over 0% and at most 100%, not {}%",
                share * 100.0
            ));
        }
        let same =
            |r: &Rollout| json::same(&Json::Object(r.patch.clone()), &Json::Object(patch.clone()));
        let at = self.list.iter().position(same);
        let done: std::collections::HashSet<&String> = at
            .map(|i| self.list[i].waves.iter().flat_map(|w| &w.devices).collect())
            .unwrap_or_default();
        let mut left: Vec<&String> = candidates.iter().filter(|c| !done.contains(c)).collect();
        if left.is_empty() {
            return Err("every selected device is already in this rollout".into());
        }
        left.sort_by_key(|id| spread(id));
        let n = ((share * candidates.len() as f64).ceil() as usize).clamp(1, left.len());
        let mut out = Vec::with_capacity(n);
        let mut set: Vec<(String, u64)> = Vec::with_capacity(n);
        for id in left.into_iter().take(n) {
            out.push(shadows.patch(id, &patch, now)?);
            let version = shadows
                .get(id)
                .and_then(|s| s.desired.as_ref())
                .map_or(0, |d| d.version);
            set.push((id.clone(), version));
        }
        set.sort();
        let (devices, versions) = set.into_iter().unzip();
        let wave = Wave {
            started_ms: now,
            devices,
            versions,
        };
        let id = match at {
            Some(i) => {
                self.list[i].waves.push(wave);
                self.list[i].id
            }
            None => {
                if self.list.len() >= MAX_ROLLOUTS {
                    self.list.remove(0);
                }
                self.next += 1;
                self.list.push(Rollout {
                    id: self.next,
                    label: Json::Object(patch.clone()).compact(),
                    patch,
                    waves: vec![wave],
                });
                self.next
            }
        };
        Ok((id, out))
    }

    /// Where rollout `id` stands.
    pub fn progress(&self, shadows: &Shadows, id: u32) -> Progress {
        let mut p = Progress::default();
        let Some(r) = self.list.iter().find(|r| r.id == id) else {
            return p;
        };
        let mut took = Vec::new();
        for w in &r.waves {
            for (d, set) in w.devices.iter().zip(&w.versions) {
                p.total += 1;
                let desired = shadows.get(d).and_then(|s| s.desired.as_ref());
                if desired
                    .is_some_and(|x| x.version > *set && !delta(&r.patch, &x.state).is_empty())
                {
                    p.superseded += 1;
                    continue;
                }
                match shadows.sync(d) {
                    Sync::InSync => {
                        p.in_sync += 1;
                        if let Some(at) = shadows.get(d).and_then(|s| s.synced_ms) {
                            took.push((at - w.started_ms).max(0.0));
                        }
                    }
                    Sync::Upgrading(_) => p.upgrading += 1,
                    Sync::Rejected(_) => p.rejected += 1,
                    Sync::Failed(_) => p.failed += 1,
                    Sync::Pending | Sync::NoDesired => p.pending += 1,
                }
            }
        }
        took.sort_by(f64::total_cmp);
        p.took_p50_ms = took.get(took.len() / 2).copied();
        p.took_max_ms = took.last().copied();
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::model::shadow::ShadowConfig;

    fn fleet(n: usize) -> (Shadows, Vec<String>) {
        let mut s = Shadows::new(ShadowConfig::default());
        let ids: Vec<String> = (1..=n).map(|i| format!("dev-{i:04}")).collect();
        for id in &ids {
            let doc = r#"{"version":1,"state":{"firmware":"1.3.0"}}"#;
            s.record(
                &format!("devices/{id}/shadow/reported"),
                doc.as_bytes(),
                0.0,
            );
        }
        (s, ids)
    }

    fn firmware(v: &str) -> Map<String, Json> {
        json::parse(&format!("{{\"firmware\":\"{v}\"}}"))
            .unwrap()
            .as_object()
            .unwrap()
            .clone()
    }

    fn report(s: &mut Shadows, id: &str, version: u64, state: &str, now: f64) {
        let doc = format!("{{\"version\":{version},\"state\":{state}}}");
        s.record(
            &format!("devices/{id}/shadow/reported"),
            doc.as_bytes(),
            now,
        );
    }

    #[test]
    fn a_canary_wave_then_the_rest_and_the_fleet_converging() {
        let (mut s, ids) = fleet(50);
        let mut r = Rollouts::default();
        let (id, docs) = r
            .start(&mut s, firmware("1.4.0"), &ids, 0.1, 1000.0)
            .unwrap();
        assert_eq!(docs.len(), 5, "10% of 50");
        // Spread over the fleet, not the first five by name.
        assert_ne!(r.list()[0].waves[0].devices, ids[..5].to_vec());
        assert!(docs
            .iter()
            .all(|(t, d)| t.ends_with("/shadow/desired") && d.contains("\"firmware\":\"1.4.0\"")));
        let p = r.progress(&s, id);
        assert_eq!((p.total, p.pending, p.in_sync), (5, 5, 0));

        let canary = r.list()[0].waves[0].devices.clone();
        report(
            &mut s,
            &canary[0],
            2,
            r#"{"firmware":"1.3.0","ota":{"state":"downloading","progress":40}}"#,
            2000.0,
        );
        report(&mut s, &canary[1], 2, r#"{"firmware":"1.4.0"}"#, 4000.0);
        s.record(
            &format!("devices/{}/shadow/rejected", canary[2]),
            br#"{"version":1,"reason":"battery too low"}"#,
            1500.0,
        );
        s.record(
            &format!("devices/{}/shadow/accepted", canary[3]),
            br#"{"version":1}"#,
            1500.0,
        );
        report(
            &mut s,
            &canary[3],
            2,
            r#"{"firmware":"1.3.0","ota":{"state":"failed","reason":"checksum"}}"#,
            5000.0,
        );
        let p = r.progress(&s, id);
        assert_eq!(
            (p.in_sync, p.upgrading, p.rejected, p.failed, p.pending),
            (1, 1, 1, 1, 1)
        );
        assert_eq!((p.took_p50_ms, p.took_max_ms), (Some(3000.0), Some(3000.0)));

        // The rest: the same patch again is the same rollout's next wave, without the canary.
        let (again, docs) = r
            .start(&mut s, firmware("1.4.0"), &ids, 1.0, 9000.0)
            .unwrap();
        assert_eq!((again, docs.len()), (id, 45));
        assert_eq!(r.progress(&s, id).total, 50);
        assert!(r
            .start(&mut s, firmware("1.4.0"), &ids, 1.0, 9000.0)
            .is_err());
        // Another patch is another rollout.
        let (other, _) = r
            .start(&mut s, firmware("2.0.0"), &ids[..2], 1.0, 9500.0)
            .unwrap();
        assert_ne!(other, id);
    }

    #[test]
    fn a_rollout_needs_a_patch_and_a_share() {
        let (mut s, ids) = fleet(3);
        let mut r = Rollouts::default();
        assert!(r
            .start(&mut s, Map::new(), &ids, 0.5, 0.0)
            .unwrap_err()
            .contains("sets nothing"));
        assert!(r.start(&mut s, firmware("1.4.0"), &ids, 0.0, 0.0).is_err());
        assert!(r.start(&mut s, firmware("1.4.0"), &ids, 1.5, 0.0).is_err());
        // Any share sets at least one device.
        let (_, docs) = r.start(&mut s, firmware("1.4.0"), &ids, 0.01, 0.0).unwrap();
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn rollouts_kept_are_bounded() {
        let (mut s, ids) = fleet(1);
        let mut r = Rollouts::default();
        for i in 0..MAX_ROLLOUTS + 3 {
            r.start(&mut s, firmware(&format!("9.{i}")), &ids, 1.0, 0.0)
                .unwrap();
        }
        assert_eq!(r.list().len(), MAX_ROLLOUTS);
        assert_eq!(r.list()[0].id, 4);
    }
}
