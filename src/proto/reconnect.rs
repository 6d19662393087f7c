//! When and where to reconnect: a pure decision from how the last connection ended, the
//! configuration and a seeded random source.

use std::time::Duration;

use super::config::ReconnectConfig;
use super::rng::Rng;
use super::ClientError;
use crate::codec::ReasonCode;

/// How a connection (or an attempt at one) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// CONNACK with a failure code.
    Refused {
        /// The reason.
        reason: ReasonCode,
        /// The server's explanation.
        reason_string: Option<String>,
        /// MQTT 5 Server Reference (with 0x9C / 0x9D).
        server_reference: Option<String>,
    },
    /// The server sent DISCONNECT.
    ServerDisconnect {
        /// The reason.
        reason: ReasonCode,
        /// The server's explanation.
        reason_string: Option<String>,
        /// MQTT 5 Server Reference (with 0x9C / 0x9D).
        server_reference: Option<String>,
    },
    /// The transport closed under us.
    Lost(Option<String>),
    /// No PINGRESP in time.
    KeepAlive(Duration),
    /// No CONNACK in time.
    ConnectTimeout(Duration),
    /// The server sent something invalid; we closed.
    Protocol(ClientError),
}

impl Ending {
    /// The error the application sees for this ending.
    pub fn error(&self) -> ClientError {
        match self {
            Ending::Refused {
                reason,
                reason_string,
                ..
            } => ClientError::ConnectionRefused {
                reason: *reason,
                reason_string: reason_string.clone(),
            },
            Ending::ServerDisconnect {
                reason,
                reason_string,
                ..
            } => {
                if *reason == ReasonCode::SessionTakenOver {
                    ClientError::SessionTakenOver
                } else {
                    ClientError::ServerDisconnected {
                        reason: *reason,
                        reason_string: reason_string.clone(),
                    }
                }
            }
            Ending::Lost(detail) => ClientError::ConnectionLost {
                detail: detail.clone(),
            },
            Ending::KeepAlive(d) => ClientError::KeepAliveTimeout(d.as_millis() as u64),
            Ending::ConnectTimeout(d) => ClientError::ConnectTimeout(d.as_millis() as u64),
            Ending::Protocol(e) => e.clone(),
        }
    }

    fn reason(&self) -> Option<ReasonCode> {
        match self {
            Ending::Refused { reason, .. } | Ending::ServerDisconnect { reason, .. } => {
                Some(*reason)
            }
            _ => None,
        }
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Try again after `delay`, at `url`.
    Retry {
        /// How long to wait.
        delay: Duration,
        /// Where to connect.
        url: String,
        /// Attempt number since the last stable connection.
        attempt: u32,
    },
    /// Do not reconnect until the application acts.
    Stop(ClientError),
}

/// Reasons that will not change by retrying: credentials, bans, configuration the server
/// refuses. Retrying them is how clients get banned for hammering a broker.
fn permanent(r: ReasonCode) -> bool {
    use ReasonCode::*;
    matches!(
        r,
        UnsupportedProtocolVersion
            | ClientIdentifierNotValid
            | BadUserNameOrPassword
            | NotAuthorized
            | Banned
            | BadAuthenticationMethod
            | TopicNameInvalid
            | PacketTooLarge
            | PayloadFormatInvalid
            | RetainNotSupported
            | QoSNotSupported
            | SessionTakenOver
    )
}

/// Reasons that ask the client to come back later rather than soon.
fn slow_down(r: ReasonCode) -> bool {
    use ReasonCode::*;
    matches!(
        r,
        ServerBusy | QuotaExceeded | ConnectionRateExceeded | MessageRateTooHigh
    )
}

/// The most a move to the next URL of the failover list waits (jitter, so the clients of a dead
/// node do not all arrive at the next one in the same millisecond).
const NEXT_NODE_JITTER_MS: u64 = 100;

/// The reconnection state across attempts.
// Design: a pure function of (ending, how long the connection lasted, randomness) plus a few
// counters, so every rule (backoff, jitter, reset, never-retry codes, slow-down, redirection,
// failover, takeover detection) is tested deterministically without a client around it.
#[derive(Debug, Clone)]
pub struct Reconnect {
    cfg: ReconnectConfig,
    urls: Vec<String>,
    url_index: usize,
    attempt: u32,
    /// Rounds of the whole failover list since the last stable connection: the backoff's
    /// exponent (the next node of a round is tried at once, as Paho walks its serverURIs).
    rounds: u32,
    /// Where the current round of failed attempts began.
    round_start: usize,
    quick_closes: u32,
    redirects: u32,
    /// A 0x9C reference: the next attempt goes there, later ones to the list again.
    redirect: Option<String>,
    /// The URLs the application gave (a 0x9D may replace entries of `urls`).
    configured: Vec<String>,
}

impl Reconnect {
    /// A policy over a failover list of URLs.
    pub fn new(cfg: ReconnectConfig, urls: Vec<String>) -> Reconnect {
        Reconnect {
            cfg,
            configured: urls.clone(),
            urls,
            url_index: 0,
            attempt: 0,
            rounds: 0,
            round_start: 0,
            quick_closes: 0,
            redirects: 0,
            redirect: None,
        }
    }

    /// The URL to connect to now.
    pub fn url(&self) -> &str {
        if let Some(r) = &self.redirect {
            return r;
        }
        self.urls
            .get(self.url_index)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Whether [`Reconnect::url`] is on a host the application named (one of its URLs): only
    /// those get the credentials unless `redirect_credentials` is set.
    pub fn trusted(&self) -> bool {
        let here = host_of(self.url());
        self.cfg.redirect_credentials || self.configured.iter().any(|u| host_of(u) == here)
    }

    /// Attempts since the last stable connection.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Forget failures: the application reconnects explicitly.
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.rounds = 0;
        self.quick_closes = 0;
        self.redirects = 0;
    }

    fn backoff(&self, rng: &mut Rng) -> Duration {
        let base = self.cfg.initial_delay.as_millis() as u64;
        let cap = self.cfg.max_delay.as_millis() as u64;
        let ceiling = base.saturating_mul(1u64 << self.rounds.min(30)).min(cap);
        Duration::from_millis(rng.up_to(ceiling))
    }

    /// Decides after a connection or attempt ended. `connected_for` is how long the connection
    /// lasted after a successful CONNACK (None if it never got one).
    pub fn decide(
        &mut self,
        ending: &Ending,
        connected_for: Option<Duration>,
        rng: &mut Rng,
    ) -> Decision {
        // A temporary redirection served one attempt.
        self.redirect = None;
        if connected_for.is_some_and(|d| d >= self.cfg.stable_after) {
            self.attempt = 0;
            self.rounds = 0;
            self.redirects = 0;
        }
        // Takeover: the broker keeps closing us right after accepting us, without a reason.
        match (ending, connected_for) {
            (Ending::Lost(_), Some(d)) if d < self.cfg.takeover_window => {
                self.quick_closes += 1;
                if self.quick_closes >= self.cfg.takeover_threshold.max(1) {
                    let n = self.quick_closes;
                    self.quick_closes = 0;
                    return Decision::Stop(ClientError::SuspectedTakeover(n));
                }
            }
            (_, Some(_)) | (Ending::Refused { .. }, _) => self.quick_closes = 0,
            _ => {}
        }
        let reason = ending.reason();
        if reason.is_some_and(permanent) {
            return Decision::Stop(ending.error());
        }
        if !self.cfg.enabled {
            return Decision::Stop(ending.error());
        }
        // [MQTT-4.11]: a redirect comes on CONNACK or on DISCONNECT.
        if let Ending::ServerDisconnect {
            reason: r @ (ReasonCode::UseAnotherServer | ReasonCode::ServerMoved),
            server_reference: Some(reference),
            ..
        }
        | Ending::Refused {
            reason: r @ (ReasonCode::UseAnotherServer | ReasonCode::ServerMoved),
            server_reference: Some(reference),
            ..
        } = ending
        {
            let target =
                resolve_reference(reference, self.url()).filter(|url| !weaker(self.url(), url));
            if let (true, Some(url)) = (self.redirects < self.cfg.max_redirects, target) {
                {
                    self.redirects += 1;
                    if *r == ReasonCode::ServerMoved {
                        // Permanent: it replaces this entry of the failover list.
                        if let Some(slot) = self.urls.get_mut(self.url_index) {
                            *slot = url.clone();
                        }
                    } else {
                        self.redirect = Some(url.clone());
                    }
                    return Decision::Retry {
                        delay: Duration::ZERO,
                        url,
                        attempt: self.attempt,
                    };
                }
            }
        }
        // A failed attempt (refused, or never connected) moves on to the next URL of the
        // failover list, at once (a little jitter) while the round has URLs left; back at the
        // round's first, the backoff (and a busy server's wait) applies, one step longer each
        // round. A connection that worked comes back to the same server first, and a new round
        // starts there.
        let next_in_round = if connected_for.is_none() {
            self.rotate();
            self.url_index != self.round_start
        } else {
            self.round_start = self.url_index;
            false
        };
        let delay = if next_in_round {
            Duration::from_millis(rng.up_to(NEXT_NODE_JITTER_MS))
        } else {
            let mut delay = self.backoff(rng);
            if reason.is_some_and(slow_down) {
                let busy = self.cfg.busy_delay.as_millis() as u64;
                delay = delay.max(Duration::from_millis(busy + rng.up_to(busy)));
            }
            self.rounds = self.rounds.saturating_add(1);
            delay
        };
        let attempt = self.attempt;
        self.attempt = self.attempt.saturating_add(1);
        Decision::Retry {
            delay,
            url: self.url().to_string(),
            attempt,
        }
    }

    fn rotate(&mut self) {
        if !self.urls.is_empty() {
            self.url_index = (self.url_index + 1) % self.urls.len();
        }
    }
}

/// Whether going from `from` to `to` gives up transport security (wss to ws, mqtts to mqtt),
/// or changes transport: a redirection may keep the scheme or strengthen it, nothing else.
fn weaker(from: &str, to: &str) -> bool {
    let scheme = |u: &str| split_scheme(u).map_or("", |(s, _)| s).to_ascii_lowercase();
    let (a, b) = (scheme(from), scheme(to));
    !(a == b || (a == "ws" && b == "wss") || (a == "mqtt" && b == "mqtts"))
}

/// `scheme://rest` split at its first "://". A byte search: `str::split_once` with a string
/// pattern brings the two-way searcher (about 1.5 KB of the package's wasm) for URLs this short.
pub(crate) fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let i = url.as_bytes().windows(3).position(|w| w == b"://")?;
    Some((&url[..i], &url[i + 3..]))
}

/// `s` split at the last `b` (an ASCII byte), as `rsplit_once` does without its searcher.
pub(crate) fn rsplit_at(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().rposition(|x| x == b)?;
    Some((&s[..i], &s[i + 1..]))
}

/// The host of a URL (without port or user info), lower-cased.
fn host_of(url: &str) -> String {
    let rest = split_scheme(url).map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = rsplit_at(authority, b'@').map_or(authority, |(_, a)| a);
    let host = if authority.starts_with('[') {
        authority.split_once(']').map_or(authority, |(h, _)| h)
    } else {
        rsplit_at(authority, b':').map_or(authority, |(h, _)| h)
    };
    host.to_ascii_lowercase()
}

/// Turns an MQTT 5 Server Reference into a URL, relative to the current one: a full URL is
/// taken as is; `host[:port]` keeps the current scheme and path (and port, when none is given).
/// Several references may be given separated by spaces; the first is used.
pub fn resolve_reference(reference: &str, current: &str) -> Option<String> {
    let first = reference.split_whitespace().next()?;
    if split_scheme(first).is_some() {
        return Some(first.to_string());
    }
    let (scheme, rest) = split_scheme(current)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let has_port = |a: &str| {
        rsplit_at(a, b':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            && !a.ends_with(']')
    };
    let target = if has_port(first) || !has_port(authority) {
        first.to_string()
    } else {
        let port = rsplit_at(authority, b':')
            .map(|(_, p)| p)
            .unwrap_or_default();
        text!(first, ":", port)
    };
    Some(text!(scheme, "://", target, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // The byte searches split exactly where the standard library's string searches do.
        #[test]
        fn url_splits_match_the_standard_library(s in "[a-z:/@\\[\\]é0-9]{0,24}") {
            prop_assert_eq!(split_scheme(&s), s.split_once("://"));
            for b in [b'@', b':', b'/'] {
                prop_assert_eq!(rsplit_at(&s, b), s.rsplit_once(b as char));
            }
        }
    }
}
