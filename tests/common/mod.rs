//! Deterministic simulation: a client, a scripted fake broker, a virtual clock.
//!
//! The test plays the broker: it reads what the client sent (`sent()`), answers with packets
//! (`send()`), and moves time (`advance()`), which fires exactly the client's timers in order.
#![allow(dead_code)]

pub mod mosquitto;
pub mod tcp;

use std::time::Duration;

use bytes::Bytes;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

pub struct Sim {
    pub client: Client,
    pub now: Instant,
    pub version: ProtocolVersion,
    /// The broker's decoder of what the client sends (a fresh one per connection).
    broker_rx: Decoder,
    /// Packets the client sent, not yet taken by the test.
    sent: Vec<Packet>,
    /// Events the client reported, not yet taken by the test.
    events: Vec<Event>,
    /// Transport: open or not, and what the client asked for.
    pub open: bool,
    pub opened: Vec<String>,
    pub close_requests: usize,
    /// Whether `run` completes transport opens by itself.
    pub auto_open: bool,
    /// Raw bytes of each transmit batch (to check coalescing).
    pub batches: Vec<usize>,
    /// Whether the driver takes transmit batches (false: a full socket, back-pressure).
    pub writable: bool,
}

pub fn config(v: ProtocolVersion) -> Config {
    Config {
        urls: vec!["ws://127.0.0.1:1/mqtt".into()],
        protocol: v,
        client_id: "sim".into(),
        keep_alive: 60,
        ..Config::default()
    }
}

impl Sim {
    pub fn new(cfg: Config) -> Sim {
        let version = cfg.protocol;
        Sim {
            client: Client::new(cfg),
            now: Instant::from_millis(1_000_000),
            version,
            broker_rx: Decoder::new(version),
            sent: Vec::new(),
            events: Vec::new(),
            open: false,
            opened: Vec::new(),
            close_requests: 0,
            auto_open: true,
            batches: Vec::new(),
            writable: true,
        }
    }

    pub fn v5() -> Sim {
        Sim::new(config(ProtocolVersion::V5))
    }

    pub fn v4() -> Sim {
        Sim::new(config(ProtocolVersion::V3_1_1))
    }

    /// Drains every output of the client, as a driver does after each input.
    pub fn run(&mut self) {
        for _ in 0..1000 {
            let mut progress = false;
            while self.writable {
                // Drivers skip the socket when `may_transmit` says there is nothing: every
                // simulated run checks that it never hides bytes.
                let may = self.client.may_transmit();
                let Some(bytes) = self.client.poll_transmit(self.now) else {
                    break;
                };
                assert!(
                    may,
                    "may_transmit() was false but poll_transmit() had bytes"
                );
                progress = true;
                assert!(self.open, "the client transmitted with no open transport");
                self.batches.push(bytes.len());
                self.broker_rx.push(&bytes);
                while let Some(p) = self
                    .broker_rx
                    .decode()
                    .expect("the client sent a malformed packet")
                {
                    self.sent.push(p);
                }
            }
            while let Some(action) = self.client.poll_transport() {
                progress = true;
                match action {
                    TransportAction::Open(url) => {
                        self.opened.push(url);
                        if self.auto_open {
                            self.open = true;
                            self.broker_rx = Decoder::new(self.version);
                            self.client.handle_open(self.now);
                        }
                    }
                    TransportAction::Close => {
                        // Closing also aborts a transport still opening; either way the
                        // driver reports it closed.
                        self.close_requests += 1;
                        self.open = false;
                        self.client.handle_close(self.now, None);
                    }
                }
            }
            while let Some(e) = self.client.poll_event() {
                progress = true;
                self.events.push(e);
            }
            if !progress {
                return;
            }
        }
        panic!("the client never stopped producing output");
    }

    /// Completes a pending transport open by hand (with `auto_open` off).
    pub fn complete_open(&mut self) {
        self.open = true;
        self.broker_rx = Decoder::new(self.version);
        self.client.handle_open(self.now);
        self.run();
    }

    /// Advances the virtual clock by `d`, firing every timer due on the way, in order.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            match self.client.poll_timeout() {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.client.handle_timeout(self.now);
                    self.run();
                }
                _ => break,
            }
        }
        self.now = end;
        self.run();
    }

    /// The broker sends a packet.
    pub fn send(&mut self, p: Packet) {
        let bytes = p.to_bytes(self.version).expect("test packet must encode");
        self.send_bytes(&bytes);
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        assert!(self.open, "sending on a closed transport");
        self.client.handle_bytes(self.now, bytes);
        self.run();
    }

    /// The network drops the connection.
    pub fn drop_connection(&mut self, detail: &str) {
        if self.open {
            self.open = false;
            self.client.handle_close(self.now, Some(detail.into()));
            self.run();
        }
    }

    /// Packets the client sent since the last call.
    pub fn sent(&mut self) -> Vec<Packet> {
        std::mem::take(&mut self.sent)
    }

    /// Events since the last call.
    pub fn events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Starts the client and answers its CONNECT with `connack`; returns the CONNECT.
    pub fn connect_with(&mut self, connack: ConnAck) -> Connect {
        self.client.start(self.now);
        self.run();
        let connect = match self.sent().as_slice() {
            [Packet::Connect(c)] => (**c).clone(),
            other => panic!("expected CONNECT, got {other:?}"),
        };
        self.send(Packet::ConnAck(connack));
        connect
    }

    /// Connects with a plain successful CONNACK and drains the events.
    pub fn connect(&mut self) -> Connect {
        let c = self.connect_with(ConnAck::default());
        assert!(
            self.client.is_connected(),
            "not connected: {:?}",
            self.events
        );
        self.events();
        c
    }

    /// Fires timers one by one (up to `max` of virtual time) until the client sends CONNECT.
    pub fn until_connect(&mut self, max: Duration) -> Option<Connect> {
        let end = self.now + max;
        loop {
            if let Some(i) = self
                .sent
                .iter()
                .position(|p| matches!(p, Packet::Connect(_)))
            {
                let Packet::Connect(c) = self.sent.remove(i) else {
                    unreachable!()
                };
                return Some(*c);
            }
            match self.client.poll_timeout() {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.client.handle_timeout(self.now);
                    self.run();
                }
                _ => return None,
            }
        }
    }

    /// Reconnects after a drop: waits out the backoff, answers the CONNECT at once.
    pub fn reconnect_with(&mut self, connack: ConnAck) -> Connect {
        let connect = self
            .until_connect(Duration::from_secs(120))
            .expect("the client did not reconnect");
        self.send(Packet::ConnAck(connack));
        connect
    }

    pub fn publish(&mut self, topic: &str, payload: &str, qos: QoS) -> OpId {
        let mut p = Publish::new(topic, payload.to_string());
        p.qos = qos;
        let id = self.client.publish(self.now, p).expect("publish accepted");
        self.run();
        id
    }

    pub fn subscribe(&mut self, filter: &str, qos: QoS) -> (OpId, SubscriptionId) {
        let (op, ids) = self
            .client
            .subscribe(
                self.now,
                vec![(
                    filter.into(),
                    SubscriptionOptions {
                        qos,
                        ..Default::default()
                    },
                )],
                None,
                vec![],
            )
            .expect("subscribe accepted");
        self.run();
        (op, ids[0])
    }

    /// The broker acknowledges every SUBSCRIBE the client sent, granting what was asked.
    pub fn grant_subscriptions(&mut self) {
        for p in self.sent() {
            if let Packet::Subscribe(s) = p {
                let codes = s
                    .subscriptions
                    .iter()
                    .map(|x| ReasonCode::granting(x.options.qos))
                    .collect();
                self.send(Packet::SubAck(SubAck {
                    packet_id: s.packet_id,
                    reason_codes: codes,
                    properties: Properties::default(),
                }));
            }
        }
    }

    /// Events of one kind.
    pub fn published(&mut self) -> Vec<(OpId, Result<ReasonCode, ClientError>)> {
        let mut out = Vec::new();
        let mut rest = Vec::new();
        for e in self.events() {
            match e {
                Event::Published { id, result, .. } => out.push((id, result)),
                other => rest.push(other),
            }
        }
        self.events = rest;
        out
    }

    pub fn messages(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        let mut rest = Vec::new();
        for e in self.events() {
            match e {
                Event::Message(m) => out.push(*m),
                other => rest.push(other),
            }
        }
        self.events = rest;
        out
    }
}

/// A PUBLISH the broker sends.
pub fn publish(topic: &str, payload: &str, qos: QoS, id: u16) -> Packet {
    let mut p = Publish::new(topic, payload.to_string());
    p.qos = qos;
    p.packet_id = id;
    Packet::Publish(p)
}

pub fn connack_props(f: impl FnOnce(&mut PropertyValues)) -> ConnAck {
    let mut c = ConnAck::default();
    f(&mut c.properties);
    c
}

pub fn bytes(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}
