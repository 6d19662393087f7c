//! The codec exports: whole packets to and from tapes (`RawPackets`: `decodePacket` and
//! `encodePacket`, and the client's MQTT.js stores, so both wasm modules have it) and a
//! streaming parser that writes a tape (`RawParser`: only in `wasmqtt/codec`'s module, feature
//! `codec-api`).

use crate::text::Piece;
use wasm_bindgen::prelude::*;

use super::tape::{self, Sink};
#[cfg(feature = "codec-api")]
use crate::codec::Decoder;
use crate::codec::{decode_packet, DecodeError, Frame, ProtocolVersion};

fn version(level: u8) -> Result<ProtocolVersion, String> {
    ProtocolVersion::from_level(level)
        .ok_or_else(|| text!("protocolVersion must be 3, 4 or 5, not ", level))
}

/// Writes `(key, a, b)` words; bytes are `(address in wasm memory, length)`.
struct Words<'a>(&'a mut Vec<u32>, Option<&'a mut tape::TopicCache>);

impl Sink for Words<'_> {
    fn topic(&mut self, topic: &crate::codec::ByteStr) {
        match &mut self.1 {
            Some(cache) => cache.write(topic, self.0),
            None => self.bytes(tape::key::TOPIC, topic.as_bytes()),
        }
    }

    #[inline]
    fn header(&mut self, first_byte: u8, remaining_length: u32) {
        self.0
            .extend_from_slice(&[tape::key::HEADER, first_byte.into(), remaining_length]);
    }
    #[inline]
    fn int(&mut self, key: u32, v: u32) {
        self.0.extend_from_slice(&[key, v, 0]);
    }
    #[inline]
    fn bytes(&mut self, key: u32, b: &[u8]) {
        // wasm32 addresses are 32 bits: the pointer is the offset into linear memory.
        self.0
            .extend_from_slice(&[key, b.as_ptr() as usize as u32, b.len() as u32]);
    }
}

/// A streaming MQTT parser for JavaScript (wrapped by `Parser` in `codec.js`).
// Design: the decoded frames of the last call are kept so the tape's pointers into their bytes
// stay valid until JavaScript has read them; the next call replaces both.
#[cfg(feature = "codec-api")]
#[wasm_bindgen]
pub struct RawParser {
    decoder: Decoder,
    topics: tape::TopicCache,
    frames: Vec<Frame>,
    tape: Vec<u32>,
    error: Option<DecodeError>,
}

#[cfg(feature = "codec-api")]
#[wasm_bindgen]
impl RawParser {
    /// A parser for protocol level 3, 4 or 5; `max_packet_size` 0 means the protocol's limit.
    #[wasm_bindgen(constructor)]
    pub fn new(level: u8, max_packet_size: u32) -> Result<RawParser, String> {
        let mut decoder = Decoder::new(version(level)?);
        if max_packet_size > 0 {
            decoder.set_max_packet_size(max_packet_size as usize);
        }
        Ok(RawParser {
            decoder,
            topics: tape::TopicCache::default(),
            frames: Vec::new(),
            tape: Vec::new(),
            error: None,
        })
    }

    /// Makes room for `n` received bytes in the decoder and returns their address: JavaScript
    /// writes them there and calls `decode` (one copy, no allocation per call).
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn input(&mut self, n: u32) -> u32 {
        // Drop the last call's frames first: while they live, the decoder's buffer is shared
        // and growing it would copy it to a new allocation.
        self.frames.clear();
        self.decoder.append_zeroed(n as usize).as_ptr() as usize as u32
    }

    /// Decodes every complete packet in the buffer: the number decoded, or -1 on a corrupt
    /// stream (see `error_message`).
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn decode(&mut self) -> i32 {
        self.frames.clear();
        self.tape.clear();
        loop {
            match self.decoder.decode_frame() {
                Ok(Some(f)) => self.frames.push(f),
                Ok(None) => break,
                Err(e) => {
                    self.error = Some(e);
                    return -1;
                }
            }
        }
        self.write_tape();
        self.frames.len() as i32
    }

    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    fn write_tape(&mut self) {
        let v = self.decoder.version();
        let mut words = Words(&mut self.tape, Some(&mut self.topics));
        for f in &self.frames {
            // A CONNECT carries its own version (the decoder switched to it).
            let fv = match &f.packet {
                crate::codec::Packet::Connect(c) => c.protocol,
                _ => v,
            };
            tape::walk(f, fv, &mut words);
        }
    }

    /// Address of the tape (`u32` words) in wasm memory.
    pub fn tape_ptr(&self) -> u32 {
        self.tape.as_ptr() as usize as u32
    }

    /// Number of `u32` words in the tape.
    pub fn tape_len(&self) -> u32 {
        self.tape.len() as u32
    }

    /// Why the stream is corrupt.
    pub fn error_message(&self) -> Option<String> {
        self.error.as_ref().map(|e| e.message())
    }

    /// The normative statement the input broke, if one applies.
    pub fn error_rule(&self) -> Option<String> {
        self.error
            .as_ref()
            .and_then(|e| e.rule())
            .map(str::to_string)
    }

    /// The MQTT 5 reason code a receiver closes the connection with.
    pub fn error_reason_code(&self) -> u8 {
        self.error.as_ref().map_or(0, |e| e.reason_code() as u8)
    }

    /// The protocol level packets are decoded as (a CONNECT switches it).
    pub fn level(&self) -> u8 {
        self.decoder.version().level()
    }

    /// Forgets buffered bytes and errors.
    pub fn reset(&mut self) {
        self.decoder.reset();
        self.frames.clear();
        self.tape.clear();
        self.error = None;
    }
}

/// Length of the Remaining Length field of a whole, valid packet.
fn varint_len(data: &[u8]) -> usize {
    data.iter()
        .skip(1)
        .take(4)
        .position(|b| b & 0x80 == 0)
        .map_or(4, |i| i + 1)
}

/// Whole packets for JavaScript: `decodePacket` and `encodePacket` (`tape.js`), which the
/// client's MQTT.js stores use too.
// Design: decoding, JavaScript writes the bytes into `input` and reads the tape of the decoded
// `frame`, whose strings point into those bytes, until the next call. Encoding, JavaScript
// writes the packet's tape straight into `tape` (one copy), strings and payloads become slices
// of it, and the packet is encoded into `out`, which JavaScript copies out once. The buffers
// are reused, so neither direction allocates per call beyond the packet itself.
#[wasm_bindgen]
pub struct RawPackets {
    input: bytes::BytesMut,
    frame: Option<Frame>,
    words: Vec<u32>,
    decode_error: Option<DecodeError>,
    tape: bytes::BytesMut,
    out: Vec<u8>,
    encode_error: Option<String>,
}

#[wasm_bindgen]
impl RawPackets {
    /// A new decoder and encoder of whole packets.
    #[wasm_bindgen(constructor)]
    pub fn new() -> RawPackets {
        RawPackets {
            input: bytes::BytesMut::new(),
            frame: None,
            words: Vec::new(),
            decode_error: None,
            tape: bytes::BytesMut::new(),
            out: Vec::new(),
            encode_error: None,
        }
    }

    /// Makes room for the `n` bytes of one packet and returns their address: JavaScript writes
    /// them there and calls `decode`.
    pub fn input(&mut self, n: u32) -> u32 {
        self.frame = None;
        self.input.clear();
        self.input.resize(n as usize, 0);
        self.input.as_ptr() as usize as u32
    }

    /// Decodes exactly one whole packet from the input: 1, or -1 (see `decode_error_message`).
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn decode(&mut self, level: u8) -> i32 {
        self.words.clear();
        self.decode_error = None;
        let Ok(v) = version(level) else {
            self.decode_error = Some(DecodeError::UnsupportedProtocolLevel {
                level,
                rule: "MQTT-3.1.2-2",
            });
            return -1;
        };
        let data = self.input.split().freeze();
        let first_byte = data.first().copied().unwrap_or(0);
        let header_len = 1 + varint_len(&data);
        match decode_packet(data.clone(), v) {
            Ok(packet) => {
                let frame = Frame {
                    first_byte,
                    remaining_length: (data.len() - header_len) as u32,
                    packet,
                };
                tape::walk(&frame, v, &mut Words(&mut self.words, None));
                self.frame = Some(frame);
                1
            }
            Err(e) => {
                self.decode_error = Some(e);
                -1
            }
        }
    }

    /// Address of the decoded packet's tape (`u32` words) in wasm memory.
    pub fn words_ptr(&self) -> u32 {
        self.words.as_ptr() as usize as u32
    }

    /// Number of `u32` words in the decoded packet's tape.
    pub fn words_len(&self) -> u32 {
        self.words.len() as u32
    }

    /// Why the last `decode` failed.
    pub fn decode_error_message(&self) -> Option<String> {
        self.decode_error.as_ref().map(|e| e.message())
    }

    /// The normative statement the last `decode` found broken, if one applies.
    pub fn decode_error_rule(&self) -> Option<String> {
        self.decode_error
            .as_ref()
            .and_then(|e| e.rule())
            .map(str::to_owned)
    }

    /// The MQTT 5 reason code for the last `decode` error.
    pub fn decode_error_reason_code(&self) -> u8 {
        self.decode_error
            .as_ref()
            .map_or(0, |e| e.reason_code() as u8)
    }

    /// Makes the tape `n` bytes long, keeping what was written, and returns its address:
    /// JavaScript writes the tape there (growing it through this call when needed).
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn tape(&mut self, n: u32) -> u32 {
        self.tape.resize(n as usize, 0);
        self.tape.as_ptr() as usize as u32
    }

    /// Encodes the first `len` bytes of the tape: the encoded length (bytes at `out_ptr`), or
    /// -1 (see `encode_error_message`).
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub fn encode(&mut self, level: u8, len: u32) -> i32 {
        self.out.clear();
        self.tape.truncate(len as usize);
        let result = version(level).and_then(|v| {
            // Shares the tape's allocation; it is unique again once the packet is dropped, so
            // the next `tape` call reuses it.
            let tape = self.tape.split().freeze();
            let packet = tape::packet_from_tape(tape, v).map_err(|e| e.0)?;
            packet.encode(v, &mut self.out).map_err(|e| e.message())
        });
        match result {
            Ok(()) => self.out.len() as i32,
            Err(e) => {
                self.encode_error = Some(e);
                -1
            }
        }
    }

    /// Address of the encoded bytes.
    pub fn out_ptr(&self) -> u32 {
        self.out.as_ptr() as usize as u32
    }

    /// Why the last `encode` failed.
    pub fn encode_error_message(&self) -> Option<String> {
        self.encode_error.clone()
    }
}

impl Default for RawPackets {
    fn default() -> Self {
        Self::new()
    }
}
