//! The dashboard's JSON (serde_json, arbitrary precision) on arbitrary text: never a panic or a stack overflow (nesting
//! is bounded), and what it reads prints back to text it reads the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmqtt::ui::model::json::{parse, JsonExt};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(v) = parse(text) else { return };
    let _ = v.brief();
    let _ = v.pretty();
    let compact = v.compact();
    let again = parse(&compact).expect("compact output parses");
    assert_eq!(again.compact(), compact, "compact output is not stable");
});
