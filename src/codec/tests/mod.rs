//! Codec tests: annotated wire bytes per packet (each citing the rule it checks), and property
//! tests over arbitrary valid packets.

pub(crate) mod arbitrary;
mod fixed_header;
mod packets;
#[cfg(not(target_arch = "wasm32"))]
mod roundtrip;

use super::*;
use bytes::Bytes;

/// Bytes from annotated hex: whitespace ignored, `#` starts a comment to the end of the line.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: String = s
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digit"))
        .collect()
}

pub(crate) fn decode(bytes: &[u8], v: ProtocolVersion) -> Result<Packet, DecodeError> {
    decode_packet(Bytes::copy_from_slice(bytes), v)
}

/// Decodes `bytes`, checks the packet, and checks it encodes back to exactly `bytes`.
pub(crate) fn roundtrip(bytes: &[u8], v: ProtocolVersion) -> Packet {
    let p = decode(bytes, v).unwrap_or_else(|e| panic!("decode failed: {e}"));
    let again = p
        .to_bytes(v)
        .unwrap_or_else(|e| panic!("encode failed: {e}"));
    assert_eq!(again, bytes, "re-encoding differs for {p:?}");
    assert_eq!(p.encoded_len(v), Ok(bytes.len()));
    p
}

/// Asserts decoding fails and the error names `rule`.
pub(crate) fn rejects(bytes: &[u8], v: ProtocolVersion, rule: &str) -> DecodeError {
    match decode(bytes, v) {
        Ok(p) => panic!("accepted {p:?}, expected a violation of [{rule}]"),
        Err(e) => {
            assert_eq!(e.rule(), Some(rule), "wrong rule in: {e}");
            assert!(
                e.to_string().contains(rule),
                "message does not name the rule: {e}"
            );
            e
        }
    }
}

pub(crate) const V31: ProtocolVersion = ProtocolVersion::V3_1;
pub(crate) const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
pub(crate) const V5: ProtocolVersion = ProtocolVersion::V5;
