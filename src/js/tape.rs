//! The "tape": how packets cross the wasm boundary without one call per field.
//!
//! Decoding, Rust walks each decoded packet and emits `(key, a, b)` triples of `u32` into one
//! buffer; strings and bytes are `(pointer, length)` into wasm memory, which stays valid until the
//! next call, and the package's JavaScript builds `mqtt-packet`-shaped objects from it in one loop.
//! Encoding, JavaScript writes a byte tape (`key: u16`, then a `u32` value, or a `u32` length and
//! the bytes) that [`packet_from_tape`] turns back into a [`Packet`]; every MQTT rule is then
//! checked by the codec, never in JavaScript.
//!
//! The key numbers are mirrored in `src/js/wasmqtt.js` (the `K` object); the Node tests round-trip
//! every field through both directions.
//!
//! Length: the tape's keys, its writer and its reader are one contract, kept in one file so
//! both directions change together.

use bytes::Bytes;

use crate::codec::properties::{Ctx, Kind, Owned, SetError, Value};
use crate::codec::{
    Auth, ByteStr, ConnAck, Connect, Disconnect, Frame, Packet, PacketType, Properties, PropertyId,
    ProtocolVersion, PubResp, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, Will,
};

/// Tape keys.
#[allow(missing_docs)]
pub mod key {
    pub const MESSAGE_ID: u32 = 1;
    pub const TOPIC: u32 = 2;
    pub const PAYLOAD: u32 = 3;
    pub const REASON_CODE: u32 = 4;
    pub const RETURN_CODE: u32 = 5;
    pub const SESSION_PRESENT: u32 = 6;
    pub const GRANTED: u32 = 7;
    pub const SUB_TOPIC: u32 = 8;
    /// Options byte of an MQTT 3 subscription (QoS only).
    pub const SUB_OPTIONS: u32 = 9;
    /// Options byte of an MQTT 5 subscription (QoS, nl, rap, rh).
    pub const SUB_OPTIONS_V5: u32 = 11;
    pub const UNSUB_TOPIC: u32 = 10;
    pub const PROTOCOL_VERSION: u32 = 12;
    pub const CLEAN: u32 = 13;
    pub const KEEPALIVE: u32 = 14;
    pub const CLIENT_ID: u32 = 15;
    pub const USERNAME: u32 = 16;
    pub const PASSWORD: u32 = 17;
    pub const WILL_TOPIC: u32 = 18;
    pub const WILL_PAYLOAD: u32 = 19;
    pub const WILL_QOS: u32 = 20;
    pub const WILL_RETAIN: u32 = 21;
    /// Decode only: the topic is the string cached in slot `a` (see [`TopicCache`]).
    pub const TOPIC_CACHED: u32 = 27;
    /// Decode only: cache the topic just given (TOPIC) in slot `a`.
    pub const TOPIC_STORE: u32 = 28;
    /// Decode only: starts a packet; `a` = first byte, `b` = remaining length.
    pub const HEADER: u32 = 22;
    /// Encode only: the packet type (1-15); must come first.
    pub const CMD: u32 = 23;
    pub const QOS: u32 = 24;
    pub const DUP: u32 = 25;
    pub const RETAIN: u32 = 26;
    /// Keys from here on are not packet fields (client configuration, ...).
    pub const EXTRA: u32 = 0x400;
    /// `PROP | property id`: a packet property.
    pub const PROP: u32 = 0x100;
    /// `WILL_PROP | property id`: a will property.
    pub const WILL_PROP: u32 = 0x200;
    /// `PROP | USER_VALUE`: the value of the User Property whose name came just before.
    pub const USER_VALUE: u32 = 0xFE;
}

/// Where the decode walk writes.
pub trait Sink {
    /// Starts a packet.
    fn header(&mut self, first_byte: u8, remaining_length: u32);
    /// The topic of a PUBLISH (a sink with a [`TopicCache`] avoids resending repeated ones).
    fn topic(&mut self, topic: &ByteStr) {
        self.bytes(key::TOPIC, topic.as_bytes());
    }
    /// An integer field.
    fn int(&mut self, key: u32, v: u32);
    /// A string or bytes field.
    fn bytes(&mut self, key: u32, b: &[u8]);
}

/// Emits one decoded packet, with the fields `mqtt-packet` would give it for `v`.
pub fn walk(frame: &Frame, v: ProtocolVersion, s: &mut dyn Sink) {
    walk_packet(
        frame.first_byte,
        frame.remaining_length,
        &frame.packet,
        v,
        s,
    );
}

/// Emits a PUBLISH, borrowed (the client's message events hold a [`Publish`], not a [`Packet`]).
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub fn walk_publish(first_byte: u8, p: &Publish, s: &mut dyn Sink) {
    s.header(first_byte, 0);
    publish_fields(p, s);
}

#[cfg_attr(wasmqtt_speed, optimize(speed))]
fn publish_fields(p: &Publish, s: &mut dyn Sink) {
    s.topic(&p.topic);
    if p.qos != QoS::AtMostOnce {
        s.int(key::MESSAGE_ID, p.packet_id.into());
    }
    props(&p.properties, key::PROP, s);
    s.bytes(key::PAYLOAD, &p.payload);
}

/// Emits a packet from its parts: the first byte carries the type and flags JavaScript sees.
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub fn walk_packet(
    first_byte: u8,
    remaining_length: u32,
    packet: &Packet,
    v: ProtocolVersion,
    s: &mut dyn Sink,
) {
    use key::*;
    s.header(first_byte, remaining_length);
    let v5 = v.is_v5();
    match packet {
        Packet::Connect(c) => {
            s.int(PROTOCOL_VERSION, c.protocol.level().into());
            s.int(CLEAN, c.clean_start.into());
            s.int(KEEPALIVE, c.keep_alive.into());
            props(&c.properties, PROP, s);
            s.bytes(CLIENT_ID, c.client_id.as_bytes());
            if let Some(w) = &c.will {
                s.int(WILL_QOS, w.qos as u32);
                s.int(WILL_RETAIN, w.retain.into());
                props(&w.properties, WILL_PROP, s);
                s.bytes(WILL_TOPIC, w.topic.as_bytes());
                s.bytes(WILL_PAYLOAD, &w.payload);
            }
            if let Some(u) = &c.username {
                s.bytes(USERNAME, u.as_bytes());
            }
            if let Some(p) = &c.password {
                s.bytes(PASSWORD, p);
            }
        }
        Packet::ConnAck(c) => {
            s.int(SESSION_PRESENT, c.session_present.into());
            match c.reason_code.to_wire_code(PacketType::ConnAck, v) {
                code if v5 => s.int(REASON_CODE, code),
                code => s.int(RETURN_CODE, code),
            }
            props(&c.properties, PROP, s);
        }
        Packet::Publish(p) => publish_fields(p, s),
        Packet::PubAck(r) | Packet::PubRec(r) | Packet::PubRel(r) | Packet::PubComp(r) => {
            s.int(MESSAGE_ID, r.packet_id.into());
            if v5 {
                s.int(REASON_CODE, r.reason_code as u32);
                props(&r.properties, PROP, s);
            }
        }
        Packet::Subscribe(sub) => {
            s.int(MESSAGE_ID, sub.packet_id.into());
            props(&sub.properties, PROP, s);
            for x in &sub.subscriptions {
                s.bytes(SUB_TOPIC, x.filter.as_bytes());
                let o = x.options;
                let byte = o.qos as u32
                    | (u32::from(o.no_local) << 2)
                    | (u32::from(o.retain_as_published) << 3)
                    | ((o.retain_handling as u32) << 4);
                s.int(if v5 { SUB_OPTIONS_V5 } else { SUB_OPTIONS }, byte);
            }
        }
        Packet::SubAck(a) => {
            s.int(MESSAGE_ID, a.packet_id.into());
            props(&a.properties, PROP, s);
            for c in &a.reason_codes {
                s.int(GRANTED, c.to_wire_code(PacketType::SubAck, v));
            }
        }
        Packet::Unsubscribe(u) => {
            s.int(MESSAGE_ID, u.packet_id.into());
            props(&u.properties, PROP, s);
            for f in &u.filters {
                s.bytes(UNSUB_TOPIC, f.as_bytes());
            }
        }
        Packet::UnsubAck(a) => {
            s.int(MESSAGE_ID, a.packet_id.into());
            props(&a.properties, PROP, s);
            for c in &a.reason_codes {
                s.int(GRANTED, *c as u32);
            }
        }
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(d) => {
            if v5 {
                s.int(REASON_CODE, d.reason_code as u32);
                props(&d.properties, PROP, s);
            }
        }
        Packet::Auth(a) => {
            s.int(REASON_CODE, a.reason_code as u32);
            props(&a.properties, PROP, s);
        }
    }
}

impl ReasonCode {
    /// The byte on the wire for a CONNACK/SUBACK of `v` (decoded packets always have one).
    fn to_wire_code(self, t: PacketType, v: ProtocolVersion) -> u32 {
        self.to_wire(t, v).unwrap_or(self as u8).into()
    }
}

/// Remembers recent topics so JavaScript decodes each string once per stream, not per message
/// (IoT traffic repeats a few topics; TextDecoder was a sixth of the decode time).
// Design: 64 slots chosen by a hash of the topic; a hit is confirmed by comparing the bytes, so a
// collision only costs a miss. The JavaScript side keeps the strings in the same slots.
#[derive(Default)]
pub struct TopicCache {
    slots: Vec<Option<ByteStr>>,
}

impl TopicCache {
    /// Writes `topic` to `words`: TOPIC_CACHED on a hit; TOPIC then TOPIC_STORE on a miss.
    pub fn write(&mut self, topic: &ByteStr, words: &mut Vec<u32>) {
        if self.slots.is_empty() {
            self.slots.resize(64, None);
        }
        let bytes = topic.as_bytes();
        let mut h: u32 = 0x811c_9dc5;
        for &b in bytes.iter() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        let slot = (h % 64) as usize;
        if self.slots[slot].as_ref() == Some(topic) {
            words.extend_from_slice(&[key::TOPIC_CACHED, slot as u32, 0]);
            return;
        }
        words.extend_from_slice(&[
            key::TOPIC,
            bytes.as_ptr() as usize as u32,
            bytes.len() as u32,
            key::TOPIC_STORE,
            slot as u32,
            0,
        ]);
        // A copy: the topic is a slice of the receive buffer, which it would keep alive.
        self.slots[slot] = Some(ByteStr::from(topic.as_str()));
    }

    /// The topics kept (for tests: they must not pin receive buffers).
    pub fn kept(&self) -> impl Iterator<Item = &ByteStr> {
        self.slots.iter().flatten()
    }
}

/// Emits every property that is set, keyed `base | id`.
pub fn props(p: &Properties, base: u32, s: &mut dyn Sink) {
    p.for_each(&mut |id, v| {
        let k = base | id as u32;
        match v {
            Value::Byte(x) => s.int(k, x.into()),
            Value::U16(x) => s.int(k, x.into()),
            Value::U32(x) | Value::VarInt(x) => s.int(k, x),
            Value::Str(x) => s.bytes(k, x.as_bytes()),
            Value::Bin(x) => s.bytes(k, x),
            Value::Pair(name, value) => {
                s.bytes(k, name.as_bytes());
                s.bytes(base | key::USER_VALUE, value.as_bytes());
            }
        }
    });
}

/// Why a byte tape from JavaScript is not a packet description. (MQTT rules are the codec's:
/// these are shape errors, such as a field the packet type does not have.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapeError(pub String);

/// One value read from a byte tape.
enum Val {
    Int(u32),
    Bytes(Bytes),
}

fn is_bytes_key(k: u32) -> bool {
    use key::*;
    match k {
        // Extra keys carry their kind in bit 0x800: set for bytes and strings.
        _ if k >= EXTRA => k & 0x800 != 0,
        TOPIC | PAYLOAD | SUB_TOPIC | UNSUB_TOPIC | CLIENT_ID | USERNAME | PASSWORD
        | WILL_TOPIC | WILL_PAYLOAD => true,
        _ if k & 0xFF == USER_VALUE => true,
        _ if k & (PROP | WILL_PROP) != 0 => PropertyId::from_u32(k & 0xFF)
            .is_some_and(|p| matches!(p.kind(), Kind::Str | Kind::Bin | Kind::Pair)),
        _ => false,
    }
}

struct TapeReader {
    tape: Bytes,
    pos: usize,
}

impl TapeReader {
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    fn u16(&mut self) -> Result<u16, TapeError> {
        let b = self
            .tape
            .get(self.pos..self.pos + 2)
            .ok_or_else(truncated)?;
        self.pos += 2;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    fn u32(&mut self) -> Result<u32, TapeError> {
        let b = self
            .tape
            .get(self.pos..self.pos + 4)
            .ok_or_else(truncated)?;
        self.pos += 4;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    fn next(&mut self) -> Result<Option<(u32, Val)>, TapeError> {
        if self.pos >= self.tape.len() {
            return Ok(None);
        }
        let k = u32::from(self.u16()?);
        let v = if is_bytes_key(k) {
            let n = self.u32()? as usize;
            let b = self
                .tape
                .get(self.pos..self.pos + n)
                .ok_or_else(truncated)?;
            self.pos += n;
            Val::Bytes(Bytes::copy_from_slice(b))
        } else {
            Val::Int(self.u32()?)
        };
        Ok(Some((k, v)))
    }
}

fn truncated() -> TapeError {
    TapeError("truncated packet tape".into())
}

#[cfg_attr(wasmqtt_speed, optimize(speed))]
fn string(b: Bytes, field: &str) -> Result<ByteStr, TapeError> {
    // JavaScript strings arrive through TextEncoder, so this only fails on a wrapper bug.
    ByteStr::from_utf8_bytes(b)
        .map_err(|_| TapeError(text!(field, " is not valid UTF-8 without U+0000")))
}

#[cfg_attr(wasmqtt_speed, optimize(speed))]
fn qos(v: u32, field: &str) -> Result<QoS, TapeError> {
    u8::try_from(v)
        .ok()
        .and_then(QoS::from_u8)
        .ok_or_else(|| TapeError(text!(field, " must be 0, 1 or 2, not ", v)))
}

fn reason(v: u32) -> Result<ReasonCode, TapeError> {
    u8::try_from(v)
        .ok()
        .and_then(ReasonCode::from_u8)
        .ok_or_else(|| TapeError(text!(v, " is not an MQTT reason code")))
}

#[cfg_attr(wasmqtt_speed, optimize(speed))]
fn set_property(
    p: &mut Properties,
    id: u32,
    v: Val,
    pending_user: &mut Option<ByteStr>,
) -> Result<(), TapeError> {
    if id == key::USER_VALUE {
        let name = pending_user
            .take()
            .ok_or_else(|| TapeError("user property value without a name".into()))?;
        let Val::Bytes(b) = v else {
            return Err(truncated());
        };
        p.user_properties
            .push((name, string(b, "user property value")?));
        return Ok(());
    }
    let pid = PropertyId::from_u32(id).ok_or_else(|| TapeError(text!("unknown property ", id)))?;
    let name = pid.name();
    let bad = || TapeError(text!(name, " has a value of the wrong type or size"));
    let value: Owned = match (pid.kind(), v) {
        (Kind::Byte, Val::Int(i)) => Value::Byte(u8::try_from(i).map_err(|_| bad())?),
        (Kind::U16, Val::Int(i)) => Value::U16(u16::try_from(i).map_err(|_| bad())?),
        (Kind::U32, Val::Int(i)) => Value::U32(i),
        (Kind::VarInt, Val::Int(i)) => Value::VarInt(i),
        (Kind::Str, Val::Bytes(b)) => Value::Str(string(b, name)?),
        (Kind::Bin, Val::Bytes(b)) => Value::Bin(b),
        (Kind::Pair, Val::Bytes(b)) => {
            *pending_user = Some(string(b, "user property name")?);
            return Ok(());
        }
        _ => return Err(bad()),
    };
    // The packet's own rules (allowed here, how many) are checked when it is encoded.
    p.set(pid, value, Ctx::Publish).map_err(|e| match e {
        SetError::Duplicate => TapeError(text!(name, " is given twice")),
        SetError::Invalid(x) => TapeError(text!(name, " cannot be ", x)),
        SetError::Topic(problem) => TapeError(text!(name, " is not a valid topic name: ", problem)),
    })
}

/// Builds a packet from a byte tape written by the package's JavaScript.
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub fn packet_from_tape(tape: Bytes, v: ProtocolVersion) -> Result<Packet, TapeError> {
    let (packet, extra) = packet_and_extra(tape, v)?;
    match extra.first() {
        Some((k, _)) => Err(TapeError(text!("unknown tape key ", k))),
        None => Ok(packet),
    }
}

/// A value of a key the packet does not use (configuration keys, `key::EXTRA` and above).
#[derive(Debug, Clone)]
pub enum Extra {
    /// A number.
    Int(u32),
    /// Bytes or a string.
    Bytes(Bytes),
}

/// Like [`packet_from_tape`], also returning the keys at or above `key::EXTRA`, in order.
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub fn packet_and_extra(
    tape: Bytes,
    v: ProtocolVersion,
) -> Result<(Packet, Vec<(u32, Extra)>), TapeError> {
    use key::*;
    let mut r = TapeReader { tape, pos: 0 };
    let cmd = match r.next()? {
        Some((CMD, Val::Int(c))) => u8::try_from(c).ok().and_then(PacketType::from_u8),
        _ => None,
    }
    .ok_or_else(|| TapeError("the tape must start with the packet type".into()))?;

    let mut props = Properties::default();
    let mut will_props = Properties::default();
    let (mut pending, mut will_pending) = (None, None);
    let mut ints = [None::<u32>; 27];
    let mut blobs: [Option<Bytes>; 27] = Default::default();
    let mut granted = Vec::new();
    let mut subs: Vec<Subscription> = Vec::new();
    let mut unsubs = Vec::new();
    let mut extra = Vec::new();
    while let Some((k, val)) = r.next()? {
        match k {
            _ if k >= EXTRA => extra.push((
                k,
                match val {
                    Val::Int(i) => Extra::Int(i),
                    Val::Bytes(b) => Extra::Bytes(b),
                },
            )),
            _ if k & PROP != 0 && k < EXTRA => {
                set_property(&mut props, k & 0xFF, val, &mut pending)?
            }
            _ if k & WILL_PROP != 0 => {
                set_property(&mut will_props, k & 0xFF, val, &mut will_pending)?
            }
            GRANTED => match val {
                Val::Int(c) => granted.push(c),
                Val::Bytes(_) => return Err(truncated()),
            },
            SUB_TOPIC => {
                let Val::Bytes(b) = val else {
                    return Err(truncated());
                };
                subs.push(Subscription::new(
                    string(b, "subscription topic")?,
                    QoS::AtMostOnce,
                ));
            }
            SUB_OPTIONS | SUB_OPTIONS_V5 => {
                let (Val::Int(o), Some(last)) = (val, subs.last_mut()) else {
                    return Err(TapeError("subscription options without a topic".into()));
                };
                last.options = SubscriptionOptions {
                    qos: qos(o & 0b11, "subscription qos")?,
                    no_local: o & 0b100 != 0,
                    retain_as_published: o & 0b1000 != 0,
                    retain_handling: match (o >> 4) & 0b11 {
                        0 => RetainHandling::SendAtSubscribe,
                        1 => RetainHandling::SendIfNew,
                        2 => RetainHandling::DoNotSend,
                        _ => {
                            return Err(TapeError("retain handling (rh) must be 0, 1 or 2".into()))
                        }
                    },
                };
            }
            UNSUB_TOPIC => {
                let Val::Bytes(b) = val else {
                    return Err(truncated());
                };
                unsubs.push(string(b, "unsubscription topic")?);
            }
            k if (k as usize) < ints.len() => match val {
                Val::Int(i) => ints[k as usize] = Some(i),
                Val::Bytes(b) => blobs[k as usize] = Some(b),
            },
            _ => return Err(TapeError(text!("unknown tape key ", k))),
        }
    }
    let int = |k: u32| ints[k as usize];
    let mut blob = |k: u32| blobs[k as usize].take();
    let packet_id = || -> Result<u16, TapeError> {
        let id = int(MESSAGE_ID).unwrap_or(0);
        u16::try_from(id).map_err(|_| TapeError(text!("messageId must be at most 65535, not ", id)))
    };
    let reason_code = || {
        int(REASON_CODE)
            .map(reason)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let packet = match cmd {
        PacketType::Connect => {
            let level = int(PROTOCOL_VERSION).unwrap_or(v.level() as u32);
            let protocol = u8::try_from(level)
                .ok()
                .and_then(ProtocolVersion::from_level)
                .ok_or_else(|| {
                    TapeError(text!("protocolVersion must be 3, 4 or 5, not ", level))
                })?;
            let will = match blob(WILL_TOPIC) {
                Some(t) => Some(Will {
                    topic: string(t, "will topic")?,
                    payload: blob(WILL_PAYLOAD).unwrap_or_default(),
                    qos: qos(int(WILL_QOS).unwrap_or(0), "will qos")?,
                    retain: int(WILL_RETAIN).unwrap_or(0) != 0,
                    properties: will_props,
                }),
                None => None,
            };
            Packet::Connect(Box::new(Connect {
                protocol,
                clean_start: int(CLEAN).unwrap_or(1) != 0,
                keep_alive: u16::try_from(int(KEEPALIVE).unwrap_or(0))
                    .map_err(|_| TapeError("keepalive must be at most 65535".into()))?,
                client_id: blob(CLIENT_ID)
                    .map(|b| string(b, "clientId"))
                    .transpose()?
                    .unwrap_or_default(),
                will,
                username: blob(USERNAME).map(|b| string(b, "username")).transpose()?,
                password: blob(PASSWORD),
                properties: props,
            }))
        }
        PacketType::ConnAck => {
            let code = match (int(REASON_CODE), int(RETURN_CODE)) {
                (Some(c), _) if v.is_v5() => reason(c)?,
                (_, Some(c)) | (Some(c), _) => {
                    ReasonCode::from_wire(c as u8, PacketType::ConnAck, v).ok_or_else(|| {
                        TapeError(text!(
                            c,
                            " is not a CONNACK return code for this protocol version"
                        ))
                    })?
                }
                (None, None) => ReasonCode::Success,
            };
            Packet::ConnAck(ConnAck {
                session_present: int(SESSION_PRESENT).unwrap_or(0) != 0,
                reason_code: code,
                properties: props,
            })
        }
        PacketType::Publish => Packet::Publish(Publish {
            dup: int(DUP).unwrap_or(0) != 0,
            qos: qos(int(QOS).unwrap_or(0), "qos")?,
            retain: int(RETAIN).unwrap_or(0) != 0,
            topic: blob(TOPIC)
                .map(|b| string(b, "topic"))
                .transpose()?
                .unwrap_or_default(),
            packet_id: packet_id()?,
            payload: blob(PAYLOAD).unwrap_or_default(),
            properties: props,
        }),
        PacketType::PubAck | PacketType::PubRec | PacketType::PubRel | PacketType::PubComp => {
            let r = PubResp {
                packet_id: packet_id()?,
                reason_code: reason_code()?,
                properties: props,
            };
            match cmd {
                PacketType::PubAck => Packet::PubAck(r),
                PacketType::PubRec => Packet::PubRec(r),
                PacketType::PubRel => Packet::PubRel(r),
                _ => Packet::PubComp(r),
            }
        }
        PacketType::Subscribe => Packet::Subscribe(Subscribe {
            packet_id: packet_id()?,
            subscriptions: subs,
            properties: props,
        }),
        PacketType::SubAck => Packet::SubAck(SubAck {
            packet_id: packet_id()?,
            reason_codes: granted
                .into_iter()
                .map(|c| {
                    ReasonCode::from_wire(c as u8, PacketType::SubAck, v).ok_or_else(|| {
                        TapeError(text!(c, " is not a SUBACK code for this protocol version"))
                    })
                })
                .collect::<Result<_, _>>()?,
            properties: props,
        }),
        PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe {
            packet_id: packet_id()?,
            filters: unsubs,
            properties: props,
        }),
        PacketType::UnsubAck => Packet::UnsubAck(UnsubAck {
            packet_id: packet_id()?,
            reason_codes: granted.into_iter().map(reason).collect::<Result<_, _>>()?,
            properties: props,
        }),
        PacketType::PingReq => Packet::PingReq,
        PacketType::PingResp => Packet::PingResp,
        PacketType::Disconnect => Packet::Disconnect(Disconnect {
            reason_code: reason_code()?,
            properties: props,
        }),
        PacketType::Auth => Packet::Auth(Auth {
            reason_code: reason_code()?,
            properties: props,
        }),
    };
    Ok((packet, extra))
}

/// A 64-bit id as the (low, high) words of an event tape entry; JavaScript reads it back as
/// `low + high * 2^32`, exact up to 2^53.
pub fn split_id(id: u64) -> (u32, u32) {
    (id as u32, (id >> 32) as u32)
}
