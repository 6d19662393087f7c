//! The fixed header, the variable byte integer, strings, and streaming.

use super::*;

#[test]
fn packet_type_0_is_reserved_in_every_version() {
    for v in [V31, V4, V5] {
        let e = decode(&hex("00 00"), v).unwrap_err();
        assert!(
            matches!(e, DecodeError::InvalidPacketType { value: 0, .. }),
            "{e}"
        );
        assert_eq!(e.reason_code(), ReasonCode::ProtocolError);
    }
}

#[test]
fn auth_type_15_exists_only_in_v5() {
    let e = decode(&hex("f0 00"), V4).unwrap_err();
    assert!(
        matches!(e, DecodeError::InvalidPacketType { value: 15, .. }),
        "{e}"
    );
    assert_eq!(decode(&hex("f0 00"), V5), Ok(Packet::Auth(Auth::default())));
}

#[test]
fn reserved_flag_bits_must_have_the_listed_values() {
    // [MQTT-2.2.2-1] (3.1.1) / [MQTT-2.1.3-1] (5.0): CONNACK with flags 0001.
    rejects(&hex("21 02 00 00"), V4, "MQTT-2.2.2-1");
    rejects(&hex("21 02 00 00 00"), V5, "MQTT-2.1.3-1");
    // PINGREQ with a flag bit.
    rejects(&hex("c8 00"), V4, "MQTT-2.2.2-1");
    // [MQTT-3.6.1-1]: PUBREL must be 0010.
    rejects(&hex("60 02 00 01"), V4, "MQTT-3.6.1-1");
    // [MQTT-3.8.1-1]: SUBSCRIBE must be 0010.
    rejects(&hex("80 06 00 01 00 01 61 00"), V4, "MQTT-3.8.1-1");
    // [MQTT-3.10.1-1]: UNSUBSCRIBE must be 0010.
    rejects(&hex("a0 05 00 01 00 01 61"), V4, "MQTT-3.10.1-1");
    // [MQTT-3.14.1-1]: DISCONNECT reserved bits (5.0).
    rejects(&hex("e1 00"), V5, "MQTT-3.14.1-1");
    // [MQTT-3.15.1-1]: AUTH reserved bits.
    rejects(&hex("f4 00"), V5, "MQTT-3.15.1-1");
}

#[test]
fn flag_errors_are_reported_from_the_first_byte() {
    // The decoder does not wait for the length or body to reject reserved flags.
    let mut d = Decoder::new(V4);
    d.push(&hex("61"));
    let e = d.decode().unwrap_err();
    assert_eq!(e.rule(), Some("MQTT-3.6.1-1"));
}

#[test]
fn publish_qos_3_is_malformed() {
    // [MQTT-3.3.1-4] 0x36 = PUBLISH with both QoS bits set.
    let e = rejects(&hex("36 05 00 01 61 00 01"), V4, "MQTT-3.3.1-4");
    assert_eq!(e.reason_code(), ReasonCode::MalformedPacket);
    rejects(&hex("36 06 00 01 61 00 01 00"), V5, "MQTT-3.3.1-4");
}

#[test]
fn dup_on_qos_0_is_rejected() {
    // [MQTT-3.3.1-2] 0x38 = PUBLISH, DUP=1, QoS 0.
    rejects(&hex("38 03 00 01 61"), V4, "MQTT-3.3.1-2");
}

#[test]
fn remaining_length_of_more_than_4_bytes_is_malformed() {
    // [MQTT-1.5.5-1] (5.0) / section 2.2.3 (3.1.1): at most four bytes.
    rejects(&hex("30 ff ff ff ff 01"), V5, "MQTT-1.5.5-1");
    rejects(&hex("30 ff ff ff ff 01"), V4, "3.1.1 section 2.2.3");
    // Detected at the fourth byte, without waiting for a fifth.
    let mut d = Decoder::new(V5);
    d.push(&hex("30 80 80 80 80"));
    assert!(matches!(d.decode(), Err(DecodeError::VarIntTooLong { .. })));
}

#[test]
fn remaining_length_must_be_minimal() {
    // [MQTT-1.5.5-1]: 0 encoded as 80 00 uses more bytes than needed.
    rejects(&hex("c0 80 00"), V5, "MQTT-1.5.5-1");
    // 127 encoded as ff 00.
    rejects(&hex("c0 ff 00"), V5, "MQTT-1.5.5-1");
}

#[test]
fn encoder_writes_the_shortest_remaining_length() {
    // [MQTT-1.5.5-1]: boundaries of the 1, 2, 3 byte encodings.
    for (body, expected) in [
        (127usize, vec![0x7f]),
        (128, vec![0x80, 0x01]),
        (16_383, vec![0xff, 0x7f]),
        (16_384, vec![0x80, 0x80, 0x01]),
        (2_097_152, vec![0x80, 0x80, 0x80, 0x01]),
    ] {
        // PUBLISH QoS 0, topic "a" (3 bytes), payload fills the rest.
        let p = Packet::Publish(Publish::new("a", vec![0u8; body - 3]));
        let bytes = p.to_bytes(V4).unwrap();
        assert_eq!(&bytes[1..1 + expected.len()], &expected[..], "body {body}");
        assert_eq!(bytes.len(), 1 + expected.len() + body);
        assert_eq!(decode(&bytes, V4).unwrap(), p);
    }
}

#[test]
fn maximum_packet_size_is_enforced_from_the_fixed_header() {
    // A PUBLISH announcing 1,000,000 bytes is refused after 5 bytes, before its body arrives.
    let mut d = Decoder::new(V5);
    d.set_max_packet_size(1024);
    d.push(&hex("30 c0 84 3d")); // remaining length 1,000,000
    let e = d.decode().unwrap_err();
    assert_eq!(
        e,
        DecodeError::PacketTooLarge {
            size: 1_000_004,
            max: 1024
        }
    );
    assert_eq!(e.reason_code(), ReasonCode::PacketTooLarge);
    // The decoder stays failed, drops its buffer, and ignores further input.
    d.push(&[0u8; 100]);
    assert_eq!(d.buffered(), 0);
    assert_eq!(d.decode().unwrap_err(), e);
}

#[test]
fn a_packet_exactly_at_the_maximum_size_is_accepted() {
    let p = Packet::Publish(Publish::new("t", vec![7u8; 100]));
    let bytes = p.to_bytes(V4).unwrap();
    let mut d = Decoder::new(V4);
    d.set_max_packet_size(bytes.len());
    d.push(&bytes);
    assert_eq!(d.decode(), Ok(Some(p)));
    d.set_max_packet_size(bytes.len() - 1);
    d.push(&bytes);
    assert!(matches!(
        d.decode(),
        Err(DecodeError::PacketTooLarge { .. })
    ));
}

#[test]
fn need_more_bytes_is_not_an_error() {
    let bytes = hex("30 05 00 01 61 68 69"); // PUBLISH "a" "hi"
    let mut d = Decoder::new(V4);
    for (i, b) in bytes.iter().enumerate() {
        assert_eq!(d.decode(), Ok(None), "before byte {i}");
        d.push(&[*b]);
    }
    let Ok(Some(Packet::Publish(p))) = d.decode() else {
        panic!("no packet")
    };
    assert_eq!(&*p.topic, "a");
    assert_eq!(&p.payload[..], b"hi");
    assert_eq!(d.decode(), Ok(None));
    assert_eq!(d.buffered(), 0);
}

#[test]
fn packets_joined_in_one_chunk_are_all_decoded() {
    // [MQTT-6.0.0-2]: a frame may hold several packets (and parts of the next).
    let mut d = Decoder::new(V4);
    d.push(&hex("d0 00  c0 00  40 02 00 07  30"));
    assert_eq!(d.decode(), Ok(Some(Packet::PingResp)));
    assert_eq!(d.decode(), Ok(Some(Packet::PingReq)));
    assert_eq!(d.decode(), Ok(Some(Packet::PubAck(PubResp::new(7)))));
    assert_eq!(d.decode(), Ok(None));
    d.push(&hex("03 00 01 78"));
    assert!(matches!(d.decode(), Ok(Some(Packet::Publish(_)))));
}

#[test]
fn decode_packet_wants_exactly_one_packet() {
    assert_eq!(
        decode(&hex("c0"), V4),
        Err(DecodeError::Incomplete { needed: 1 })
    );
    assert_eq!(
        decode(&hex("30 05 00 01"), V4),
        Err(DecodeError::Incomplete { needed: 3 })
    );
    assert_eq!(
        decode(&hex("c0 00 c0"), V4),
        Err(DecodeError::ExtraBytes { extra: 1 })
    );
    assert_eq!(decode(&[], V4), Err(DecodeError::Incomplete { needed: 2 }));
}

#[test]
fn bytes_left_inside_a_packet_are_malformed() {
    // PINGREQ with a one-byte body.
    let e = decode(&hex("c0 01 00"), V4).unwrap_err();
    assert!(
        matches!(e, DecodeError::TrailingBytes { extra: 1, .. }),
        "{e}"
    );
    // 3.1.1 PUBACK is exactly 2 bytes.
    assert!(matches!(
        decode(&hex("40 03 00 01 00"), V4),
        Err(DecodeError::TrailingBytes { .. })
    ));
}

#[test]
fn a_field_running_past_the_remaining_length_is_malformed() {
    // PUBLISH whose topic length (5) exceeds the packet.
    let e = decode(&hex("30 03 00 05 61"), V4).unwrap_err();
    assert!(matches!(e, DecodeError::Truncated { .. }), "{e}");
    assert_eq!(e.reason_code(), ReasonCode::MalformedPacket);
}

#[test]
fn strings_must_be_well_formed_utf8() {
    // [MQTT-1.5.3-1] / [MQTT-1.5.4-1]: 0xff is never UTF-8; ED A0 80 encodes surrogate U+D800.
    rejects(&hex("30 04 00 02 61 ff"), V4, "MQTT-1.5.3-1");
    rejects(&hex("30 06 00 03 ed a0 80 00"), V5, "MQTT-1.5.4-1");
    // Overlong encoding of '/' (C0 AF).
    rejects(&hex("30 04 00 02 c0 af"), V4, "MQTT-1.5.3-1");
}

#[test]
fn strings_must_not_contain_u0000() {
    // [MQTT-1.5.3-2] / [MQTT-1.5.4-2]
    rejects(&hex("30 04 00 02 61 00"), V4, "MQTT-1.5.3-2");
    rejects(&hex("30 05 00 02 61 00 00"), V5, "MQTT-1.5.4-2");
    let p = Packet::Publish(Publish::new("a\0b", "x"));
    assert!(matches!(
        p.to_bytes(V4),
        Err(EncodeError::InvalidTopicName { .. })
    ));
}

#[test]
fn a_byte_order_mark_is_kept() {
    // [MQTT-1.5.3-3]: EF BB BF is U+FEFF and must not be skipped or stripped.
    let p = roundtrip(&hex("30 06 00 04 ef bb bf 61"), V4);
    let Packet::Publish(p) = p else { panic!() };
    assert_eq!(&*p.topic, "\u{feff}a");
}

#[test]
fn decoded_payload_and_topic_share_the_received_buffer() {
    // Zero-copy: the topic and payload are slices of one frame, adjacent as on the wire.
    let mut d = Decoder::new(V4);
    d.push(&hex("32 09 00 03 61 2f 62 00 05 68 69"));
    let Ok(Some(Packet::Publish(p))) = d.decode() else {
        panic!()
    };
    let topic_end = p.topic.as_bytes().as_ptr() as usize + p.topic.len();
    assert_eq!(
        p.payload.as_ptr() as usize,
        topic_end + 2,
        "payload was copied"
    );
}

#[test]
fn garbage_never_panics_and_always_terminates() {
    // Every 2- and 3-byte input, in every version.
    for v in [V31, V4, V5] {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = decode(&[a, b], v);
                let _ = decode(&[a, 0x01, b], v);
                let mut d = Decoder::new(v);
                d.push(&[a, b, b, a]);
                while let Ok(Some(_)) = d.decode() {}
            }
        }
    }
}

#[test]
fn a_header_alone_reserves_no_more_than_what_arrived() {
    // Defect 10 of the reliability issue: a 5-byte fixed header declaring 256 MiB made the
    // decoder reserve all of it at once; a few such headers exhausted wasm memory. The
    // buffer grows as bytes arrive (at most doubling what is buffered).
    let mut d = Decoder::new(V5);
    d.push(&[0x30, 0xff, 0xff, 0xff, 0x7f]);
    assert_eq!(d.decode(), Ok(None));
    assert!(d.reserved() < 64 * 1024, "reserved {} bytes", d.reserved());
    d.push(&vec![0u8; 100_000]);
    assert_eq!(d.decode(), Ok(None));
    assert!(d.reserved() < 1 << 20, "reserved {} bytes", d.reserved());
}
