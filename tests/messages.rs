//! Every error message, word for word: they are built piece by piece (src/text.rs) rather than
//! through `format!`, and this pins the text users read (and that `tests/js` and the dashboard
//! show) so that a change to it is deliberate.

use wasmqtt::codec::{
    DecodeError, EncodeError, PacketType, PropertyId, QoS, ReasonCode, TopicError,
};
use wasmqtt::proto::ClientError;

fn decode_errors() -> Vec<DecodeError> {
    use DecodeError::*;
    let p = PacketType::Subscribe;
    vec![
        InvalidPacketType {
            value: 15,
            rule: "MQTT-2.1.3-1",
        },
        ReservedFlags {
            packet: PacketType::PubRel,
            flags: 0,
            expected: 2,
            rule: "MQTT-3.6.1-1",
        },
        InvalidQoS {
            rule: "MQTT-3.3.1-4",
        },
        DupOnQoS0 {
            rule: "MQTT-3.3.1-2",
        },
        VarIntTooLong {
            rule: "MQTT-1.5.5-1",
        },
        NonMinimalVarInt {
            rule: "MQTT-1.5.5-1",
        },
        PacketTooLarge {
            size: 300_000,
            max: 65_536,
        },
        Truncated { what: "topic name" },
        Incomplete { needed: 3 },
        ExtraBytes { extra: 2 },
        TrailingBytes {
            packet: PacketType::PubAck,
            extra: 1,
        },
        InvalidUtf8 {
            what: "topic name",
            rule: "MQTT-1.5.4-1",
        },
        NullCharacter {
            what: "client identifier",
            rule: "MQTT-1.5.4-2",
        },
        InvalidProtocolName {
            level: 4,
            rule: "MQTT-3.1.2-1",
        },
        UnsupportedProtocolLevel {
            level: 6,
            rule: "MQTT-3.1.2-2",
        },
        InvalidConnectFlags {
            flags: 0b0000_0001,
            problem: "the reserved bit is set",
            rule: "MQTT-3.1.2-3",
        },
        InvalidConnAckFlags {
            flags: 0b1000_0000,
            problem: "reserved bits are set",
            rule: "MQTT-3.2.2-1",
        },
        InvalidReasonCode {
            packet: PacketType::PubAck,
            code: 0x05,
            rule: "MQTT-3.4.2-1",
        },
        ZeroPacketId {
            packet: p,
            rule: "MQTT-2.2.1-3",
        },
        InvalidTopicName {
            problem: TopicError::WildcardInName,
            v5: true,
        },
        InvalidTopicFilter {
            problem: TopicError::MultiLevelWildcardMisplaced,
            v5: false,
        },
        EmptyPayload {
            packet: p,
            what: "topic filter",
            rule: "MQTT-3.8.3-3",
        },
        InvalidSubscriptionOptions {
            options: 0b1100_0000,
            problem: "reserved bits are set",
            rule: "MQTT-3.8.3-5",
        },
        UnknownProperty { id: 0x7f },
        PropertyNotAllowed {
            property: PropertyId::TopicAlias,
            context: "CONNECT",
        },
        DuplicateProperty {
            property: PropertyId::ReceiveMaximum,
        },
        InvalidPropertyValue {
            property: PropertyId::ReceiveMaximum,
            value: 0,
        },
        AuthenticationDataWithoutMethod { context: "CONNECT" },
    ]
}

fn encode_errors() -> Vec<EncodeError> {
    use EncodeError::*;
    vec![
        PacketTooLarge { size: 268_435_456 },
        FieldTooLong {
            field: "topic name",
            len: 70_000,
        },
        NullCharacter { field: "user name" },
        InvalidTopicName {
            problem: TopicError::Empty,
        },
        InvalidTopicFilter {
            problem: TopicError::InvalidSharedSubscription,
        },
        PacketId {
            packet: PacketType::Publish,
            needed: true,
        },
        PacketId {
            packet: PacketType::Publish,
            needed: false,
        },
        DupOnQoS0,
        EmptyPayload {
            packet: PacketType::SubAck,
            what: "reason code",
        },
        PropertiesRequireV5 { context: "PUBLISH" },
        PropertyNotAllowed {
            property: PropertyId::SessionExpiryInterval,
            context: "PUBLISH",
        },
        InvalidPropertyValue {
            property: PropertyId::TopicAlias,
            value: 0,
        },
        AuthenticationDataWithoutMethod { context: "AUTH" },
        ReasonCodeNotAllowed {
            code: ReasonCode::NoMatchingSubscribers,
            packet: PacketType::PubAck,
            v5: false,
        },
        ReasonCodeNotAllowed {
            code: ReasonCode::Banned,
            packet: PacketType::SubAck,
            v5: true,
        },
        AuthRequiresV5,
        PasswordWithoutUsername,
        InvalidClientId {
            problem: "MQTT 3.1 needs 1 to 23 characters",
        },
        NoLocalOnSharedSubscription,
        SubscriptionOptionsRequireV5,
        SessionPresentWithError,
    ]
}

fn client_errors() -> Vec<ClientError> {
    use ClientError::*;
    let why = Some("go away".to_string());
    vec![
        ConnectionRefused {
            reason: ReasonCode::BadUserNameOrPassword,
            reason_string: why.clone(),
        },
        ConnectionRefused {
            reason: ReasonCode::ServerBusy,
            reason_string: None,
        },
        ConnectionRefused {
            reason: ReasonCode::UnspecifiedError,
            reason_string: None,
        },
        ConnectTimeout(30_000),
        KeepAliveTimeout(45_000),
        ConnectionLost {
            detail: Some("WebSocket closed (code 1006)".into()),
        },
        ConnectionLost { detail: None },
        ServerDisconnected {
            reason: ReasonCode::ServerShuttingDown,
            reason_string: why.clone(),
        },
        SessionTakenOver,
        SuspectedTakeover(3),
        Malformed(DecodeError::InvalidQoS {
            rule: "MQTT-3.3.1-4",
        }),
        ProtocolViolation {
            reason: ReasonCode::ProtocolError,
            detail: "PUBREC for QoS 1 message 7".into(),
        },
        PublishRejected {
            reason: ReasonCode::QuotaExceeded,
            reason_string: None,
        },
        PublishRejected {
            reason: ReasonCode::NotAuthorized,
            reason_string: why,
        },
        InvalidTopic {
            topic: "a/+\"\n".into(),
            problem: TopicError::WildcardInName,
        },
        InvalidFilter {
            filter: String::new(),
            problem: TopicError::Empty,
        },
        Encode(EncodeError::DupOnQoS0),
        PacketTooLarge {
            size: 70_000,
            max: 65_536,
        },
        OutboxFull {
            messages: 1_000,
            bytes: 65_536,
        },
        MessageTooLarge {
            size: 2_000_000,
            max: 1_048_576,
        },
        Dropped,
        Superseded,
        Expired,
        NotConnected,
        QoSNotSupported {
            requested: QoS::ExactlyOnce,
            max: QoS::AtLeastOnce,
        },
        RetainNotSupported,
        Unsupported("AUTH needs MQTT 5"),
        Ended,
        Cancelled,
        TooMany {
            what: "subscriptions",
            max: 10_000,
        },
        RequestTimeout(30_000),
        Removed,
        SessionLost,
        Config("keepalive must be at most 65535 seconds".into()),
    ]
}

fn all_messages() -> Vec<String> {
    let mut out = Vec::new();
    out.extend(decode_errors().iter().map(|e| e.to_string()));
    out.extend(encode_errors().iter().map(|e| e.to_string()));
    out.extend(client_errors().iter().map(|e| e.to_string()));
    out.push(ReasonCode::PacketTooLarge.to_string());
    out.push(PropertyId::UserProperty.to_string());
    out.push(PacketType::UnsubAck.to_string());
    out
}

#[test]
fn every_message_reads_as_written() {
    let got = all_messages();
    let want: Vec<&str> = include_str!("messages.txt").lines().collect();
    if std::env::var_os("WASMQTT_BLESS").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/messages.txt"),
            got.join("\n") + "\n",
        )
        .unwrap();
        return;
    }
    assert_eq!(
        got.len(),
        want.len(),
        "one line in tests/messages.txt per message"
    );
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
}
