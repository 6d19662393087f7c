//! Client configuration: everything the application decides, with defaults a browser IoT
//! client should have.

use std::time::Duration;

use bytes::Bytes;

use crate::codec::{ByteStr, ProtocolVersion, Will};

/// Messages in flight before MQTT 5, where servers cannot announce a Receive Maximum, while a QoS 2
/// message is among them: mosquitto's default quota (`max_inflight_messages`), which counts QoS 2
/// messages awaiting PUBREL. Over MQTT 3.1.1 mosquitto 2.0 acknowledges a QoS 2 message beyond it
/// and drops it (measured: of 500 sent at once, all were acknowledged and 20 delivered), and with
/// the quota used up it drops a QoS 1 message as well, answering it with a PUBACK whose reason
/// (0x97, Quota exceeded) 3.1.1 cannot carry: it looks like success (measured across a broker
/// restart). With no QoS 2 message in flight nothing fills that quota: mosquitto took 2,000 QoS 1
/// messages at once, all delivered, so QoS 1 alone is limited by packet identifiers only.
pub const DEFAULT_V3_INFLIGHT: u16 = 20;

/// How the client connects and behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Broker URLs, tried in order on failure (a failover list); at least one.
    pub urls: Vec<String>,
    /// Protocol version. Default 3.1.1, as MQTT.js.
    pub protocol: ProtocolVersion,
    /// Client identifier. Empty: MQTT 5 servers assign one; 3.1.1 requires a clean session.
    pub client_id: String,
    /// Clean Session (3.1.1) / Clean Start (5.0). Default true.
    pub clean_start: bool,
    /// Keep alive in seconds (0 disables). Default 60. MQTT 5 servers may override it.
    pub keep_alive: u16,
    /// How long after a PINGREQ the link is declared dead. Default: half the keep alive, so a
    /// dead link is noticed within 1.5 times the keep alive.
    pub ping_timeout: Option<Duration>,
    /// User name.
    pub username: Option<String>,
    /// Password (never persisted by the browser layer).
    pub password: Option<Bytes>,
    /// The will message.
    pub will: Option<Will>,
    /// MQTT 5: seconds the session outlives the connection (0 or absent: ends with it).
    pub session_expiry_interval: Option<u32>,
    /// MQTT 5: how many unacknowledged QoS 1/2 PUBLISHes the server may send us.
    pub receive_maximum: Option<u16>,
    /// Largest packet accepted from the server (also sent to MQTT 5 servers). Default 16 MiB.
    pub maximum_packet_size: u32,
    /// MQTT 5: highest topic alias the server may use toward us. Default 32; 0 disables.
    pub topic_alias_maximum: u16,
    /// MQTT 5: ask the server for response information (a base for response topics).
    pub request_response_information: bool,
    /// MQTT 5: whether the server may send reason strings and user properties on failures.
    pub request_problem_information: Option<bool>,
    /// MQTT 5: CONNECT user properties.
    pub user_properties: Vec<(ByteStr, ByteStr)>,
    /// MQTT 5: extended authentication method (with `authentication_data`).
    pub authentication_method: Option<String>,
    /// MQTT 5: initial authentication data.
    pub authentication_data: Option<Bytes>,
    /// From asking for a connection to receiving CONNACK. Default 30 s.
    pub connect_timeout: Duration,
    /// Reconnection policy.
    pub reconnect: ReconnectConfig,
    /// The outbox: messages waiting to be sent (offline, or beyond the server's quota).
    pub outbox: OutboxConfig,
    /// At most this many of our QoS 1/2 messages in flight (also capped by the server's Receive
    /// Maximum). None (default): MQTT 5 follows the server's Receive Maximum; before MQTT 5,
    /// where a server cannot announce one, QoS 1 messages alone are limited by packet
    /// identifiers only, and while a QoS 2 message is in flight, 20 in all
    /// ([`DEFAULT_V3_INFLIGHT`]: beyond it mosquitto drops messages silently).
    pub max_inflight: Option<u16>,
    /// Give each packet the lowest identifier not in use (as MQTT.js's
    /// `UniqueMessageIdProvider`) instead of the next one in sequence (the default, as its
    /// `DefaultMessageIdProvider`). Either way never one in use [MQTT-2.2.1-3].
    pub lowest_free_ids: bool,
    /// At most this many subscriptions in the registry. Default 10,000.
    pub max_subscriptions: usize,
    /// At most this many requests awaiting a response (request/response helper). Default 1,000.
    pub max_pending_requests: usize,
    /// How long a graceful disconnect waits for the outbox and in-flight messages. Default 10 s.
    pub disconnect_timeout: Duration,
    /// Seed of the random source (jitter, correlation data). The browser seeds it from
    /// `crypto.getRandomValues`; tests from a constant.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            urls: Vec::new(),
            protocol: ProtocolVersion::V3_1_1,
            client_id: String::new(),
            clean_start: true,
            keep_alive: 60,
            ping_timeout: None,
            username: None,
            password: None,
            will: None,
            session_expiry_interval: None,
            receive_maximum: None,
            maximum_packet_size: 16 * 1024 * 1024,
            topic_alias_maximum: 32,
            request_response_information: false,
            request_problem_information: None,
            user_properties: Vec::new(),
            authentication_method: None,
            authentication_data: None,
            connect_timeout: Duration::from_secs(30),
            reconnect: ReconnectConfig::default(),
            outbox: OutboxConfig::default(),
            max_inflight: None,
            lowest_free_ids: false,
            max_subscriptions: 10_000,
            max_pending_requests: 1_000,
            disconnect_timeout: Duration::from_secs(10),
            seed: 0x5EED,
        }
    }
}

impl Config {
    /// A configuration for one broker URL with defaults otherwise.
    pub fn new(url: impl Into<String>) -> Config {
        Config {
            urls: vec![url.into()],
            ..Config::default()
        }
    }

    /// Whether the session outlives the connection (so its state is worth keeping).
    pub fn persistent_session(&self) -> bool {
        if self.protocol.is_v5() {
            self.session_expiry_interval.is_some_and(|s| s > 0)
        } else {
            !self.clean_start
        }
    }

    /// The in-flight window (QoS 1 and 2) before the server's Receive Maximum is applied.
    pub fn inflight_window(&self) -> u16 {
        self.max_inflight.unwrap_or(u16::MAX).max(1)
    }

    /// The window while a QoS 2 message is in flight (see [`Config::max_inflight`]).
    pub fn exactly_once_window(&self) -> u16 {
        self.max_inflight
            .unwrap_or(if self.protocol.is_v5() {
                u16::MAX
            } else {
                DEFAULT_V3_INFLIGHT
            })
            .max(1)
    }

    /// The ping timeout in effect for a keep alive of `keep_alive` seconds.
    pub fn ping_timeout_for(&self, keep_alive: u16) -> Duration {
        self.ping_timeout
            .unwrap_or_else(|| Duration::from_millis(u64::from(keep_alive) * 500))
    }
}

/// When and where to reconnect after the connection ends.
#[derive(Debug, Clone)]
pub struct ReconnectConfig {
    /// Reconnect at all. Default true.
    pub enabled: bool,
    /// Base of the exponential backoff. Default 1 s.
    pub initial_delay: Duration,
    /// Cap of the backoff. Default 30 s.
    pub max_delay: Duration,
    /// A connection that lasted this long resets the backoff. Default 10 s.
    pub stable_after: Duration,
    /// Minimum delay after "server busy", "quota exceeded" or "connection rate exceeded"
    /// (plus up to as much again of jitter). Default 15 s.
    pub busy_delay: Duration,
    /// Connections closed by the server within this time after CONNACK count as possible
    /// takeovers (another client with the same identifier). Default 10 s.
    pub takeover_window: Duration,
    /// After this many such closes in a row, stop and report a suspected takeover. Default 3.
    pub takeover_threshold: u32,
    /// Follow at most this many server redirections in a row (0x9C, 0x9D). Default 5.
    /// A redirection is followed only to the same scheme or a stronger one (ws to wss).
    pub max_redirects: u32,
    /// Send the user name and password to a host a server redirected us to even when it is
    /// not one of `urls`. Default false: a server cannot collect the credentials by
    /// redirecting (a credentials provider, called with the URL, decides for itself).
    pub redirect_credentials: bool,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        ReconnectConfig {
            enabled: true,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            stable_after: Duration::from_secs(10),
            busy_delay: Duration::from_secs(15),
            takeover_window: Duration::from_secs(10),
            takeover_threshold: 3,
            max_redirects: 5,
            redirect_credentials: false,
        }
    }
}

/// What happens to a new message when the outbox is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutboxPolicy {
    /// Refuse the new message (its publish fails with `OutboxFull`).
    #[default]
    RejectNew,
    /// Drop the oldest queued message (its publish fails with `Dropped`).
    DropOldest,
    /// A new message replaces a queued one on the same topic (which fails with `Superseded`);
    /// when there is none, the new message is refused if the outbox is full.
    LatestPerTopic,
}

/// Bounds of the outbox.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Most messages waiting to be sent (in flight ones are bounded by the in-flight window;
    /// after a lost session they come back first, over this bound by at most that window, and
    /// new messages are refused until the outbox is back under it). Default 10,000.
    pub max_messages: usize,
    /// Most payload and topic bytes waiting, likewise. Default 16 MiB.
    pub max_bytes: usize,
    /// What to do when full.
    pub policy: OutboxPolicy,
    /// Queue QoS 0 messages published while disconnected (else they fail with `NotConnected`).
    /// Default true.
    pub queue_qos0_offline: bool,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            max_messages: 10_000,
            max_bytes: 16 * 1024 * 1024,
            policy: OutboxPolicy::RejectNew,
            queue_qos0_offline: true,
        }
    }
}
