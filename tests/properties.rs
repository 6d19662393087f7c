//! MQTT 5 application properties pass through both ways; the request/response helper.

mod common;

use std::time::Duration;

use common::*;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

#[test]
fn outgoing_properties_pass_through() {
    let mut sim = Sim::v5();
    sim.connect();
    let mut p = Publish::new("cmd/lamp", "{\"on\":true}");
    p.properties.payload_format_indicator = Some(true);
    p.properties.content_type = Some("application/json".into());
    p.properties.response_topic = Some("replies/me".into());
    p.properties.correlation_data = Some(bytes("req-1"));
    p.properties.user_properties = vec![
        ("trace".into(), "abc".into()),
        ("trace".into(), "def".into()),
    ];
    sim.client.publish(sim.now, p.clone()).unwrap();
    sim.run();
    let Packet::Publish(sent) = &sim.sent()[0] else {
        panic!()
    };
    assert_eq!(sent.properties, p.properties);
}

#[test]
fn incoming_properties_and_subscription_identifiers_are_delivered() {
    // [MQTT-3.3.4-3]: subscription identifiers route to the subscriptions that made them.
    let mut sim = Sim::v5();
    sim.connect();
    let (_, ids) = sim
        .client
        .subscribe(
            sim.now,
            vec![("a/#".into(), SubscriptionOptions::default())],
            Some(7),
            vec![],
        )
        .unwrap();
    sim.run();
    let Packet::Subscribe(s) = &sim.sent()[0] else {
        panic!()
    };
    assert_eq!(s.properties.subscription_identifiers, vec![7]);
    sim.send(Packet::SubAck(SubAck {
        packet_id: s.packet_id,
        reason_codes: vec![ReasonCode::Success],
        properties: Properties::default(),
    }));
    let mut p = Publish::new("a/b", "x");
    p.properties.subscription_identifiers = vec![7];
    p.properties.content_type = Some("text/plain".into());
    p.properties.user_properties = vec![("k".into(), "v".into())];
    sim.send(Packet::Publish(p.clone()));
    let m = sim.messages().remove(0);
    assert_eq!(m.publish.properties, p.properties);
    assert_eq!(m.subscriptions, ids);
}

#[test]
fn a_client_publish_never_carries_subscription_identifiers() {
    // [MQTT-3.3.4-6]
    let mut sim = Sim::v5();
    let mut p = Publish::new("t", "x");
    p.properties.subscription_identifiers = vec![1];
    assert!(matches!(
        sim.client.publish(sim.now, p),
        Err(ClientError::Unsupported(_))
    ));
}

#[test]
fn request_and_response() {
    let mut sim = Sim::v5();
    sim.connect();
    let op = sim
        .client
        .request(
            sim.now,
            Publish::new("svc/time", "now?"),
            RequestOptions::default(),
        )
        .unwrap();
    sim.run();
    let sent = sim.sent();
    let (sub, req) = match &sent[..] {
        [Packet::Subscribe(s), Packet::Publish(p)] => (s.clone(), p.clone()),
        other => panic!("{other:?}"),
    };
    let response_topic = req.properties.response_topic.clone().unwrap();
    assert_eq!(&*response_topic, "wasmqtt/response/sim");
    assert_eq!(sub.subscriptions[0].filter, response_topic);
    let correlation = req.properties.correlation_data.clone().unwrap();
    assert_eq!(correlation.len(), 16);
    sim.send(Packet::SubAck(SubAck {
        packet_id: sub.packet_id,
        reason_codes: vec![ReasonCode::GrantedQoS1],
        properties: Properties::default(),
    }));
    sim.send(Packet::PubAck(PubResp::new(req.packet_id)));
    // A response with other correlation data is not ours.
    let mut other = Publish::new(&*response_topic, "stale");
    other.properties.correlation_data = Some(bytes("nope"));
    sim.send(Packet::Publish(other));
    let mut reply = Publish::new(&*response_topic, "12:00");
    reply.properties.correlation_data = Some(correlation);
    sim.send(Packet::Publish(reply));
    let events = sim.events();
    let response = events.iter().find_map(|e| match e {
        Event::Response { id, result: Ok(m) } if *id == op => Some(m.clone()),
        _ => None,
    });
    assert_eq!(&response.expect("response").publish.payload[..], b"12:00");
    assert!(
        !events.iter().any(|e| matches!(e, Event::Message(_))),
        "responses are not also messages: {events:?}"
    );
    // A second request reuses the subscription.
    sim.client
        .request(
            sim.now,
            Publish::new("svc/time", "again"),
            RequestOptions::default(),
        )
        .unwrap();
    sim.run();
    assert!(matches!(&sim.sent()[..], [Packet::Publish(_)]));
}

#[test]
fn a_request_without_response_times_out() {
    let mut sim = Sim::v5();
    sim.connect();
    let opts = RequestOptions {
        timeout: Duration::from_secs(5),
        ..RequestOptions::default()
    };
    let op = sim
        .client
        .request(sim.now, Publish::new("svc", "?"), opts)
        .unwrap();
    sim.run();
    sim.advance(Duration::from_secs(5));
    assert!(sim.events().contains(&Event::Response {
        id: op,
        result: Err(ClientError::RequestTimeout(5_000))
    }));
}

#[test]
fn requests_need_v5_and_are_bounded() {
    let mut sim = Sim::v4();
    assert!(matches!(
        sim.client
            .request(sim.now, Publish::new("a", ""), RequestOptions::default()),
        Err(ClientError::Unsupported(_))
    ));
    let mut cfg = config(ProtocolVersion::V5);
    cfg.max_pending_requests = 2;
    let mut sim = Sim::new(cfg);
    for _ in 0..2 {
        sim.client
            .request(sim.now, Publish::new("a", ""), RequestOptions::default())
            .unwrap();
    }
    assert!(matches!(
        sim.client
            .request(sim.now, Publish::new("a", ""), RequestOptions::default()),
        Err(ClientError::TooMany { max: 2, .. })
    ));
}
