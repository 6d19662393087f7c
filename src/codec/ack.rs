//! PUBACK, PUBREC, PUBREL and PUBCOMP (sections 3.4 to 3.7): one shape, four packet types.

use bytes::BufMut;

use super::properties::Ctx;
use super::wire::Reader;
use super::{DecodeError, EncodeError, PacketType, Properties, ProtocolVersion, ReasonCode};

/// The body of PUBACK, PUBREC, PUBREL and PUBCOMP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubResp {
    /// The Packet Identifier of the PUBLISH (or PUBREL) it answers.
    pub packet_id: u16,
    /// The outcome (always Success before MQTT 5).
    pub reason_code: ReasonCode,
    /// Properties (5.0).
    pub properties: Properties,
}

impl PubResp {
    /// A successful response without properties.
    pub fn new(packet_id: u16) -> Self {
        PubResp {
            packet_id,
            reason_code: ReasonCode::Success,
            properties: Properties::default(),
        }
    }

    pub(crate) fn read(r: &mut Reader, t: PacketType) -> Result<PubResp, DecodeError> {
        let v = r.version;
        let packet_id = r.u16("packet identifier")?;
        if packet_id == 0 {
            return Err(DecodeError::ZeroPacketId {
                packet: t,
                rule: v.rule("MQTT-2.3.1-6", "MQTT-2.2.1-5"),
            });
        }
        let mut resp = PubResp::new(packet_id);
        // MQTT 5 short forms: no reason code means Success; no property length means none.
        if v.is_v5() && !r.is_empty() {
            let code = r.u8("reason code")?;
            resp.reason_code = ReasonCode::from_u8(code)
                .filter(|c| c.allowed_in(t))
                .ok_or(DecodeError::InvalidReasonCode {
                    packet: t,
                    code,
                    rule: match t {
                        PacketType::PubAck => "MQTT-3.4.2-1",
                        PacketType::PubRec => "MQTT-3.5.2-1",
                        PacketType::PubRel => "MQTT-3.6.2-1",
                        _ => "MQTT-3.7.2-1",
                    },
                })?;
            if !r.is_empty() {
                resp.properties = Properties::read(r, Ctx::PubResp)?;
            }
        }
        r.finish(t)?;
        Ok(resp)
    }

    pub(crate) fn measure(&self, v: ProtocolVersion, t: PacketType) -> Result<usize, EncodeError> {
        if self.packet_id == 0 {
            return Err(EncodeError::PacketId {
                packet: t,
                needed: true,
            });
        }
        let allowed = if v.is_v5() {
            self.reason_code.allowed_in(t)
        } else {
            self.reason_code == ReasonCode::Success
        };
        if !allowed {
            return Err(EncodeError::ReasonCodeNotAllowed {
                code: self.reason_code,
                packet: t,
                v5: v.is_v5(),
            });
        }
        let props = self.properties.measure(Ctx::PubResp, v)?;
        Ok(
            match (v.is_v5(), self.reason_code, self.properties.is_empty()) {
                (false, ..) | (true, ReasonCode::Success, true) => 2,
                (true, _, true) => 3,
                (true, _, false) => 3 + props,
            },
        )
    }

    pub(crate) fn write(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        out.put_u16(self.packet_id);
        if !v.is_v5() {
            return;
        }
        let empty = self.properties.is_empty();
        if self.reason_code == ReasonCode::Success && empty {
            return;
        }
        out.put_u8(self.reason_code as u8);
        if !empty {
            self.properties.write(Ctx::PubResp, v, out);
        }
    }
}
