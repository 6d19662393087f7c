//! Messages built without `core::fmt`.
//!
//! Every error says what failed, why and what to do, so the crate builds many messages. Doing
//! that with `format!` / `Display` pulls Rust's formatting machinery into the npm package's
//! wasm (padding, radix printing, `Formatter`, the `Arguments` tables of every call site): about
//! 5 KB gzip of the package, for text that is only ever appended. So messages are appended
//! piece by piece instead: `text!("packet of ", size, " bytes")`. Each error type implements
//! [`Piece`] (its message) and `Display` through it, so native callers still use `to_string()`,
//! while the package's code calls [`Piece`] paths only; `tests/js/package.test.mjs` fails if any
//! `core::fmt` function is left in the package's wasm.

/// Something that can be appended to a message.
pub trait Piece {
    /// Appends it to `out`.
    fn put(&self, out: &mut String);

    /// The message on its own.
    fn message(&self) -> String {
        let mut s = String::new();
        self.put(&mut s);
        s
    }
}

/// Appends pieces to a `String`: `put!(out; "a ", 1, " b")`.
#[macro_export]
#[doc(hidden)]
macro_rules! put {
    ($out:expr; $($p:expr),* $(,)?) => {{
        let out: &mut String = $out;
        $( $crate::text::Piece::put(&$p, out); )*
    }};
}

/// A new `String` of pieces: `text!("packet of ", size, " bytes")`.
#[macro_export]
#[doc(hidden)]
macro_rules! text {
    ($($p:expr),* $(,)?) => {{
        let mut s = String::new();
        $( $crate::text::Piece::put(&$p, &mut s); )*
        s
    }};
}

/// `Display` for a type through its [`Piece`] (native callers keep `to_string()`).
#[macro_export]
#[doc(hidden)]
macro_rules! display_by_piece {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::text::Piece::message(self))
            }
        }
    )*};
}

impl Piece for str {
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn put(&self, out: &mut String) {
        (**self).put(out);
    }
}

impl Piece for char {
    fn put(&self, out: &mut String) {
        out.push(*self);
    }
}

/// An owned copy of a string (of a `ByteStr` too, by deref): `to_string()` would go through
/// `Display`, and so through `core::fmt`.
pub fn owned(s: &str) -> String {
    s.to_owned()
}

/// Decimal digits of `n`.
fn decimal(mut n: u64, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(d as char);
    }
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn put(&self, out: &mut String) {
                decimal(*self as u64, out);
            }
        }
    )*};
}
unsigned!(u8, u16, u32, u64, usize);

impl Piece for i64 {
    fn put(&self, out: &mut String) {
        if *self < 0 {
            out.push('-');
        }
        decimal(self.unsigned_abs(), out);
    }
}

/// `0x` and at least `digits` hexadecimal digits, lowercase (`{:#04x}` is `Hex(v, 2)`).
pub struct Hex(pub u64, pub u32);

/// `0x` and at least `digits` hexadecimal digits, uppercase (`0x{:02X}` is `HexUpper(v, 2)`).
pub struct HexUpper(pub u64, pub u32);

/// Sixteen lowercase hexadecimal digits, no prefix (`{:016x}`).
pub struct Digits16(pub u64);

impl Piece for Digits16 {
    fn put(&self, out: &mut String) {
        radix(self.0, 4, 16, false, "", out);
    }
}

/// `0b` and at least `digits` binary digits (`{:#06b}` is `Bin(v, 4)`).
pub struct Bin(pub u64, pub u32);

fn radix(mut n: u64, shift: u32, min: u32, upper: bool, prefix: &str, out: &mut String) {
    let base = 1u64 << shift;
    let mut digits = [0u8; 64];
    let mut i = digits.len();
    loop {
        i -= 1;
        let d = (n & (base - 1)) as u8;
        digits[i] = match d {
            0..=9 => b'0' + d,
            _ if upper => b'A' + d - 10,
            _ => b'a' + d - 10,
        };
        n >>= shift;
        if n == 0 && digits.len() - i >= min as usize {
            break;
        }
    }
    out.push_str(prefix);
    for &d in &digits[i..] {
        out.push(d as char);
    }
}

impl Piece for Hex {
    fn put(&self, out: &mut String) {
        radix(self.0, 4, self.1, false, "0x", out);
    }
}

impl Piece for HexUpper {
    fn put(&self, out: &mut String) {
        radix(self.0, 4, self.1, true, "0x", out);
    }
}

impl Piece for Bin {
    fn put(&self, out: &mut String) {
        radix(self.0, 1, self.1, false, "0b", out);
    }
}

/// A string in double quotes, with `"`, `\` and control characters escaped as Rust's `{:?}`
/// escapes them (a topic in a message, where spaces or an empty string must show).
pub struct Quoted<'a>(pub &'a str);

impl Piece for Quoted<'_> {
    fn put(&self, out: &mut String) {
        out.push('"');
        for c in self.0.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                c if c.is_control() => {
                    out.push_str("\\u{");
                    radix(c as u64, 4, 1, false, "", out);
                    out.push('}');
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

/// `Some(piece)` appends the piece, `None` nothing.
impl<T: Piece> Piece for Option<T> {
    fn put(&self, out: &mut String) {
        if let Some(p) = self {
            p.put(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_core_fmt_prints_them() {
        for n in [0u64, 1, 9, 10, 99, 100, 65_535, u32::MAX as u64, u64::MAX] {
            assert_eq!(text!(n), n.to_string());
            assert_eq!(text!(Hex(n, 2)), format!("{n:#04x}"));
            assert_eq!(text!(HexUpper(n, 2)), format!("0x{n:02X}"));
            assert_eq!(text!(Bin(n, 4)), format!("{n:#06b}"));
            assert_eq!(text!(Bin(n, 8)), format!("{n:#010b}"));
            assert_eq!(text!(Hex(n, 1)), format!("{n:#x}"));
            assert_eq!(text!(Digits16(n)), format!("{n:016x}"));
        }
        for n in [0i64, -1, 42, i64::MIN, i64::MAX] {
            assert_eq!(text!(n), n.to_string());
        }
    }

    #[test]
    fn quoted_strings_read_as_debug_prints_them() {
        for s in [
            "",
            "a/b",
            "with \"quotes\"",
            "back\\slash",
            "tab\there",
            "nul\0",
            "bell\u{7}",
            "ünï/+/#",
        ] {
            assert_eq!(text!(Quoted(s)), format!("{s:?}"), "{s}");
        }
    }

    #[test]
    fn pieces_join_in_order() {
        let none: Option<&str> = None;
        assert_eq!(
            text!("a", 1u8, 'b', String::from("c"), Some("d"), none),
            "a1bcd"
        );
    }
}
