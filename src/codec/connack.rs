//! CONNACK (section 3.2).

use bytes::BufMut;

use super::properties::Ctx;
use super::wire::Reader;
use super::{
    ConnectReturnCode, DecodeError, EncodeError, PacketType, Properties, ProtocolVersion,
    ReasonCode,
};

/// The server's answer to CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnAck {
    /// Whether the server resumed a stored session.
    pub session_present: bool,
    /// The outcome (an MQTT 3 return code is mapped to its MQTT 5 reason code).
    pub reason_code: ReasonCode,
    /// CONNACK properties (5.0).
    pub properties: Properties,
}

impl ConnAck {
    pub(crate) fn read(r: &mut Reader) -> Result<ConnAck, DecodeError> {
        let v = r.version;
        let flags = r.u8("connect acknowledge flags")?;
        if flags & 0xFE != 0 {
            return Err(DecodeError::InvalidConnAckFlags {
                flags,
                problem: "reserved bits 7-1 are set",
                rule: "MQTT-3.2.2-1",
            });
        }
        let code = r.u8("connect reason code")?;
        // A server that does not speak MQTT 5 may refuse a 5.0 CONNECT with its own 3.1.1
        // CONNACK (two bytes, return code 1) [MQTT-3.1.2-2]. 0x01-0x05 are not 5.0 CONNACK
        // codes, so reading them as the 3.1.1 codes is unambiguous and gives the user the real
        // reason ("Unsupported Protocol Version") instead of "malformed".
        let reason_code = if v.is_v5() && r.is_empty() && (1..=5).contains(&code) {
            ConnectReturnCode::from_u8(code).map(ConnectReturnCode::reason)
        } else {
            ReasonCode::from_wire(code, PacketType::ConnAck, v)
        }
        .ok_or(DecodeError::InvalidReasonCode {
            packet: PacketType::ConnAck,
            code,
            rule: v.rule("3.1.1 section 3.2.2.3", "MQTT-3.2.2-8"),
        })?;
        let session_present = flags & 1 != 0;
        if session_present && reason_code != ReasonCode::Success {
            return Err(DecodeError::InvalidConnAckFlags {
                flags,
                problem: "Session Present is set on a refusal",
                rule: v.rule("MQTT-3.2.2-4", "MQTT-3.2.2-6"),
            });
        }
        let properties = if r.is_empty() && (1..=5).contains(&code) {
            Properties::default()
        } else {
            Properties::read(r, Ctx::ConnAck)?
        };
        r.finish(PacketType::ConnAck)?;
        Ok(ConnAck {
            session_present,
            reason_code,
            properties,
        })
    }

    fn code(&self, v: ProtocolVersion) -> Result<u8, EncodeError> {
        self.reason_code
            .to_wire(PacketType::ConnAck, v)
            .ok_or(EncodeError::ReasonCodeNotAllowed {
                code: self.reason_code,
                packet: PacketType::ConnAck,
                v5: v.is_v5(),
            })
    }

    pub(crate) fn measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        self.code(v)?;
        if self.session_present && self.reason_code != ReasonCode::Success {
            return Err(EncodeError::SessionPresentWithError);
        }
        Ok(2 + self.properties.measure(Ctx::ConnAck, v)?)
    }

    pub(crate) fn write(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        out.put_u8(self.session_present.into());
        out.put_u8(self.code(v).unwrap_or(0));
        self.properties.write(Ctx::ConnAck, v, out);
    }
}
