//! Streaming decode: bytes arrive in arbitrary chunks (WebSocket frames split and join packets).

use bytes::{Buf, Bytes, BytesMut};

use super::wire::{read_varint, Reader, VarInt};
use super::{
    Auth, ConnAck, Connect, DecodeError, Disconnect, Packet, PacketType, ProtocolVersion, PubResp,
    Publish, SubAck, Subscribe, UnsubAck, Unsubscribe, MAX_REMAINING_LENGTH,
};

/// A parsed fixed header.
struct Header {
    packet: PacketType,
    flags: u8,
    header_len: usize,
    total: usize,
}

/// Reads the fixed header at the start of `buf`. `Ok(None)`: more bytes are needed. Flag errors
/// are reported from the first byte, and an oversized packet from its length, before any of the
/// body has to be buffered.
#[cfg_attr(wasmqtt_speed, optimize(speed))]
fn parse_header(buf: &[u8], v: ProtocolVersion, max: usize) -> Result<Option<Header>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let nibble = first >> 4;
    let flags = first & 0x0F;
    let packet = match PacketType::from_u8(nibble) {
        Some(PacketType::Auth) if !v.is_v5() => None,
        p => p,
    }
    .ok_or(DecodeError::InvalidPacketType {
        value: nibble,
        rule: v.rule("3.1.1 section 2.2.1", "5.0 section 2.1.2"),
    })?;
    match packet.required_flags() {
        Some(expected) if flags != expected => {
            let rule = match packet {
                PacketType::PubRel => "MQTT-3.6.1-1",
                PacketType::Subscribe => "MQTT-3.8.1-1",
                PacketType::Unsubscribe => "MQTT-3.10.1-1",
                PacketType::Auth => "MQTT-3.15.1-1",
                PacketType::Disconnect if v.is_v5() => "MQTT-3.14.1-1",
                _ => v.rule("MQTT-2.2.2-1", "MQTT-2.1.3-1"),
            };
            return Err(DecodeError::ReservedFlags {
                packet,
                flags,
                expected,
                rule,
            });
        }
        Some(_) => {}
        None => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                return Err(DecodeError::InvalidQoS {
                    rule: "MQTT-3.3.1-4",
                });
            }
            if qos == 0 && flags & 0b1000 != 0 {
                return Err(DecodeError::DupOnQoS0 {
                    rule: "MQTT-3.3.1-2",
                });
            }
        }
    }
    let (body_len, len_len) = match read_varint(&buf[1..], v)? {
        VarInt::Done(n, l) => (n as usize, l),
        VarInt::Partial => return Ok(None),
    };
    let header_len = 1 + len_len;
    let total = header_len + body_len;
    if total > max {
        return Err(DecodeError::PacketTooLarge { size: total, max });
    }
    Ok(Some(Header {
        packet,
        flags,
        header_len,
        total,
    }))
}

#[cfg_attr(wasmqtt_speed, optimize(speed))]
fn decode_body(h: &Header, body: Bytes, v: ProtocolVersion) -> Result<Packet, DecodeError> {
    let mut r = Reader::new(body, v);
    let t = h.packet;
    Ok(match t {
        PacketType::Connect => Packet::Connect(Box::new(Connect::read(&mut r)?)),
        PacketType::ConnAck => Packet::ConnAck(ConnAck::read(&mut r)?),
        PacketType::Publish => Packet::Publish(Publish::read(&mut r, h.flags)?),
        PacketType::PubAck => Packet::PubAck(PubResp::read(&mut r, t)?),
        PacketType::PubRec => Packet::PubRec(PubResp::read(&mut r, t)?),
        PacketType::PubRel => Packet::PubRel(PubResp::read(&mut r, t)?),
        PacketType::PubComp => Packet::PubComp(PubResp::read(&mut r, t)?),
        PacketType::Subscribe => Packet::Subscribe(Subscribe::read(&mut r)?),
        PacketType::SubAck => Packet::SubAck(SubAck::read(&mut r)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe::read(&mut r)?),
        PacketType::UnsubAck => Packet::UnsubAck(UnsubAck::read(&mut r)?),
        PacketType::PingReq => {
            r.finish(t)?;
            Packet::PingReq
        }
        PacketType::PingResp => {
            r.finish(t)?;
            Packet::PingResp
        }
        PacketType::Disconnect => Packet::Disconnect(Disconnect::read(&mut r)?),
        PacketType::Auth => Packet::Auth(Auth::read(&mut r)?),
    })
}

/// A decoded packet with its fixed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Packet type and flags, as received.
    pub first_byte: u8,
    /// The Remaining Length from the fixed header.
    pub remaining_length: u32,
    /// The packet.
    pub packet: Packet,
}

/// Decodes exactly one whole packet: an error if `data` holds less, or more.
pub fn decode_packet(data: Bytes, version: ProtocolVersion) -> Result<Packet, DecodeError> {
    let h = parse_header(&data, version, usize::MAX)?.ok_or(DecodeError::Incomplete {
        needed: if data.is_empty() { 2 } else { 1 },
    })?;
    if data.len() < h.total {
        return Err(DecodeError::Incomplete {
            needed: h.total - data.len(),
        });
    }
    if data.len() > h.total {
        return Err(DecodeError::ExtraBytes {
            extra: data.len() - h.total,
        });
    }
    let body = data.slice(h.header_len..);
    decode_body(&h, body, version)
}

/// A streaming decoder for one connection.
///
/// Feed it whatever arrives with [`Decoder::push`], then call [`Decoder::decode`] until it
/// returns `Ok(None)` ("need more bytes", not an error). An `Err` means the stream is corrupt:
/// the decoder stays failed and the connection must be closed.
///
/// Call `decode` after every `push`: the fixed header of a packet over the maximum size is then
/// rejected before its body accumulates, so the buffer holds at most one maximum-size packet
/// plus one pushed chunk.
// Design: bytes accumulate in one `BytesMut`; a complete packet is split off and frozen, so the
// payloads and strings of decoded packets are slices of that allocation (zero-copy) while the
// rest of the buffer keeps filling. A CONNECT switches the decoder to the version it asks for,
// so a server-side decoder follows the client's choice.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    version: ProtocolVersion,
    max_packet_size: usize,
    failed: Option<DecodeError>,
}

impl Decoder {
    /// A decoder for `version` accepting packets up to the protocol's limit.
    pub fn new(version: ProtocolVersion) -> Self {
        Decoder {
            buf: BytesMut::new(),
            version,
            max_packet_size: MAX_REMAINING_LENGTH + 5,
            failed: None,
        }
    }

    /// Limits the size of a whole packet (fixed header included); larger packets fail with
    /// [`DecodeError::PacketTooLarge`].
    pub fn set_max_packet_size(&mut self, max: usize) {
        self.max_packet_size = max;
    }

    /// The largest packet accepted.
    pub fn max_packet_size(&self) -> usize {
        self.max_packet_size
    }

    /// The protocol version packets are decoded as.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Changes the protocol version for the packets that follow.
    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    /// Appends received bytes. Ignored once the decoder has failed.
    pub fn push(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(data);
        }
    }

    /// Appends `n` zero bytes and returns them for the caller to overwrite with received data:
    /// the same as [`Decoder::push`] without an intermediate copy (a driver reads straight into
    /// the decoder's buffer).
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn append_zeroed(&mut self, n: usize) -> &mut [u8] {
        if self.failed.is_some() {
            // Keep a failed decoder's buffer bounded: it is never decoded again.
            self.buf.clear();
        }
        let start = self.buf.len();
        self.buf.resize(start + n, 0);
        &mut self.buf[start..]
    }

    /// Takes every buffered byte out of the decoder, zero-copy (for callers that decode a whole
    /// buffer at once with [`decode_packet`]).
    pub fn take_buffered(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes the receive buffer holds allocated (bounded by about twice what arrived).
    pub fn reserved(&self) -> usize {
        self.buf.capacity()
    }

    /// Forgets buffered bytes and any failure, for a new connection.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.failed = None;
    }

    /// The next complete packet, `Ok(None)` when more bytes are needed, or the error that
    /// corrupted the stream (returned again on every later call).
    pub fn decode(&mut self) -> Result<Option<Packet>, DecodeError> {
        Ok(self.decode_frame()?.map(|f| f.packet))
    }

    /// Like [`Decoder::decode`], with the packet's fixed header.
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn decode_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(*e);
        }
        let result = self.decode_inner();
        if let Err(e) = &result {
            self.failed = Some(*e);
            self.buf = BytesMut::new();
        }
        result
    }

    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    fn decode_inner(&mut self) -> Result<Option<Frame>, DecodeError> {
        let Some(h) = parse_header(&self.buf, self.version, self.max_packet_size)? else {
            return Ok(None);
        };
        if self.buf.len() < h.total {
            // Grow with what arrives, at most doubling it: a header alone can claim up to the
            // maximum packet size, and reserving that from five bytes lets a peer exhaust
            // memory with a few headers.
            let missing = h.total - self.buf.len();
            self.buf.reserve(missing.min(self.buf.len().max(4096)));
            return Ok(None);
        }
        let first_byte = self.buf[0];
        let mut frame = self.buf.split_to(h.total).freeze();
        frame.advance(h.header_len);
        let packet = decode_body(&h, frame, self.version)?;
        if let Packet::Connect(c) = &packet {
            self.version = c.protocol;
        }
        Ok(Some(Frame {
            first_byte,
            remaining_length: (h.total - h.header_len) as u32,
            packet,
        }))
    }
}
