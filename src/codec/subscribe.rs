//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK (sections 3.8 to 3.11).

use bytes::BufMut;

use super::properties::Ctx;
use super::topic::{is_shared, validate_topic_filter};
use super::wire::{self, Reader};
use super::{
    ByteStr, DecodeError, EncodeError, PacketType, Properties, ProtocolVersion, QoS, ReasonCode,
};

pub(crate) const NO_LOCAL_SHARED: &str = "No Local is set on a shared subscription";
pub(crate) const RETAIN_HANDLING_3: &str = "Retain Handling is 3";

/// When the server sends retained messages for a new subscription (MQTT 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// 0: send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// 1: send them only if the subscription did not already exist.
    SendIfNew = 1,
    /// 2: do not send them at the time of the subscribe.
    DoNotSend = 2,
}

/// The options byte of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the client wants for this subscription.
    pub qos: QoS,
    /// MQTT 5: do not send the client its own publications.
    pub no_local: bool,
    /// MQTT 5: keep the RETAIN flag as published when forwarding.
    pub retain_as_published: bool,
    /// MQTT 5: when retained messages are sent.
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    fn byte(self) -> u8 {
        self.qos as u8
            | (u8::from(self.no_local) << 2)
            | (u8::from(self.retain_as_published) << 3)
            | ((self.retain_handling as u8) << 4)
    }

    fn has_v5_options(self) -> bool {
        self.no_local
            || self.retain_as_published
            || self.retain_handling != RetainHandling::SendAtSubscribe
    }
}

/// One topic filter and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The topic filter.
    pub filter: ByteStr,
    /// Its options.
    pub options: SubscriptionOptions,
}

impl Subscription {
    /// A subscription to `filter` at `qos` with default options.
    pub fn new(filter: impl Into<ByteStr>, qos: QoS) -> Self {
        Subscription {
            filter: filter.into(),
            options: SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            },
        }
    }
}

/// A request to subscribe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Non-zero packet identifier.
    pub packet_id: u16,
    /// At least one subscription.
    pub subscriptions: Vec<Subscription>,
    /// SUBSCRIBE properties (5.0): a subscription identifier and user properties.
    pub properties: Properties,
}

/// The server's answer to SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// The SUBSCRIBE's packet identifier.
    pub packet_id: u16,
    /// One code per subscription, in order: a granted QoS or a failure.
    pub reason_codes: Vec<ReasonCode>,
    /// SUBACK properties (5.0).
    pub properties: Properties,
}

/// A request to unsubscribe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Non-zero packet identifier.
    pub packet_id: u16,
    /// At least one topic filter.
    pub filters: Vec<ByteStr>,
    /// UNSUBSCRIBE properties (5.0).
    pub properties: Properties,
}

/// The server's answer to UNSUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// The UNSUBSCRIBE's packet identifier.
    pub packet_id: u16,
    /// MQTT 5: one code per filter; empty before MQTT 5, which has no codes.
    pub reason_codes: Vec<ReasonCode>,
    /// UNSUBACK properties (5.0).
    pub properties: Properties,
}

fn read_packet_id(r: &mut Reader, t: PacketType) -> Result<u16, DecodeError> {
    let id = r.u16("packet identifier")?;
    if id == 0 {
        let rule = match t {
            PacketType::Subscribe | PacketType::Unsubscribe => {
                r.version.rule("MQTT-2.3.1-1", "MQTT-2.2.1-3")
            }
            _ => r.version.rule("MQTT-2.3.1-7", "MQTT-2.2.1-6"),
        };
        return Err(DecodeError::ZeroPacketId { packet: t, rule });
    }
    Ok(id)
}

fn read_filter(r: &mut Reader) -> Result<ByteStr, DecodeError> {
    let v5 = r.version.is_v5();
    let filter = r.utf8("topic filter")?;
    validate_topic_filter(&filter, v5)
        .map_err(|problem| DecodeError::InvalidTopicFilter { problem, v5 })?;
    Ok(filter)
}

fn check_filter(filter: &str, v: ProtocolVersion) -> Result<usize, EncodeError> {
    validate_topic_filter(filter, v.is_v5())
        .map_err(|problem| EncodeError::InvalidTopicFilter { problem })?;
    wire::str_len(filter, "topic filter")
}

fn read_codes(r: &mut Reader, t: PacketType) -> Result<Vec<ReasonCode>, DecodeError> {
    let v = r.version;
    let mut codes = Vec::with_capacity(r.remaining());
    while !r.is_empty() {
        let b = r.u8("reason code")?;
        let code = match t {
            PacketType::SubAck => ReasonCode::from_wire(b, t, v),
            _ => ReasonCode::from_u8(b).filter(|c| c.allowed_in(t)),
        }
        .ok_or(DecodeError::InvalidReasonCode {
            packet: t,
            code: b,
            rule: match t {
                PacketType::SubAck => "MQTT-3.9.3-2",
                _ => "MQTT-3.11.3-2",
            },
        })?;
        codes.push(code);
    }
    if codes.is_empty() {
        return Err(DecodeError::EmptyPayload {
            packet: t,
            what: "reason code",
            rule: if t == PacketType::SubAck {
                "MQTT-3.9.3-1"
            } else {
                "MQTT-3.11.3-1"
            },
        });
    }
    Ok(codes)
}

impl Subscribe {
    pub(crate) fn read(r: &mut Reader) -> Result<Subscribe, DecodeError> {
        let v = r.version;
        let packet_id = read_packet_id(r, PacketType::Subscribe)?;
        let properties = Properties::read(r, Ctx::Subscribe)?;
        let mut subscriptions = Vec::new();
        while !r.is_empty() {
            let filter = read_filter(r)?;
            let options = r.u8("subscription options")?;
            let bad = |problem, rule| DecodeError::InvalidSubscriptionOptions {
                options,
                problem,
                rule,
            };
            let reserved = if v.is_v5() { 0xC0 } else { 0xFC };
            if options & reserved != 0 {
                return Err(bad(
                    "reserved bits are set",
                    v.rule("MQTT-3-8.3-4", "MQTT-3.8.3-5"),
                ));
            }
            let qos = QoS::from_u8(options & 0b11)
                .ok_or_else(|| bad("QoS is 3", v.rule("MQTT-3-8.3-4", "5.0 section 3.8.3.1")))?;
            let retain_handling = match (options >> 4) & 0b11 {
                0 => RetainHandling::SendAtSubscribe,
                1 => RetainHandling::SendIfNew,
                2 => RetainHandling::DoNotSend,
                _ => return Err(bad(RETAIN_HANDLING_3, "5.0 section 3.8.3.1")),
            };
            let no_local = options & 0b100 != 0;
            if no_local && is_shared(&filter) {
                return Err(bad(NO_LOCAL_SHARED, "MQTT-3.8.3-4"));
            }
            subscriptions.push(Subscription {
                filter,
                options: SubscriptionOptions {
                    qos,
                    no_local,
                    retain_as_published: options & 0b1000 != 0,
                    retain_handling,
                },
            });
        }
        if subscriptions.is_empty() {
            return Err(DecodeError::EmptyPayload {
                packet: PacketType::Subscribe,
                what: "topic filter",
                rule: v.rule("MQTT-3.8.3-3", "MQTT-3.8.3-2"),
            });
        }
        Ok(Subscribe {
            packet_id,
            subscriptions,
            properties,
        })
    }

    pub(crate) fn measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        if self.packet_id == 0 {
            return Err(EncodeError::PacketId {
                packet: PacketType::Subscribe,
                needed: true,
            });
        }
        if self.subscriptions.is_empty() {
            return Err(EncodeError::EmptyPayload {
                packet: PacketType::Subscribe,
                what: "topic filter",
            });
        }
        let mut n = 2 + self.properties.measure(Ctx::Subscribe, v)?;
        for s in &self.subscriptions {
            if !v.is_v5() && s.options.has_v5_options() {
                return Err(EncodeError::SubscriptionOptionsRequireV5);
            }
            if s.options.no_local && is_shared(&s.filter) && v.is_v5() {
                return Err(EncodeError::NoLocalOnSharedSubscription);
            }
            n += check_filter(&s.filter, v)? + 1;
        }
        Ok(n)
    }

    pub(crate) fn write(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        out.put_u16(self.packet_id);
        self.properties.write(Ctx::Subscribe, v, out);
        for s in &self.subscriptions {
            wire::put_str(out, &s.filter);
            out.put_u8(s.options.byte());
        }
    }
}

impl SubAck {
    pub(crate) fn read(r: &mut Reader) -> Result<SubAck, DecodeError> {
        let packet_id = read_packet_id(r, PacketType::SubAck)?;
        let properties = Properties::read(r, Ctx::SubAck)?;
        let reason_codes = read_codes(r, PacketType::SubAck)?;
        Ok(SubAck {
            packet_id,
            reason_codes,
            properties,
        })
    }

    pub(crate) fn measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        if self.packet_id == 0 {
            return Err(EncodeError::PacketId {
                packet: PacketType::SubAck,
                needed: true,
            });
        }
        if self.reason_codes.is_empty() {
            return Err(EncodeError::EmptyPayload {
                packet: PacketType::SubAck,
                what: "reason code",
            });
        }
        for &code in &self.reason_codes {
            if code.to_wire(PacketType::SubAck, v).is_none() {
                return Err(EncodeError::ReasonCodeNotAllowed {
                    code,
                    packet: PacketType::SubAck,
                    v5: v.is_v5(),
                });
            }
        }
        Ok(2 + self.properties.measure(Ctx::SubAck, v)? + self.reason_codes.len())
    }

    pub(crate) fn write(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        out.put_u16(self.packet_id);
        self.properties.write(Ctx::SubAck, v, out);
        for &code in &self.reason_codes {
            out.put_u8(code.to_wire(PacketType::SubAck, v).unwrap_or(0x80));
        }
    }
}

impl Unsubscribe {
    pub(crate) fn read(r: &mut Reader) -> Result<Unsubscribe, DecodeError> {
        let v = r.version;
        let packet_id = read_packet_id(r, PacketType::Unsubscribe)?;
        let properties = Properties::read(r, Ctx::Unsubscribe)?;
        let mut filters = Vec::new();
        while !r.is_empty() {
            filters.push(read_filter(r)?);
        }
        if filters.is_empty() {
            return Err(DecodeError::EmptyPayload {
                packet: PacketType::Unsubscribe,
                what: "topic filter",
                rule: v.rule("MQTT-3.10.3-2", "MQTT-3.10.3-2"),
            });
        }
        Ok(Unsubscribe {
            packet_id,
            filters,
            properties,
        })
    }

    pub(crate) fn measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        if self.packet_id == 0 {
            return Err(EncodeError::PacketId {
                packet: PacketType::Unsubscribe,
                needed: true,
            });
        }
        if self.filters.is_empty() {
            return Err(EncodeError::EmptyPayload {
                packet: PacketType::Unsubscribe,
                what: "topic filter",
            });
        }
        let mut n = 2 + self.properties.measure(Ctx::Unsubscribe, v)?;
        for f in &self.filters {
            n += check_filter(f, v)?;
        }
        Ok(n)
    }

    pub(crate) fn write(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        out.put_u16(self.packet_id);
        self.properties.write(Ctx::Unsubscribe, v, out);
        for f in &self.filters {
            wire::put_str(out, f);
        }
    }
}

impl UnsubAck {
    pub(crate) fn read(r: &mut Reader) -> Result<UnsubAck, DecodeError> {
        let packet_id = read_packet_id(r, PacketType::UnsubAck)?;
        let properties = Properties::read(r, Ctx::UnsubAck)?;
        let reason_codes = if r.version.is_v5() {
            read_codes(r, PacketType::UnsubAck)?
        } else {
            r.finish(PacketType::UnsubAck)?;
            Vec::new()
        };
        Ok(UnsubAck {
            packet_id,
            reason_codes,
            properties,
        })
    }

    pub(crate) fn measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        if self.packet_id == 0 {
            return Err(EncodeError::PacketId {
                packet: PacketType::UnsubAck,
                needed: true,
            });
        }
        if !v.is_v5() {
            return match self
                .reason_codes
                .iter()
                .find(|c| **c != ReasonCode::Success)
            {
                Some(&code) => Err(EncodeError::ReasonCodeNotAllowed {
                    code,
                    packet: PacketType::UnsubAck,
                    v5: false,
                }),
                None => Ok(2 + self.properties.measure(Ctx::UnsubAck, v)?),
            };
        }
        if self.reason_codes.is_empty() {
            return Err(EncodeError::EmptyPayload {
                packet: PacketType::UnsubAck,
                what: "reason code",
            });
        }
        if let Some(&code) = self
            .reason_codes
            .iter()
            .find(|c| !c.allowed_in(PacketType::UnsubAck))
        {
            return Err(EncodeError::ReasonCodeNotAllowed {
                code,
                packet: PacketType::UnsubAck,
                v5: true,
            });
        }
        Ok(2 + self.properties.measure(Ctx::UnsubAck, v)? + self.reason_codes.len())
    }

    pub(crate) fn write(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        out.put_u16(self.packet_id);
        self.properties.write(Ctx::UnsubAck, v, out);
        if v.is_v5() {
            for &code in &self.reason_codes {
                out.put_u8(code as u8);
            }
        }
    }
}
