//! JSON for the dashboard: payload views, reading a field by a dotted path (sparklines, charts,
//! shadows), settings and profiles. serde_json underneath, built with `arbitrary_precision` (a
//! number is kept as written: a device id or counter past 2^53 is shown exactly, `21.50` stays
//! `21.50`) and `preserve_order` (members are shown in the order the device sent them).
//! Bounded: nesting deeper than [`MAX_DEPTH`] is refused (serde_json's recursion limit), so a
//! hostile payload cannot exhaust the stack.

pub use serde_json::{Map, Number, Value as Json};

/// Deepest nesting accepted (serde_json's recursion limit).
pub const MAX_DEPTH: usize = 127;

/// Parses a whole JSON document (surrounding whitespace allowed); None if it is not one.
pub fn parse(text: &str) -> Option<Json> {
    serde_json::from_str(text).ok()
}

/// Parses a document, saying where and why it is not JSON (for what a user typed).
pub fn parse_or_explain(text: &str) -> Result<Json, String> {
    serde_json::from_str(text).map_err(|e| {
        format!(
            "not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        )
    })
}

/// What the dashboard reads from a JSON value.
pub trait JsonExt {
    /// The value at a dotted path (`"sensors.0.temp"`: object keys and array indexes).
    fn path(&self, path: &str) -> Option<&Json>;
    /// The number, if this is one (or a numeric string, as some devices send, or a boolean).
    fn number(&self) -> Option<f64>;
    /// A short one-line rendering of a scalar (objects and arrays as `{…}` / `[n items]`).
    fn brief(&self) -> String;
    /// Indented JSON.
    fn pretty(&self) -> String;
    /// Compact JSON.
    fn compact(&self) -> String;
}

impl JsonExt for Json {
    fn path(&self, path: &str) -> Option<&Json> {
        let mut v = self;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            v = match v {
                Json::Object(m) => m.get(part)?,
                Json::Array(a) => a.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }

    fn number(&self) -> Option<f64> {
        match self {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => s.trim().parse().ok(),
            Json::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    fn brief(&self) -> String {
        match self {
            Json::String(s) => s.clone(),
            Json::Array(a) => format!("[{} items]", a.len()),
            Json::Object(_) => "{…}".into(),
            scalar => scalar.to_string(),
        }
    }

    fn pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn compact(&self) -> String {
        self.to_string()
    }
}

/// Two values the same as JSON data: numbers compare by value (`1`, `1.0` and `1e0` are the
/// same), exactly for integers of any size; objects regardless of member order.
pub fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => same_number(x, y),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn same_number(x: &Number, y: &Number) -> bool {
    if x.to_string() == y.to_string() {
        return true;
    }
    match (x.as_i128(), y.as_i128()) {
        (Some(a), Some(b)) => a == b,
        _ => x.as_f64().is_some() && x.as_f64() == y.as_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_devices_send() {
        let v = parse(r#" {"temp": 21.5, "ok": true, "tags": ["a", "b"], "nested": {"x": -1e3}, "s": "caf\u00e9 \ud83d\ude00"} "#).unwrap();
        assert_eq!(v.path("temp").and_then(Json::number), Some(21.5));
        assert_eq!(v.path("nested.x").and_then(Json::number), Some(-1000.0));
        assert_eq!(v.path("tags.1"), Some(&Json::String("b".into())));
        assert_eq!(v.path("s"), Some(&Json::String("café 😀".into())));
        assert_eq!(v.path("missing"), None);
        assert_eq!(v.path("tags.9"), None);
        assert_eq!(parse(r#""7.5""#).unwrap().number(), Some(7.5));
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "{",
            "{\"a\"}",
            "[1,]",
            "01x",
            "\"\u{1}\"",
            "nul",
            "{} {}",
            "1.",
            "-",
            "\"\\q\"",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let e = parse_or_explain("{\"a\": }").unwrap_err();
        assert!(e.contains("line 1, column 7"), "{e}");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(parse(&deep), None);
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_some());
        let over = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(parse(&over).is_none());
    }

    #[test]
    fn prints_back_in_order() {
        let v = parse(r#"{"z":[1,2.5,{"b":null}],"c":"x\"y"}"#).unwrap();
        assert_eq!(v.compact(), r#"{"z":[1,2.5,{"b":null}],"c":"x\"y"}"#);
        assert_eq!(v.pretty(), "{\n  \"z\": [\n    1,\n    2.5,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": \"x\\\"y\"\n}");
        assert_eq!(parse(&v.pretty()), Some(v));
    }

    #[test]
    fn numbers_are_shown_as_sent() {
        // Past 2^53 an f64 would show 18446744073709551615 as ...616.
        let v = parse(
            r#"{"id": 18446744073709551615, "big": 123456789012345678901234567890, "t": 21.50}"#,
        )
        .unwrap();
        assert_eq!(v.path("id").unwrap().brief(), "18446744073709551615");
        assert_eq!(
            v.path("big").unwrap().brief(),
            "123456789012345678901234567890"
        );
        assert_eq!(v.path("t").unwrap().brief(), "21.50");
        assert_eq!(
            v.compact(),
            r#"{"id":18446744073709551615,"big":123456789012345678901234567890,"t":21.50}"#
        );
    }

    #[test]
    fn sameness_is_by_value() {
        let p = |s: &str| parse(s).unwrap();
        assert!(same(&p("1"), &p("1.0")));
        assert!(same(&p("1"), &p("1e0")));
        assert!(!same(&p("9007199254740993"), &p("9007199254740992")));
        assert!(same(&p(r#"{"a":1,"b":[2]}"#), &p(r#"{"b":[2.0],"a":1}"#)));
        assert!(!same(&p(r#"{"a":1}"#), &p(r#"{"a":1,"b":2}"#)));
        assert!(!same(&p(r#""1""#), &p("1")));
    }
}
