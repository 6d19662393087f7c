//! How payloads are shown: as text, pretty JSON, hex or base64. Always text for the DOM (the
//! view puts it in text nodes, never HTML), and cut to a bounded length.

use super::json::{self, JsonExt};

/// A payload rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadFormat {
    /// UTF-8 text (invalid sequences shown as U+FFFD), control characters made visible.
    #[default]
    Text,
    /// Indented JSON, or text when the payload is not JSON.
    Json,
    /// Bytes in hex, 16 per line.
    Hex,
    /// Base64 (standard alphabet, padded).
    Base64,
}

impl PayloadFormat {
    /// Every format, in menu order.
    pub const ALL: [PayloadFormat; 4] = [
        PayloadFormat::Text,
        PayloadFormat::Json,
        PayloadFormat::Hex,
        PayloadFormat::Base64,
    ];

    /// Its name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            PayloadFormat::Text => "text",
            PayloadFormat::Json => "JSON",
            PayloadFormat::Hex => "hex",
            PayloadFormat::Base64 => "base64",
        }
    }

    /// The format a label names.
    pub fn from_label(s: &str) -> PayloadFormat {
        PayloadFormat::ALL
            .into_iter()
            .find(|f| f.label() == s)
            .unwrap_or_default()
    }
}

/// `payload` in `format`, at most about `max_chars` characters (a note says what was cut).
pub fn render(payload: &[u8], format: PayloadFormat, max_chars: usize) -> String {
    let shown = &payload[..payload.len().min(max_chars)];
    let cut = payload.len() > shown.len();
    let mut out = match format {
        PayloadFormat::Text => text(shown),
        PayloadFormat::Json => match std::str::from_utf8(payload).ok().and_then(json::parse) {
            Some(v) if !cut => v.pretty(),
            _ => text(shown),
        },
        PayloadFormat::Hex => hex(shown),
        PayloadFormat::Base64 => base64(shown),
    };
    if cut {
        out.push_str(&format!(" … ({} bytes in all)", payload.len()));
    }
    out
}

/// A one-line preview: text with newlines flattened.
pub fn preview(payload: &[u8], max_chars: usize) -> String {
    let mut s: String = text(&payload[..payload.len().min(max_chars * 4)])
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .take(max_chars)
        .collect();
    if s.chars().count() == max_chars && payload.len() > max_chars {
        s.push('…');
    }
    s
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                char::from_u32(0x2400 + (c as u32 & 0x1f)).unwrap_or('\u{FFFD}')
            }
            c => c,
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for (i, byte) in b.iter().enumerate() {
        if i > 0 {
            out.push(if i % 16 == 0 { '\n' } else { ' ' });
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Standard base64 with padding.
pub fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A byte count for people: 1.2 KB, 3.4 MB.
pub fn bytes(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.1} KB", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}

/// A duration for people: 850 ms, 12 s, 3 min, 2 h.
pub fn ago(ms: f64) -> String {
    let ms = ms.max(0.0);
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.0} s", ms / 1000.0)
    } else if ms < 3_600_000.0 {
        format!("{:.0} min", ms / 60_000.0)
    } else if ms < 86_400_000.0 {
        format!("{:.1} h", ms / 3_600_000.0)
    } else {
        format!("{:.1} d", ms / 86_400_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            render(b"hi\x00there", PayloadFormat::Text, 100),
            "hi\u{2400}there"
        );
        assert_eq!(
            render(br#"{"a":1}"#, PayloadFormat::Json, 100),
            "{\n  \"a\": 1\n}"
        );
        assert_eq!(render(b"not json", PayloadFormat::Json, 100), "not json");
        assert_eq!(
            render(&[0xde, 0xad, 0xbe, 0xef], PayloadFormat::Hex, 100),
            "de ad be ef"
        );
        assert_eq!(
            render(&[0u8; 17], PayloadFormat::Hex, 100).lines().count(),
            2
        );
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(render(&[0xff, b'a'], PayloadFormat::Text, 100), "\u{FFFD}a");
    }

    #[test]
    fn long_payloads_are_cut_and_say_so() {
        let big = vec![b'x'; 10_000];
        let s = render(&big, PayloadFormat::Text, 100);
        assert!(s.starts_with(&"x".repeat(100)));
        assert!(s.ends_with("(10000 bytes in all)"));
        assert_eq!(preview(b"line one\nline two", 100), "line one line two");
        assert_eq!(preview(&big, 5), "xxxxx…");
    }

    #[test]
    fn markup_stays_text() {
        // The view puts this in a text node; the model never turns it into anything else.
        let xss = b"<img src=x onerror=alert(1)>";
        assert_eq!(
            render(xss, PayloadFormat::Text, 100),
            "<img src=x onerror=alert(1)>"
        );
        assert_eq!(
            render(xss, PayloadFormat::Json, 100),
            "<img src=x onerror=alert(1)>"
        );
    }

    #[test]
    fn people_units() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500), "1.5 KB");
        assert_eq!(ago(12_400.0), "12 s");
        assert_eq!(ago(7_200_000.0), "2.0 h");
    }
}
