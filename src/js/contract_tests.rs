//! The contract between the Rust exports and the package's JavaScript, checked from Rust, the
//! one source: the option keys (`cfg`), event keys (`ev`) and tape keys (`key`) must have the
//! same names and numbers in `client.js` / `tape.js`, the property table must name every MQTT 5
//! property the codec knows with its mqtt-packet name and kind, and `getMetrics()` must read
//! `RawClient::metrics()`'s slots in their order. Any difference fails here, natively, before a
//! browser would show a wrong field.

use std::collections::BTreeMap;

use crate::codec::PropertyId;

const CLIENT_RS: &str = include_str!("client.rs");
const TAPE_RS: &str = include_str!("tape.rs");
const CLIENT_JS: &str = include_str!("client.js");
const TAPE_JS: &str = include_str!("tape.js");

/// The text from `start` to the first `end` after it.
fn block<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no `{start}` in the source"));
    let rest = &text[from + start.len()..];
    &rest[..rest
        .find(end)
        .unwrap_or_else(|| panic!("no `{end}` after `{start}`"))]
}

fn number(s: &str) -> u32 {
    let s = s.trim().trim_end_matches(',');
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    }
    .unwrap_or_else(|_| panic!("not a number: {s}"))
}

/// `pub const NAME: u32 = VALUE;` lines of a Rust module.
fn rust_consts(module: &str) -> BTreeMap<String, u32> {
    module
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .map(|l| {
            let (name, rest) = l.split_once(':').expect("a typed const");
            let value = rest.split_once('=').expect("a value").1;
            (name.trim().to_string(), number(value.trim_end_matches(';')))
        })
        .collect()
}

/// `NAME: VALUE` pairs of a JavaScript object literal of numbers.
fn js_numbers(object: &str) -> BTreeMap<String, u32> {
    object
        .split(',')
        .filter_map(|pair| pair.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), number(value)))
        .collect()
}

#[test]
fn option_keys_are_the_same_in_rust_and_javascript() {
    let rust = rust_consts(block(CLIENT_RS, "pub mod cfg {", "}"));
    let js = js_numbers(block(CLIENT_JS, "const CFG = {", "};"));
    assert!(rust.len() > 20, "{rust:?}");
    assert_eq!(
        rust, js,
        "cfg in src/js/client.rs and CFG in src/js/client.js differ"
    );
}

#[test]
fn event_keys_are_the_same_in_rust_and_javascript() {
    let rust = rust_consts(block(CLIENT_RS, "pub mod ev {", "}"));
    let js = js_numbers(block(CLIENT_JS, "const EV = {", "};"));
    assert!(rust.len() > 15, "{rust:?}");
    assert_eq!(
        rust, js,
        "ev in src/js/client.rs and EV in src/js/client.js differ"
    );
}

#[test]
fn tape_keys_are_the_same_in_rust_and_javascript() {
    let mut rust = rust_consts(block(TAPE_RS, "pub mod key {", "\n}"));
    // Where option keys begin (client.rs's cfg): not a key the JavaScript writes itself.
    assert_eq!(rust.remove("EXTRA"), Some(0x400));
    let js = js_numbers(block(TAPE_JS, "export const K = {", "};"));
    assert!(rust.len() > 25, "{rust:?}");
    assert_eq!(
        rust, js,
        "key in src/js/tape.rs and K in src/js/tape.js differ"
    );
}

/// mqtt-packet's name for a property: the specification's name in camelCase, but for User
/// Property, which it gathers as `userProperties`.
fn mqtt_packet_name(id: PropertyId) -> String {
    if id == PropertyId::UserProperty {
        return "userProperties".into();
    }
    let mut out = String::new();
    for (i, word) in id.name().split(' ').enumerate() {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if i == 0 {
                out.extend(first.to_lowercase());
            } else {
                out.push(first);
            }
            out.push_str(chars.as_str());
        }
    }
    out
}

#[test]
fn the_property_table_names_every_property_with_its_kind() {
    let table = block(TAPE_JS, "const PROPS = {", "};");
    let js: BTreeMap<u32, (String, String)> = table
        .split("],")
        .filter_map(|entry| {
            let (id, rest) = entry.split_once(": [")?;
            let mut fields = rest
                .trim_end_matches([']', ',', '\n', ' '])
                .split(',')
                .map(|f| f.trim().trim_matches('\'').to_string());
            Some((number(id), (fields.next()?, fields.next()?)))
        })
        .collect();
    let mut rust = BTreeMap::new();
    for id in 0..=0xFF {
        let Some(p) = PropertyId::from_u32(id) else {
            continue;
        };
        // The JavaScript kinds: b(oolean) i(nteger) s(tring) x (binary) u(ser property)
        // m (subscription identifiers: a number or an array).
        let kind = match (p, p.name()) {
            (PropertyId::MaximumQoS, _) => "i", // a byte, but a number (0 or 1) in mqtt-packet
            (PropertyId::SubscriptionIdentifier, _) => "m",
            (PropertyId::UserProperty, _) => "u",
            (_, _) => match format!("{:?}", p.kind()).as_str() {
                "Byte" => "b",
                "U16" | "U32" | "VarInt" => "i",
                "Str" => "s",
                "Bin" => "x",
                other => panic!("a property kind the table does not know: {other}"),
            },
        };
        rust.insert(id, (mqtt_packet_name(p), kind.to_string()));
    }
    assert_eq!(rust.len(), 27, "MQTT 5 defines 27 properties");
    assert_eq!(
        rust, js,
        "the codec's properties and PROPS in src/js/tape.js differ"
    );
}

#[test]
fn get_metrics_reads_the_slots_in_their_order() {
    let rust_slots: Vec<String> = block(CLIENT_RS, "pub fn metrics(&self)", "\n    }")
        .split("vec![")
        .nth(1)
        .expect("metrics builds a vec")
        .split("m.")
        .skip(1)
        .map(|s| {
            s.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    // The JavaScript names: camelCase of the core's, but for the two that are turned from
    // instants into durations.
    let expected: Vec<String> = rust_slots
        .iter()
        .map(|s| match s.as_str() {
            "next_attempt" => "nextReconnectIn".to_string(),
            "connected_since" => "connectedFor".to_string(),
            s => {
                let mut out = String::new();
                let mut upper = false;
                for c in s.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.extend(c.to_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        })
        .collect();
    let getter = block(CLIENT_JS, "getMetrics() {", "\n  }");
    let mut js = vec![String::new(); expected.len()];
    for line in getter.lines() {
        let Some((name, value)) = line.trim().split_once(':') else {
            continue;
        };
        if let Some(i) = value.split("m[").nth(1) {
            let slot: usize = i.split(']').next().unwrap_or("").parse().expect("a slot");
            assert!(
                slot < js.len(),
                "getMetrics reads slot {slot}, which metrics() does not fill"
            );
            js[slot] = name.trim().to_string();
        }
    }
    assert_eq!(rust_slots.len(), 13, "{rust_slots:?}");
    assert_eq!(
        expected, js,
        "RawClient::metrics() and getMetrics() disagree on a slot"
    );
    let defaults = block(getter, "?? [", "]").split(',').count();
    assert_eq!(
        defaults,
        expected.len(),
        "getMetrics' defaults (no client yet) have a slot per metric"
    );
}
