//! The client's errors: what failed, why, and (in the message) what to do.

use crate::codec::{DecodeError, EncodeError, QoS, ReasonCode, TopicError};
use crate::text::{Piece, Quoted};

/// Why a connection, an operation or the client failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// The server refused the connection (CONNACK with a failure code).
    ConnectionRefused {
        /// The reason (MQTT 3 return codes are mapped to MQTT 5 reason codes).
        reason: ReasonCode,
        /// The server's explanation, if it sent one.
        reason_string: Option<String>,
    },
    /// No CONNACK arrived within the connect timeout.
    ConnectTimeout(u64),
    /// No PINGRESP arrived in time after a PINGREQ: the link is dead.
    KeepAliveTimeout(u64),
    /// The transport closed (network, broker restart).
    ConnectionLost {
        /// What the driver knows (WebSocket close code, socket error).
        detail: Option<String>,
    },
    /// The server ended the connection with a DISCONNECT.
    ServerDisconnected {
        /// The reason.
        reason: ReasonCode,
        /// The server's explanation.
        reason_string: Option<String>,
    },
    /// The server said another connection took over this session (DISCONNECT 0x8E).
    SessionTakenOver,
    /// Connections kept closing right after CONNACK, as when two clients share a client id.
    SuspectedTakeover(u32),
    /// The server sent bytes that are not a valid MQTT packet.
    Malformed(DecodeError),
    /// The server broke the protocol (a packet at the wrong time, an unknown topic alias, ...).
    ProtocolViolation {
        /// The reason code sent in the DISCONNECT (MQTT 5).
        reason: ReasonCode,
        /// What happened.
        detail: String,
    },
    /// The server rejected a publication (PUBACK/PUBREC with a failure code).
    PublishRejected {
        /// The reason.
        reason: ReasonCode,
        /// The server's explanation.
        reason_string: Option<String>,
    },
    /// A topic name is not valid for publishing.
    InvalidTopic {
        /// The topic.
        topic: String,
        /// Why.
        problem: TopicError,
    },
    /// A topic filter is not valid for subscribing.
    InvalidFilter {
        /// The filter.
        filter: String,
        /// Why.
        problem: TopicError,
    },
    /// A packet could not be encoded.
    Encode(EncodeError),
    /// A packet is larger than the server accepts (its Maximum Packet Size).
    PacketTooLarge {
        /// The packet's size.
        size: usize,
        /// The server's limit.
        max: u32,
    },
    /// The outbox is full and its policy refuses new messages.
    OutboxFull {
        /// Messages queued.
        messages: usize,
        /// Bytes queued.
        bytes: usize,
    },
    /// The message alone is larger than the whole outbox: it can never be queued.
    MessageTooLarge {
        /// Its topic and payload bytes.
        size: usize,
        /// The outbox's byte bound.
        max: usize,
    },
    /// The message was dropped from a full outbox to make room (policy DropOldest).
    Dropped,
    /// A newer message on the same topic replaced this one (policy LatestPerTopic).
    Superseded,
    /// The message's expiry interval passed before it could be sent.
    Expired,
    /// A QoS 0 message while disconnected, with offline queuing of QoS 0 turned off.
    NotConnected,
    /// The server does not support this QoS (its Maximum QoS).
    QoSNotSupported {
        /// What was asked.
        requested: QoS,
        /// The server's maximum.
        max: QoS,
    },
    /// The server does not support retained messages.
    RetainNotSupported,
    /// A feature the protocol version or the server does not have.
    Unsupported(&'static str),
    /// The application ended the client (`disconnect`); it takes no operations until it is
    /// started again.
    Ended,
    /// The client is disconnecting or was stopped; the operation was cancelled.
    Cancelled,
    /// A bound was reached (subscriptions, pending requests).
    TooMany {
        /// What.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// No response arrived within the request's timeout.
    RequestTimeout(u64),
    /// The application removed the message while it was in flight (`removeOutgoingMessage`);
    /// whether the server received it is unknown.
    Removed,
    /// The server's session was gone; the message's fate is unknown so it was sent again.
    SessionLost,
    /// The configuration cannot work.
    Config(String),
}

/// " (the server's reason string)", or nothing.
struct ReasonSuffix<'a>(&'a Option<String>);

impl Piece for ReasonSuffix<'_> {
    fn put(&self, out: &mut String) {
        if let Some(s) = self.0 {
            put!(out; " (", s, ")");
        }
    }
}

fn qos_name(q: QoS) -> &'static str {
    match q {
        QoS::AtMostOnce => "AtMostOnce",
        QoS::AtLeastOnce => "AtLeastOnce",
        QoS::ExactlyOnce => "ExactlyOnce",
    }
}

impl Piece for ClientError {
    fn put(&self, out: &mut String) {
        use ClientError::*;
        match self {
            ConnectionRefused {
                reason,
                reason_string,
            } => put!(out;
                "the server refused the connection: ", reason, ReasonSuffix(reason_string),
                refusal_hint(*reason)),
            ConnectTimeout(ms) => put!(out; "no answer from the broker within ", ms,
                " ms: check the URL and that the broker is reachable"),
            KeepAliveTimeout(ms) => put!(out; "the broker did not answer a ping within ", ms,
                " ms: the connection is considered dead"),
            ConnectionLost { detail } => {
                put!(out; "the connection was lost");
                if let Some(d) = detail {
                    put!(out; ": ", d);
                }
            }
            ServerDisconnected {
                reason,
                reason_string,
            } => put!(out;
                "the server disconnected: ", reason, ReasonSuffix(reason_string)),
            SessionTakenOver => {
                put!(out; "another client connected with the same client id and took over the session; not reconnecting (use a unique client id, or reconnect explicitly)")
            }
            SuspectedTakeover(n) => {
                put!(out; "the broker closed ", n, " connections in a row right after accepting them: another client is probably using the same client id; not reconnecting (use a unique client id, or reconnect explicitly)")
            }
            Malformed(e) => put!(out; "the server sent a malformed packet: ", e),
            ProtocolViolation { reason, detail } => put!(out;
                "the server broke the MQTT protocol: ", detail, " (", reason, ")"),
            PublishRejected {
                reason,
                reason_string,
            } => put!(out;
                "the server rejected the message: ", reason, ReasonSuffix(reason_string)),
            InvalidTopic { topic, problem } => put!(out;
                "cannot publish to ", Quoted(topic), ": ", problem),
            InvalidFilter { filter, problem } => put!(out;
                "cannot subscribe to ", Quoted(filter), ": ", problem),
            Encode(e) => put!(out; "cannot encode the packet: ", e),
            PacketTooLarge { size, max } => put!(out; "the packet is ", size,
                " bytes but the server accepts at most ", max),
            OutboxFull { messages, bytes } => put!(out; "the outbox is full (", messages,
                " messages, ", bytes, " bytes): wait for it to drain, or raise its limits or change its policy"),
            MessageTooLarge { size, max } => put!(out; "the message (", size,
                " bytes of topic and payload) is larger than the whole outbox (", max,
                " bytes): raise outbox.maxBytes or send less"),
            Dropped => {
                put!(out; "the message was dropped from the full outbox to make room for a newer one")
            }
            Superseded => {
                put!(out; "a newer message on the same topic replaced this one before it was sent")
            }
            Expired => put!(out; "the message expired before it could be sent"),
            NotConnected => {
                put!(out; "not connected, and QoS 0 messages are not queued while offline")
            }
            QoSNotSupported { requested, max } => put!(out; "the server supports at most QoS ",
                qos_name(*max), ", not ", qos_name(*requested)),
            RetainNotSupported => put!(out; "the server does not support retained messages"),
            Unsupported(what) => put!(out; *what),
            Ended => {
                put!(out; "the client was ended (end()): reconnect before publishing, subscribing or unsubscribing")
            }
            Cancelled => put!(out; "the client disconnected before the operation completed"),
            TooMany { what, max } => put!(out; "too many ", *what, " (at most ", max, ")"),
            RequestTimeout(ms) => put!(out; "no response within ", ms, " ms"),
            Removed => {
                put!(out; "Message removed (removeOutgoingMessage) before it was acknowledged: the broker may or may not have received it")
            }
            SessionLost => put!(out; "the server lost the session"),
            Config(what) => put!(out; "invalid configuration: ", what),
        }
    }
}

display_by_piece!(ClientError);
impl std::error::Error for ClientError {}

fn refusal_hint(r: ReasonCode) -> &'static str {
    match r {
        ReasonCode::BadUserNameOrPassword => ": check the user name and password",
        ReasonCode::NotAuthorized => ": the credentials are not allowed to connect",
        ReasonCode::ClientIdentifierNotValid => ": use a different client id",
        ReasonCode::UnsupportedProtocolVersion => ": try protocolVersion 4 (MQTT 3.1.1)",
        ReasonCode::Banned => ": this client is banned by the broker",
        ReasonCode::BadAuthenticationMethod => {
            ": the broker does not support this authentication method"
        }
        ReasonCode::ServerBusy | ReasonCode::QuotaExceeded | ReasonCode::ConnectionRateExceeded => {
            ": retrying later"
        }
        _ => "",
    }
}

impl ClientError {
    /// The MQTT reason code behind the error, when there is one.
    pub fn reason_code(&self) -> Option<ReasonCode> {
        match self {
            ClientError::ConnectionRefused { reason, .. }
            | ClientError::ServerDisconnected { reason, .. }
            | ClientError::ProtocolViolation { reason, .. }
            | ClientError::PublishRejected { reason, .. } => Some(*reason),
            ClientError::SessionTakenOver => Some(ReasonCode::SessionTakenOver),
            ClientError::Malformed(e) => Some(e.reason_code()),
            ClientError::KeepAliveTimeout(_) => Some(ReasonCode::KeepAliveTimeout),
            ClientError::PacketTooLarge { .. } => Some(ReasonCode::PacketTooLarge),
            ClientError::QoSNotSupported { .. } => Some(ReasonCode::QoSNotSupported),
            ClientError::RetainNotSupported => Some(ReasonCode::RetainNotSupported),
            _ => None,
        }
    }

    /// A short stable name for the kind of error (the JavaScript `code`).
    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::ConnectionRefused { .. } => "CONNECTION_REFUSED",
            ClientError::ConnectTimeout(_) => "CONNECT_TIMEOUT",
            ClientError::KeepAliveTimeout(_) => "KEEPALIVE_TIMEOUT",
            ClientError::ConnectionLost { .. } => "CONNECTION_LOST",
            ClientError::ServerDisconnected { .. } => "SERVER_DISCONNECTED",
            ClientError::SessionTakenOver => "SESSION_TAKEN_OVER",
            ClientError::SuspectedTakeover(_) => "SUSPECTED_TAKEOVER",
            ClientError::Malformed(_) => "MALFORMED_PACKET",
            ClientError::ProtocolViolation { .. } => "PROTOCOL_VIOLATION",
            ClientError::PublishRejected { .. } => "PUBLISH_REJECTED",
            ClientError::InvalidTopic { .. } => "INVALID_TOPIC",
            ClientError::InvalidFilter { .. } => "INVALID_FILTER",
            ClientError::Encode(_) => "ENCODE",
            ClientError::PacketTooLarge { .. } => "PACKET_TOO_LARGE",
            ClientError::OutboxFull { .. } => "OUTBOX_FULL",
            ClientError::MessageTooLarge { .. } => "MESSAGE_TOO_LARGE",
            ClientError::Dropped => "DROPPED",
            ClientError::Superseded => "SUPERSEDED",
            ClientError::Expired => "EXPIRED",
            ClientError::NotConnected => "NOT_CONNECTED",
            ClientError::QoSNotSupported { .. } => "QOS_NOT_SUPPORTED",
            ClientError::RetainNotSupported => "RETAIN_NOT_SUPPORTED",
            ClientError::Unsupported(_) => "UNSUPPORTED",
            ClientError::Ended => "ENDED",
            ClientError::Cancelled => "CANCELLED",
            ClientError::TooMany { .. } => "TOO_MANY",
            ClientError::RequestTimeout(_) => "REQUEST_TIMEOUT",
            ClientError::Removed => "REMOVED",
            ClientError::SessionLost => "SESSION_LOST",
            ClientError::Config(_) => "CONFIG",
        }
    }
}
