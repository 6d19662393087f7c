//! PUBLISH (section 3.3).

use bytes::{BufMut, Bytes};

use super::properties::Ctx;
use super::topic::validate_topic_name;
use super::wire::{self, Reader};
use super::{ByteStr, DecodeError, EncodeError, PacketType, Properties, ProtocolVersion, QoS};

/// An application message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Publish {
    /// Set on re-delivery of a QoS 1/2 message.
    pub dup: bool,
    /// Quality of service.
    pub qos: QoS,
    /// Retained message.
    pub retain: bool,
    /// Topic name; may be empty in MQTT 5 when a Topic Alias property stands for it.
    pub topic: ByteStr,
    /// Packet identifier: non-zero for QoS 1 and 2, 0 (absent) for QoS 0.
    pub packet_id: u16,
    /// Payload, shared with the received frame.
    pub payload: Bytes,
    /// PUBLISH properties (5.0).
    pub properties: Properties,
}

impl Publish {
    /// A QoS 0 message.
    pub fn new(topic: impl Into<ByteStr>, payload: impl Into<Bytes>) -> Self {
        Publish {
            topic: topic.into(),
            payload: payload.into(),
            ..Publish::default()
        }
    }

    /// Reads the body of a PUBLISH whose fixed-header flags are `flags` (already checked).
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn read(r: &mut Reader, flags: u8) -> Result<Publish, DecodeError> {
        let v = r.version;
        let qos = QoS::from_u8((flags >> 1) & 0b11).unwrap_or_default();
        let topic = r.utf8("topic name")?;
        let packet_id = if qos == QoS::AtMostOnce {
            0
        } else {
            let id = r.u16("packet identifier")?;
            if id == 0 {
                return Err(DecodeError::ZeroPacketId {
                    packet: PacketType::Publish,
                    rule: v.rule("MQTT-2.3.1-1", "MQTT-2.2.1-3"),
                });
            }
            id
        };
        let properties = Properties::read(r, Ctx::Publish)?;
        // An empty topic is only valid as a stand-in for a Topic Alias (5.0 section 3.3.2.1).
        if !(topic.is_empty() && properties.topic_alias.is_some()) {
            validate_topic_name(&topic).map_err(|problem| DecodeError::InvalidTopicName {
                problem,
                v5: v.is_v5(),
            })?;
        }
        Ok(Publish {
            dup: flags & 0b1000 != 0,
            qos,
            retain: flags & 1 != 0,
            topic,
            packet_id,
            payload: r.rest(),
            properties,
        })
    }

    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        if !(self.topic.is_empty() && self.properties.topic_alias.is_some() && v.is_v5()) {
            validate_topic_name(&self.topic)
                .map_err(|problem| EncodeError::InvalidTopicName { problem })?;
        }
        let id_len = match (self.qos, self.packet_id) {
            (QoS::AtMostOnce, 0) => 0,
            (QoS::AtMostOnce, _) => {
                return Err(EncodeError::PacketId {
                    packet: PacketType::Publish,
                    needed: false,
                })
            }
            (_, 0) => {
                return Err(EncodeError::PacketId {
                    packet: PacketType::Publish,
                    needed: true,
                })
            }
            _ => 2,
        };
        if self.dup && self.qos == QoS::AtMostOnce {
            return Err(EncodeError::DupOnQoS0);
        }
        Ok(2 + self.topic.len()
            + id_len
            + self.properties.measure(Ctx::Publish, v)?
            + self.payload.len())
    }

    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn write(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        wire::put_str(out, &self.topic);
        if self.qos != QoS::AtMostOnce {
            out.put_u16(self.packet_id);
        }
        self.properties.write(Ctx::Publish, v, out);
        out.put_slice(&self.payload);
    }
}
