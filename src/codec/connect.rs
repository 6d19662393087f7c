//! CONNECT (section 3.1).

use bytes::{BufMut, Bytes};

use super::properties::Ctx;
use super::topic::validate_topic_name;
use super::wire::{self, Reader};
use super::{ByteStr, DecodeError, EncodeError, PacketType, Properties, ProtocolVersion, QoS};

/// The first packet a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The protocol version this CONNECT asks for (and is encoded in).
    pub protocol: ProtocolVersion,
    /// Clean Session (3.1.1) / Clean Start (5.0).
    pub clean_start: bool,
    /// Keep alive in seconds; 0 turns keep-alive off.
    pub keep_alive: u16,
    /// The client identifier (may be empty: the server assigns one, 5.0; needs a clean session, 3.1.1).
    pub client_id: ByteStr,
    /// The will message.
    pub will: Option<Will>,
    /// User name.
    pub username: Option<ByteStr>,
    /// Password (binary data).
    pub password: Option<Bytes>,
    /// CONNECT properties (5.0).
    pub properties: Properties,
}

impl Default for Connect {
    fn default() -> Self {
        Connect {
            protocol: ProtocolVersion::V5,
            clean_start: true,
            keep_alive: 60,
            client_id: ByteStr::new(),
            will: None,
            username: None,
            password: None,
            properties: Properties::default(),
        }
    }
}

/// The message the server publishes when the client's connection ends abnormally.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Will {
    /// Topic name.
    pub topic: ByteStr,
    /// Payload.
    pub payload: Bytes,
    /// QoS.
    pub qos: QoS,
    /// Whether the will is retained.
    pub retain: bool,
    /// Will properties (5.0).
    pub properties: Properties,
}

const USERNAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS_SHIFT: u8 = 3;
const WILL: u8 = 0x04;
const CLEAN: u8 = 0x02;
const RESERVED: u8 = 0x01;

impl Connect {
    pub(crate) fn read(r: &mut Reader) -> Result<Connect, DecodeError> {
        let name = r.utf8("protocol name")?;
        let level = r.u8("protocol level")?;
        let protocol = match ProtocolVersion::from_level(level) {
            Some(p) => p,
            None if &*name == "MQTT" || &*name == "MQIsdp" => {
                return Err(DecodeError::UnsupportedProtocolLevel {
                    level,
                    rule: "MQTT-3.1.2-2",
                })
            }
            None => {
                return Err(DecodeError::InvalidProtocolName {
                    level,
                    rule: "MQTT-3.1.2-1",
                })
            }
        };
        if *name != *protocol.protocol_name() {
            return Err(DecodeError::InvalidProtocolName {
                level,
                rule: "MQTT-3.1.2-1",
            });
        }
        // Everything after the level follows the version the CONNECT asks for.
        r.version = protocol;
        let flags = r.u8("connect flags")?;
        let bad = |problem, rule| DecodeError::InvalidConnectFlags {
            flags,
            problem,
            rule,
        };
        if flags & RESERVED != 0 {
            return Err(bad("the reserved bit 0 is set", "MQTT-3.1.2-3"));
        }
        let will_qos = (flags >> WILL_QOS_SHIFT) & 0b11;
        if flags & WILL == 0 {
            if will_qos != 0 {
                return Err(bad("Will QoS is set without a will", "MQTT-3.1.2-13"));
            }
            if flags & WILL_RETAIN != 0 {
                return Err(bad("Will Retain is set without a will", "MQTT-3.1.2-15"));
            }
        }
        let will_qos =
            QoS::from_u8(will_qos).ok_or_else(|| bad("Will QoS is 3", "MQTT-3.1.2-14"))?;
        if !protocol.is_v5() && flags & PASSWORD != 0 && flags & USERNAME == 0 {
            return Err(bad(
                "a password is present without a user name",
                "MQTT-3.1.2-22",
            ));
        }
        let keep_alive = r.u16("keep alive")?;
        let properties = Properties::read(r, Ctx::Connect)?;
        let client_id = r.utf8("client identifier")?;
        let will = if flags & WILL != 0 {
            let properties = Properties::read(r, Ctx::Will)?;
            let topic = r.utf8("will topic")?;
            validate_topic_name(&topic).map_err(|problem| DecodeError::InvalidTopicName {
                problem,
                v5: protocol.is_v5(),
            })?;
            let payload = r.binary("will payload")?;
            Some(Will {
                topic,
                payload,
                qos: will_qos,
                retain: flags & WILL_RETAIN != 0,
                properties,
            })
        } else {
            None
        };
        let username = if flags & USERNAME != 0 {
            Some(r.utf8("user name")?)
        } else {
            None
        };
        let password = if flags & PASSWORD != 0 {
            Some(r.binary("password")?)
        } else {
            None
        };
        r.finish(PacketType::Connect)?;
        Ok(Connect {
            protocol,
            clean_start: flags & CLEAN != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }

    pub(crate) fn measure(&self) -> Result<usize, EncodeError> {
        let v = self.protocol;
        if !v.is_v5() && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::PasswordWithoutUsername);
        }
        if v == ProtocolVersion::V3_1_1 && self.client_id.is_empty() && !self.clean_start {
            return Err(EncodeError::InvalidClientId {
                problem:
                    "MQTT 3.1.1 needs Clean Session with an empty client identifier [MQTT-3.1.3-7]",
            });
        }
        if v == ProtocolVersion::V3_1 && !(1..=23).contains(&self.client_id.len()) {
            return Err(EncodeError::InvalidClientId {
                problem: "MQTT 3.1 needs 1 to 23 characters",
            });
        }
        let mut n = wire::str_len(v.protocol_name(), "protocol name")? + 1 + 1 + 2;
        n += self.properties.measure(Ctx::Connect, v)?;
        n += wire::str_len(&self.client_id, "client identifier")?;
        if let Some(w) = &self.will {
            validate_topic_name(&w.topic)
                .map_err(|problem| EncodeError::InvalidTopicName { problem })?;
            n += w.properties.measure(Ctx::Will, v)?;
            n += wire::str_len(&w.topic, "will topic")?;
            n += wire::field_len(w.payload.len(), "will payload")?;
        }
        if let Some(u) = &self.username {
            n += wire::str_len(u, "user name")?;
        }
        if let Some(p) = &self.password {
            n += wire::field_len(p.len(), "password")?;
        }
        Ok(n)
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let v = self.protocol;
        wire::put_str(out, v.protocol_name());
        out.put_u8(v.level());
        let mut flags = 0;
        if self.username.is_some() {
            flags |= USERNAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        if let Some(w) = &self.will {
            flags |= WILL | ((w.qos as u8) << WILL_QOS_SHIFT);
            if w.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.clean_start {
            flags |= CLEAN;
        }
        out.put_u8(flags);
        out.put_u16(self.keep_alive);
        self.properties.write(Ctx::Connect, v, out);
        wire::put_str(out, &self.client_id);
        if let Some(w) = &self.will {
            w.properties.write(Ctx::Will, v, out);
            wire::put_str(out, &w.topic);
            wire::put_binary(out, &w.payload);
        }
        if let Some(u) = &self.username {
            wire::put_str(out, u);
        }
        if let Some(p) = &self.password {
            wire::put_binary(out, p);
        }
    }
}
