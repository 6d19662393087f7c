//! AUTH (MQTT 5 section 3.15): extended authentication and re-authentication.

use bytes::BufMut;

use super::properties::Ctx;
use super::wire::Reader;
use super::{DecodeError, EncodeError, PacketType, Properties, ProtocolVersion, ReasonCode};

/// A step of an extended authentication exchange.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Auth {
    /// Success, Continue authentication or Re-authenticate.
    pub reason_code: ReasonCode,
    /// Authentication method and data, reason string, user properties.
    pub properties: Properties,
}

impl Auth {
    pub(crate) fn read(r: &mut Reader) -> Result<Auth, DecodeError> {
        let mut a = Auth::default();
        // Remaining Length 0 means Success without properties (section 3.15.2.1).
        if !r.is_empty() {
            let code = r.u8("reason code")?;
            a.reason_code = ReasonCode::from_u8(code)
                .filter(|c| c.allowed_in(PacketType::Auth))
                .ok_or(DecodeError::InvalidReasonCode {
                    packet: PacketType::Auth,
                    code,
                    rule: "MQTT-3.15.2-1",
                })?;
            if !r.is_empty() {
                a.properties = Properties::read(r, Ctx::Auth)?;
            }
        }
        r.finish(PacketType::Auth)?;
        Ok(a)
    }

    pub(crate) fn measure(&self, v: ProtocolVersion) -> Result<usize, EncodeError> {
        if !v.is_v5() {
            return Err(EncodeError::AuthRequiresV5);
        }
        if !self.reason_code.allowed_in(PacketType::Auth) {
            return Err(EncodeError::ReasonCodeNotAllowed {
                code: self.reason_code,
                packet: PacketType::Auth,
                v5: true,
            });
        }
        let props = self.properties.measure(Ctx::Auth, v)?;
        Ok(
            if self.reason_code == ReasonCode::Success && self.properties.is_empty() {
                0
            } else {
                1 + props
            },
        )
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        if self.reason_code == ReasonCode::Success && self.properties.is_empty() {
            return;
        }
        out.put_u8(self.reason_code as u8);
        self.properties.write(Ctx::Auth, ProtocolVersion::V5, out);
    }
}
