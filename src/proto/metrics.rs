//! Health figures for dashboards: round trip, rates, queues, reconnects.

use std::time::Duration;

use super::Instant;

/// Counters and gauges the client keeps (cheap to read at any time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Round trip of the last PINGREQ / PINGRESP.
    pub rtt: Option<Duration>,
    /// Smoothed round trip (exponentially weighted, 1/8 per sample, as TCP's SRTT).
    pub rtt_smoothed: Option<Duration>,
    /// Round trips measured (PINGRESPs timed), so a reader polling `rtt` can tell a new sample
    /// from the same one read again.
    pub rtt_samples: u64,
    /// Application messages received.
    pub messages_in: u64,
    /// Application messages sent.
    pub messages_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Our QoS 1/2 messages awaiting acknowledgement.
    pub inflight_out: usize,
    /// Server QoS 2 messages received and awaiting PUBREL.
    pub inflight_in: usize,
    /// Messages in the outbox.
    pub outbox_messages: usize,
    /// Bytes in the outbox.
    pub outbox_bytes: usize,
    /// Connection attempts after the first.
    pub reconnects: u64,
    /// When the next attempt is scheduled.
    pub next_attempt: Option<Instant>,
    /// When the current connection was accepted.
    pub connected_since: Option<Instant>,
}

impl Metrics {
    pub(crate) fn record_rtt(&mut self, rtt: Duration) {
        self.rtt = Some(rtt);
        self.rtt_samples += 1;
        self.rtt_smoothed = Some(match self.rtt_smoothed {
            None => rtt,
            Some(s) => (s * 7 + rtt) / 8,
        });
    }
}
