//! DISCONNECT (section 3.14).

use bytes::BufMut;

use super::properties::Ctx;
use super::wire::Reader;
use super::{DecodeError, EncodeError, PacketType, Properties, ProtocolVersion, ReasonCode};

/// The last packet on a connection, from either side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disconnect {
    /// Why (always Normal disconnection before MQTT 5).
    pub reason_code: ReasonCode,
    /// DISCONNECT properties (5.0).
    pub properties: Properties,
}

impl Disconnect {
    /// A DISCONNECT with this reason and no properties.
    pub fn new(reason_code: ReasonCode) -> Self {
        Disconnect {
            reason_code,
            properties: Properties::default(),
        }
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Disconnect, DecodeError> {
        let mut d = Disconnect::default();
        // MQTT 5 short forms: no reason code means Normal disconnection [MQTT-3.14.2-1].
        if r.version.is_v5() && !r.is_empty() {
            let code = r.u8("reason code")?;
            d.reason_code = ReasonCode::from_u8(code)
                .filter(|c| c.allowed_in(PacketType::Disconnect))
                .ok_or(DecodeError::InvalidReasonCode {
                    packet: PacketType::Disconnect,
                    code,
                    rule: "MQTT-3.14.2-1",
                })?;
            if !r.is_empty() {
                d.properties = Properties::read(r, Ctx::Disconnect)?;
            }
        }
        r.finish(PacketType::Disconnect)?;
        Ok(d)
    }

    pub(crate) fn measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        let ok = if v.is_v5() {
            self.reason_code.allowed_in(PacketType::Disconnect)
        } else {
            self.reason_code == ReasonCode::Success
        };
        if !ok {
            return Err(EncodeError::ReasonCodeNotAllowed {
                code: self.reason_code,
                packet: PacketType::Disconnect,
                v5: v.is_v5(),
            });
        }
        let props = self.properties.measure(Ctx::Disconnect, v)?;
        Ok(
            match (v.is_v5(), self.reason_code, self.properties.is_empty()) {
                (false, ..) | (true, ReasonCode::Success, true) => 0,
                (true, _, true) => 1,
                (true, _, false) => 1 + props,
            },
        )
    }

    pub(crate) fn write(&self, v: ProtocolVersion, out: &mut Vec<u8>) {
        if !v.is_v5() {
            return;
        }
        let empty = self.properties.is_empty();
        if self.reason_code == ReasonCode::Success && empty {
            return;
        }
        out.put_u8(self.reason_code as u8);
        if !empty {
            self.properties.write(Ctx::Disconnect, v, out);
        }
    }
}
