//! Connect: CONNECT fields, assigned identifiers, server keep alive, connect timeout, typed
//! refusals, MQTT 5 extended authentication.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

#[test]
fn connect_v5_carries_every_configured_field() {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.username = Some("user".into());
    cfg.password = Some(bytes("secret"));
    cfg.keep_alive = 20;
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(3600);
    cfg.receive_maximum = Some(50);
    cfg.maximum_packet_size = 4096;
    cfg.topic_alias_maximum = 8;
    cfg.request_response_information = true;
    cfg.request_problem_information = Some(false);
    cfg.user_properties = vec![("app".into(), "test".into())];
    let mut will = Will {
        topic: "devices/sim/status".into(),
        payload: bytes("offline"),
        qos: QoS::AtLeastOnce,
        retain: true,
        ..Will::default()
    };
    will.properties.will_delay_interval = Some(5);
    will.properties.content_type = Some("text/plain".into());
    cfg.will = Some(will.clone());
    let mut sim = Sim::new(cfg);
    let c = sim.connect();
    assert_eq!(c.protocol, ProtocolVersion::V5);
    assert_eq!(&*c.client_id, "sim");
    assert_eq!(c.username.as_deref(), Some("user"));
    assert_eq!(c.password.as_deref(), Some(&b"secret"[..]));
    assert_eq!(c.keep_alive, 20);
    assert!(!c.clean_start);
    assert_eq!(c.will, Some(will));
    let p = &c.properties;
    assert_eq!(p.session_expiry_interval, Some(3600));
    assert_eq!(p.receive_maximum, Some(50));
    assert_eq!(p.maximum_packet_size, Some(4096));
    assert_eq!(p.topic_alias_maximum, Some(8));
    assert_eq!(p.request_response_information, Some(true));
    assert_eq!(p.request_problem_information, Some(false));
    assert_eq!(p.user_properties.len(), 1);
}

#[test]
fn connect_v311_has_no_properties() {
    let mut sim = Sim::v4();
    let c = sim.connect();
    assert_eq!(c.protocol, ProtocolVersion::V3_1_1);
    assert!(c.properties.is_empty());
}

#[test]
fn first_packet_is_connect_and_nothing_else_goes_before_connack() {
    // [MQTT-3.1.0-1]; a publish made while connecting waits for CONNACK.
    let mut sim = Sim::v5();
    sim.client.start(sim.now);
    sim.run();
    sim.publish("a", "x", QoS::AtMostOnce);
    let sent = sim.sent();
    assert!(matches!(sent.as_slice(), [Packet::Connect(_)]), "{sent:?}");
    sim.send(Packet::ConnAck(ConnAck::default()));
    assert!(matches!(sim.sent().as_slice(), [Packet::Publish(_)]));
}

#[test]
fn an_assigned_client_identifier_is_used_from_then_on() {
    // [MQTT-3.2.2-16]: empty id, the server assigns one; reconnects resume with it.
    let mut cfg = config(ProtocolVersion::V5);
    cfg.client_id = String::new();
    let mut sim = Sim::new(cfg);
    let c = sim.connect_with(connack_props(|p| {
        p.assigned_client_identifier = Some("auto-7".into())
    }));
    assert_eq!(&*c.client_id, "");
    assert_eq!(sim.client.client_id(), "auto-7");
    sim.drop_connection("reset");
    let c = sim.reconnect_with(ConnAck::default());
    assert_eq!(&*c.client_id, "auto-7");
}

#[test]
fn server_keep_alive_overrides_ours() {
    // [MQTT-3.1.2-23]: the client uses the Server Keep Alive.
    let mut sim = Sim::v5();
    sim.connect_with(connack_props(|p| p.server_keep_alive = Some(5)));
    sim.events();
    assert_eq!(sim.client.server().unwrap().keep_alive, 5);
    sim.advance(Duration::from_millis(4_900));
    assert!(sim.sent().is_empty());
    sim.advance(Duration::from_millis(200));
    assert_eq!(sim.sent(), vec![Packet::PingReq]);
}

#[test]
fn no_connack_within_the_connect_timeout_is_an_error_and_a_retry() {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.connect_timeout = Duration::from_secs(10);
    let mut sim = Sim::new(cfg);
    sim.client.start(sim.now);
    sim.run();
    sim.sent();
    sim.advance(Duration::from_millis(9_999));
    assert!(sim
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Disconnected { .. })));
    sim.advance(Duration::from_millis(1));
    let events = sim.events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                error: Some(ClientError::ConnectTimeout(10_000)),
                reconnect_at: Some(_)
            }
        )),
        "{events:?}"
    );
    assert_eq!(sim.close_requests, 1);
}

#[test]
fn a_transport_that_never_opens_times_out_too() {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.connect_timeout = Duration::from_secs(5);
    let mut sim = Sim::new(cfg);
    sim.auto_open = false;
    sim.client.start(sim.now);
    sim.run();
    sim.advance(Duration::from_secs(5));
    assert!(sim.events().iter().any(|e| matches!(
        e,
        Event::Disconnected {
            error: Some(ClientError::ConnectTimeout(_)),
            ..
        }
    )));
}

#[test]
fn a_v311_refusal_is_a_typed_error_and_bad_credentials_are_not_retried() {
    // CONNACK return code 4 (bad user name or password) maps to reason 0x86.
    let mut sim = Sim::v4();
    sim.connect_with(ConnAck {
        reason_code: ReasonCode::BadUserNameOrPassword,
        ..ConnAck::default()
    });
    let events = sim.events();
    let refused = ClientError::ConnectionRefused {
        reason: ReasonCode::BadUserNameOrPassword,
        reason_string: None,
    };
    assert!(
        events.contains(&Event::Stopped(refused.clone())),
        "{events:?}"
    );
    assert!(refused
        .to_string()
        .contains("check the user name and password"));
    assert_eq!(
        refused.reason_code(),
        Some(ReasonCode::BadUserNameOrPassword)
    );
    // Nothing is retried, however long we wait.
    sim.advance(Duration::from_secs(3600));
    assert_eq!(sim.opened.len(), 1);
    assert_eq!(sim.client.state_name(), "stopped");
    // New credentials start it again.
    sim.client
        .set_credentials(sim.now, Some("u".into()), Some(bytes("right")));
    sim.run();
    assert_eq!(sim.opened.len(), 2);
}

#[test]
fn a_v5_refusal_carries_its_reason_string() {
    let mut sim = Sim::v5();
    sim.connect_with(ConnAck {
        reason_code: ReasonCode::NotAuthorized,
        properties: {
            let mut p = Properties::default();
            p.reason_string = Some("tenant suspended".into());
            p
        },
        ..ConnAck::default()
    });
    let stopped = sim.events().into_iter().find_map(|e| match e {
        Event::Stopped(e) => Some(e),
        _ => None,
    });
    let e = stopped.expect("stopped");
    assert_eq!(e.reason_code(), Some(ReasonCode::NotAuthorized));
    assert!(e.to_string().contains("tenant suspended"), "{e}");
}

#[test]
fn a_packet_before_connack_is_a_protocol_error() {
    // [MQTT-3.2.0-1]: the server sends CONNACK before anything but AUTH.
    let mut sim = Sim::v5();
    sim.client.start(sim.now);
    sim.run();
    sim.sent();
    sim.send(publish("a", "x", QoS::AtMostOnce, 0));
    let sent = sim.sent();
    assert!(
        matches!(&sent[..], [Packet::Disconnect(d)] if d.reason_code == ReasonCode::ProtocolError),
        "{sent:?}"
    );
    assert!(sim.events().iter().any(|e| matches!(
        e,
        Event::Disconnected {
            error: Some(ClientError::ProtocolViolation { .. }),
            ..
        }
    )));
    assert!(sim.messages().is_empty());
}

#[test]
fn extended_authentication_and_reauthentication() {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.authentication_method = Some("SCRAM-SHA-1".into());
    cfg.authentication_data = Some(bytes("client-first"));
    let mut sim = Sim::new(cfg);
    sim.client.start(sim.now);
    sim.run();
    let Packet::Connect(c) = &sim.sent()[0] else {
        panic!()
    };
    assert_eq!(
        c.properties.authentication_method.as_deref(),
        Some("SCRAM-SHA-1")
    );
    assert_eq!(
        c.properties.authentication_data.as_deref(),
        Some(&b"client-first"[..])
    );
    // The server challenges; the application answers [MQTT-4.12.0-2], [MQTT-4.12.0-3].
    let mut challenge = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        ..Auth::default()
    };
    challenge.properties.authentication_method = Some("SCRAM-SHA-1".into());
    challenge.properties.authentication_data = Some(bytes("server-first"));
    sim.send(Packet::Auth(challenge.clone()));
    let events = sim.events();
    assert!(
        events.iter().any(
            |e| matches!(e, Event::AuthChallenge { data: Some(d), .. } if &d[..] == b"server-first")
        ),
        "{events:?}"
    );
    sim.client
        .auth_continue(sim.now, Some(bytes("client-final")))
        .unwrap();
    sim.run();
    let sent = sim.sent();
    assert!(
        matches!(&sent[..], [Packet::Auth(a)] if a.reason_code == ReasonCode::ContinueAuthentication
        && a.properties.authentication_method.as_deref() == Some("SCRAM-SHA-1")
        && a.properties.authentication_data.as_deref() == Some(&b"client-final"[..])),
        "{sent:?}"
    );
    // A successful CONNACK repeats the method [MQTT-4.12.0-5].
    sim.send(Packet::ConnAck(connack_props(|p| {
        p.authentication_method = Some("SCRAM-SHA-1".into())
    })));
    assert!(sim.client.is_connected());
    // Re-authentication [MQTT-4.12.1-1].
    sim.client
        .reauthenticate(sim.now, Some(bytes("again")))
        .unwrap();
    sim.run();
    assert!(
        matches!(&sim.sent()[..], [Packet::Auth(a)] if a.reason_code == ReasonCode::ReAuthenticate)
    );
    let mut ok = Auth::default();
    ok.properties.authentication_method = Some("SCRAM-SHA-1".into());
    sim.send(Packet::Auth(ok));
    assert!(sim.events().contains(&Event::Reauthenticated));
}

#[test]
fn auth_without_a_method_is_a_protocol_error() {
    // [MQTT-4.12.0-6]
    let mut sim = Sim::v5();
    sim.connect();
    let mut a = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        ..Auth::default()
    };
    a.properties.authentication_method = Some("X".into());
    sim.send(Packet::Auth(a));
    assert!(
        matches!(&sim.sent()[..], [Packet::Disconnect(d)] if d.reason_code == ReasonCode::ProtocolError)
    );
}
