//! MQTT 5 request/response: requests waiting for their response, by correlation data, with
//! deadlines.

use std::time::Duration;

use bytes::Bytes;

use super::{Instant, OpId};

/// A request waiting for its response.
#[derive(Debug, Clone)]
struct Request {
    op: OpId,
    deadline: Instant,
    timeout: Duration,
}

/// The pending requests (bounded by the client's `max_pending_requests`) and the response
/// topic chosen on first use.
// Design: its own sub-state machine (inputs: a new request, a response's correlation data, the
// time; outputs: completions and the next deadline), so the client only routes to it. A short
// vector: requests are few, and a response is matched by comparing correlation data.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    pending: Vec<(Bytes, Request)>,
    /// The topic responses come to, chosen on the first request.
    pub(crate) response_topic: Option<String>,
}

impl Requests {
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// A request `op` answered by a response carrying `correlation`, due by `now + timeout`.
    pub(crate) fn insert(&mut self, correlation: Bytes, op: OpId, now: Instant, timeout: Duration) {
        let request = Request {
            op,
            deadline: now + timeout,
            timeout,
        };
        self.pending.push((correlation, request));
    }

    /// The request a response with this correlation data answers, if one waits.
    pub(crate) fn take(&mut self, correlation: &[u8]) -> Option<OpId> {
        let i = self.pending.iter().position(|(k, _)| k == correlation)?;
        Some(self.pending.remove(i).1.op)
    }

    /// The requests whose deadline passed at `now`, with their timeouts in milliseconds.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<(OpId, u64)> {
        let mut out = Vec::new();
        self.pending.retain(|(_, r)| {
            if r.deadline <= now {
                out.push((r.op, r.timeout.as_millis() as u64));
                false
            } else {
                true
            }
        });
        out
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().map(|(_, r)| r.deadline).min()
    }

    /// Every waiting request, removed (the client ended).
    pub(crate) fn drain(&mut self) -> Vec<OpId> {
        self.pending.drain(..).map(|(_, r)| r.op).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_match_by_correlation_and_deadlines_expire_in_order() {
        let mut r = Requests::default();
        let t0 = Instant::from_millis(1000);
        r.insert(
            Bytes::from_static(b"a"),
            OpId(1),
            t0,
            Duration::from_secs(5),
        );
        r.insert(
            Bytes::from_static(b"b"),
            OpId(2),
            t0,
            Duration::from_secs(1),
        );
        assert_eq!(r.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(r.take(b"x"), None);
        assert!(r.expire(t0 + Duration::from_millis(999)).is_empty());
        assert_eq!(r.expire(t0 + Duration::from_secs(1)), vec![(OpId(2), 1000)]);
        assert_eq!(r.take(b"a"), Some(OpId(1)));
        assert_eq!(r.take(b"a"), None, "a response completes its request once");
        assert_eq!(r.len(), 0);
        assert_eq!(r.next_deadline(), None);
    }
}
