//! One connection's state: what CONNACK granted, the keep-alive, the topic aliases both ways,
//! and a graceful disconnect in progress. Dropped with the connection.

use std::time::Duration;

use crate::codec::{Disconnect, Packet};

use super::alias::{InAliases, OutAliases};
use super::config::Config;
use super::timers::{Timer, Timers};
use super::{Instant, ServerInfo};

/// The live connection.
// Design: everything that must not outlive a connection lives here, so that a new connection
// can never see the last one's aliases, keep-alive or drain [MQTT-3.3.2-7]; the session
// (what survives) is elsewhere. The keep-alive is its own small machine: it is told what was
// sent and received, and arms the Ping and PingTimeout timers.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) server: ServerInfo,
    pub(crate) since: Instant,
    pub(crate) keep_alive: u16,
    last_sent: Instant,
    last_received: Instant,
    pub(crate) ping_sent: Option<Instant>,
    pub(crate) out_aliases: OutAliases,
    pub(crate) in_aliases: InAliases,
    /// A graceful disconnect is waiting for the outbox and in-flight messages to drain.
    pub(crate) draining: Option<Disconnect>,
    /// MQTT 5 re-authentication in progress.
    pub(crate) reauthenticating: bool,
}

impl Link {
    /// A connection CONNACK just accepted: `keep_alive` is what is in effect, `alias_maximum`
    /// what we accept from the server.
    pub(crate) fn new(
        server: ServerInfo,
        now: Instant,
        keep_alive: u16,
        alias_maximum: u16,
    ) -> Link {
        Link {
            out_aliases: OutAliases::new(server.topic_alias_maximum),
            in_aliases: InAliases::new(alias_maximum),
            server,
            since: now,
            keep_alive,
            last_sent: now,
            last_received: now,
            ping_sent: None,
            draining: None,
            reauthenticating: false,
        }
    }

    /// Something was sent at `now`.
    pub(crate) fn sent(&mut self, now: Instant, timers: &mut Timers) {
        self.last_sent = now;
        self.arm_ping(timers);
    }

    /// A packet arrived at `now`.
    pub(crate) fn received(&mut self, now: Instant, timers: &mut Timers) {
        self.last_received = now;
        self.arm_ping(timers);
    }

    /// A PINGRESP arrived: the round trip, if a PINGREQ was outstanding.
    pub(crate) fn pong(&mut self, now: Instant, timers: &mut Timers) -> Option<Duration> {
        let rtt = self.ping_sent.take().map(|sent| now - sent);
        timers.clear(Timer::PingTimeout);
        self.arm_ping(timers);
        rtt
    }

    /// Writes a PINGREQ and arms its deadline (the configured ping timeout for this
    /// connection's keep alive).
    pub(crate) fn ping(
        &mut self,
        cfg: &Config,
        tx: &mut Vec<u8>,
        timers: &mut Timers,
        now: Instant,
    ) {
        let _ = Packet::PingReq.encode(cfg.protocol, tx);
        self.ping_sent = Some(now);
        timers.clear(Timer::Ping);
        let timeout = cfg.ping_timeout_for(self.keep_alive.max(1));
        timers.set(Timer::PingTimeout, now + timeout);
    }

    /// A PINGREQ is due when nothing was sent for the keep alive, or nothing received for it
    /// (receiving does not postpone it [MQTT-3.1.2-22]; the second condition makes a dead link
    /// visible while we keep sending into it).
    pub(crate) fn arm_ping(&self, timers: &mut Timers) {
        if self.keep_alive == 0 || self.ping_sent.is_some() {
            return;
        }
        let since = self.last_sent.min(self.last_received);
        timers.set(
            Timer::Ping,
            since + Duration::from_secs(u64::from(self.keep_alive)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> ServerInfo {
        ServerInfo::unlimited()
    }

    #[test]
    fn the_ping_is_due_a_keep_alive_after_the_older_of_last_sent_and_last_received() {
        let t0 = Instant::from_millis(0);
        let mut timers = Timers::default();
        let mut link = Link::new(server(), t0, 10, 0);
        link.arm_ping(&mut timers);
        assert_eq!(timers.earliest(), Some(t0 + Duration::from_secs(10)));
        // Receiving alone does not postpone it [MQTT-3.1.2-22].
        link.received(t0 + Duration::from_secs(5), &mut timers);
        assert_eq!(timers.earliest(), Some(t0 + Duration::from_secs(10)));
        link.sent(t0 + Duration::from_secs(6), &mut timers);
        assert_eq!(timers.earliest(), Some(t0 + Duration::from_secs(15)));
        let mut tx = Vec::new();
        let at = t0 + Duration::from_secs(15);
        let mut cfg = Config::new("ws://127.0.0.1:1/mqtt");
        cfg.protocol = crate::codec::ProtocolVersion::V5;
        cfg.ping_timeout = Some(Duration::from_secs(5));
        link.ping(&cfg, &mut tx, &mut timers, at);
        assert_eq!(tx, [0xC0, 0]);
        assert!(!timers.due(Timer::Ping, at));
        assert!(timers.due(Timer::PingTimeout, at + Duration::from_secs(5)));
        let rtt = link.pong(at + Duration::from_millis(80), &mut timers);
        assert_eq!(rtt, Some(Duration::from_millis(80)));
        assert!(!timers.due(Timer::PingTimeout, at + Duration::from_secs(60)));
    }
}
