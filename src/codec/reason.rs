//! MQTT 5 reason codes (section 2.4) and the MQTT 3 return codes they subsume.

use super::{PacketType, ProtocolVersion};

macro_rules! reason_codes {
    ($($(#[$meta:meta])* $name:ident = $value:literal, $text:literal;)*) => {
        /// An MQTT 5 reason code. MQTT 3 CONNACK and SUBACK return codes are represented by the
        /// reason codes 5.0 defines for the same outcome (see [`ConnectReturnCode`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[non_exhaustive]
        pub enum ReasonCode {
            $($(#[$meta])* $name = $value,)*
        }

        impl ReasonCode {
            /// The reason code with this value, if 5.0 defines one.
            pub fn from_u8(v: u8) -> Option<ReasonCode> {
                match v {
                    $($value => Some(ReasonCode::$name),)*
                    _ => None,
                }
            }

            /// The specification's name for the code.
            pub fn description(self) -> &'static str {
                match self {
                    $(ReasonCode::$name => $text,)*
                }
            }

            /// The variant's name, as `{:?}` prints it (`NoMatchingSubscribers`).
            pub fn name(self) -> &'static str {
                match self {
                    $(ReasonCode::$name => stringify!($name),)*
                }
            }
        }
    };
}

reason_codes! {
    /// Success, Normal disconnection, or Granted QoS 0 (the meaning depends on the packet).
    #[default]
    Success = 0x00, "Success";
    /// Granted QoS 1.
    GrantedQoS1 = 0x01, "Granted QoS 1";
    /// Granted QoS 2.
    GrantedQoS2 = 0x02, "Granted QoS 2";
    /// Disconnect with Will Message.
    DisconnectWithWillMessage = 0x04, "Disconnect with Will Message";
    /// No matching subscribers.
    NoMatchingSubscribers = 0x10, "No matching subscribers";
    /// No subscription existed.
    NoSubscriptionExisted = 0x11, "No subscription existed";
    /// Continue authentication.
    ContinueAuthentication = 0x18, "Continue authentication";
    /// Re-authenticate.
    ReAuthenticate = 0x19, "Re-authenticate";
    /// Unspecified error.
    UnspecifiedError = 0x80, "Unspecified error";
    /// Malformed Packet.
    MalformedPacket = 0x81, "Malformed Packet";
    /// Protocol Error.
    ProtocolError = 0x82, "Protocol Error";
    /// Implementation specific error.
    ImplementationSpecificError = 0x83, "Implementation specific error";
    /// Unsupported Protocol Version.
    UnsupportedProtocolVersion = 0x84, "Unsupported Protocol Version";
    /// Client Identifier not valid.
    ClientIdentifierNotValid = 0x85, "Client Identifier not valid";
    /// Bad User Name or Password.
    BadUserNameOrPassword = 0x86, "Bad User Name or Password";
    /// Not authorized.
    NotAuthorized = 0x87, "Not authorized";
    /// Server unavailable.
    ServerUnavailable = 0x88, "Server unavailable";
    /// Server busy.
    ServerBusy = 0x89, "Server busy";
    /// Banned.
    Banned = 0x8A, "Banned";
    /// Server shutting down.
    ServerShuttingDown = 0x8B, "Server shutting down";
    /// Bad authentication method.
    BadAuthenticationMethod = 0x8C, "Bad authentication method";
    /// Keep Alive timeout.
    KeepAliveTimeout = 0x8D, "Keep Alive timeout";
    /// Session taken over.
    SessionTakenOver = 0x8E, "Session taken over";
    /// Topic Filter invalid.
    TopicFilterInvalid = 0x8F, "Topic Filter invalid";
    /// Topic Name invalid.
    TopicNameInvalid = 0x90, "Topic Name invalid";
    /// Packet Identifier in use.
    PacketIdentifierInUse = 0x91, "Packet Identifier in use";
    /// Packet Identifier not found.
    PacketIdentifierNotFound = 0x92, "Packet Identifier not found";
    /// Receive Maximum exceeded.
    ReceiveMaximumExceeded = 0x93, "Receive Maximum exceeded";
    /// Topic Alias invalid.
    TopicAliasInvalid = 0x94, "Topic Alias invalid";
    /// Packet too large.
    PacketTooLarge = 0x95, "Packet too large";
    /// Message rate too high.
    MessageRateTooHigh = 0x96, "Message rate too high";
    /// Quota exceeded.
    QuotaExceeded = 0x97, "Quota exceeded";
    /// Administrative action.
    AdministrativeAction = 0x98, "Administrative action";
    /// Payload format invalid.
    PayloadFormatInvalid = 0x99, "Payload format invalid";
    /// Retain not supported.
    RetainNotSupported = 0x9A, "Retain not supported";
    /// QoS not supported.
    QoSNotSupported = 0x9B, "QoS not supported";
    /// Use another server.
    UseAnotherServer = 0x9C, "Use another server";
    /// Server moved.
    ServerMoved = 0x9D, "Server moved";
    /// Shared Subscriptions not supported.
    SharedSubscriptionsNotSupported = 0x9E, "Shared Subscriptions not supported";
    /// Connection rate exceeded.
    ConnectionRateExceeded = 0x9F, "Connection rate exceeded";
    /// Maximum connect time.
    MaximumConnectTime = 0xA0, "Maximum connect time";
    /// Subscription Identifiers not supported.
    SubscriptionIdentifiersNotSupported = 0xA1, "Subscription Identifiers not supported";
    /// Wildcard Subscriptions not supported.
    WildcardSubscriptionsNotSupported = 0xA2, "Wildcard Subscriptions not supported";
}

impl ReasonCode {
    /// True for 0x80 and above: the operation failed.
    pub fn is_error(self) -> bool {
        self as u8 >= 0x80
    }

    /// Whether MQTT 5 allows this code in a packet of type `packet` (the tables of section 3).
    pub fn allowed_in(self, packet: PacketType) -> bool {
        let v = self as u8;
        match packet {
            PacketType::ConnAck => {
                matches!(v, 0x00 | 0x80..=0x8A | 0x8C | 0x90 | 0x95 | 0x97 | 0x99..=0x9D | 0x9F)
            }
            PacketType::PubAck | PacketType::PubRec => {
                matches!(
                    v,
                    0x00 | 0x10 | 0x80 | 0x83 | 0x87 | 0x90 | 0x91 | 0x97 | 0x99
                )
            }
            PacketType::PubRel | PacketType::PubComp => matches!(v, 0x00 | 0x92),
            PacketType::SubAck => matches!(
                v,
                0x00 | 0x01 | 0x02 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91 | 0x97 | 0x9E | 0xA1 | 0xA2
            ),
            PacketType::UnsubAck => matches!(v, 0x00 | 0x11 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91),
            PacketType::Disconnect => matches!(
                v,
                0x00 | 0x04
                    | 0x80..=0x83
                    | 0x87
                    | 0x89
                    | 0x8B
                    | 0x8D..=0x90
                    | 0x93..=0xA2
            ),
            PacketType::Auth => matches!(v, 0x00 | 0x18 | 0x19),
            _ => false,
        }
    }

    /// The granted QoS a SUBACK code stands for, or `None` for a failure.
    pub fn granted_qos(self) -> Option<super::QoS> {
        match self {
            ReasonCode::Success => Some(super::QoS::AtMostOnce),
            ReasonCode::GrantedQoS1 => Some(super::QoS::AtLeastOnce),
            ReasonCode::GrantedQoS2 => Some(super::QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The SUBACK code granting `qos`.
    pub fn granting(qos: super::QoS) -> ReasonCode {
        match qos {
            super::QoS::AtMostOnce => ReasonCode::Success,
            super::QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
            super::QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
        }
    }

    /// The byte a packet of `version` carries for this code in a CONNACK or SUBACK, or `None`
    /// when MQTT 3 has no code for it.
    pub(crate) fn to_wire(self, packet: PacketType, version: ProtocolVersion) -> Option<u8> {
        if version.is_v5() {
            return self.allowed_in(packet).then_some(self as u8);
        }
        match packet {
            PacketType::ConnAck => ConnectReturnCode::from_reason(self).map(|c| c as u8),
            PacketType::SubAck => match self {
                ReasonCode::Success | ReasonCode::GrantedQoS1 | ReasonCode::GrantedQoS2 => {
                    Some(self as u8)
                }
                ReasonCode::UnspecifiedError => Some(0x80),
                _ => None,
            },
            _ => None,
        }
    }

    /// Reads the code byte of a CONNACK or SUBACK of `version`.
    pub(crate) fn from_wire(v: u8, packet: PacketType, version: ProtocolVersion) -> Option<Self> {
        if version.is_v5() {
            return ReasonCode::from_u8(v).filter(|c| c.allowed_in(packet));
        }
        match packet {
            PacketType::ConnAck => ConnectReturnCode::from_u8(v).map(ConnectReturnCode::reason),
            PacketType::SubAck => match v {
                0..=2 => ReasonCode::from_u8(v),
                0x80 => Some(ReasonCode::UnspecifiedError),
                _ => None,
            },
            _ => None,
        }
    }
}

/// "Description (0xNN)".
impl crate::text::Piece for ReasonCode {
    fn put(&self, out: &mut String) {
        put!(out; self.description(), " (", crate::text::HexUpper(*self as u64, 2), ")");
    }
}

display_by_piece!(ReasonCode);

/// The CONNACK return codes of MQTT 3.1 and 3.1.1 (section 3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectReturnCode {
    /// 0: Connection accepted.
    Accepted = 0,
    /// 1: Connection refused, unacceptable protocol version.
    UnacceptableProtocolVersion = 1,
    /// 2: Connection refused, identifier rejected.
    IdentifierRejected = 2,
    /// 3: Connection refused, server unavailable.
    ServerUnavailable = 3,
    /// 4: Connection refused, bad user name or password.
    BadUserNameOrPassword = 4,
    /// 5: Connection refused, not authorized.
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The return code for a byte 0 to 5.
    pub fn from_u8(v: u8) -> Option<Self> {
        use ConnectReturnCode::*;
        Some(match v {
            0 => Accepted,
            1 => UnacceptableProtocolVersion,
            2 => IdentifierRejected,
            3 => ServerUnavailable,
            4 => BadUserNameOrPassword,
            5 => NotAuthorized,
            _ => return None,
        })
    }

    /// The MQTT 5 reason code for the same outcome.
    pub fn reason(self) -> ReasonCode {
        use ConnectReturnCode::*;
        match self {
            Accepted => ReasonCode::Success,
            UnacceptableProtocolVersion => ReasonCode::UnsupportedProtocolVersion,
            IdentifierRejected => ReasonCode::ClientIdentifierNotValid,
            ServerUnavailable => ReasonCode::ServerUnavailable,
            BadUserNameOrPassword => ReasonCode::BadUserNameOrPassword,
            NotAuthorized => ReasonCode::NotAuthorized,
        }
    }

    /// The MQTT 3 return code for a reason code, if there is one.
    pub fn from_reason(r: ReasonCode) -> Option<Self> {
        use ConnectReturnCode::*;
        Some(match r {
            ReasonCode::Success => Accepted,
            ReasonCode::UnsupportedProtocolVersion => UnacceptableProtocolVersion,
            ReasonCode::ClientIdentifierNotValid => IdentifierRejected,
            ReasonCode::ServerUnavailable => ServerUnavailable,
            ReasonCode::BadUserNameOrPassword => BadUserNameOrPassword,
            ReasonCode::NotAuthorized => NotAuthorized,
            _ => return None,
        })
    }
}
