//! The tape reader: what the package's JavaScript writes into wasm memory for `encodePacket`,
//! `publish` and the client's options, read by Rust. Any bytes: an error, never a panic; what
//! reads as a packet encodes (or is refused by the encoder with a reason).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmqtt::codec::ProtocolVersion;
use wasmqtt::js::tape::packet_from_tape;

fuzz_target!(|data: &[u8]| {
    let Some((&v, tape)) = data.split_first() else {
        return;
    };
    let v = match v % 3 {
        0 => ProtocolVersion::V3_1,
        1 => ProtocolVersion::V3_1_1,
        _ => ProtocolVersion::V5,
    };
    if let Ok(p) = packet_from_tape(bytes::Bytes::copy_from_slice(tape), v) {
        let _ = p.to_bytes(v);
    }
});
