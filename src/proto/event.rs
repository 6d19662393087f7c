//! What the client reports to the application, and what it asks of its driver.

use crate::codec::{Properties, Publish, QoS, ReasonCode};

use super::{ClientError, Instant, SubscriptionId};

/// Identifies an operation (publish, subscribe, unsubscribe, request) in its completion event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u64);

/// What the server granted or told us in CONNACK, in effect for this connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Whether the server resumed a stored session.
    pub session_present: bool,
    /// The client identifier in use (assigned by an MQTT 5 server when ours was empty).
    pub client_id: String,
    /// Keep alive in effect, in seconds.
    pub keep_alive: u16,
    /// How many unacknowledged QoS 1/2 messages the server accepts from us.
    pub receive_maximum: u16,
    /// Highest QoS the server supports.
    pub maximum_qos: QoS,
    /// Whether retained messages are supported.
    pub retain_available: bool,
    /// Largest packet the server accepts (None: no limit beyond the protocol's).
    pub maximum_packet_size: Option<u32>,
    /// Highest topic alias the server accepts from us.
    pub topic_alias_maximum: u16,
    /// Whether wildcard subscriptions are supported.
    pub wildcard_subscription_available: bool,
    /// Whether subscription identifiers are supported.
    pub subscription_identifier_available: bool,
    /// Whether shared subscriptions are supported.
    pub shared_subscription_available: bool,
    /// The URL connected to.
    pub url: String,
    /// The CONNACK properties as received (MQTT 5).
    pub properties: Properties,
}

#[cfg(test)]
impl ServerInfo {
    /// What a server that states no limits granted (for the sub-state machines' tests).
    pub(crate) fn unlimited() -> ServerInfo {
        ServerInfo {
            session_present: false,
            client_id: "c".into(),
            keep_alive: 0,
            receive_maximum: u16::MAX,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
            wildcard_subscription_available: true,
            subscription_identifier_available: true,
            shared_subscription_available: true,
            url: String::new(),
            properties: Properties::default(),
        }
    }
}

/// A received application message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The PUBLISH, with a topic alias already resolved to its topic.
    pub publish: Publish,
    /// The application's subscriptions it matched.
    pub subscriptions: Vec<SubscriptionId>,
}

/// Outcome of one subscription in a SUBSCRIBE.
pub type Granted = Result<QoS, ReasonCode>;

/// Something the application should know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Connected (CONNACK success).
    Connected(Box<ServerInfo>),
    /// The connection ended. `error` is None when the application asked for it;
    /// `reconnect_at` is when the next attempt is scheduled, if one is.
    Disconnected {
        /// Why.
        error: Option<ClientError>,
        /// The next attempt.
        reconnect_at: Option<Instant>,
    },
    /// A (re)connection attempt started.
    Connecting {
        /// Attempt number since the last stable connection (0 for the first).
        attempt: u32,
        /// The URL tried.
        url: String,
    },
    /// The client stopped reconnecting until the application acts (new credentials, a unique
    /// client id, an explicit reconnect).
    Stopped(ClientError),
    /// A message arrived.
    Message(Box<Message>),
    /// A packet was handed to the transport (with `set_packet_events` on), as decoded from the
    /// bytes sent: MQTT.js's `packetsend`.
    PacketSent(Box<crate::codec::Packet>),
    /// A packet arrived (with `set_packet_events` on), before it is handled: MQTT.js's
    /// `packetreceive`.
    PacketReceived(Box<crate::codec::Packet>),
    /// A publish completed: sent (QoS 0), acknowledged (QoS 1, 2), or failed.
    Published {
        /// The operation.
        id: OpId,
        /// The reason code the server acknowledged with, or why it failed.
        result: Result<ReasonCode, ClientError>,
        /// The packet identifier of the PUBACK / PUBCOMP that completed it (QoS 1 / 2); None
        /// for QoS 0 and for completions that no acknowledgement brought.
        packet_id: Option<u16>,
    },
    /// A subscribe completed.
    Subscribed {
        /// The operation.
        id: OpId,
        /// One outcome per filter, or why the whole operation failed.
        result: Result<Vec<Granted>, ClientError>,
    },
    /// An unsubscribe completed.
    Unsubscribed {
        /// The operation.
        id: OpId,
        /// One reason code per filter (MQTT 5; Success for MQTT 3), or why it failed.
        result: Result<Vec<ReasonCode>, ClientError>,
    },
    /// A response to a request arrived, or the request failed.
    Response {
        /// The request.
        id: OpId,
        /// The response message.
        result: Result<Box<Message>, ClientError>,
    },
    /// MQTT 5 extended authentication: the server wants more (answer with `auth_continue`).
    AuthChallenge {
        /// The authentication method.
        method: String,
        /// The server's data.
        data: Option<bytes::Bytes>,
    },
    /// MQTT 5 re-authentication succeeded.
    Reauthenticated,
}

/// What the driver must do with its transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportAction {
    /// Open a connection to this URL, then call `handle_open` (or `handle_close` on failure).
    Open(String),
    /// Close the connection (then call `handle_close`).
    Close,
}
