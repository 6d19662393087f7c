//! MQTT 5 properties (section 2.2.2): one struct for every packet, and a table of which packet
//! may carry which property, checked on both decode and encode.
//!
//! Length: one table and one struct for all 27 properties, with their reading, writing and
//! checks; split by property kind they would each restate the table.

use bytes::{BufMut, Bytes};

use super::wire::{self, Reader};
use super::{ByteStr, DecodeError, EncodeError, ProtocolVersion, QoS};

/// Where a property block appears: a packet, or the will properties inside CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum Ctx {
    Connect = 0,
    Will,
    ConnAck,
    Publish,
    PubResp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth,
}

impl Ctx {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ctx::Connect => "CONNECT",
            Ctx::Will => "the will properties",
            Ctx::ConnAck => "CONNACK",
            Ctx::Publish => "PUBLISH",
            Ctx::PubResp => "PUBACK/PUBREC/PUBREL/PUBCOMP",
            Ctx::Subscribe => "SUBSCRIBE",
            Ctx::SubAck => "SUBACK",
            Ctx::Unsubscribe => "UNSUBSCRIBE",
            Ctx::UnsubAck => "UNSUBACK",
            Ctx::Disconnect => "DISCONNECT",
            Ctx::Auth => "AUTH",
        }
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

macro_rules! property_ids {
    ($($name:ident = $id:literal, $text:literal, $kind:ident, [$($ctx:ident),*];)*) => {
        /// An MQTT 5 property identifier.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[allow(missing_docs)]
        pub enum PropertyId {
            $($name = $id,)*
        }

        impl PropertyId {
            /// The property for an identifier, if MQTT 5 defines it.
            pub fn from_u32(id: u32) -> Option<PropertyId> {
                match id {
                    $($id => Some(PropertyId::$name),)*
                    _ => None,
                }
            }

            /// The specification's name.
            pub fn name(self) -> &'static str {
                match self {
                    $(PropertyId::$name => $text,)*
                }
            }

            /// How the value is encoded.
            pub(crate) fn kind(self) -> Kind {
                match self {
                    $(PropertyId::$name => Kind::$kind,)*
                }
            }

            pub(crate) fn allowed(self) -> u16 {
                match self {
                    $(PropertyId::$name => 0 $(| Ctx::$ctx.bit())*,)*
                }
            }
        }
    };
}

property_ids! {
    PayloadFormatIndicator = 0x01, "Payload Format Indicator", Byte, [Publish, Will];
    MessageExpiryInterval = 0x02, "Message Expiry Interval", U32, [Publish, Will];
    ContentType = 0x03, "Content Type", Str, [Publish, Will];
    ResponseTopic = 0x08, "Response Topic", Str, [Publish, Will];
    CorrelationData = 0x09, "Correlation Data", Bin, [Publish, Will];
    SubscriptionIdentifier = 0x0B, "Subscription Identifier", VarInt, [Publish, Subscribe];
    SessionExpiryInterval = 0x11, "Session Expiry Interval", U32, [Connect, ConnAck, Disconnect];
    AssignedClientIdentifier = 0x12, "Assigned Client Identifier", Str, [ConnAck];
    ServerKeepAlive = 0x13, "Server Keep Alive", U16, [ConnAck];
    AuthenticationMethod = 0x15, "Authentication Method", Str, [Connect, ConnAck, Auth];
    AuthenticationData = 0x16, "Authentication Data", Bin, [Connect, ConnAck, Auth];
    RequestProblemInformation = 0x17, "Request Problem Information", Byte, [Connect];
    WillDelayInterval = 0x18, "Will Delay Interval", U32, [Will];
    RequestResponseInformation = 0x19, "Request Response Information", Byte, [Connect];
    ResponseInformation = 0x1A, "Response Information", Str, [ConnAck];
    ServerReference = 0x1C, "Server Reference", Str, [ConnAck, Disconnect];
    ReasonString = 0x1F, "Reason String", Str, [ConnAck, PubResp, SubAck, UnsubAck, Disconnect, Auth];
    ReceiveMaximum = 0x21, "Receive Maximum", U16, [Connect, ConnAck];
    TopicAliasMaximum = 0x22, "Topic Alias Maximum", U16, [Connect, ConnAck];
    TopicAlias = 0x23, "Topic Alias", U16, [Publish];
    MaximumQoS = 0x24, "Maximum QoS", Byte, [ConnAck];
    RetainAvailable = 0x25, "Retain Available", Byte, [ConnAck];
    UserProperty = 0x26, "User Property", Pair, [Connect, Will, ConnAck, Publish, PubResp, Subscribe, SubAck, Unsubscribe, UnsubAck, Disconnect, Auth];
    MaximumPacketSize = 0x27, "Maximum Packet Size", U32, [Connect, ConnAck];
    WildcardSubscriptionAvailable = 0x28, "Wildcard Subscription Available", Byte, [ConnAck];
    SubscriptionIdentifierAvailable = 0x29, "Subscription Identifiers Available", Byte, [ConnAck];
    SharedSubscriptionAvailable = 0x2A, "Shared Subscription Available", Byte, [ConnAck];
}

/// "Name (0xNN)".
impl crate::text::Piece for PropertyId {
    fn put(&self, out: &mut String) {
        put!(out; self.name(), " (", crate::text::HexUpper(*self as u64, 2), ")");
    }
}

display_by_piece!(PropertyId);

/// How a property value is encoded (section 1.5 data types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Byte,
    U16,
    U32,
    VarInt,
    Str,
    Bin,
    Pair,
}

/// One property value, borrowed from a [`PropertyValues`] or owned for setting.
#[derive(Debug, Clone)]
pub(crate) enum Value<S, B> {
    /// Byte (flags are 0/1; Maximum QoS 0/1).
    Byte(u8),
    /// Two Byte Integer.
    U16(u16),
    /// Four Byte Integer.
    U32(u32),
    /// Variable Byte Integer (Subscription Identifier).
    VarInt(u32),
    /// UTF-8 Encoded String.
    Str(S),
    /// Binary Data.
    Bin(B),
    /// UTF-8 String Pair (User Property).
    Pair(S, S),
}

/// A value as stored: strings and bytes shared with the packet.
pub(crate) type Owned = Value<ByteStr, Bytes>;
/// A value as enumerated for encoding.
pub(crate) type Ref<'a> = Value<&'a ByteStr, &'a Bytes>;

/// Why a value cannot be set.
pub(crate) enum SetError {
    /// Given twice where once is the limit.
    Duplicate,
    /// Outside the property's range (Receive Maximum 0, a flag of 2, ...).
    Invalid(u32),
    /// A Response Topic that is not a valid topic name.
    Topic(super::TopicError),
}

/// Range rules of the values (section 3, per property): what is a Protocol Error to receive and
/// is refused when encoding.
fn check_int(p: PropertyId, v: u32) -> Result<(), SetError> {
    use PropertyId::*;
    let ok = match p {
        PayloadFormatIndicator
        | RequestProblemInformation
        | RequestResponseInformation
        | MaximumQoS
        | RetainAvailable
        | WildcardSubscriptionAvailable
        | SubscriptionIdentifierAvailable
        | SharedSubscriptionAvailable => v <= 1,
        ReceiveMaximum | TopicAlias | MaximumPacketSize => v != 0,
        SubscriptionIdentifier => (1..=MAX_SUBSCRIPTION_IDENTIFIER).contains(&v),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(SetError::Invalid(v))
    }
}

/// The largest Subscription Identifier (a variable byte integer).
pub const MAX_SUBSCRIPTION_IDENTIFIER: u32 = 268_435_455;

/// The properties of an MQTT 5 packet or will: read and write the fields of [`PropertyValues`]
/// directly (`props.receive_maximum = Some(20)`). Which fields a packet may carry is checked when
/// it is encoded or decoded; MQTT 3 packets carry none.
// Design: most packets carry no properties, and the full set is ~460 bytes. Storing it inline
// made every packet that large (memset on decode, memcpy on every move), which dominated the cost
// of small PUBLISHes. The values live in a box allocated on the first write; reads of an empty
// set go to a shared empty value.
#[derive(Clone, Default)]
pub struct Properties(Option<Box<PropertyValues>>);

static NO_PROPERTIES: PropertyValues = PropertyValues::EMPTY;

impl std::ops::Deref for Properties {
    type Target = PropertyValues;
    fn deref(&self) -> &PropertyValues {
        self.0.as_deref().unwrap_or(&NO_PROPERTIES)
    }
}

impl std::ops::DerefMut for Properties {
    fn deref_mut(&mut self) -> &mut PropertyValues {
        self.0.get_or_insert_with(Box::default)
    }
}

impl PartialEq for Properties {
    fn eq(&self, other: &Properties) -> bool {
        **self == **other
    }
}

impl Eq for Properties {}

impl std::fmt::Debug for Properties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl From<PropertyValues> for Properties {
    fn from(v: PropertyValues) -> Self {
        Properties(Some(Box::new(v)))
    }
}

/// The MQTT 5 properties, one field each (see [`Properties`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyValues {
    /// 0x01: true when the payload is UTF-8 text.
    pub payload_format_indicator: Option<bool>,
    /// 0x02: seconds until the message expires.
    pub message_expiry_interval: Option<u32>,
    /// 0x03: MIME type of the payload.
    pub content_type: Option<ByteStr>,
    /// 0x08: topic for a response (no wildcards).
    pub response_topic: Option<ByteStr>,
    /// 0x09: data correlating a response with its request.
    pub correlation_data: Option<Bytes>,
    /// 0x0B: subscription identifiers (several only in a PUBLISH to a client), 1 to 268,435,455.
    pub subscription_identifiers: Vec<u32>,
    /// 0x11: seconds the session outlives the connection.
    pub session_expiry_interval: Option<u32>,
    /// 0x12: client identifier assigned by the server.
    pub assigned_client_identifier: Option<ByteStr>,
    /// 0x13: keep alive the server requires.
    pub server_keep_alive: Option<u16>,
    /// 0x15: extended authentication method.
    pub authentication_method: Option<ByteStr>,
    /// 0x16: extended authentication data.
    pub authentication_data: Option<Bytes>,
    /// 0x17: whether the server may send reason strings and user properties on failures.
    pub request_problem_information: Option<bool>,
    /// 0x18: seconds the server waits before publishing the will.
    pub will_delay_interval: Option<u32>,
    /// 0x19: whether the client asks for response information.
    pub request_response_information: Option<bool>,
    /// 0x1A: basis for response topics.
    pub response_information: Option<ByteStr>,
    /// 0x1C: another server to use.
    pub server_reference: Option<ByteStr>,
    /// 0x1F: human-readable reason.
    pub reason_string: Option<ByteStr>,
    /// 0x21: how many unacknowledged QoS 1/2 PUBLISHes the sender accepts (not 0).
    pub receive_maximum: Option<u16>,
    /// 0x22: highest topic alias the sender accepts.
    pub topic_alias_maximum: Option<u16>,
    /// 0x23: topic alias (not 0).
    pub topic_alias: Option<u16>,
    /// 0x24: highest QoS the server supports (0 or 1; absent means 2).
    pub maximum_qos: Option<QoS>,
    /// 0x25: whether the server supports retained messages.
    pub retain_available: Option<bool>,
    /// 0x26: user properties, in order; names may repeat.
    pub user_properties: Vec<(ByteStr, ByteStr)>,
    /// 0x27: largest packet the sender accepts (not 0).
    pub maximum_packet_size: Option<u32>,
    /// 0x28: whether the server supports wildcard subscriptions.
    pub wildcard_subscription_available: Option<bool>,
    /// 0x29: whether the server supports subscription identifiers.
    pub subscription_identifier_available: Option<bool>,
    /// 0x2A: whether the server supports shared subscriptions.
    pub shared_subscription_available: Option<bool>,
}

impl PropertyValues {
    /// No property set.
    pub const EMPTY: PropertyValues = PropertyValues {
        payload_format_indicator: None,
        message_expiry_interval: None,
        content_type: None,
        response_topic: None,
        correlation_data: None,
        subscription_identifiers: Vec::new(),
        session_expiry_interval: None,
        assigned_client_identifier: None,
        server_keep_alive: None,
        authentication_method: None,
        authentication_data: None,
        request_problem_information: None,
        will_delay_interval: None,
        request_response_information: None,
        response_information: None,
        server_reference: None,
        reason_string: None,
        receive_maximum: None,
        topic_alias_maximum: None,
        topic_alias: None,
        maximum_qos: None,
        retain_available: None,
        user_properties: Vec::new(),
        maximum_packet_size: None,
        wildcard_subscription_available: None,
        subscription_identifier_available: None,
        shared_subscription_available: None,
    };
}

fn put<T>(slot: &mut Option<T>, v: T) -> Result<(), SetError> {
    if slot.is_some() {
        return Err(SetError::Duplicate);
    }
    *slot = Some(v);
    Ok(())
}

impl PropertyValues {
    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        let mut empty = true;
        self.for_each(&mut |_, _| empty = false);
        empty
    }

    /// Sets one property from its wire value, enforcing its range and that it is not repeated
    /// (only User Property, and Subscription Identifier in a PUBLISH, may repeat).
    pub(crate) fn set(&mut self, p: PropertyId, v: Owned, ctx: Ctx) -> Result<(), SetError> {
        use PropertyId::*;
        let int = match &v {
            Value::Byte(b) => Some(u32::from(*b)),
            Value::U16(x) => Some(u32::from(*x)),
            Value::U32(x) | Value::VarInt(x) => Some(*x),
            _ => None,
        };
        if let Some(i) = int {
            check_int(p, i)?;
        }
        let i = int.unwrap_or(0);
        let flag = i != 0;
        match (p, v) {
            (PayloadFormatIndicator, _) => put(&mut self.payload_format_indicator, flag),
            (MessageExpiryInterval, _) => put(&mut self.message_expiry_interval, i),
            (ContentType, Value::Str(s)) => put(&mut self.content_type, s),
            (ResponseTopic, Value::Str(s)) => {
                super::topic::validate_topic_name(&s).map_err(SetError::Topic)?;
                put(&mut self.response_topic, s)
            }
            (CorrelationData, Value::Bin(b)) => put(&mut self.correlation_data, b),
            (SubscriptionIdentifier, _) => {
                if ctx != Ctx::Publish && !self.subscription_identifiers.is_empty() {
                    return Err(SetError::Duplicate);
                }
                self.subscription_identifiers.push(i);
                Ok(())
            }
            (SessionExpiryInterval, _) => put(&mut self.session_expiry_interval, i),
            (AssignedClientIdentifier, Value::Str(s)) => {
                put(&mut self.assigned_client_identifier, s)
            }
            (ServerKeepAlive, _) => put(&mut self.server_keep_alive, i as u16),
            (AuthenticationMethod, Value::Str(s)) => put(&mut self.authentication_method, s),
            (AuthenticationData, Value::Bin(b)) => put(&mut self.authentication_data, b),
            (RequestProblemInformation, _) => put(&mut self.request_problem_information, flag),
            (WillDelayInterval, _) => put(&mut self.will_delay_interval, i),
            (RequestResponseInformation, _) => put(&mut self.request_response_information, flag),
            (ResponseInformation, Value::Str(s)) => put(&mut self.response_information, s),
            (ServerReference, Value::Str(s)) => put(&mut self.server_reference, s),
            (ReasonString, Value::Str(s)) => put(&mut self.reason_string, s),
            (ReceiveMaximum, _) => put(&mut self.receive_maximum, i as u16),
            (TopicAliasMaximum, _) => put(&mut self.topic_alias_maximum, i as u16),
            (TopicAlias, _) => put(&mut self.topic_alias, i as u16),
            (MaximumQoS, _) => put(
                &mut self.maximum_qos,
                if flag {
                    QoS::AtLeastOnce
                } else {
                    QoS::AtMostOnce
                },
            ),
            (RetainAvailable, _) => put(&mut self.retain_available, flag),
            (UserProperty, Value::Pair(k, v)) => {
                self.user_properties.push((k, v));
                Ok(())
            }
            (MaximumPacketSize, _) => put(&mut self.maximum_packet_size, i),
            (WildcardSubscriptionAvailable, _) => {
                put(&mut self.wildcard_subscription_available, flag)
            }
            (SubscriptionIdentifierAvailable, _) => {
                put(&mut self.subscription_identifier_available, flag)
            }
            (SharedSubscriptionAvailable, _) => put(&mut self.shared_subscription_available, flag),
            // A value of the wrong kind for the property: only reachable from a hand-made tape.
            _ => Err(SetError::Invalid(0)),
        }
    }

    /// Calls `f` for every property that is set, in identifier order (User Properties in the
    /// order given).
    // One instance (`dyn`) for every caller: the walk is not hot, and code size matters in wasm.
    pub(crate) fn for_each(&self, f: &mut dyn FnMut(PropertyId, Ref<'_>)) {
        use PropertyId::*;
        let b = |x: bool| Value::Byte(u8::from(x));
        if let Some(x) = self.payload_format_indicator {
            f(PayloadFormatIndicator, b(x));
        }
        if let Some(x) = self.message_expiry_interval {
            f(MessageExpiryInterval, Value::U32(x));
        }
        if let Some(x) = &self.content_type {
            f(ContentType, Value::Str(x));
        }
        if let Some(x) = &self.response_topic {
            f(ResponseTopic, Value::Str(x));
        }
        if let Some(x) = &self.correlation_data {
            f(CorrelationData, Value::Bin(x));
        }
        for &x in &self.subscription_identifiers {
            f(SubscriptionIdentifier, Value::VarInt(x));
        }
        if let Some(x) = self.session_expiry_interval {
            f(SessionExpiryInterval, Value::U32(x));
        }
        if let Some(x) = &self.assigned_client_identifier {
            f(AssignedClientIdentifier, Value::Str(x));
        }
        if let Some(x) = self.server_keep_alive {
            f(ServerKeepAlive, Value::U16(x));
        }
        if let Some(x) = &self.authentication_method {
            f(AuthenticationMethod, Value::Str(x));
        }
        if let Some(x) = &self.authentication_data {
            f(AuthenticationData, Value::Bin(x));
        }
        if let Some(x) = self.request_problem_information {
            f(RequestProblemInformation, b(x));
        }
        if let Some(x) = self.will_delay_interval {
            f(WillDelayInterval, Value::U32(x));
        }
        if let Some(x) = self.request_response_information {
            f(RequestResponseInformation, b(x));
        }
        if let Some(x) = &self.response_information {
            f(ResponseInformation, Value::Str(x));
        }
        if let Some(x) = &self.server_reference {
            f(ServerReference, Value::Str(x));
        }
        if let Some(x) = &self.reason_string {
            f(ReasonString, Value::Str(x));
        }
        if let Some(x) = self.receive_maximum {
            f(ReceiveMaximum, Value::U16(x));
        }
        if let Some(x) = self.topic_alias_maximum {
            f(TopicAliasMaximum, Value::U16(x));
        }
        if let Some(x) = self.topic_alias {
            f(TopicAlias, Value::U16(x));
        }
        if let Some(x) = self.maximum_qos {
            f(MaximumQoS, Value::Byte(x as u8));
        }
        if let Some(x) = self.retain_available {
            f(RetainAvailable, b(x));
        }
        for (k, v) in &self.user_properties {
            f(UserProperty, Value::Pair(k, v));
        }
        if let Some(x) = self.maximum_packet_size {
            f(MaximumPacketSize, Value::U32(x));
        }
        if let Some(x) = self.wildcard_subscription_available {
            f(WildcardSubscriptionAvailable, b(x));
        }
        if let Some(x) = self.subscription_identifier_available {
            f(SubscriptionIdentifierAvailable, b(x));
        }
        if let Some(x) = self.shared_subscription_available {
            f(SharedSubscriptionAvailable, b(x));
        }
    }
}

/// Encoded size of one property (identifier included), after the checks a sender owes the
/// receiver: allowed in this packet, in range, strings without U+0000 and within 65,535 bytes.
fn measure_one(
    p: PropertyId,
    v: &Ref<'_>,
    ctx: Ctx,
    sub_ids: &mut u32,
) -> Result<usize, EncodeError> {
    if p.allowed() & ctx.bit() == 0 {
        return Err(EncodeError::PropertyNotAllowed {
            property: p,
            context: ctx.name(),
        });
    }
    let invalid = |value| EncodeError::InvalidPropertyValue { property: p, value };
    let int = |x: u32| check_int(p, x).map_err(|_| invalid(x));
    let len = match v {
        Value::Byte(x) => int(u32::from(*x)).map(|_| 1)?,
        Value::U16(x) => int(u32::from(*x)).map(|_| 2)?,
        Value::U32(x) => int(*x).map(|_| 4)?,
        Value::VarInt(x) => {
            *sub_ids += 1;
            if ctx != Ctx::Publish && *sub_ids > 1 {
                return Err(invalid(*x));
            }
            int(*x).map(|_| wire::varint_len(*x))?
        }
        Value::Str(s) => {
            if p == PropertyId::ResponseTopic {
                super::topic::validate_topic_name(s)
                    .map_err(|problem| EncodeError::InvalidTopicName { problem })?;
            }
            wire::str_len(s, p.name())?
        }
        Value::Bin(b) => wire::field_len(b.len(), p.name())?,
        Value::Pair(k, x) => {
            wire::str_len(k, "User Property name")? + wire::str_len(x, "User Property value")?
        }
    };
    Ok(1 + len)
}

impl Properties {
    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|v| v.is_empty())
    }

    /// Reads a property block (length and properties) when `r` speaks MQTT 5; MQTT 3 packets
    /// have none.
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn read(r: &mut Reader, ctx: Ctx) -> Result<Properties, DecodeError> {
        let mut props = Properties::default();
        if !r.version.is_v5() {
            return Ok(props);
        }
        let len = r.varint("property length")? as usize;
        if len == 0 {
            return Ok(props);
        }
        let mut r = r.sub(len, "properties")?;
        while !r.is_empty() {
            let id = r.varint("property identifier")?;
            let p = PropertyId::from_u32(id).ok_or(DecodeError::UnknownProperty { id })?;
            if p.allowed() & ctx.bit() == 0 {
                return Err(DecodeError::PropertyNotAllowed {
                    property: p,
                    context: ctx.name(),
                });
            }
            let what = p.name();
            let v = match p.kind() {
                Kind::Byte => Value::Byte(r.u8(what)?),
                Kind::U16 => Value::U16(r.u16(what)?),
                Kind::U32 => Value::U32(r.u32(what)?),
                Kind::VarInt => Value::VarInt(r.varint(what)?),
                Kind::Str => Value::Str(r.utf8(what)?),
                Kind::Bin => Value::Bin(r.binary(what)?),
                Kind::Pair => Value::Pair(
                    r.utf8("User Property name")?,
                    r.utf8("User Property value")?,
                ),
            };
            props.set(p, v, ctx).map_err(|e| match e {
                SetError::Duplicate => DecodeError::DuplicateProperty { property: p },
                SetError::Invalid(value) => {
                    DecodeError::InvalidPropertyValue { property: p, value }
                }
                SetError::Topic(problem) => DecodeError::InvalidTopicName { problem, v5: true },
            })?;
        }
        if props.authentication_data.is_some() && props.authentication_method.is_none() {
            return Err(DecodeError::AuthenticationDataWithoutMethod {
                context: ctx.name(),
            });
        }
        Ok(props)
    }

    /// Size of the property block (its length prefix included) in a packet of `version`, after
    /// checking every property is allowed in `ctx` and in range.
    pub(crate) fn measure(&self, ctx: Ctx, v: ProtocolVersion) -> Result<usize, EncodeError> {
        if !v.is_v5() {
            return if self.is_empty() {
                Ok(0)
            } else {
                Err(EncodeError::PropertiesRequireV5 {
                    context: ctx.name(),
                })
            };
        }
        let n = self.body_len(ctx)?;
        Ok(wire::varint_len(n as u32) + n)
    }

    fn body_len(&self, ctx: Ctx) -> Result<usize, EncodeError> {
        let mut n = 0usize;
        let mut err = None;
        let mut sub_ids = 0;
        self.for_each(&mut |p, v| {
            if err.is_none() {
                match measure_one(p, &v, ctx, &mut sub_ids) {
                    Ok(len) => n += len,
                    Err(e) => err = Some(e),
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        if self.authentication_data.is_some() && self.authentication_method.is_none() {
            return Err(EncodeError::AuthenticationDataWithoutMethod {
                context: ctx.name(),
            });
        }
        if n > super::MAX_REMAINING_LENGTH {
            return Err(EncodeError::PacketTooLarge { size: n });
        }
        Ok(n)
    }

    /// Writes the block measured by [`Properties::measure`] (nothing before MQTT 5).
    pub(crate) fn write(&self, ctx: Ctx, v: ProtocolVersion, out: &mut Vec<u8>) {
        if !v.is_v5() {
            return;
        }
        if self.is_empty() {
            out.put_u8(0);
            return;
        }
        // Already validated by `measure`.
        let n = self.body_len(ctx).unwrap_or(0);
        wire::put_varint(out, n as u32);
        self.for_each(&mut |p, v| {
            out.put_u8(p as u8);
            match v {
                Value::Byte(x) => out.put_u8(x),
                Value::U16(x) => out.put_u16(x),
                Value::U32(x) => out.put_u32(x),
                Value::VarInt(x) => wire::put_varint(out, x),
                Value::Str(s) => wire::put_str(out, s),
                Value::Bin(b) => wire::put_binary(out, b),
                Value::Pair(k, x) => {
                    wire::put_str(out, k);
                    wire::put_str(out, x);
                }
            }
        });
    }
}
