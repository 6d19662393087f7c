//! One section per packet type: annotated wire bytes, and the rules each packet must obey.
//!
//! Length: the annotated bytes of every packet type of three protocol versions; the sections
//! are independent and read best in the specification's order, in one place.

use super::*;

fn props() -> Properties {
    Properties::default()
}

// ---------------------------------------------------------------- CONNECT

#[test]
fn connect_v311_with_credentials() {
    let p = roundtrip(
        &hex("
            10 15                 # CONNECT, remaining length 21
            00 04 4d 51 54 54     # protocol name \"MQTT\" [MQTT-3.1.2-1]
            04                    # level 4 (3.1.1)
            c2                    # flags: user name, password, clean session
            00 3c                 # keep alive 60 s
            00 03 63 69 64        # client id \"cid\"
            00 01 75              # user name \"u\"
            00 01 70              # password \"p\"
        "),
        V4,
    );
    let Packet::Connect(c) = p else { panic!() };
    assert_eq!(c.protocol, V4);
    assert!(c.clean_start);
    assert_eq!(c.keep_alive, 60);
    assert_eq!(&*c.client_id, "cid");
    assert_eq!(c.username.as_deref(), Some("u"));
    assert_eq!(c.password.as_deref(), Some(&b"p"[..]));
}

#[test]
fn connect_v5_with_properties_and_will() {
    let p = roundtrip(
        &hex("
            10 26                 # CONNECT, 38
            00 04 4d 51 54 54 05  # \"MQTT\" level 5
            2e                    # will retain, will QoS 1, will flag, clean start
            00 0a                 # keep alive 10
            08                    # properties, 8 bytes:
              11 00 00 00 78      #   session expiry interval 120
              21 00 14            #   receive maximum 20
            00 01 63              # client id \"c\"
            05 18 00 00 00 05     # will properties: will delay interval 5
            00 03 64 2f 63        # will topic \"d/c\"
            00 03 6f 66 66        # will payload \"off\"
        "),
        V5,
    );
    let Packet::Connect(c) = p else { panic!() };
    assert_eq!(c.properties.session_expiry_interval, Some(120));
    assert_eq!(c.properties.receive_maximum, Some(20));
    let w = c.will.as_ref().unwrap();
    assert_eq!((w.qos, w.retain), (QoS::AtLeastOnce, true));
    assert_eq!(&*w.topic, "d/c");
    assert_eq!(w.properties.will_delay_interval, Some(5));
}

#[test]
fn authentication_data_without_a_method_is_a_protocol_error() {
    // MQTT 5, 3.1.2.11.10: "It is a Protocol Error to include Authentication Data if there is
    // no Authentication Method" (found by an independent conformance corpus; same for AUTH).
    let bytes = hex("
        10 12                 # CONNECT, remaining length 18
        00 04 4d 51 54 54 05  # \"MQTT\", level 5
        02 00 3c              # clean start, keep alive 60
        04                    # properties: 4 bytes
        16 00 01 61           # Authentication Data \"a\", and no Authentication Method
        00 01 63              # client id \"c\"
    ");
    let e = decode(&bytes, V5).unwrap_err();
    assert_eq!(e.reason_code(), ReasonCode::ProtocolError, "{e}");
    let mut c = Connect::default();
    c.properties.authentication_data = Some(Bytes::from_static(b"a"));
    assert!(
        Packet::Connect(Box::new(c)).to_bytes(V5).is_err(),
        "encoded anyway"
    );
}

#[test]
fn connect_v31_uses_mqisdp() {
    let p = roundtrip(
        &hex("10 0f  00 06 4d 51 49 73 64 70  03  02  00 3c  00 01 61"),
        V31,
    );
    let Packet::Connect(c) = p else { panic!() };
    assert_eq!(c.protocol, V31);
}

#[test]
fn connect_protocol_name_must_match_the_level() {
    // [MQTT-3.1.2-1]: \"MQTX\", and \"MQTT\" with level 3 (which is \"MQIsdp\").
    rejects(
        &hex("10 0c 00 04 4d 51 54 58 04 02 00 3c 00 00"),
        V4,
        "MQTT-3.1.2-1",
    );
    rejects(
        &hex("10 0c 00 04 4d 51 54 54 03 02 00 3c 00 00"),
        V4,
        "MQTT-3.1.2-1",
    );
}

#[test]
fn connect_unknown_protocol_level_is_unsupported() {
    // [MQTT-3.1.2-2]: level 6; the server answers 0x84 / return code 1.
    let e = rejects(
        &hex("10 0c 00 04 4d 51 54 54 06 02 00 3c 00 00"),
        V4,
        "MQTT-3.1.2-2",
    );
    assert_eq!(e.reason_code(), ReasonCode::UnsupportedProtocolVersion);
}

#[test]
fn connect_reserved_flag_must_be_zero() {
    // [MQTT-3.1.2-3]
    rejects(
        &hex("10 0c 00 04 4d 51 54 54 04 03 00 3c 00 00"),
        V4,
        "MQTT-3.1.2-3",
    );
}

#[test]
fn connect_will_flags_need_a_will() {
    // [MQTT-3.1.2-13]: Will QoS 1 without the will flag. [MQTT-3.1.2-15]: Will Retain without it.
    rejects(
        &hex("10 0c 00 04 4d 51 54 54 04 0a 00 3c 00 00"),
        V4,
        "MQTT-3.1.2-13",
    );
    rejects(
        &hex("10 0c 00 04 4d 51 54 54 04 22 00 3c 00 00"),
        V4,
        "MQTT-3.1.2-15",
    );
    // [MQTT-3.1.2-14]: Will QoS 3.
    rejects(
        &hex("10 11 00 04 4d 51 54 54 04 1e 00 3c 00 00 00 01 74 00 00"),
        V4,
        "MQTT-3.1.2-14",
    );
}

#[test]
fn connect_password_needs_a_user_name_before_v5() {
    // [MQTT-3.1.2-22] (3.1.1): password flag without user name flag.
    let bytes = hex("10 0f 00 04 4d 51 54 54 04 42 00 3c 00 00 00 01 70");
    rejects(&bytes, V4, "MQTT-3.1.2-22");
    let c = Connect {
        protocol: V4,
        password: Some(Bytes::from_static(b"p")),
        ..Connect::default()
    };
    assert_eq!(
        Packet::Connect(Box::new(c)).to_bytes(V4),
        Err(EncodeError::PasswordWithoutUsername)
    );
    // 5.0 allows it (section 3.1.2.9).
    roundtrip(
        &hex("10 10 00 04 4d 51 54 54 05 42 00 3c 00 00 00 00 01 70"),
        V5,
    );
}

#[test]
fn connect_empty_client_id_needs_clean_session_in_v311() {
    // [MQTT-3.1.3-7]
    let c = Connect {
        protocol: V4,
        clean_start: false,
        ..Connect::default()
    };
    assert!(matches!(
        Packet::Connect(Box::new(c)).to_bytes(V4),
        Err(EncodeError::InvalidClientId { .. })
    ));
    // The receiving side reads it, to answer CONNACK 0x02 "identifier rejected" rather than
    // drop the connection as malformed [MQTT-3.1.3-8].
    let bytes = hex("10 0c 00 04 4d 51 54 54 04 00 00 3c 00 00");
    assert!(
        matches!(decode(&bytes, V4), Ok(Packet::Connect(c)) if c.client_id.is_empty() && !c.clean_start)
    );
    // 5.0: an empty id with Clean Start 0 is the server's to accept or refuse.
    let c = Connect {
        clean_start: false,
        ..Connect::default()
    };
    assert!(Packet::Connect(Box::new(c)).to_bytes(V5).is_ok());
}

#[test]
fn connect_v31_client_id_is_1_to_23_characters() {
    let c = |id: &str| Connect {
        protocol: V31,
        client_id: id.into(),
        ..Connect::default()
    };
    assert!(Packet::Connect(Box::new(c(&"x".repeat(23))))
        .to_bytes(V31)
        .is_ok());
    assert!(Packet::Connect(Box::new(c(&"x".repeat(24))))
        .to_bytes(V31)
        .is_err());
    assert!(Packet::Connect(Box::new(c(""))).to_bytes(V31).is_err());
}

#[test]
fn connect_will_topic_is_a_topic_name() {
    // [MQTT-3.3.2-2] applies to the will topic: no wildcards.
    let c = Connect {
        client_id: "c".into(),
        will: Some(Will {
            topic: "a/#".into(),
            ..Will::default()
        }),
        ..Connect::default()
    };
    assert!(matches!(
        Packet::Connect(Box::new(c)).to_bytes(V5),
        Err(EncodeError::InvalidTopicName { .. })
    ));
    let e = decode(
        &hex("10 13 00 04 4d 51 54 54 04 06 00 3c 00 00 00 03 61 2f 2b 00 00"),
        V4,
    )
    .unwrap_err();
    assert!(matches!(e, DecodeError::InvalidTopicName { .. }), "{e}");
}

#[test]
fn connect_properties_are_checked() {
    // Topic Alias (0x23) is not a CONNECT property.
    let e = decode(
        &hex("10 10 00 04 4d 51 54 54 05 02 00 3c 03 23 00 01 00 00"),
        V5,
    )
    .unwrap_err();
    assert!(matches!(e, DecodeError::PropertyNotAllowed { .. }), "{e}");
    // Session Expiry Interval twice is a Protocol Error.
    let e = decode(
        &hex("10 17 00 04 4d 51 54 54 05 02 00 3c 0a 11 00 00 00 01 11 00 00 00 02 00 00"),
        V5,
    )
    .unwrap_err();
    assert!(matches!(e, DecodeError::DuplicateProperty { .. }), "{e}");
    assert_eq!(e.reason_code(), ReasonCode::ProtocolError);
    // Receive Maximum 0 is a Protocol Error.
    let e = decode(
        &hex("10 10 00 04 4d 51 54 54 05 02 00 3c 03 21 00 00 00 00"),
        V5,
    )
    .unwrap_err();
    assert!(
        matches!(e, DecodeError::InvalidPropertyValue { value: 0, .. }),
        "{e}"
    );
    // Request Problem Information must be 0 or 1.
    let e = decode(
        &hex("10 0f 00 04 4d 51 54 54 05 02 00 3c 02 17 02 00 00"),
        V5,
    )
    .unwrap_err();
    assert!(
        matches!(e, DecodeError::InvalidPropertyValue { value: 2, .. }),
        "{e}"
    );
    // An unknown property identifier.
    let e = decode(
        &hex("10 0f 00 04 4d 51 54 54 05 02 00 3c 02 05 00 00 00"),
        V5,
    )
    .unwrap_err();
    assert!(matches!(e, DecodeError::UnknownProperty { id: 5 }), "{e}");
    // A property block longer than the packet.
    let e = decode(&hex("10 0c 00 04 4d 51 54 54 05 02 00 3c 09 11"), V5).unwrap_err();
    assert!(matches!(e, DecodeError::Truncated { .. }), "{e}");
}

#[test]
fn properties_are_refused_before_v5() {
    let mut c = Connect {
        protocol: V4,
        client_id: "c".into(),
        ..Connect::default()
    };
    c.properties.session_expiry_interval = Some(1);
    assert!(matches!(
        Packet::Connect(Box::new(c)).to_bytes(V4),
        Err(EncodeError::PropertiesRequireV5 { .. })
    ));
}

// ---------------------------------------------------------------- CONNACK

#[test]
fn connack_v311_return_codes() {
    let p = roundtrip(&hex("20 02 01 00"), V4);
    assert_eq!(
        p,
        Packet::ConnAck(ConnAck {
            session_present: true,
            ..ConnAck::default()
        })
    );
    for (code, reason) in [
        (1, ReasonCode::UnsupportedProtocolVersion),
        (2, ReasonCode::ClientIdentifierNotValid),
        (3, ReasonCode::ServerUnavailable),
        (4, ReasonCode::BadUserNameOrPassword),
        (5, ReasonCode::NotAuthorized),
    ] {
        let Packet::ConnAck(c) = roundtrip(&[0x20, 2, 0, code], V4) else {
            panic!()
        };
        assert_eq!(c.reason_code, reason);
        assert_eq!(
            ConnectReturnCode::from_reason(reason).map(|c| c as u8),
            Some(code)
        );
    }
    // 6 and above are reserved.
    rejects(&hex("20 02 00 06"), V4, "3.1.1 section 3.2.2.3");
    // 3.1.1 cannot express a 5.0-only reason.
    let c = ConnAck {
        reason_code: ReasonCode::Banned,
        ..ConnAck::default()
    };
    assert!(matches!(
        Packet::ConnAck(c).to_bytes(V4),
        Err(EncodeError::ReasonCodeNotAllowed { .. })
    ));
}

#[test]
fn connack_flags() {
    // [MQTT-3.2.2-1]: bits 7-1 reserved.
    rejects(&hex("20 02 02 00"), V4, "MQTT-3.2.2-1");
    // Session Present on a refusal: [MQTT-3.2.2-4] (3.1.1), [MQTT-3.2.2-6] (5.0).
    rejects(&hex("20 02 01 05"), V4, "MQTT-3.2.2-4");
    rejects(&hex("20 03 01 87 00"), V5, "MQTT-3.2.2-6");
}

#[test]
fn connack_v5_properties() {
    let p = roundtrip(
        &hex("
            20 12 00 00           # CONNACK, no session, Success
            0f                    # properties, 15 bytes:
              12 00 01 78         #   assigned client identifier \"x\"
              13 00 1e            #   server keep alive 30
              21 00 14            #   receive maximum 20
              22 00 0a            #   topic alias maximum 10
              24 01               #   maximum QoS 1
        "),
        V5,
    );
    let Packet::ConnAck(c) = p else { panic!() };
    assert_eq!(
        c.properties.assigned_client_identifier.as_deref(),
        Some("x")
    );
    assert_eq!(c.properties.server_keep_alive, Some(30));
    assert_eq!(c.properties.maximum_qos, Some(QoS::AtLeastOnce));
    // [MQTT-3.2.2-8]: 0x04 is not a CONNACK reason code.
    rejects(&hex("20 03 00 04 00"), V5, "MQTT-3.2.2-8");
    // Maximum QoS 2 is a Protocol Error (it is only ever 0 or 1).
    let e = decode(&hex("20 05 00 00 02 24 02"), V5).unwrap_err();
    assert!(
        matches!(e, DecodeError::InvalidPropertyValue { value: 2, .. }),
        "{e}"
    );
}

#[test]
fn connack_from_a_v311_server_refusing_v5_reads_as_unsupported_version() {
    // [MQTT-3.1.2-2]: a 3.1.1 server answers a level-5 CONNECT with its own CONNACK, code 1.
    let Packet::ConnAck(c) = decode(&hex("20 02 00 01"), V5).unwrap() else {
        panic!()
    };
    assert_eq!(c.reason_code, ReasonCode::UnsupportedProtocolVersion);
    // A 5.0 success still needs its property length.
    assert!(decode(&hex("20 02 00 00"), V5).is_err());
}

// ---------------------------------------------------------------- PUBLISH

#[test]
fn publish_qos0_and_qos1_v311() {
    let Packet::Publish(p) = roundtrip(&hex("30 05 00 01 61 68 69"), V4) else {
        panic!()
    };
    assert_eq!(
        (p.qos, p.packet_id, p.dup, p.retain),
        (QoS::AtMostOnce, 0, false, false)
    );
    let Packet::Publish(p) = roundtrip(
        &hex("
            33                    # PUBLISH, QoS 1, retain
            09                    # remaining length 9
            00 03 61 2f 62        # topic \"a/b\"
            00 07                 # packet identifier 7
            68 69                 # payload \"hi\"
        "),
        V4,
    ) else {
        panic!()
    };
    assert_eq!((p.qos, p.packet_id, p.retain), (QoS::AtLeastOnce, 7, true));
}

#[test]
fn publish_v5_with_every_publish_property() {
    let Packet::Publish(p) = roundtrip(
        &hex("
            3d 2e                 # PUBLISH, DUP, QoS 2, retain; 46 bytes
            00 03 61 2f 62        # topic \"a/b\"
            00 2a                 # packet identifier 42
            24                    # properties, 36 bytes:
              01 01               #   payload format: UTF-8
              02 00 00 00 3c      #   message expiry 60 s
              03 00 04 74 65 78 74 #  content type \"text\"
              0b 05               #   subscription identifier 5
              0b 80 01            #   subscription identifier 128
              23 00 02            #   topic alias 2
              26 00 01 6b 00 01 31 #  user property k=1
              26 00 01 6b 00 01 32 #  user property k=2 (names repeat, order kept)
            68 69                 # payload \"hi\"
        "),
        V5,
    ) else {
        panic!()
    };
    assert!(p.dup && p.retain);
    assert_eq!(p.properties.subscription_identifiers, vec![5, 128]);
    let users: Vec<(&str, &str)> = p
        .properties
        .user_properties
        .iter()
        .map(|(k, v)| (&**k, &**v))
        .collect();
    assert_eq!(users, vec![("k", "1"), ("k", "2")]);
}

#[test]
fn publish_packet_identifier_rules() {
    // [MQTT-2.3.1-1] (3.1.1) / [MQTT-2.2.1-3] (5.0): QoS > 0 needs a non-zero identifier.
    rejects(&hex("32 05 00 01 61 00 00"), V4, "MQTT-2.3.1-1");
    rejects(&hex("32 06 00 01 61 00 00 00"), V5, "MQTT-2.2.1-3");
    let mut p = Publish::new("a", "x");
    p.qos = QoS::AtLeastOnce;
    assert!(matches!(
        Packet::Publish(p.clone()).to_bytes(V4),
        Err(EncodeError::PacketId { needed: true, .. })
    ));
    // [MQTT-2.2.1-2]: QoS 0 must not carry one.
    p.qos = QoS::AtMostOnce;
    p.packet_id = 3;
    assert!(matches!(
        Packet::Publish(p.clone()).to_bytes(V4),
        Err(EncodeError::PacketId { needed: false, .. })
    ));
    // [MQTT-3.3.1-2]: no DUP at QoS 0.
    p.packet_id = 0;
    p.dup = true;
    assert_eq!(Packet::Publish(p).to_bytes(V4), Err(EncodeError::DupOnQoS0));
}

#[test]
fn publish_topic_name_rules() {
    // [MQTT-3.3.2-2]: no wildcards in a topic name.
    rejects(&hex("30 05 00 03 61 2f 2b"), V4, "MQTT-3.3.2-2");
    rejects(&hex("30 06 00 03 61 2f 23 00"), V5, "MQTT-3.3.2-2");
    assert!(matches!(
        Packet::Publish(Publish::new("a/+", "")).to_bytes(V4),
        Err(EncodeError::InvalidTopicName { .. })
    ));
    // [MQTT-4.7.3-1]: at least one character...
    rejects(&hex("30 02 00 00"), V4, "MQTT-4.7.3-1");
    rejects(&hex("30 03 00 00 00"), V5, "MQTT-4.7.3-1");
    // ...except in 5.0 where a Topic Alias stands for it.
    let Packet::Publish(p) = roundtrip(&hex("30 06 00 00 03 23 00 01"), V5) else {
        panic!()
    };
    assert_eq!(p.properties.topic_alias, Some(1));
    // [MQTT-3.3.2-8]: Topic Alias 0 is not allowed.
    let e = decode(&hex("30 07 00 01 61 03 23 00 00"), V5).unwrap_err();
    assert!(
        matches!(e, DecodeError::InvalidPropertyValue { value: 0, .. }),
        "{e}"
    );
    // [MQTT-3.3.2-14]: the Response Topic is a topic name too.
    let e = decode(&hex("30 09 00 01 61 05 08 00 02 61 23"), V5).unwrap_err();
    assert!(matches!(e, DecodeError::InvalidTopicName { .. }), "{e}");
}

#[test]
fn publish_rejects_properties_of_other_packets() {
    // Session Expiry Interval (0x11) in a PUBLISH.
    let e = decode(&hex("30 09 00 01 61 05 11 00 00 00 01"), V5).unwrap_err();
    assert!(matches!(e, DecodeError::PropertyNotAllowed { .. }), "{e}");
    let mut p = Publish::new("a", "");
    p.properties.receive_maximum = Some(1);
    assert!(matches!(
        Packet::Publish(p).to_bytes(V5),
        Err(EncodeError::PropertyNotAllowed { .. })
    ));
}

// ---------------------------------------------------------------- PUBACK PUBREC PUBREL PUBCOMP

#[test]
fn pub_responses_v311() {
    assert_eq!(
        roundtrip(&hex("40 02 00 01"), V4),
        Packet::PubAck(PubResp::new(1))
    );
    assert_eq!(
        roundtrip(&hex("50 02 00 02"), V4),
        Packet::PubRec(PubResp::new(2))
    );
    assert_eq!(
        roundtrip(&hex("62 02 00 03"), V4),
        Packet::PubRel(PubResp::new(3))
    );
    assert_eq!(
        roundtrip(&hex("70 02 00 04"), V4),
        Packet::PubComp(PubResp::new(4))
    );
    // [MQTT-2.3.1-6]: the identifier of a PUBLISH is never 0.
    rejects(&hex("40 02 00 00"), V4, "MQTT-2.3.1-6");
    // 3.1.1 has no reason codes to send.
    let mut r = PubResp::new(1);
    r.reason_code = ReasonCode::QuotaExceeded;
    assert!(matches!(
        Packet::PubAck(r).to_bytes(V4),
        Err(EncodeError::ReasonCodeNotAllowed { .. })
    ));
}

#[test]
fn pub_responses_v5_short_forms() {
    // Success without properties: Remaining Length 2 (section 3.4.2.1).
    assert_eq!(
        roundtrip(&hex("40 02 00 01"), V5),
        Packet::PubAck(PubResp::new(1))
    );
    // A reason code without properties: Remaining Length 3.
    let Packet::PubAck(r) = roundtrip(&hex("40 03 00 01 10"), V5) else {
        panic!()
    };
    assert_eq!(r.reason_code, ReasonCode::NoMatchingSubscribers);
    // An explicit empty property block decodes the same (and re-encodes short).
    assert_eq!(decode(&hex("40 04 00 01 10 00"), V5), Ok(Packet::PubAck(r)));
    // With a reason string.
    let Packet::PubRec(r) = roundtrip(&hex("50 08 00 01 80 04 1f 00 01 78"), V5) else {
        panic!()
    };
    assert_eq!(r.properties.reason_string.as_deref(), Some("x"));
}

#[test]
fn pub_response_reason_codes_are_per_packet() {
    // [MQTT-3.4.2-1]: 0x92 is a PUBREL/PUBCOMP code, not a PUBACK one.
    rejects(&hex("40 03 00 01 92"), V5, "MQTT-3.4.2-1");
    // [MQTT-3.5.2-1]
    rejects(&hex("50 03 00 01 92"), V5, "MQTT-3.5.2-1");
    // [MQTT-3.6.2-1]: 0x10 is not a PUBREL code.
    rejects(&hex("62 03 00 01 10"), V5, "MQTT-3.6.2-1");
    // [MQTT-3.7.2-1]
    rejects(&hex("70 03 00 01 80"), V5, "MQTT-3.7.2-1");
    roundtrip(&hex("70 03 00 01 92"), V5);
}

// ---------------------------------------------------------------- SUBSCRIBE SUBACK

#[test]
fn subscribe_v311() {
    let Packet::Subscribe(s) = roundtrip(
        &hex("
            82 0c                 # SUBSCRIBE (flags 0010), 12
            00 0a                 # packet identifier 10
            00 03 61 2f 23 01     # \"a/#\" QoS 1
            00 01 2b 02           # \"+\" QoS 2
        "),
        V4,
    ) else {
        panic!()
    };
    assert_eq!(s.subscriptions.len(), 2);
    assert_eq!(s.subscriptions[1].options.qos, QoS::ExactlyOnce);
}

#[test]
fn subscribe_v5_options_and_identifier() {
    let Packet::Subscribe(s) = roundtrip(
        &hex("
            82 0b 00 0b
            02 0b 07              # properties: subscription identifier 7
            00 03 61 2f 62
            2d                    # QoS 1, No Local, Retain As Published, Retain Handling 2
        "),
        V5,
    ) else {
        panic!()
    };
    let o = s.subscriptions[0].options;
    assert!(o.no_local && o.retain_as_published);
    assert_eq!(o.retain_handling, RetainHandling::DoNotSend);
    assert_eq!(s.properties.subscription_identifiers, vec![7]);
    // Options 3.1.1 cannot express are refused, not dropped.
    let s = Subscribe {
        properties: props(),
        ..s
    };
    assert!(matches!(
        Packet::Subscribe(s).to_bytes(V4),
        Err(EncodeError::SubscriptionOptionsRequireV5)
    ));
}

#[test]
fn subscribe_rules() {
    // [MQTT-3.8.3-3] (3.1.1) / [MQTT-3.8.3-2] (5.0): at least one filter.
    rejects(&hex("82 02 00 01"), V4, "MQTT-3.8.3-3");
    rejects(&hex("82 03 00 01 00"), V5, "MQTT-3.8.3-2");
    // [MQTT-3-8.3-4] (3.1.1): upper six bits of the requested QoS byte are reserved.
    rejects(&hex("82 06 00 01 00 01 61 04"), V4, "MQTT-3-8.3-4");
    // [MQTT-3.8.3-5] (5.0): bits 6 and 7 are reserved.
    rejects(&hex("82 07 00 01 00 00 01 61 40"), V5, "MQTT-3.8.3-5");
    // QoS 3 is malformed in both.
    rejects(&hex("82 06 00 01 00 01 61 03"), V4, "MQTT-3-8.3-4");
    // Retain Handling 3 is a Protocol Error.
    let e = rejects(
        &hex("82 07 00 01 00 00 01 61 30"),
        V5,
        "5.0 section 3.8.3.1",
    );
    assert_eq!(e.reason_code(), ReasonCode::ProtocolError);
    // [MQTT-3.8.3-4]: No Local on a shared subscription is a Protocol Error.
    let e = rejects(
        &hex("82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04"),
        V5,
        "MQTT-3.8.3-4",
    );
    assert_eq!(e.reason_code(), ReasonCode::ProtocolError);
    let s = Subscribe {
        packet_id: 1,
        subscriptions: vec![Subscription {
            filter: "$share/g/a".into(),
            options: SubscriptionOptions {
                no_local: true,
                ..SubscriptionOptions::default()
            },
        }],
        properties: props(),
    };
    assert!(matches!(
        Packet::Subscribe(s).to_bytes(V5),
        Err(EncodeError::NoLocalOnSharedSubscription)
    ));
    // [MQTT-2.3.1-1]: packet identifier 0.
    rejects(&hex("82 06 00 00 00 01 61 00"), V4, "MQTT-2.3.1-1");
    // A subscription identifier of 0, or given twice, is a Protocol Error.
    let e = decode(&hex("82 09 00 01 02 0b 00 00 01 61 00"), V5);
    assert!(
        matches!(e, Err(DecodeError::InvalidPropertyValue { .. })),
        "{e:?}"
    );
    let e = decode(&hex("82 0b 00 01 04 0b 01 0b 02 00 01 61 00"), V5);
    assert!(
        matches!(e, Err(DecodeError::DuplicateProperty { .. })),
        "{e:?}"
    );
}

#[test]
fn topic_filter_rules() {
    let sub = |f: &[u8]| {
        let mut b = vec![0x82, (2 + 2 + f.len() + 1) as u8, 0, 1, 0, f.len() as u8];
        b.extend_from_slice(f);
        b.push(0);
        b
    };
    // [MQTT-4.7.1-2] (3.1.1) / [MQTT-4.7.1-1] (5.0): '#' last and alone in its level.
    rejects(&sub(b"a/#/b"), V4, "MQTT-4.7.1-2");
    rejects(&sub(b"a#"), V4, "MQTT-4.7.1-2");
    // [MQTT-4.7.1-3] (3.1.1): '+' occupies a whole level.
    rejects(&sub(b"a/b+"), V4, "MQTT-4.7.1-3");
    // [MQTT-4.7.3-1]: not empty.
    rejects(&sub(b""), V4, "MQTT-4.7.3-1");
    // Valid: levels may be empty; wildcards may stand anywhere whole.
    for ok in [&b"#"[..], b"+", b"/", b"a//b", b"+/+/#", b"$SYS/#", b"/+"] {
        roundtrip(&sub(ok), V4);
    }
    let sub5 = |f: &[u8]| {
        let mut b = vec![
            0x82,
            (2 + 1 + 2 + f.len() + 1) as u8,
            0,
            1,
            0,
            0,
            f.len() as u8,
        ];
        b.extend_from_slice(f);
        b.push(0);
        b
    };
    rejects(&sub5(b"a/#/b"), V5, "MQTT-4.7.1-1");
    rejects(&sub5(b"+a"), V5, "MQTT-4.7.1-2");
    // [MQTT-4.8.2-1], [MQTT-4.8.2-2]: $share/{ShareName}/{filter}.
    for bad in [&b"$share/g"[..], b"$share//a", b"$share/g+/a", b"$share/g/"] {
        rejects(&sub5(bad), V5, "MQTT-4.8.2-2");
    }
    roundtrip(&sub5(b"$share/g/a/+"), V5);
    // Before 5.0, $share has no meaning and is an ordinary filter.
    roundtrip(&sub(b"$share/g"), V4);
}

#[test]
fn suback() {
    // [MQTT-3.9.3-2] (3.1.1): 0, 1, 2 and 0x80 only.
    let Packet::SubAck(s) = roundtrip(&hex("90 06 00 0a 00 01 02 80"), V4) else {
        panic!()
    };
    assert_eq!(
        s.reason_codes,
        vec![
            ReasonCode::Success,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError
        ]
    );
    rejects(&hex("90 03 00 0a 03"), V4, "MQTT-3.9.3-2");
    rejects(&hex("90 03 00 0a 87"), V4, "MQTT-3.9.3-2");
    // 5.0 codes.
    let Packet::SubAck(s) = roundtrip(&hex("90 05 00 0a 00 9e 80"), V5) else {
        panic!()
    };
    assert_eq!(
        s.reason_codes,
        vec![
            ReasonCode::SharedSubscriptionsNotSupported,
            ReasonCode::UnspecifiedError
        ]
    );
    rejects(&hex("90 04 00 0a 00 11"), V5, "MQTT-3.9.3-2");
    // No code at all.
    assert!(matches!(
        decode(&hex("90 02 00 0a"), V4),
        Err(DecodeError::EmptyPayload { .. })
    ));
}

// ---------------------------------------------------------------- UNSUBSCRIBE UNSUBACK

#[test]
fn unsubscribe_and_unsuback() {
    let Packet::Unsubscribe(u) = roundtrip(&hex("a2 07 00 0b 00 03 61 2f 62"), V4) else {
        panic!()
    };
    assert_eq!(u.filters, vec![ByteStr::from("a/b")]);
    // [MQTT-3.10.3-2]: at least one filter.
    rejects(&hex("a2 02 00 0b"), V4, "MQTT-3.10.3-2");
    // 3.1.1 UNSUBACK is exactly the identifier.
    let Packet::UnsubAck(a) = roundtrip(&hex("b0 02 00 0b"), V4) else {
        panic!()
    };
    assert!(a.reason_codes.is_empty());
    // 5.0 UNSUBACK has one code per filter [MQTT-3.11.3-2].
    let Packet::UnsubAck(a) = roundtrip(&hex("b0 05 00 0b 00 00 11"), V5) else {
        panic!()
    };
    assert_eq!(
        a.reason_codes,
        vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted]
    );
    rejects(&hex("b0 04 00 0b 00 01"), V5, "MQTT-3.11.3-2");
}

// ---------------------------------------------------------------- PINGREQ PINGRESP DISCONNECT AUTH

#[test]
fn ping() {
    assert_eq!(roundtrip(&hex("c0 00"), V4), Packet::PingReq);
    assert_eq!(roundtrip(&hex("d0 00"), V5), Packet::PingResp);
}

#[test]
fn disconnect() {
    assert_eq!(
        roundtrip(&hex("e0 00"), V4),
        Packet::Disconnect(Disconnect::default())
    );
    // 5.0: Remaining Length 0 means Normal disconnection; one byte is the reason alone.
    assert_eq!(
        roundtrip(&hex("e0 00"), V5),
        Packet::Disconnect(Disconnect::default())
    );
    let Packet::Disconnect(d) = roundtrip(&hex("e0 01 8e"), V5) else {
        panic!()
    };
    assert_eq!(d.reason_code, ReasonCode::SessionTakenOver);
    let Packet::Disconnect(d) = roundtrip(
        &hex("
            e0 0e 9c              # DISCONNECT: Use another server
            0c 1c 00 09           # properties: server reference, 9 bytes
            31 32 37 2e 30 2e 30 2e 31  # \"127.0.0.1\"
        "),
        V5,
    ) else {
        panic!()
    };
    assert_eq!(d.properties.server_reference.as_deref(), Some("127.0.0.1"));
    // [MQTT-3.14.2-1]: 0x84 is a CONNACK code, not a DISCONNECT one.
    rejects(&hex("e0 01 84"), V5, "MQTT-3.14.2-1");
    // 3.1.1 DISCONNECT has no body.
    assert!(matches!(
        decode(&hex("e0 01 00"), V4),
        Err(DecodeError::TrailingBytes { .. })
    ));
}

#[test]
fn auth() {
    let Packet::Auth(a) = roundtrip(
        &hex("
            f0 0f 18              # AUTH: Continue authentication
            0d                    # properties, 13 bytes:
              15 00 05 53 43 52 41 4d  # authentication method \"SCRAM\"
              16 00 02 ab cd      #   authentication data
        "),
        V5,
    ) else {
        panic!()
    };
    assert_eq!(a.reason_code, ReasonCode::ContinueAuthentication);
    assert_eq!(a.properties.authentication_method.as_deref(), Some("SCRAM"));
    // [MQTT-3.15.2-1]
    rejects(&hex("f0 02 87 00"), V5, "MQTT-3.15.2-1");
    assert_eq!(
        Packet::Auth(a).to_bytes(V4),
        Err(EncodeError::AuthRequiresV5)
    );
}
