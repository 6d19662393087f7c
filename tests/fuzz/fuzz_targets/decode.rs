//! The streaming decoder on arbitrary input, in arbitrary chunks, in every protocol version: it
//! must never panic or hang, and whatever it accepts must encode and decode back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmqtt::codec::{decode_packet, Decoder, EncodeError, Packet, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let version = match control % 3 {
        0 => ProtocolVersion::V3_1,
        1 => ProtocolVersion::V3_1_1,
        _ => ProtocolVersion::V5,
    };
    // The rest of the control byte picks the chunk size: frames split packets anywhere.
    let chunk = 1 + (control as usize >> 2);
    let mut decoder = Decoder::new(version);
    decoder.set_max_packet_size(1 << 16);
    for piece in input.chunks(chunk) {
        decoder.push(piece);
        loop {
            match decoder.decode() {
                Ok(Some(packet)) => {
                    let v = match &packet {
                        Packet::Connect(c) => c.protocol,
                        _ => decoder.version(),
                    };
                    let bytes = match packet.to_bytes(v) {
                        Ok(bytes) => bytes,
                        // A client identifier a sender may not use [MQTT-3.1.3-7] is still read,
                        // so that a server can refuse it with CONNACK 0x02 [MQTT-3.1.3-8].
                        Err(EncodeError::InvalidClientId { .. })
                            if matches!(packet, Packet::Connect(_)) =>
                        {
                            continue
                        }
                        Err(e) => panic!("an accepted packet must encode: {e} ({packet:?})"),
                    };
                    let again = decode_packet(bytes.into(), v).expect("its encoding must decode");
                    assert_eq!(again, packet);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
