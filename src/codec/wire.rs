//! The primitive data types of MQTT (section 1.5 of both specifications): integers, the variable
//! byte integer, UTF-8 strings, binary data, read from a zero-copy frame and written to a `Vec`.

use bytes::{BufMut, Bytes};

use super::{ByteStr, DecodeError, EncodeError, ProtocolVersion};

/// Number of bytes the shortest variable byte integer encoding of `v` takes [MQTT-1.5.5-1].
#[inline]
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub(crate) fn varint_len(v: u32) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes the shortest variable byte integer encoding of `v` (at most 268,435,455).
#[inline]
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let mut byte = (v & 0x7f) as u8;
        v >>= 7;
        if v > 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if v == 0 {
            return;
        }
    }
}

/// Outcome of reading a variable byte integer from a possibly incomplete buffer.
pub(crate) enum VarInt {
    /// The value and how many bytes it took.
    Done(u32, usize),
    /// The buffer ends before the last byte of the integer.
    Partial,
}

/// Reads a variable byte integer: at most four bytes [MQTT-1.5.5-1 in 5.0, 2.2.3 in 3.1.1], and
/// (in 5.0, where it is normative) the shortest encoding.
#[inline]
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub(crate) fn read_varint(buf: &[u8], v: ProtocolVersion) -> Result<VarInt, DecodeError> {
    let mut value: u32 = 0;
    for (i, &b) in buf.iter().enumerate().take(4) {
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            // A trailing 0x00 continuation byte means a longer encoding than needed.
            if i > 0 && b == 0 {
                return Err(DecodeError::NonMinimalVarInt {
                    rule: v.rule("3.1.1 section 2.2.3", "MQTT-1.5.5-1"),
                });
            }
            return Ok(VarInt::Done(value, i + 1));
        }
    }
    if buf.len() >= 4 {
        return Err(DecodeError::VarIntTooLong {
            rule: v.rule("3.1.1 section 2.2.3", "MQTT-1.5.5-1"),
        });
    }
    Ok(VarInt::Partial)
}

/// A cursor over one complete packet body. Slices it hands out share the frame's allocation.
pub(crate) struct Reader {
    buf: Bytes,
    pos: usize,
    pub(crate) version: ProtocolVersion,
}

impl Reader {
    #[inline]
    pub(crate) fn new(buf: Bytes, version: ProtocolVersion) -> Self {
        Reader {
            buf,
            pos: 0,
            version,
        }
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    #[inline]
    fn need(&self, n: usize, what: &'static str) -> Result<(), DecodeError> {
        if self.remaining() < n {
            Err(DecodeError::Truncated { what })
        } else {
            Ok(())
        }
    }

    #[inline]
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        self.need(1, what)?;
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        self.need(2, what)?;
        let v = u16::from_be_bytes([self.buf[self.pos], self.buf[self.pos + 1]]);
        self.pos += 2;
        Ok(v)
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.need(4, what)?;
        let b = &self.buf[self.pos..self.pos + 4];
        let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.pos += 4;
        Ok(v)
    }

    #[inline]
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn varint(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        match read_varint(&self.buf[self.pos..], self.version)? {
            VarInt::Done(v, n) => {
                self.pos += n;
                Ok(v)
            }
            VarInt::Partial => Err(DecodeError::Truncated { what }),
        }
    }

    /// The next `n` bytes, zero-copy.
    #[inline]
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<Bytes, DecodeError> {
        self.need(n, what)?;
        let b = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }

    /// Everything left in the packet, zero-copy.
    #[inline]
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn rest(&mut self) -> Bytes {
        let b = self.buf.slice(self.pos..);
        self.pos = self.buf.len();
        b
    }

    /// A sub-reader over the next `n` bytes (a property block), advancing past them.
    pub(crate) fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader, DecodeError> {
        let buf = self.take(n, what)?;
        Ok(Reader::new(buf, self.version))
    }

    /// Binary Data: a two-byte length and that many bytes.
    #[inline]
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn binary(&mut self, what: &'static str) -> Result<Bytes, DecodeError> {
        let n = self.u16(what)? as usize;
        self.take(n, what)
    }

    /// A UTF-8 Encoded String: well-formed UTF-8 without U+0000
    /// [MQTT-1.5.3-1, -2] / [MQTT-1.5.4-1, -2]. A BOM is kept as U+FEFF [MQTT-1.5.3-3].
    #[inline]
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn utf8(&mut self, what: &'static str) -> Result<ByteStr, DecodeError> {
        let raw = self.binary(what)?;
        ByteStr::from_utf8_bytes(raw).map_err(|e| match e {
            super::bytestr::Utf8Problem::Invalid => DecodeError::InvalidUtf8 {
                what,
                rule: self.version.rule("MQTT-1.5.3-1", "MQTT-1.5.4-1"),
            },
            super::bytestr::Utf8Problem::Null => DecodeError::NullCharacter {
                what,
                rule: self.version.rule("MQTT-1.5.3-2", "MQTT-1.5.4-2"),
            },
        })
    }

    /// Fails when bytes are left after the last field of a packet.
    #[inline]
    pub(crate) fn finish(&self, packet: super::PacketType) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                packet,
                extra: self.remaining(),
            })
        }
    }
}

/// Size of a length-prefixed string or binary field, or an error naming `field` when it exceeds
/// 65,535 bytes.
#[inline]
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub(crate) fn field_len(len: usize, field: &'static str) -> Result<usize, EncodeError> {
    if len > u16::MAX as usize {
        Err(EncodeError::FieldTooLong { field, len })
    } else {
        Ok(2 + len)
    }
}

/// Size of a UTF-8 string field, refusing U+0000 [MQTT-1.5.4-2] and over-long strings.
#[inline]
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub(crate) fn str_len(s: &str, field: &'static str) -> Result<usize, EncodeError> {
    if s.as_bytes().contains(&0) {
        return Err(EncodeError::NullCharacter { field });
    }
    field_len(s.len(), field)
}

#[inline]
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub(crate) fn put_binary(out: &mut Vec<u8>, b: &[u8]) {
    out.put_u16(b.len() as u16);
    out.put_slice(b);
}

#[inline]
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_binary(out, s.as_bytes());
}
