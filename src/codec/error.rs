//! The codec's errors. Each decode error names the normative statement it enforces, and maps to
//! the MQTT 5 reason code a receiver closes the connection with.

use super::{PacketType, PropertyId, ReasonCode, TopicError};

/// Why received bytes are not a valid MQTT packet. The stream is corrupt from here on: the
/// connection must be closed (MQTT 5: after a DISCONNECT with [`DecodeError::reason_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Packet type 0, or 15 (AUTH) on a connection older than MQTT 5.
    InvalidPacketType {
        /// The packet type nibble.
        value: u8,
        /// The rule broken.
        rule: &'static str,
    },
    /// Fixed-header flag bits differ from the values the specification reserves for the type.
    ReservedFlags {
        /// The packet type.
        packet: PacketType,
        /// The flags received.
        flags: u8,
        /// The flags required.
        expected: u8,
        /// The rule broken.
        rule: &'static str,
    },
    /// A PUBLISH with both QoS bits set.
    InvalidQoS {
        /// The rule broken.
        rule: &'static str,
    },
    /// A QoS 0 PUBLISH with the DUP flag set.
    DupOnQoS0 {
        /// The rule broken.
        rule: &'static str,
    },
    /// A variable byte integer longer than four bytes.
    VarIntTooLong {
        /// The rule broken.
        rule: &'static str,
    },
    /// A variable byte integer not in its shortest encoding.
    NonMinimalVarInt {
        /// The rule broken.
        rule: &'static str,
    },
    /// The fixed header announces a packet larger than this receiver accepts.
    PacketTooLarge {
        /// The announced size of the whole packet.
        size: usize,
        /// The receiver's limit.
        max: usize,
    },
    /// A field runs past the end of the packet: the Remaining Length is too short for it.
    Truncated {
        /// The field being read.
        what: &'static str,
    },
    /// The input ends before the packet does (only from [`decode_packet`](super::decode_packet),
    /// which wants exactly one whole packet; the streaming decoder waits for more bytes).
    Incomplete {
        /// Bytes missing (at least).
        needed: usize,
    },
    /// Bytes follow the packet (only from [`decode_packet`](super::decode_packet)).
    ExtraBytes {
        /// How many.
        extra: usize,
    },
    /// Bytes are left inside the packet after its last field.
    TrailingBytes {
        /// The packet type.
        packet: PacketType,
        /// How many bytes were left.
        extra: usize,
    },
    /// Ill-formed UTF-8 (including encoded surrogates) in a string field.
    InvalidUtf8 {
        /// The field.
        what: &'static str,
        /// The rule broken.
        rule: &'static str,
    },
    /// U+0000 in a string field.
    NullCharacter {
        /// The field.
        what: &'static str,
        /// The rule broken.
        rule: &'static str,
    },
    /// CONNECT with a protocol name other than "MQTT" (levels 4, 5) or "MQIsdp" (level 3).
    InvalidProtocolName {
        /// The level received.
        level: u8,
        /// The rule broken.
        rule: &'static str,
    },
    /// CONNECT with a protocol level this codec does not speak.
    UnsupportedProtocolLevel {
        /// The level received.
        level: u8,
        /// The rule broken.
        rule: &'static str,
    },
    /// The CONNECT flags break a rule (reserved bit, will flags without a will, will QoS 3,
    /// password without user name in 3.1.1).
    InvalidConnectFlags {
        /// The flags byte.
        flags: u8,
        /// What is wrong with it.
        problem: &'static str,
        /// The rule broken.
        rule: &'static str,
    },
    /// CONNACK with reserved acknowledge-flag bits set, or Session Present with a refusal.
    InvalidConnAckFlags {
        /// The flags byte.
        flags: u8,
        /// What is wrong with it.
        problem: &'static str,
        /// The rule broken.
        rule: &'static str,
    },
    /// A reason or return code not defined for this packet.
    InvalidReasonCode {
        /// The packet type.
        packet: PacketType,
        /// The code received.
        code: u8,
        /// The rule broken.
        rule: &'static str,
    },
    /// Packet Identifier 0 where a non-zero one is required.
    ZeroPacketId {
        /// The packet type.
        packet: PacketType,
        /// The rule broken.
        rule: &'static str,
    },
    /// An invalid Topic Name in PUBLISH or a will.
    InvalidTopicName {
        /// What is wrong with it.
        problem: TopicError,
        /// Whether the MQTT 5 rule numbering applies.
        v5: bool,
    },
    /// An invalid Topic Filter in SUBSCRIBE or UNSUBSCRIBE.
    InvalidTopicFilter {
        /// What is wrong with it.
        problem: TopicError,
        /// Whether the MQTT 5 rule numbering applies.
        v5: bool,
    },
    /// SUBSCRIBE or UNSUBSCRIBE without a topic filter, or SUBACK / v5 UNSUBACK without codes.
    EmptyPayload {
        /// The packet type.
        packet: PacketType,
        /// What is missing.
        what: &'static str,
        /// The rule broken.
        rule: &'static str,
    },
    /// Subscription options with reserved bits, QoS 3, Retain Handling 3, or No Local on a
    /// shared subscription.
    InvalidSubscriptionOptions {
        /// The options byte.
        options: u8,
        /// What is wrong with it.
        problem: &'static str,
        /// The rule broken.
        rule: &'static str,
    },
    /// A property identifier MQTT 5 does not define.
    UnknownProperty {
        /// The identifier received.
        id: u32,
    },
    /// A property on a packet that may not carry it.
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// The packet or will.
        context: &'static str,
    },
    /// A property other than User Property (or PUBLISH's Subscription Identifier) given twice.
    DuplicateProperty {
        /// The property.
        property: PropertyId,
    },
    /// A property value outside its defined range (for example Receive Maximum 0).
    InvalidPropertyValue {
        /// The property.
        property: PropertyId,
        /// The value received.
        value: u32,
    },
    /// Authentication Data without an Authentication Method (a Protocol Error, MQTT 5
    /// 3.1.2.11.10, 3.2.2.3.18, 3.15.2.2.3).
    AuthenticationDataWithoutMethod {
        /// The packet.
        context: &'static str,
    },
}

impl DecodeError {
    /// The normative statement (or specification section) the input broke, when one applies.
    pub fn rule(&self) -> Option<&'static str> {
        use DecodeError::*;
        Some(match self {
            InvalidPacketType { rule, .. }
            | ReservedFlags { rule, .. }
            | InvalidQoS { rule }
            | DupOnQoS0 { rule }
            | VarIntTooLong { rule }
            | NonMinimalVarInt { rule }
            | InvalidUtf8 { rule, .. }
            | NullCharacter { rule, .. }
            | InvalidProtocolName { rule, .. }
            | UnsupportedProtocolLevel { rule, .. }
            | InvalidConnectFlags { rule, .. }
            | InvalidConnAckFlags { rule, .. }
            | InvalidReasonCode { rule, .. }
            | ZeroPacketId { rule, .. }
            | EmptyPayload { rule, .. }
            | InvalidSubscriptionOptions { rule, .. } => rule,
            InvalidTopicName { problem, v5, .. } | InvalidTopicFilter { problem, v5, .. } => {
                problem.rule(*v5)
            }
            UnknownProperty { .. } => "MQTT-2.2.2-2",
            PacketTooLarge { .. }
            | Incomplete { .. }
            | ExtraBytes { .. }
            | Truncated { .. }
            | TrailingBytes { .. }
            | PropertyNotAllowed { .. }
            | DuplicateProperty { .. }
            | InvalidPropertyValue { .. }
            | AuthenticationDataWithoutMethod { .. } => return None,
        })
    }

    /// The MQTT 5 reason code to put in the DISCONNECT (or CONNACK) that closes the connection.
    pub fn reason_code(&self) -> ReasonCode {
        use DecodeError::*;
        match self {
            PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            UnsupportedProtocolLevel { .. } => ReasonCode::UnsupportedProtocolVersion,
            InvalidTopicName { .. } => ReasonCode::TopicNameInvalid,
            InvalidTopicFilter { .. } => ReasonCode::TopicFilterInvalid,
            // The 5.0 specification classifies these as Protocol Errors rather than malformed.
            DuplicateProperty { .. }
            | InvalidPropertyValue { .. }
            | AuthenticationDataWithoutMethod { .. }
            | DupOnQoS0 { .. }
            | InvalidPacketType { .. } => ReasonCode::ProtocolError,
            InvalidSubscriptionOptions { problem, .. }
                if *problem == super::subscribe::NO_LOCAL_SHARED
                    || *problem == super::subscribe::RETAIN_HANDLING_3 =>
            {
                ReasonCode::ProtocolError
            }
            _ => ReasonCode::MalformedPacket,
        }
    }
}

/// Why a packet cannot be encoded: it would break the specification. Nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The Remaining Length would exceed 268,435,455 bytes.
    PacketTooLarge {
        /// The body size.
        size: usize,
    },
    /// A string or binary field longer than 65,535 bytes.
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A string field contains U+0000 [MQTT-1.5.4-2].
    NullCharacter {
        /// The field.
        field: &'static str,
    },
    /// An invalid topic name.
    InvalidTopicName {
        /// What is wrong with it.
        problem: TopicError,
    },
    /// An invalid topic filter.
    InvalidTopicFilter {
        /// What is wrong with it.
        problem: TopicError,
    },
    /// Packet Identifier 0 on a packet that needs a non-zero one, or a non-zero one on QoS 0.
    PacketId {
        /// The packet type.
        packet: PacketType,
        /// True when an identifier is required but 0 was given.
        needed: bool,
    },
    /// DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2].
    DupOnQoS0,
    /// SUBSCRIBE / UNSUBSCRIBE without a filter, or SUBACK / UNSUBACK without a code.
    EmptyPayload {
        /// The packet type.
        packet: PacketType,
        /// What is missing.
        what: &'static str,
    },
    /// Properties on a packet of a protocol version before MQTT 5.
    PropertiesRequireV5 {
        /// The packet or will.
        context: &'static str,
    },
    /// A property on a packet that may not carry it.
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// The packet or will.
        context: &'static str,
    },
    /// A property value outside its defined range.
    InvalidPropertyValue {
        /// The property.
        property: PropertyId,
        /// The value.
        value: u32,
    },
    /// Authentication Data without an Authentication Method (MQTT 5 3.1.2.11.10).
    AuthenticationDataWithoutMethod {
        /// The packet.
        context: &'static str,
    },
    /// A reason code not defined for this packet, or one MQTT 3 cannot express.
    ReasonCodeNotAllowed {
        /// The reason code.
        code: ReasonCode,
        /// The packet type.
        packet: PacketType,
        /// Whether the connection speaks MQTT 5.
        v5: bool,
    },
    /// AUTH exists only in MQTT 5.
    AuthRequiresV5,
    /// MQTT 3.1.1 forbids a password without a user name [MQTT-3.1.2-22].
    PasswordWithoutUsername,
    /// An empty client identifier requires a clean session before MQTT 5 [MQTT-3.1.3-7];
    /// MQTT 3.1 requires 1 to 23 characters.
    InvalidClientId {
        /// Why.
        problem: &'static str,
    },
    /// No Local on a shared subscription [MQTT-3.8.3-4].
    NoLocalOnSharedSubscription,
    /// No Local, Retain As Published or Retain Handling on a connection older than MQTT 5.
    SubscriptionOptionsRequireV5,
    /// Session Present with a refusing CONNACK [MQTT-3.2.2-6].
    SessionPresentWithError,
}

use crate::text::{Bin, Hex, Piece};

impl Piece for DecodeError {
    fn put(&self, out: &mut String) {
        use DecodeError::*;
        match *self {
            InvalidPacketType { value, rule } => put!(out; "packet type ", value,
                " is reserved in this protocol version [", rule, "]"),
            ReservedFlags {
                packet,
                flags,
                expected,
                rule,
            } => put!(out; packet,
                " has fixed-header flags ", Bin(flags.into(), 4),
                ", the specification requires ", Bin(expected.into(), 4), " [", rule, "]"),
            InvalidQoS { rule } => put!(out; "PUBLISH has QoS 3 (both QoS bits set) [", rule, "]"),
            DupOnQoS0 { rule } => put!(out; "QoS 0 PUBLISH has the DUP flag set [", rule, "]"),
            VarIntTooLong { rule } => {
                put!(out; "variable byte integer longer than 4 bytes [", rule, "]")
            }
            NonMinimalVarInt { rule } => {
                put!(out; "variable byte integer not in its shortest encoding [", rule, "]")
            }
            PacketTooLarge { size, max } => put!(out; "packet of ", size,
                " bytes exceeds the maximum packet size of ", max, " bytes"),
            Truncated { what } => put!(out; "packet ends inside the ", what,
                ": the Remaining Length is too short"),
            Incomplete { needed } => {
                put!(out; "incomplete packet: ", needed, " more bytes are needed")
            }
            ExtraBytes { extra } => {
                put!(out; extra, " bytes follow the packet; exactly one packet was expected")
            }
            TrailingBytes { packet, extra } => {
                put!(out; extra, " unexpected bytes after the last field of ", packet)
            }
            InvalidUtf8 { what, rule } => {
                put!(out; what, " is not well-formed UTF-8 [", rule, "]")
            }
            NullCharacter { what, rule } => {
                put!(out; what, " contains the null character U+0000 [", rule, "]")
            }
            InvalidProtocolName { level, rule } => put!(out;
                "CONNECT protocol name is not the one of protocol level ", level,
                " (\"MQTT\", or \"MQIsdp\" for level 3) [", rule, "]"),
            UnsupportedProtocolLevel { level, rule } => {
                put!(out; "CONNECT protocol level ", level, " is not 3, 4 or 5 [", rule, "]")
            }
            InvalidConnectFlags {
                flags,
                problem,
                rule,
            } => put!(out; "invalid CONNECT flags ",
                Bin(flags.into(), 8), ": ", problem, " [", rule, "]"),
            InvalidConnAckFlags {
                flags,
                problem,
                rule,
            } => put!(out; "invalid CONNACK flags ",
                Bin(flags.into(), 8), ": ", problem, " [", rule, "]"),
            InvalidReasonCode { packet, code, rule } => put!(out; Hex(code.into(), 2),
                " is not a valid reason code for ", packet, " [", rule, "]"),
            ZeroPacketId { packet, rule } => put!(out; packet,
                " has Packet Identifier 0; a non-zero identifier is required [", rule, "]"),
            InvalidTopicName { problem, v5 } => put!(out; "invalid topic name: ", problem,
                " [", problem.rule(v5), "]"),
            InvalidTopicFilter { problem, v5 } => put!(out; "invalid topic filter: ", problem,
                " [", problem.rule(v5), "]"),
            EmptyPayload { packet, what, rule } => {
                put!(out; packet, " carries no ", what, " [", rule, "]")
            }
            InvalidSubscriptionOptions {
                options,
                problem,
                rule,
            } => put!(out;
                "invalid subscription options ", Bin(options.into(), 8), ": ", problem,
                " [", rule, "]"),
            UnknownProperty { id } => {
                put!(out; "unknown property identifier ", Hex(id.into(), 2), " [MQTT-2.2.2-2]")
            }
            PropertyNotAllowed { property, context } => put!(out; property,
                " is not allowed in ", context, " (MQTT 5 section 2.2.2.2)"),
            DuplicateProperty { property } => put!(out; property,
                " appears more than once (a Protocol Error, MQTT 5 section 3)"),
            InvalidPropertyValue { property, value } => put!(out; property,
                " has the invalid value ", value, " (a Protocol Error, MQTT 5 section 3)"),
            AuthenticationDataWithoutMethod { context } => put!(out; context,
                " has Authentication Data but no Authentication Method (a Protocol Error, MQTT 5 section 3.1.2.11.10)"),
        }
    }
}

impl Piece for EncodeError {
    fn put(&self, out: &mut String) {
        use EncodeError::*;
        match *self {
            PacketTooLarge { size } => put!(out; "packet body of ", size,
                " bytes exceeds the 268,435,455 bytes a Remaining Length can express"),
            FieldTooLong { field, len } => put!(out; field, " is ", len,
                " bytes; strings and binary fields hold at most 65,535"),
            NullCharacter { field } => {
                put!(out; field, " contains the null character U+0000 [MQTT-1.5.4-2]")
            }
            InvalidTopicName { problem } => put!(out; "invalid topic name: ", problem, " [",
                problem.rule(true), "]"),
            InvalidTopicFilter { problem } => put!(out; "invalid topic filter: ", problem, " [",
                problem.rule(true), "]"),
            PacketId { packet, needed } => put!(out; packet, " needs ", if needed {
                "a non-zero Packet Identifier [MQTT-2.2.1-3]"
            } else {
                "no Packet Identifier at QoS 0 [MQTT-2.2.1-2]"
            }),
            DupOnQoS0 => put!(out; "QoS 0 PUBLISH must not have DUP set [MQTT-3.3.1-2]"),
            EmptyPayload { packet, what } => put!(out; packet, " needs at least one ", what),
            PropertiesRequireV5 { context } => {
                put!(out; context, " has properties, which need MQTT 5")
            }
            PropertyNotAllowed { property, context } => {
                put!(out; property, " is not allowed in ", context)
            }
            InvalidPropertyValue { property, value } => {
                put!(out; property, " cannot be ", value)
            }
            AuthenticationDataWithoutMethod { context } => put!(out; context,
                " cannot carry Authentication Data without an Authentication Method"),
            ReasonCodeNotAllowed { code, packet, v5 } => put!(out; "reason code ", code,
                " cannot be sent in ", packet, " ", if v5 { "(MQTT 5)" } else { "before MQTT 5" }),
            AuthRequiresV5 => put!(out; "AUTH packets need MQTT 5"),
            PasswordWithoutUsername => {
                put!(out; "MQTT 3.1.1 forbids a password without a user name [MQTT-3.1.2-22]")
            }
            InvalidClientId { problem } => put!(out; "client identifier not allowed: ", problem),
            NoLocalOnSharedSubscription => {
                put!(out; "No Local cannot be set on a shared subscription [MQTT-3.8.3-4]")
            }
            SubscriptionOptionsRequireV5 => put!(out;
                "subscription options No Local, Retain As Published and Retain Handling need MQTT 5"),
            SessionPresentWithError => put!(out;
                "a CONNACK refusing the connection must not set Session Present [MQTT-3.2.2-6]"),
        }
    }
}

display_by_piece!(DecodeError, EncodeError);
impl std::error::Error for DecodeError {}
impl std::error::Error for EncodeError {}
