//! A UTF-8 string that shares the packet's buffer instead of copying out of it.

use bytes::Bytes;
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// An immutable UTF-8 string backed by [`Bytes`], so decoded topics and properties are slices of
/// the received frame rather than fresh allocations.
///
/// Any Rust string converts into it; strings decoded from the wire are also free of U+0000.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteStr(Bytes);

pub(crate) enum Utf8Problem {
    Invalid,
    Null,
}

impl ByteStr {
    /// An empty string.
    pub const fn new() -> Self {
        ByteStr(Bytes::new())
    }

    /// A string from a `'static` literal, without copying.
    pub const fn from_static(s: &'static str) -> Self {
        ByteStr(Bytes::from_static(s.as_bytes()))
    }

    /// Validates `b` as an MQTT UTF-8 string (well-formed, no U+0000).
    #[inline]
    #[cfg_attr(wasmqtt_speed, optimize(speed))]
    pub(crate) fn from_utf8_bytes(b: Bytes) -> Result<Self, Utf8Problem> {
        if std::str::from_utf8(&b).is_err() {
            return Err(Utf8Problem::Invalid);
        }
        if b.contains(&0) {
            return Err(Utf8Problem::Null);
        }
        Ok(ByteStr(b))
    }

    /// The string.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor takes a Rust string or bytes that passed `str::from_utf8`,
        // and `Bytes` is immutable, so the bytes are valid UTF-8 for the value's lifetime.
        // Re-validating on every access would cost a pass over the string in topic matching.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }
}

impl Deref for ByteStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ByteStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for ByteStr {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<str> for ByteStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for ByteStr {
    fn from(s: &str) -> Self {
        ByteStr(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for ByteStr {
    fn from(s: String) -> Self {
        ByteStr(Bytes::from(s.into_bytes()))
    }
}

impl From<&String> for ByteStr {
    fn from(s: &String) -> Self {
        ByteStr::from(s.as_str())
    }
}

impl PartialEq<str> for ByteStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ByteStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for ByteStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl crate::text::Piece for ByteStr {
    fn put(&self, out: &mut String) {
        out.push_str(self.as_str());
    }
}

impl fmt::Display for ByteStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
