//! MQTT 3.1 / 3.1.1 / 5.0 packets: a strict, streaming, zero-copy codec.
//!
//! One model serves all three versions; the version is a parameter of [`Packet::encode`],
//! [`decode_packet`] and [`Decoder`]. MQTT 3 return codes are carried as the MQTT 5
//! [`ReasonCode`] the 5.0 specification maps them to (see [`ConnectReturnCode`]), so code above the
//! codec never branches on the version to read an outcome.
//!
//! Decoding is strict: every packet the specifications call malformed, or a protocol error for the
//! receiver to detect in the packet alone, is rejected with a [`DecodeError`] naming the rule.
//! Encoding refuses packets that would break the specification with an [`EncodeError`].

mod ack;
mod auth;
mod bytestr;
mod connack;
mod connect;
mod decoder;
mod disconnect;
mod error;
pub(crate) mod properties;
mod publish;
mod reason;
mod subscribe;
mod topic;
mod wire;

#[cfg(test)]
pub(crate) mod tests;

pub use ack::PubResp;
pub use auth::Auth;
pub use bytestr::ByteStr;
pub use connack::ConnAck;
pub use connect::{Connect, Will};
pub use decoder::{decode_packet, Decoder, Frame};
pub use disconnect::Disconnect;
pub use error::{DecodeError, EncodeError};
pub use properties::{Properties, PropertyId, PropertyValues};
pub use publish::Publish;
pub use reason::{ConnectReturnCode, ReasonCode};
pub use subscribe::{
    RetainHandling, SubAck, Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe,
};
pub use topic::{is_shared, validate_topic_filter, validate_topic_name, TopicError};

use bytes::BufMut;

/// The largest Remaining Length a fixed header can express (four variable-byte-integer bytes).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// The protocol level, which selects the wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// MQTT 3.1, protocol name "MQIsdp", level 3.
    V3_1,
    /// MQTT 3.1.1, protocol name "MQTT", level 4.
    V3_1_1,
    /// MQTT 5.0, protocol name "MQTT", level 5.
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte sent in CONNECT.
    pub fn level(self) -> u8 {
        match self {
            ProtocolVersion::V3_1 => 3,
            ProtocolVersion::V3_1_1 => 4,
            ProtocolVersion::V5 => 5,
        }
    }

    /// The version for a protocol level byte (3, 4 or 5).
    pub fn from_level(level: u8) -> Option<Self> {
        match level {
            3 => Some(ProtocolVersion::V3_1),
            4 => Some(ProtocolVersion::V3_1_1),
            5 => Some(ProtocolVersion::V5),
            _ => None,
        }
    }

    /// The protocol name sent in CONNECT.
    pub fn protocol_name(self) -> &'static str {
        match self {
            ProtocolVersion::V3_1 => "MQIsdp",
            _ => "MQTT",
        }
    }

    /// True for MQTT 5.0.
    pub fn is_v5(self) -> bool {
        self == ProtocolVersion::V5
    }

    /// Picks the rule identifier of this version: MQTT 3.1 follows the 3.1.1 numbering.
    pub(crate) fn rule(self, v3: &'static str, v5: &'static str) -> &'static str {
        if self.is_v5() {
            v5
        } else {
            v3
        }
    }
}

/// Quality of service of a PUBLISH or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum QoS {
    /// At most once.
    #[default]
    AtMostOnce = 0,
    /// At least once.
    AtLeastOnce = 1,
    /// Exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for 0, 1 or 2.
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// The control packet type (the high nibble of the first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum PacketType {
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    Auth = 15,
}

impl PacketType {
    /// The packet type for a type number (1 to 15).
    pub fn from_u8(n: u8) -> Option<PacketType> {
        use PacketType::*;
        Some(match n {
            1 => Connect,
            2 => ConnAck,
            3 => Publish,
            4 => PubAck,
            5 => PubRec,
            6 => PubRel,
            7 => PubComp,
            8 => Subscribe,
            9 => SubAck,
            10 => Unsubscribe,
            11 => UnsubAck,
            12 => PingReq,
            13 => PingResp,
            14 => Disconnect,
            15 => Auth,
            _ => return None,
        })
    }

    /// The packet's name as the specification writes it.
    pub fn name(self) -> &'static str {
        use PacketType::*;
        match self {
            Connect => "CONNECT",
            ConnAck => "CONNACK",
            Publish => "PUBLISH",
            PubAck => "PUBACK",
            PubRec => "PUBREC",
            PubRel => "PUBREL",
            PubComp => "PUBCOMP",
            Subscribe => "SUBSCRIBE",
            SubAck => "SUBACK",
            Unsubscribe => "UNSUBSCRIBE",
            UnsubAck => "UNSUBACK",
            PingReq => "PINGREQ",
            PingResp => "PINGRESP",
            Disconnect => "DISCONNECT",
            Auth => "AUTH",
        }
    }

    /// The fixed-header flags every packet but PUBLISH must carry [MQTT-2.2.2-1] / [MQTT-2.1.3-1].
    fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

impl crate::text::Piece for PacketType {
    fn put(&self, out: &mut String) {
        out.push_str(self.name());
    }
}

impl std::fmt::Display for PacketType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An MQTT control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Packet {
    /// Boxed: with two property blocks it is twice the size of any other packet.
    Connect(Box<Connect>),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(PubResp),
    PubRec(PubResp),
    PubRel(PubResp),
    PubComp(PubResp),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    Auth(Auth),
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    /// Appends the packet's exact wire bytes to `out`, or refuses a packet that would break the
    /// specification. On error nothing is appended.
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        // A CONNECT carries its own version; everything else follows the connection's.
        let version = match self {
            Packet::Connect(c) => c.protocol,
            _ => version,
        };
        let len = self.validate_and_measure(version)?;
        if len > MAX_REMAINING_LENGTH {
            return Err(EncodeError::PacketTooLarge { size: len });
        }
        out.reserve(len + 5);
        out.put_u8(self.first_byte());
        wire::put_varint(out, len as u32);
        let start = out.len();
        self.write_body(version, out);
        debug_assert_eq!(out.len() - start, len, "{:?}", self.packet_type());
        Ok(())
    }

    /// The full encoded size (fixed header included) of this packet, or why it cannot be encoded.
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        let version = match self {
            Packet::Connect(c) => c.protocol,
            _ => version,
        };
        let len = self.validate_and_measure(version)?;
        if len > MAX_REMAINING_LENGTH {
            return Err(EncodeError::PacketTooLarge { size: len });
        }
        Ok(1 + wire::varint_len(len as u32) + len)
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self, version: ProtocolVersion) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(version, &mut out)?;
        Ok(out)
    }

    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    fn first_byte(&self) -> u8 {
        let t = self.packet_type();
        let flags = match self {
            Packet::Publish(p) => {
                (u8::from(p.dup) << 3) | ((p.qos as u8) << 1) | u8::from(p.retain)
            }
            _ => t.required_flags().unwrap_or(0),
        };
        ((t as u8) << 4) | flags
    }

    /// Checks the packet against the specification and returns its Remaining Length.
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    fn validate_and_measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        match self {
            Packet::Connect(p) => p.measure(),
            Packet::ConnAck(p) => p.measure(v),
            Packet::Publish(p) => p.measure(v),
            Packet::PubAck(p) => p.measure(v, PacketType::PubAck),
            Packet::PubRec(p) => p.measure(v, PacketType::PubRec),
            Packet::PubRel(p) => p.measure(v, PacketType::PubRel),
            Packet::PubComp(p) => p.measure(v, PacketType::PubComp),
            Packet::Subscribe(p) => p.measure(v),
            Packet::SubAck(p) => p.measure(v),
            Packet::Unsubscribe(p) => p.measure(v),
            Packet::UnsubAck(p) => p.measure(v),
            Packet::PingReq | Packet::PingResp => Ok(0),
            Packet::Disconnect(p) => p.measure(v),
            Packet::Auth(p) => p.measure(v),
        }
    }

    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    fn write_body(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        match self {
            Packet::Connect(p) => p.write(out),
            Packet::ConnAck(p) => p.write(v, out),
            Packet::Publish(p) => p.write(v, out),
            Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
                p.write(v, out)
            }
            Packet::Subscribe(p) => p.write(v, out),
            Packet::SubAck(p) => p.write(v, out),
            Packet::Unsubscribe(p) => p.write(v, out),
            Packet::UnsubAck(p) => p.write(v, out),
            Packet::PingReq | Packet::PingResp => {}
            Packet::Disconnect(p) => p.write(v, out),
            Packet::Auth(p) => p.write(out),
        }
    }
}
