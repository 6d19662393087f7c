//! MQTT 5 properties (section 2.2.2): one struct for every packet, and a table of which packet
//! may carry which property, checked on both decode and encode.

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
    ($($name:ident = $id:literal, $text:literal, [$($ctx:ident),*];)*) => {
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

            pub(crate) fn allowed(self) -> u16 {
                match self {
                    $(PropertyId::$name => 0 $(| Ctx::$ctx.bit())*,)*
                }
            }
        }
    };
}

property_ids! {
    PayloadFormatIndicator = 0x01, "Payload Format Indicator", [Publish, Will];
    MessageExpiryInterval = 0x02, "Message Expiry Interval", [Publish, Will];
    ContentType = 0x03, "Content Type", [Publish, Will];
    ResponseTopic = 0x08, "Response Topic", [Publish, Will];
    CorrelationData = 0x09, "Correlation Data", [Publish, Will];
    SubscriptionIdentifier = 0x0B, "Subscription Identifier", [Publish, Subscribe];
    SessionExpiryInterval = 0x11, "Session Expiry Interval", [Connect, ConnAck, Disconnect];
    AssignedClientIdentifier = 0x12, "Assigned Client Identifier", [ConnAck];
    ServerKeepAlive = 0x13, "Server Keep Alive", [ConnAck];
    AuthenticationMethod = 0x15, "Authentication Method", [Connect, ConnAck, Auth];
    AuthenticationData = 0x16, "Authentication Data", [Connect, ConnAck, Auth];
    RequestProblemInformation = 0x17, "Request Problem Information", [Connect];
    WillDelayInterval = 0x18, "Will Delay Interval", [Will];
    RequestResponseInformation = 0x19, "Request Response Information", [Connect];
    ResponseInformation = 0x1A, "Response Information", [ConnAck];
    ServerReference = 0x1C, "Server Reference", [ConnAck, Disconnect];
    ReasonString = 0x1F, "Reason String", [ConnAck, PubResp, SubAck, UnsubAck, Disconnect, Auth];
    ReceiveMaximum = 0x21, "Receive Maximum", [Connect, ConnAck];
    TopicAliasMaximum = 0x22, "Topic Alias Maximum", [Connect, ConnAck];
    TopicAlias = 0x23, "Topic Alias", [Publish];
    MaximumQoS = 0x24, "Maximum QoS", [ConnAck];
    RetainAvailable = 0x25, "Retain Available", [ConnAck];
    UserProperty = 0x26, "User Property", [Connect, Will, ConnAck, Publish, PubResp, Subscribe, SubAck, Unsubscribe, UnsubAck, Disconnect, Auth];
    MaximumPacketSize = 0x27, "Maximum Packet Size", [Connect, ConnAck];
    WildcardSubscriptionAvailable = 0x28, "Wildcard Subscription Available", [ConnAck];
    SubscriptionIdentifierAvailable = 0x29, "Subscription Identifier Available", [ConnAck];
    SharedSubscriptionAvailable = 0x2A, "Shared Subscription Available", [ConnAck];
}

impl std::fmt::Display for PropertyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (0x{:02X})", self.name(), *self as u8)
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

fn flag(p: PropertyId, v: u8) -> Result<bool, DecodeError> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::InvalidPropertyValue {
            property: p,
            value: v.into(),
        }),
    }
}

fn nonzero16(p: PropertyId, v: u16) -> Result<u16, DecodeError> {
    if v == 0 {
        Err(DecodeError::InvalidPropertyValue {
            property: p,
            value: 0,
        })
    } else {
        Ok(v)
    }
}

fn set<T>(slot: &mut Option<T>, p: PropertyId, v: T) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::DuplicateProperty { property: p });
    }
    *slot = Some(v);
    Ok(())
}

impl Properties {
    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|v| v.is_empty())
    }
}

impl PropertyValues {
    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        // Field by field: cheaper than building a default value to compare with.
        let PropertyValues {
            payload_format_indicator,
            message_expiry_interval,
            content_type,
            response_topic,
            correlation_data,
            subscription_identifiers,
            session_expiry_interval,
            assigned_client_identifier,
            server_keep_alive,
            authentication_method,
            authentication_data,
            request_problem_information,
            will_delay_interval,
            request_response_information,
            response_information,
            server_reference,
            reason_string,
            receive_maximum,
            topic_alias_maximum,
            topic_alias,
            maximum_qos,
            retain_available,
            user_properties,
            maximum_packet_size,
            wildcard_subscription_available,
            subscription_identifier_available,
            shared_subscription_available,
        } = self;
        payload_format_indicator.is_none()
            && message_expiry_interval.is_none()
            && content_type.is_none()
            && response_topic.is_none()
            && correlation_data.is_none()
            && subscription_identifiers.is_empty()
            && session_expiry_interval.is_none()
            && assigned_client_identifier.is_none()
            && server_keep_alive.is_none()
            && authentication_method.is_none()
            && authentication_data.is_none()
            && request_problem_information.is_none()
            && will_delay_interval.is_none()
            && request_response_information.is_none()
            && response_information.is_none()
            && server_reference.is_none()
            && reason_string.is_none()
            && receive_maximum.is_none()
            && topic_alias_maximum.is_none()
            && topic_alias.is_none()
            && maximum_qos.is_none()
            && retain_available.is_none()
            && user_properties.is_empty()
            && maximum_packet_size.is_none()
            && wildcard_subscription_available.is_none()
            && subscription_identifier_available.is_none()
            && shared_subscription_available.is_none()
    }
}

impl Properties {
    /// Reads a property block (length and properties) when `r` speaks MQTT 5; MQTT 3 packets
    /// have none.
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
            props.read_one(&mut r, p, ctx)?;
        }
        Ok(props)
    }

    fn read_one(&mut self, r: &mut Reader, p: PropertyId, ctx: Ctx) -> Result<(), DecodeError> {
        use PropertyId::*;
        let what = p.name();
        match p {
            PayloadFormatIndicator => {
                let v = flag(p, r.u8(what)?)?;
                set(&mut self.payload_format_indicator, p, v)
            }
            MessageExpiryInterval => set(&mut self.message_expiry_interval, p, r.u32(what)?),
            ContentType => set(&mut self.content_type, p, r.utf8(what)?),
            ResponseTopic => {
                let t = r.utf8(what)?;
                super::topic::validate_topic_name(&t).map_err(|problem| {
                    DecodeError::InvalidTopicName {
                        topic: t.to_string(),
                        problem,
                        v5: true,
                    }
                })?;
                set(&mut self.response_topic, p, t)
            }
            CorrelationData => set(&mut self.correlation_data, p, r.binary(what)?),
            SubscriptionIdentifier => {
                let v = r.varint(what)?;
                if v == 0 {
                    return Err(DecodeError::InvalidPropertyValue {
                        property: p,
                        value: 0,
                    });
                }
                if ctx != Ctx::Publish && !self.subscription_identifiers.is_empty() {
                    return Err(DecodeError::DuplicateProperty { property: p });
                }
                self.subscription_identifiers.push(v);
                Ok(())
            }
            SessionExpiryInterval => set(&mut self.session_expiry_interval, p, r.u32(what)?),
            AssignedClientIdentifier => set(&mut self.assigned_client_identifier, p, r.utf8(what)?),
            ServerKeepAlive => set(&mut self.server_keep_alive, p, r.u16(what)?),
            AuthenticationMethod => set(&mut self.authentication_method, p, r.utf8(what)?),
            AuthenticationData => set(&mut self.authentication_data, p, r.binary(what)?),
            RequestProblemInformation => {
                let v = flag(p, r.u8(what)?)?;
                set(&mut self.request_problem_information, p, v)
            }
            WillDelayInterval => set(&mut self.will_delay_interval, p, r.u32(what)?),
            RequestResponseInformation => {
                let v = flag(p, r.u8(what)?)?;
                set(&mut self.request_response_information, p, v)
            }
            ResponseInformation => set(&mut self.response_information, p, r.utf8(what)?),
            ServerReference => set(&mut self.server_reference, p, r.utf8(what)?),
            ReasonString => set(&mut self.reason_string, p, r.utf8(what)?),
            ReceiveMaximum => {
                let v = nonzero16(p, r.u16(what)?)?;
                set(&mut self.receive_maximum, p, v)
            }
            TopicAliasMaximum => set(&mut self.topic_alias_maximum, p, r.u16(what)?),
            TopicAlias => {
                let v = nonzero16(p, r.u16(what)?)?;
                set(&mut self.topic_alias, p, v)
            }
            MaximumQoS => {
                let v = r.u8(what)?;
                let q = match v {
                    0 => QoS::AtMostOnce,
                    1 => QoS::AtLeastOnce,
                    _ => {
                        return Err(DecodeError::InvalidPropertyValue {
                            property: p,
                            value: v.into(),
                        })
                    }
                };
                set(&mut self.maximum_qos, p, q)
            }
            RetainAvailable => {
                let v = flag(p, r.u8(what)?)?;
                set(&mut self.retain_available, p, v)
            }
            UserProperty => {
                let k = r.utf8("User Property name")?;
                let v = r.utf8("User Property value")?;
                self.user_properties.push((k, v));
                Ok(())
            }
            MaximumPacketSize => {
                let v = r.u32(what)?;
                if v == 0 {
                    return Err(DecodeError::InvalidPropertyValue {
                        property: p,
                        value: 0,
                    });
                }
                set(&mut self.maximum_packet_size, p, v)
            }
            WildcardSubscriptionAvailable => {
                let v = flag(p, r.u8(what)?)?;
                set(&mut self.wildcard_subscription_available, p, v)
            }
            SubscriptionIdentifierAvailable => {
                let v = flag(p, r.u8(what)?)?;
                set(&mut self.subscription_identifier_available, p, v)
            }
            SharedSubscriptionAvailable => {
                let v = flag(p, r.u8(what)?)?;
                set(&mut self.shared_subscription_available, p, v)
            }
        }
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
        use PropertyId::*;
        let check = |p: PropertyId| -> Result<(), EncodeError> {
            if p.allowed() & ctx.bit() == 0 {
                Err(EncodeError::PropertyNotAllowed {
                    property: p,
                    context: ctx.name(),
                })
            } else {
                Ok(())
            }
        };
        let nonzero = |p: PropertyId, v: u32| -> Result<(), EncodeError> {
            if v == 0 {
                Err(EncodeError::InvalidPropertyValue {
                    property: p,
                    value: 0,
                })
            } else {
                Ok(())
            }
        };
        let mut n = 0usize;
        macro_rules! fixed {
            ($field:expr, $p:expr, $size:expr) => {
                if $field.is_some() {
                    check($p)?;
                    n += 1 + $size;
                }
            };
        }
        macro_rules! string {
            ($field:expr, $p:expr) => {
                if let Some(s) = &$field {
                    check($p)?;
                    n += 1 + wire::str_len(s, $p.name())?;
                }
            };
        }
        macro_rules! binary {
            ($field:expr, $p:expr) => {
                if let Some(b) = &$field {
                    check($p)?;
                    n += 1 + wire::field_len(b.len(), $p.name())?;
                }
            };
        }
        fixed!(self.payload_format_indicator, PayloadFormatIndicator, 1);
        fixed!(self.message_expiry_interval, MessageExpiryInterval, 4);
        string!(self.content_type, ContentType);
        if let Some(t) = &self.response_topic {
            super::topic::validate_topic_name(t).map_err(|problem| {
                EncodeError::InvalidTopicName {
                    topic: t.to_string(),
                    problem,
                }
            })?;
        }
        string!(self.response_topic, ResponseTopic);
        binary!(self.correlation_data, CorrelationData);
        if !self.subscription_identifiers.is_empty() {
            check(SubscriptionIdentifier)?;
            if ctx != Ctx::Publish && self.subscription_identifiers.len() > 1 {
                return Err(EncodeError::InvalidPropertyValue {
                    property: SubscriptionIdentifier,
                    value: self.subscription_identifiers[1],
                });
            }
            for &id in &self.subscription_identifiers {
                if id == 0 || id > MAX_SUBSCRIPTION_IDENTIFIER {
                    return Err(EncodeError::InvalidPropertyValue {
                        property: SubscriptionIdentifier,
                        value: id,
                    });
                }
                n += 1 + wire::varint_len(id);
            }
        }
        fixed!(self.session_expiry_interval, SessionExpiryInterval, 4);
        string!(self.assigned_client_identifier, AssignedClientIdentifier);
        fixed!(self.server_keep_alive, ServerKeepAlive, 2);
        string!(self.authentication_method, AuthenticationMethod);
        binary!(self.authentication_data, AuthenticationData);
        fixed!(
            self.request_problem_information,
            RequestProblemInformation,
            1
        );
        fixed!(self.will_delay_interval, WillDelayInterval, 4);
        fixed!(
            self.request_response_information,
            RequestResponseInformation,
            1
        );
        string!(self.response_information, ResponseInformation);
        string!(self.server_reference, ServerReference);
        string!(self.reason_string, ReasonString);
        if let Some(v) = self.receive_maximum {
            nonzero(ReceiveMaximum, v.into())?;
        }
        fixed!(self.receive_maximum, ReceiveMaximum, 2);
        fixed!(self.topic_alias_maximum, TopicAliasMaximum, 2);
        if let Some(v) = self.topic_alias {
            nonzero(TopicAlias, v.into())?;
        }
        fixed!(self.topic_alias, TopicAlias, 2);
        if self.maximum_qos == Some(QoS::ExactlyOnce) {
            return Err(EncodeError::InvalidPropertyValue {
                property: MaximumQoS,
                value: 2,
            });
        }
        fixed!(self.maximum_qos, MaximumQoS, 1);
        fixed!(self.retain_available, RetainAvailable, 1);
        if !self.user_properties.is_empty() {
            check(UserProperty)?;
            for (k, v) in &self.user_properties {
                n += 1
                    + wire::str_len(k, "User Property name")?
                    + wire::str_len(v, "User Property value")?;
            }
        }
        if let Some(v) = self.maximum_packet_size {
            nonzero(MaximumPacketSize, v)?;
        }
        fixed!(self.maximum_packet_size, MaximumPacketSize, 4);
        fixed!(
            self.wildcard_subscription_available,
            WildcardSubscriptionAvailable,
            1
        );
        fixed!(
            self.subscription_identifier_available,
            SubscriptionIdentifierAvailable,
            1
        );
        fixed!(
            self.shared_subscription_available,
            SharedSubscriptionAvailable,
            1
        );
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
        use PropertyId::*;
        let id = |out: &mut Vec<u8>, p: PropertyId| out.put_u8(p as u8);
        if let Some(b) = self.payload_format_indicator {
            id(out, PayloadFormatIndicator);
            out.put_u8(b.into());
        }
        if let Some(x) = self.message_expiry_interval {
            id(out, MessageExpiryInterval);
            out.put_u32(x);
        }
        if let Some(s) = &self.content_type {
            id(out, ContentType);
            wire::put_str(out, s);
        }
        if let Some(s) = &self.response_topic {
            id(out, ResponseTopic);
            wire::put_str(out, s);
        }
        if let Some(b) = &self.correlation_data {
            id(out, CorrelationData);
            wire::put_binary(out, b);
        }
        for &sid in &self.subscription_identifiers {
            id(out, SubscriptionIdentifier);
            wire::put_varint(out, sid);
        }
        if let Some(x) = self.session_expiry_interval {
            id(out, SessionExpiryInterval);
            out.put_u32(x);
        }
        if let Some(s) = &self.assigned_client_identifier {
            id(out, AssignedClientIdentifier);
            wire::put_str(out, s);
        }
        if let Some(x) = self.server_keep_alive {
            id(out, ServerKeepAlive);
            out.put_u16(x);
        }
        if let Some(s) = &self.authentication_method {
            id(out, AuthenticationMethod);
            wire::put_str(out, s);
        }
        if let Some(b) = &self.authentication_data {
            id(out, AuthenticationData);
            wire::put_binary(out, b);
        }
        if let Some(b) = self.request_problem_information {
            id(out, RequestProblemInformation);
            out.put_u8(b.into());
        }
        if let Some(x) = self.will_delay_interval {
            id(out, WillDelayInterval);
            out.put_u32(x);
        }
        if let Some(b) = self.request_response_information {
            id(out, RequestResponseInformation);
            out.put_u8(b.into());
        }
        if let Some(s) = &self.response_information {
            id(out, ResponseInformation);
            wire::put_str(out, s);
        }
        if let Some(s) = &self.server_reference {
            id(out, ServerReference);
            wire::put_str(out, s);
        }
        if let Some(s) = &self.reason_string {
            id(out, ReasonString);
            wire::put_str(out, s);
        }
        if let Some(x) = self.receive_maximum {
            id(out, ReceiveMaximum);
            out.put_u16(x);
        }
        if let Some(x) = self.topic_alias_maximum {
            id(out, TopicAliasMaximum);
            out.put_u16(x);
        }
        if let Some(x) = self.topic_alias {
            id(out, TopicAlias);
            out.put_u16(x);
        }
        if let Some(q) = self.maximum_qos {
            id(out, MaximumQoS);
            out.put_u8(q as u8);
        }
        if let Some(b) = self.retain_available {
            id(out, RetainAvailable);
            out.put_u8(b.into());
        }
        for (k, v) in &self.user_properties {
            id(out, UserProperty);
            wire::put_str(out, k);
            wire::put_str(out, v);
        }
        if let Some(x) = self.maximum_packet_size {
            id(out, MaximumPacketSize);
            out.put_u32(x);
        }
        if let Some(b) = self.wildcard_subscription_available {
            id(out, WildcardSubscriptionAvailable);
            out.put_u8(b.into());
        }
        if let Some(b) = self.subscription_identifier_available {
            id(out, SubscriptionIdentifierAvailable);
            out.put_u8(b.into());
        }
        if let Some(b) = self.shared_subscription_available {
            id(out, SharedSubscriptionAvailable);
            out.put_u8(b.into());
        }
    }
}
