//! The client's timers, as data: the driver arms one real timer for the earliest.

use super::Instant;

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Next connection attempt.
    Reconnect = 0,
    /// CONNACK deadline.
    Connect,
    /// Next PINGREQ.
    Ping,
    /// PINGRESP deadline.
    PingTimeout,
    /// End of the graceful-disconnect grace period.
    Disconnect,
    /// Earliest request deadline.
    Request,
    /// Earliest message expiry in the outbox.
    Expiry,
}

const TIMERS: usize = 7;

/// One optional deadline per [`Timer`].
// Design: a fixed table (quinn-proto's `TimerTable`): setting, clearing and finding the earliest
// are array operations, and `poll_timeout` is one scan of seven slots.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timers([Option<Instant>; TIMERS]);

impl Timers {
    pub(crate) fn set(&mut self, t: Timer, at: Instant) {
        self.0[t as usize] = Some(at);
    }

    /// Sets `t` to `at`, or clears it when `at` is None.
    pub(crate) fn set_or_clear(&mut self, t: Timer, at: Option<Instant>) {
        self.0[t as usize] = at;
    }

    pub(crate) fn clear(&mut self, t: Timer) {
        self.0[t as usize] = None;
    }

    pub(crate) fn due(&self, t: Timer, now: Instant) -> bool {
        self.0[t as usize].is_some_and(|at| at <= now)
    }

    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Clears the timers that belong to one connection.
    pub(crate) fn clear_connection(&mut self) {
        for t in [
            Timer::Connect,
            Timer::Ping,
            Timer::PingTimeout,
            Timer::Disconnect,
        ] {
            self.clear(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_deadline_is_the_one_the_driver_arms() {
        let mut t = Timers::default();
        assert_eq!(t.earliest(), None);
        t.set(Timer::Ping, Instant::from_millis(50));
        t.set(Timer::Expiry, Instant::from_millis(20));
        t.set(Timer::Reconnect, Instant::from_millis(90));
        assert_eq!(t.earliest(), Some(Instant::from_millis(20)));
        assert!(t.due(Timer::Expiry, Instant::from_millis(20)));
        assert!(!t.due(Timer::Ping, Instant::from_millis(49)));
        t.clear_connection();
        assert_eq!(t.earliest(), Some(Instant::from_millis(20)));
        t.set_or_clear(Timer::Expiry, None);
        assert_eq!(t.earliest(), Some(Instant::from_millis(90)));
    }
}
