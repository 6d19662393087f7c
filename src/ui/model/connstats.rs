//! Connection health over time: the round-trip distribution (p50 / p90 / p99 of the keep-alive
//! pings), connection attempts and their success rate, why connections ended (by cause and
//! reason code), the share of time connected, and the brokers (URLs) used with the failovers
//! between them.

use std::collections::VecDeque;

use crate::proto::ClientError;

/// Round-trip samples kept (the last ones).
pub const MAX_RTT_SAMPLES: usize = 600;
/// Distinct causes kept; more are counted as "other".
pub const MAX_CAUSES: usize = 12;
/// Broker URLs kept.
pub const MAX_URLS: usize = 16;

/// Why a connection ended, as a short label grouped by cause and reason code.
pub fn cause(e: &ClientError) -> String {
    // "Server busy (0x89)": the reason code's text carries its number.
    let code = |r: &crate::codec::ReasonCode| r.to_string();
    match e {
        ClientError::ConnectionRefused { reason, .. } => format!("refused: {}", code(reason)),
        ClientError::ServerDisconnected { reason, .. } => {
            format!("server disconnect: {}", code(reason))
        }
        ClientError::ProtocolViolation { reason, .. } => {
            format!("protocol violation: {}", code(reason))
        }
        ClientError::ConnectTimeout(_) => "no CONNACK in time".into(),
        ClientError::KeepAliveTimeout(_) => "keep-alive timeout (dead link)".into(),
        ClientError::ConnectionLost { .. } => "connection lost".into(),
        ClientError::SessionTakenOver => "session taken over (0x8e)".into(),
        ClientError::SuspectedTakeover(_) => "suspected takeover".into(),
        ClientError::Malformed(_) => "malformed packet from the server".into(),
        _ => "other".into(),
    }
}

/// Percentiles of the round trip, ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RttSpread {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Samples they come from.
    pub samples: usize,
}

/// The connection's history in figures.
// Design: counters and bounded lists only, fed by the same events as the header (attempts,
// connections, ends) and by the tick (round trips); every list has a bound above, so an hour
// of flapping costs the same memory as a minute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnStats {
    rtts: VecDeque<f64>,
    rtt_seen: u64,
    /// Connection attempts.
    pub attempts: u64,
    /// Attempts that connected.
    pub successes: u64,
    causes: Vec<(String, u64)>,
    urls: Vec<(String, u64)>,
    /// Times a connection went to another broker URL than the previous one.
    pub failovers: u64,
    current_url: Option<String>,
    last_url: Option<String>,
    connected_ms: f64,
    connected_since: Option<f64>,
    first_ms: Option<f64>,
}

impl ConnStats {
    /// An attempt to `url` started.
    pub fn on_connecting(&mut self, url: &str, at_ms: f64) {
        self.attempts += 1;
        self.first_ms.get_or_insert(at_ms);
        self.current_url = Some(url.to_string());
    }

    /// The attempt connected.
    pub fn on_connected(&mut self, at_ms: f64) {
        self.successes += 1;
        self.first_ms.get_or_insert(at_ms);
        self.connected_since = Some(at_ms);
        let url = self.current_url.clone().unwrap_or_default();
        if self.last_url.as_ref().is_some_and(|u| *u != url) {
            self.failovers += 1;
        }
        self.last_url = Some(url.clone());
        let room = self.urls.len() < MAX_URLS;
        match self.urls.iter_mut().find(|(u, _)| *u == url) {
            Some((_, n)) => *n += 1,
            None if room => self.urls.push((url, 1)),
            None => {}
        }
    }

    /// The connection (or the attempt) ended; `cause` is None when the user ended it.
    pub fn on_ended(&mut self, at_ms: f64, cause: Option<&str>) {
        if let Some(since) = self.connected_since.take() {
            self.connected_ms += (at_ms - since).max(0.0);
        }
        let Some(cause) = cause else { return };
        let key = match self.causes.iter().position(|(c, _)| c == cause) {
            Some(i) => i,
            None if self.causes.len() < MAX_CAUSES - 1 => {
                self.causes.push((cause.to_string(), 0));
                self.causes.len() - 1
            }
            None => match self.causes.iter().position(|(c, _)| c == "other") {
                Some(i) => i,
                None => {
                    self.causes.push(("other".into(), 0));
                    self.causes.len() - 1
                }
            },
        };
        self.causes[key].1 += 1;
    }

    /// The client's round-trip counters at a tick: a new sample when `samples` moved on.
    pub fn on_rtt(&mut self, rtt_ms: Option<f64>, samples: u64) {
        if samples == self.rtt_seen {
            return;
        }
        self.rtt_seen = samples;
        if let Some(ms) = rtt_ms {
            if self.rtts.len() == MAX_RTT_SAMPLES {
                self.rtts.pop_front();
            }
            self.rtts.push_back(ms);
        }
    }

    /// The round trip's spread over the samples kept.
    pub fn rtt(&self) -> Option<RttSpread> {
        if self.rtts.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = self.rtts.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        // Nearest rank: the smallest value with at least p% of the samples at or below it.
        let at = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(RttSpread {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            samples: v.len(),
        })
    }

    /// Successes over attempts.
    pub fn success_rate(&self) -> Option<f64> {
        (self.attempts > 0).then(|| self.successes as f64 / self.attempts as f64)
    }

    /// The share of time connected since the first attempt.
    pub fn connected_share(&self, now: f64) -> Option<f64> {
        let first = self.first_ms?;
        let total = now - first;
        let open = self.connected_since.map_or(0.0, |s| (now - s).max(0.0));
        (total > 0.0).then(|| ((self.connected_ms + open) / total).clamp(0.0, 1.0))
    }

    /// Time connected in all, ms.
    pub fn connected_ms(&self, now: f64) -> f64 {
        self.connected_ms + self.connected_since.map_or(0.0, |s| (now - s).max(0.0))
    }

    /// Why connections ended: cause, times; most frequent first.
    pub fn causes(&self) -> Vec<(String, u64)> {
        let mut c = self.causes.clone();
        c.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        c
    }

    /// The URL of the latest attempt (the one in use while connected).
    pub fn current_url(&self) -> Option<&str> {
        self.current_url.as_deref()
    }

    /// Broker URLs connected to, and how often; the current one.
    pub fn urls(&self) -> (&[(String, u64)], Option<&str>) {
        (
            &self.urls,
            self.connected_since.and(self.last_url.as_deref()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ReasonCode;

    #[test]
    fn attempts_success_time_connected_and_failovers() {
        let mut s = ConnStats::default();
        assert_eq!((s.success_rate(), s.connected_share(0.0)), (None, None));
        s.on_connecting("ws://a", 0.0);
        s.on_ended(1000.0, Some("connection lost"));
        s.on_connecting("ws://a", 2000.0);
        s.on_connected(2000.0);
        s.on_ended(6000.0, Some("keep-alive timeout (dead link)"));
        s.on_connecting("ws://b", 7000.0);
        s.on_connected(7000.0);
        assert_eq!(s.success_rate(), Some(2.0 / 3.0));
        // Connected 2..6 s and 7..10 s of 10 s.
        assert_eq!(s.connected_share(10_000.0), Some(0.7));
        assert_eq!(s.connected_ms(10_000.0), 7000.0);
        assert_eq!(s.failovers, 1);
        let (urls, now) = s.urls();
        assert_eq!(urls, [("ws://a".to_string(), 1), ("ws://b".to_string(), 1)]);
        assert_eq!(now, Some("ws://b"));
        assert_eq!(s.current_url(), Some("ws://b"));
        // Ended by the user: not a cause.
        s.on_ended(11_000.0, None);
        assert_eq!(s.causes().len(), 2);
        assert_eq!(s.urls().1, None);
    }

    #[test]
    fn causes_are_grouped_by_reason_code_and_bounded() {
        let mut s = ConnStats::default();
        let busy = ClientError::ServerDisconnected {
            reason: ReasonCode::ServerBusy,
            reason_string: Some("later".into()),
        };
        for _ in 0..3 {
            s.on_ended(0.0, Some(&cause(&busy)));
        }
        s.on_ended(0.0, Some(&cause(&ClientError::KeepAliveTimeout(30))));
        assert_eq!(s.causes()[0], (cause(&busy), 3));
        assert!(s.causes()[0].0.contains("(0x89)"), "{}", s.causes()[0].0);
        for i in 0..40 {
            s.on_ended(0.0, Some(&format!("cause {i}")));
        }
        assert_eq!(s.causes().len(), MAX_CAUSES);
        assert!(s.causes().iter().any(|(c, n)| c == "other" && *n > 0));
    }

    #[test]
    fn round_trips_are_sampled_once_each_and_bounded() {
        let mut s = ConnStats::default();
        assert_eq!(s.rtt(), None);
        for i in 1..=100u64 {
            s.on_rtt(Some(i as f64), i);
            s.on_rtt(Some(i as f64), i); // the same ping seen at the next tick
        }
        let r = s.rtt().unwrap();
        assert_eq!((r.p50, r.p90, r.p99, r.samples), (50.0, 90.0, 99.0, 100));
        for i in 0..(MAX_RTT_SAMPLES as u64 * 2) {
            s.on_rtt(Some(1.0), 1000 + i);
        }
        assert_eq!(s.rtt().unwrap().samples, MAX_RTT_SAMPLES);
    }
}
