//! Time series for charts: a numeric field (a dotted JSON path) of the messages on a topic or a
//! filter (`devices/dev-0001/telemetry`, `devices/+/telemetry`), over a window of 5 minutes to an
//! hour. Downsampled as it comes: the window is cut into [`BUCKETS`] buckets, each keeping the
//! minimum, maximum, mean and count of its samples, so memory is bounded by
//! `MAX_SERIES × BUCKETS` whatever the message rate.

use std::collections::VecDeque;

use super::json::{self, JsonExt};
use crate::codec::validate_topic_filter;
use crate::proto::matches;

/// Series at most.
pub const MAX_SERIES: usize = 8;
/// Buckets per window (points drawn per series).
pub const BUCKETS: usize = 240;
/// The windows offered, ms: 5, 15, 30 and 60 minutes.
pub const WINDOWS_MS: [f64; 4] = [300_000.0, 900_000.0, 1_800_000.0, 3_600_000.0];

/// One bucket's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The bucket's start, ms since the Unix epoch.
    pub t: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Samples.
    pub n: u32,
}

impl Point {
    fn add(&mut self, v: f64, n: u32, sum: f64) {
        let total = f64::from(self.n) * self.mean + sum;
        self.n += n;
        self.mean = total / f64::from(self.n);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The topic or filter.
    pub topic: String,
    /// The field (a dotted path; empty: the payload itself is the number).
    pub path: String,
    /// Its colour (CSS class `c0`..`c7`).
    pub color: u8,
    points: VecDeque<Point>,
}

impl Series {
    /// Its points, oldest first.
    pub fn points(&self) -> impl Iterator<Item = &Point> {
        self.points.iter()
    }

    /// The newest bucket's mean.
    pub fn last(&self) -> Option<f64> {
        self.points.back().map(|p| p.mean)
    }

    /// "topic · path".
    pub fn name(&self) -> String {
        if self.path.is_empty() {
            self.topic.clone()
        } else {
            format!("{} · {}", self.topic, self.path)
        }
    }
}

/// The charted series and their window.
// Design: buckets are aligned to multiples of the bucket width (not to the first sample), so
// two series share their x positions and a changed window re-buckets by merging.
#[derive(Debug, Clone, PartialEq)]
pub struct Charts {
    window_ms: f64,
    series: Vec<Series>,
}

impl Default for Charts {
    fn default() -> Self {
        Charts {
            window_ms: WINDOWS_MS[0],
            series: Vec::new(),
        }
    }
}

impl Charts {
    /// The window, ms.
    pub fn window_ms(&self) -> f64 {
        self.window_ms
    }

    /// A bucket's width, ms.
    pub fn bucket_ms(&self) -> f64 {
        self.window_ms / BUCKETS as f64
    }

    /// The series.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// Charts `path` of the messages on `topic` (a topic or a filter); or says why not.
    pub fn add(&mut self, topic: &str, path: &str) -> Result<(), String> {
        let (topic, path) = (topic.trim(), path.trim());
        if self.series.len() >= MAX_SERIES {
            return Err(format!("at most {MAX_SERIES} series: remove one first"));
        }
        validate_topic_filter(topic, false)
            .map_err(|e| format!("{topic:?} is not a topic or filter: {e}"))?;
        if self
            .series
            .iter()
            .any(|s| s.topic == topic && s.path == path)
        {
            return Err("that series is already charted".into());
        }
        let color = (0..super::COLORS)
            .find(|c| self.series.iter().all(|s| s.color != *c))
            .unwrap_or(0);
        self.series.push(Series {
            topic: topic.into(),
            path: path.into(),
            color,
            points: VecDeque::new(),
        });
        Ok(())
    }

    /// Removes series `i`.
    pub fn remove(&mut self, i: usize) {
        if i < self.series.len() {
            self.series.remove(i);
        }
    }

    /// Another window (one of [`WINDOWS_MS`], else the nearest); what is kept is re-bucketed.
    pub fn set_window(&mut self, ms: f64, now: f64) {
        let ms = WINDOWS_MS
            .into_iter()
            .min_by(|a, b| (a - ms).abs().total_cmp(&(b - ms).abs()))
            .unwrap_or(WINDOWS_MS[0]);
        self.window_ms = ms;
        let width = self.bucket_ms();
        for s in &mut self.series {
            let old: Vec<Point> = s.points.drain(..).collect();
            for p in old {
                insert(
                    &mut s.points,
                    width,
                    p.t,
                    p.min,
                    p.n,
                    p.mean * f64::from(p.n),
                );
                if let Some(last) = s.points.back_mut() {
                    last.max = last.max.max(p.max);
                }
            }
        }
        self.prune(now);
    }

    /// Takes a message; true if a series took a sample.
    pub fn record(&mut self, topic: &str, payload: &[u8], now: f64) -> bool {
        let width = self.bucket_ms();
        let mut parsed = None;
        let mut took = false;
        for s in &mut self.series {
            if !matches(&s.topic, topic) {
                continue;
            }
            let v = parsed
                .get_or_insert_with(|| std::str::from_utf8(payload).ok().and_then(json::parse));
            let x = v
                .as_ref()
                .and_then(|v| v.path(&s.path))
                .and_then(|x| x.number())
                .filter(|x| x.is_finite());
            if let Some(x) = x {
                insert(&mut s.points, width, now, x, 1, x);
                took = true;
            }
        }
        took
    }

    /// Drops what is older than the window.
    pub fn prune(&mut self, now: f64) {
        let from = now - self.window_ms;
        for s in &mut self.series {
            while s
                .points
                .front()
                .is_some_and(|p| p.t + self.window_ms / BUCKETS as f64 <= from)
            {
                s.points.pop_front();
            }
        }
    }
}

/// Adds `n` samples (summing to `sum`, ranging from `v`) at `t` to the bucket of `t`.
fn insert(points: &mut VecDeque<Point>, width: f64, t: f64, v: f64, n: u32, sum: f64) {
    let t0 = (t / width).floor() * width;
    match points.back_mut() {
        Some(p) if p.t == t0 => p.add(v, n, sum),
        // A sample from before the newest bucket (a clock step): into its bucket if kept.
        Some(p) if p.t > t0 => {
            if let Some(q) = points.iter_mut().rev().find(|q| q.t == t0) {
                q.add(v, n, sum);
            }
        }
        _ => {
            points.push_back(Point {
                t: t0,
                min: v,
                max: v,
                mean: sum / f64::from(n),
                n,
            });
            if points.len() > BUCKETS + 1 {
                points.pop_front();
            }
        }
    }
}

/// About five round steps covering `lo..hi`, for an axis.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-9);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .min_by(|a, b| (a - raw).abs().total_cmp(&(b - raw).abs()))
        .unwrap_or(mag);
    let first = (lo / step).ceil() * step;
    (0..=10)
        .map(|i| first + step * f64::from(i))
        .take_while(|v| *v <= hi + step * 1e-9)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn telemetry(c: &mut Charts, id: &str, temp: f64, now: f64) -> bool {
        c.record(
            &format!("devices/{id}/telemetry"),
            format!(r#"{{"temp":{temp},"nested":{{"v":{}}}}}"#, temp * 2.0).as_bytes(),
            now,
        )
    }

    #[test]
    fn samples_are_bucketed_and_the_window_bounds_them() {
        let mut c = Charts::default();
        c.add("devices/d1/telemetry", "temp").unwrap();
        assert_eq!(c.bucket_ms(), 1250.0);
        // 4 samples a second for 10 minutes, far more than the buckets.
        for i in 0..(4 * 600) {
            let t = 1_000_000.0 + f64::from(i) * 250.0;
            telemetry(&mut c, "d1", f64::from(i % 10), t);
            c.prune(t);
        }
        let points: Vec<&Point> = c.series()[0].points().collect();
        assert!(points.len() <= BUCKETS + 1, "{}", points.len());
        assert!(points.len() >= BUCKETS - 1, "{}", points.len());
        let p = points[10];
        assert_eq!(p.n, 5);
        assert!(p.min <= p.mean && p.mean <= p.max);
        // Nothing older than the window.
        let now = 1_000_000.0 + 2399.0 * 250.0;
        assert!(points[0].t + c.bucket_ms() > now - c.window_ms());
    }

    #[test]
    fn a_filter_charts_many_topics_and_paths_reach_inside() {
        let mut c = Charts::default();
        c.add("devices/+/telemetry", "nested.v").unwrap();
        assert!(telemetry(&mut c, "a", 1.0, 0.0));
        assert!(telemetry(&mut c, "b", 3.0, 10.0));
        assert!(!c.record("devices/a/status", b"online", 20.0));
        assert!(!c.record("devices/a/telemetry", b"not json", 30.0));
        let p = c.series()[0].points().next().unwrap();
        assert_eq!((p.n, p.min, p.max, p.mean), (2, 2.0, 6.0, 4.0));
        // A bare number is charted with an empty path.
        c.add("sensors/x", "").unwrap();
        assert!(c.record("sensors/x", b"21.5", 0.0));
        assert_eq!(c.series()[1].last(), Some(21.5));
    }

    #[test]
    fn what_cannot_be_charted_is_said() {
        let mut c = Charts::default();
        assert!(c
            .add("a/#/b", "x")
            .unwrap_err()
            .contains("not a topic or filter"));
        c.add("a", "x").unwrap();
        assert!(c.add("a", "x").unwrap_err().contains("already"));
        for i in 1..MAX_SERIES {
            c.add(&format!("t/{i}"), "x").unwrap();
        }
        assert!(c.add("one/more", "x").unwrap_err().contains("at most"));
        let colors: std::collections::HashSet<u8> = c.series().iter().map(|s| s.color).collect();
        assert_eq!(colors.len(), MAX_SERIES, "each its own colour");
    }

    #[test]
    fn a_longer_window_merges_buckets_and_keeps_the_figures() {
        let mut c = Charts::default();
        c.add("devices/d1/telemetry", "temp").unwrap();
        for i in 0..240 {
            telemetry(&mut c, "d1", f64::from(i), f64::from(i) * 1000.0);
        }
        c.set_window(3_600_000.0, 239_000.0);
        assert_eq!(c.bucket_ms(), 15_000.0);
        let pts: Vec<&Point> = c.series()[0].points().collect();
        assert_eq!(
            pts.iter().map(|p| p.n).sum::<u32>(),
            240,
            "every sample still counted"
        );
        assert_eq!((pts[0].min, pts[0].max, pts[0].mean), (0.0, 14.0, 7.0));
        assert_eq!(pts.last().unwrap().max, 239.0);
        // An odd window goes to the nearest offered.
        c.set_window(1_000_000.0, 239_000.0);
        assert_eq!(c.window_ms(), 900_000.0);
    }

    proptest::proptest! {
        /// Whatever the times and values, each series keeps at most a window's buckets, in
        /// time order, each with min <= mean <= max.
        #[test]
        fn any_samples_stay_bounded_and_ordered(samples in proptest::collection::vec((0u32..4_000_000, -1e6f64..1e6), 0..400), window in 0usize..4) {
            let mut c = Charts::default();
            c.add("t/+", "").unwrap();
            c.set_window(WINDOWS_MS[window], 0.0);
            let mut now = 0.0f64;
            for (dt, v) in samples {
                now += f64::from(dt % 20_000);
                c.record("t/a", v.to_string().as_bytes(), now);
                c.prune(now);
            }
            let pts: Vec<&Point> = c.series()[0].points().collect();
            proptest::prop_assert!(pts.len() <= BUCKETS + 1);
            for w in pts.windows(2) {
                proptest::prop_assert!(w[0].t < w[1].t);
            }
            for p in pts {
                proptest::prop_assert!(p.min <= p.mean + 1e-6 && p.mean <= p.max + 1e-6);
            }
        }
    }

    #[test]
    fn axis_ticks_are_round() {
        assert_eq!(ticks(0.0, 100.0), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(18.3, 23.9), [19.0, 20.0, 21.0, 22.0, 23.0]);
        assert_eq!(
            ticks(-95.0, -35.0),
            [-90.0, -80.0, -70.0, -60.0, -50.0, -40.0]
        );
        assert!(!ticks(5.0, 5.0).is_empty());
    }
}
