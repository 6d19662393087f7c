//! The client exports: `RawClient` runs a [`Driver`] for the JavaScript `MqttClient` in
//! `client.js`. Options, publishes and subscriptions arrive as tapes; events leave as an event
//! tape, one JavaScript call per batch.
//!
//! Length: the exported methods are a thin layer each (tape in, driver call, result out), and the
//! options tape's keys and the event tape's writer belong beside them (one contract).

use crate::text::Piece;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::tape::{self, key, Extra, Sink};
use crate::codec::{
    ConnAck, Packet, ProtocolVersion, Publish, QoS, ReasonCode, SubscriptionOptions,
};
use crate::proto::{
    ClientError, Config, DisconnectOptions, Event, Message, OpId, OutboxPolicy, RequestOptions,
};
use crate::web::{
    Credentials, CredentialsProvider, CredentialsRequest, Driver, Notice, Options, Persistence,
    WebError,
};

/// Configuration keys of the options tape (bit 0x800: the value is bytes). Mirrored in
/// `client.js`.
#[allow(missing_docs)]
pub mod cfg {
    pub const URL: u32 = 0xC01;
    pub const PERSISTENCE_KEY: u32 = 0xC02;
    pub const CONNECT_TIMEOUT: u32 = 0x401;
    pub const RECONNECT_INITIAL: u32 = 0x402;
    pub const RECONNECT_MAX: u32 = 0x403;
    pub const STABLE_AFTER: u32 = 0x404;
    pub const BUSY_DELAY: u32 = 0x405;
    pub const TAKEOVER_WINDOW: u32 = 0x406;
    pub const TAKEOVER_THRESHOLD: u32 = 0x407;
    pub const MAX_REDIRECTS: u32 = 0x408;
    pub const PING_TIMEOUT: u32 = 0x409;
    pub const OUTBOX_MAX_MESSAGES: u32 = 0x40A;
    pub const OUTBOX_MAX_BYTES: u32 = 0x40B;
    pub const OUTBOX_POLICY: u32 = 0x40C;
    pub const QUEUE_QOS0: u32 = 0x40D;
    pub const MAX_INFLIGHT: u32 = 0x40E;
    pub const PERSISTENCE: u32 = 0x40F;
    pub const WORKER_TIMER: u32 = 0x410;
    pub const HIGH_WATER: u32 = 0x411;
    pub const SEED_LO: u32 = 0x412;
    pub const SEED_HI: u32 = 0x413;
    pub const DISCONNECT_TIMEOUT: u32 = 0x414;
    pub const REDIRECT_CREDENTIALS: u32 = 0x415;
    pub const LOWEST_FREE_IDS: u32 = 0x416;
}

/// Event tape keys (each event starts with one; strings are (address, length)). Mirrored in
/// `client.js`.
#[allow(missing_docs)]
pub mod ev {
    pub const CONNECTED: u32 = 0x1001;
    pub const DISCONNECTED: u32 = 0x1002;
    pub const CONNECTING: u32 = 0x1003;
    pub const STOPPED: u32 = 0x1004;
    pub const MESSAGE: u32 = 0x1005;
    pub const PUBLISHED: u32 = 0x1006;
    pub const SUBSCRIBED: u32 = 0x1008;
    pub const UNSUBSCRIBED: u32 = 0x1009;
    pub const RESPONSE: u32 = 0x100A;
    pub const AUTH: u32 = 0x100B;
    pub const REAUTHENTICATED: u32 = 0x100C;
    pub const PERSISTENCE: u32 = 0x100D;
    pub const PACKET_SENT: u32 = 0x100E;
    pub const PACKET_RECEIVED: u32 = 0x100F;
    /// An error follows: a = reason code (0xFFFF: none); then ERR_KIND and ERR_MESSAGE.
    pub const ERR: u32 = 0x1020;
    pub const ERR_KIND: u32 = 0x1021;
    pub const ERR_MESSAGE: u32 = 0x1022;
    pub const STR: u32 = 0x1030;
    pub const SUB_ID: u32 = 0x1031;
    pub const CODE: u32 = 0x1032;
    pub const BYTES: u32 = 0x1033;
    /// Ends a packet embedded in an event.
    pub const END: u32 = 0x10FF;
}

/// The first byte of a PUBLISH as JavaScript reads it: type, DUP, QoS, RETAIN.
fn publish_first_byte(x: &Publish) -> u8 {
    0x30 | (u8::from(x.dup) << 3) | ((x.qos as u8) << 1) | u8::from(x.retain)
}

/// The event tape and what its pointers point into, alive until JavaScript has read it.
#[derive(Default)]
struct EventTape {
    words: Vec<u32>,
    strings: Vec<String>,
    keep: Vec<Notice>,
    topics: tape::TopicCache,
}

impl Sink for EventTape {
    fn topic(&mut self, topic: &crate::codec::ByteStr) {
        self.topics.write(topic, &mut self.words);
    }
    fn header(&mut self, first_byte: u8, remaining_length: u32) {
        self.words
            .extend_from_slice(&[key::HEADER, first_byte.into(), remaining_length]);
    }
    fn int(&mut self, k: u32, v: u32) {
        self.words.extend_from_slice(&[k, v, 0]);
    }
    fn bytes(&mut self, k: u32, b: &[u8]) {
        self.words
            .extend_from_slice(&[k, b.as_ptr() as usize as u32, b.len() as u32]);
    }
}

impl EventTape {
    /// An operation id, whole: low word, high word (JavaScript numbers hold it exactly up to
    /// 2^53; cut to 32 bits, completions stopped matching their calls after 2^32 operations).
    fn op(&mut self, k: u32, id: OpId) {
        let (lo, hi) = tape::split_id(id.0);
        self.words.extend_from_slice(&[k, lo, hi]);
    }

    fn string(&mut self, k: u32, s: String) {
        self.words
            .extend_from_slice(&[k, s.as_ptr() as usize as u32, s.len() as u32]);
        self.strings.push(s);
    }

    fn error(&mut self, e: &ClientError) {
        let code = e.reason_code().map_or(0xFFFF, |c| c as u32);
        self.int(ev::ERR, code);
        self.string(ev::ERR_KIND, e.kind().to_string());
        self.string(ev::ERR_MESSAGE, e.message());
    }

    fn packet(&mut self, p: &Packet, v: ProtocolVersion) {
        // Only the fields matter to JavaScript: the first byte carries type and flags.
        let first = match p {
            Packet::Publish(x) => publish_first_byte(x),
            other => (other.packet_type() as u8) << 4,
        };
        tape::walk_packet(first, 0, p, v, self);
        self.int(ev::END, 0);
    }

    /// A packet with the flags of its first byte (PUBREL, SUBSCRIBE and UNSUBSCRIBE carry
    /// 0b0010 [MQTT-3.6.1-1], [MQTT-3.8.1-1], [MQTT-3.10.1-1]), as mqtt-packet decodes it.
    fn whole_packet(&mut self, p: &Packet, v: ProtocolVersion) {
        let first = match p {
            Packet::Publish(x) => publish_first_byte(x),
            Packet::PubRel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => {
                ((p.packet_type() as u8) << 4) | 0b0010
            }
            other => (other.packet_type() as u8) << 4,
        };
        tape::walk_packet(first, 0, p, v, self);
        self.int(ev::END, 0);
    }

    fn message(&mut self, m: &Message) {
        let p = &m.publish;
        // Borrowed, not cloned into a `Packet`: this runs once per message received.
        tape::walk_publish(publish_first_byte(p), p, self);
        self.int(ev::END, 0);
        for s in &m.subscriptions {
            self.int(ev::SUB_ID, s.0 as u32);
        }
    }

    /// Writes one notice. Pointers into it stay valid: it is kept in `keep` afterwards.
    fn notice(&mut self, n: &Notice, v: ProtocolVersion) {
        match n {
            Notice::Event(e) => match e {
                Event::Connected(info) => {
                    self.int(ev::CONNECTED, info.session_present.into());
                    self.string(ev::STR, info.client_id.clone());
                    let connack = ConnAck {
                        session_present: info.session_present,
                        reason_code: ReasonCode::Success,
                        properties: info.properties.clone(),
                    };
                    self.packet(&Packet::ConnAck(connack), v);
                }
                Event::Disconnected {
                    error,
                    reconnect_at,
                } => {
                    // The delay is computed by the caller's clock: send the absolute instant in ms.
                    let at =
                        reconnect_at.map_or(u32::MAX, |i| (i.as_millis() & 0xFFFF_FFFF) as u32);
                    self.int(ev::DISCONNECTED, at);
                    if let Some(e) = error {
                        self.error(e);
                        if let ClientError::ServerDisconnected { reason, .. } = e {
                            self.int(ev::CODE, *reason as u32);
                        }
                    }
                }
                Event::Connecting { attempt, url } => {
                    self.int(ev::CONNECTING, *attempt);
                    self.string(ev::STR, url.clone());
                }
                Event::Stopped(e) => {
                    self.int(ev::STOPPED, 0);
                    self.error(e);
                }
                Event::Message(m) => {
                    self.int(ev::MESSAGE, 0);
                    self.message(m);
                }
                Event::Published {
                    id,
                    result,
                    packet_id,
                } => {
                    // The reason code in the low byte, the acknowledgement's packet id above.
                    let code = result.as_ref().map_or(0, |c| *c as u32)
                        | u32::from(packet_id.unwrap_or(0)) << 8;
                    self.op(ev::PUBLISHED, *id);
                    match result {
                        Ok(_) => self.int(ev::CODE, code),
                        Err(e) => self.error(e),
                    }
                }
                Event::Subscribed { id, result } => {
                    self.op(ev::SUBSCRIBED, *id);
                    match result {
                        Ok(granted) => {
                            for g in granted {
                                let c = match g {
                                    Ok(q) => *q as u32,
                                    Err(r) => *r as u32,
                                };
                                self.int(ev::CODE, c);
                            }
                        }
                        Err(e) => self.error(e),
                    }
                }
                Event::Unsubscribed { id, result } => {
                    self.op(ev::UNSUBSCRIBED, *id);
                    match result {
                        Ok(codes) => {
                            for c in codes {
                                self.int(ev::CODE, *c as u32);
                            }
                        }
                        Err(e) => self.error(e),
                    }
                }
                Event::Response { id, result } => {
                    self.op(ev::RESPONSE, *id);
                    match result {
                        Ok(m) => self.message(m),
                        Err(e) => self.error(e),
                    }
                }
                Event::AuthChallenge { method, data } => {
                    self.int(ev::AUTH, 0);
                    self.string(ev::STR, method.clone());
                    if let Some(d) = data {
                        self.bytes(ev::BYTES, d);
                    }
                }
                Event::Reauthenticated => self.int(ev::REAUTHENTICATED, 0),
                Event::PacketSent(p) => {
                    self.int(ev::PACKET_SENT, 0);
                    self.whole_packet(p, v);
                }
                Event::PacketReceived(p) => {
                    self.int(ev::PACKET_RECEIVED, 0);
                    self.whole_packet(p, v);
                }
            },
            Notice::Persistence(msg) => {
                self.int(ev::PERSISTENCE, 0);
                self.string(ev::ERR_MESSAGE, msg.clone());
            }
        }
    }
}

fn js_string(v: &JsValue) -> Option<String> {
    v.as_string()
}

/// Calls the application's credentials provider and reads `{ url, username, password }`.
fn provider(f: js_sys::Function) -> CredentialsProvider {
    Rc::new(move |req: CredentialsRequest| {
        let f = f.clone();
        Box::pin(async move {
            let r = f
                .call2(
                    &JsValue::NULL,
                    &JsValue::from_str(&req.url),
                    &JsValue::from(req.attempt),
                )
                .map_err(|e| {
                    WebError::Credentials(js_string(&e).unwrap_or_else(|| "it threw".into()))
                })?;
            let r = match r.dyn_ref::<js_sys::Promise>() {
                Some(p) => wasm_bindgen_futures::JsFuture::from(p.clone())
                    .await
                    .map_err(|e| {
                        WebError::Credentials(
                            js_string(&e).unwrap_or_else(|| "its promise was rejected".into()),
                        )
                    })?,
                None => r,
            };
            if r.is_undefined() || r.is_null() {
                return Ok(Credentials::default());
            }
            let get = |k: &str| {
                js_sys::Reflect::get(&r, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
            };
            let password = get("password");
            Ok(Credentials {
                url: js_string(&get("url")),
                username: js_string(&get("username")),
                password: match password.as_string() {
                    Some(s) => Some(Bytes::from(s.into_bytes())),
                    None if password.is_instance_of::<js_sys::Uint8Array>() => {
                        Some(Bytes::from(js_sys::Uint8Array::new(&password).to_vec()))
                    }
                    None => None,
                },
            })
        })
    })
}

/// A client for JavaScript (wrapped by `MqttClient` in `client.js`).
// Design: JavaScript writes options, publishes and subscriptions as tapes into `tape` (as for
// `encodePacket`); the driver's events come back through `dispatch` as an event tape. The
// last synchronous error is kept for JavaScript to turn into an `MqttError`.
#[wasm_bindgen]
pub struct RawClient {
    tape: BytesMut,
    driver: Option<Driver>,
    version: ProtocolVersion,
    dispatch: js_sys::Function,
    credentials: Option<js_sys::Function>,
    socket: Option<js_sys::Function>,
    error: Option<ClientError>,
    last_ids: Vec<u32>,
}

#[wasm_bindgen]
impl RawClient {
    /// A client reporting to `dispatch(address, words)`; `credentials` is the optional
    /// provider, `socket` the optional socket constructor (see `web::Options::socket`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        dispatch: js_sys::Function,
        credentials: Option<js_sys::Function>,
        socket: Option<js_sys::Function>,
    ) -> RawClient {
        RawClient {
            tape: BytesMut::new(),
            driver: None,
            version: ProtocolVersion::V3_1_1,
            dispatch,
            credentials,
            socket,
            error: None,
            last_ids: Vec::new(),
        }
    }

    /// Makes the tape `n` bytes long (keeping what was written) and returns its address.
    pub fn tape(&mut self, n: u32) -> u32 {
        self.tape.resize(n as usize, 0);
        self.tape.as_ptr() as usize as u32
    }

    fn take_tape(&mut self, len: u32) -> Bytes {
        self.tape.truncate(len as usize);
        self.tape.split().freeze()
    }

    fn fail(&mut self, e: ClientError) -> f64 {
        self.error = Some(e);
        -1.0
    }

    /// Configures from the options tape (a CONNECT plus configuration keys): 0, or -1.
    pub fn configure(&mut self, len: u32) -> i32 {
        let tape = self.take_tape(len);
        match self.build(tape) {
            Ok(()) => 0,
            Err(e) => {
                self.error = Some(e);
                -1
            }
        }
    }

    fn build(&mut self, tape: Bytes) -> Result<(), ClientError> {
        let (packet, extra) = tape::packet_and_extra(tape, ProtocolVersion::V3_1_1)
            .map_err(|e| ClientError::Config(e.0))?;
        let Packet::Connect(c) = packet else {
            return Err(ClientError::Config(
                "the options tape must describe a CONNECT".into(),
            ));
        };
        // Refuse what the server would refuse anyway, now, with the codec's reason.
        Packet::Connect(c.clone())
            .encoded_len(c.protocol)
            .map_err(ClientError::Encode)?;
        let p = &c.properties;
        let mut config = Config {
            protocol: c.protocol,
            client_id: crate::text::owned(&c.client_id),
            clean_start: c.clean_start,
            keep_alive: c.keep_alive,
            username: c.username.as_ref().map(|s| crate::text::owned(s)),
            password: c.password.clone(),
            will: c.will.clone(),
            session_expiry_interval: p.session_expiry_interval,
            receive_maximum: p.receive_maximum,
            request_response_information: p.request_response_information.unwrap_or(false),
            request_problem_information: p.request_problem_information,
            user_properties: p.user_properties.clone(),
            authentication_method: p
                .authentication_method
                .as_ref()
                .map(|s| crate::text::owned(s)),
            authentication_data: p.authentication_data.clone(),
            urls: Vec::new(),
            ..Config::default()
        };
        if let Some(m) = p.maximum_packet_size {
            config.maximum_packet_size = m;
        }
        if let Some(t) = p.topic_alias_maximum {
            config.topic_alias_maximum = t;
        }
        let mut options = Options::new(Config::default());
        let mut seed = 0u64;
        let ms = |v: u32| Duration::from_millis(v.into());
        for (k, v) in extra {
            match (k, v) {
                (cfg::URL, Extra::Bytes(b)) => config.urls.push(utf8(&b)),
                (cfg::PERSISTENCE_KEY, Extra::Bytes(b)) => options.persistence_key = Some(utf8(&b)),
                (k, Extra::Int(v)) => match k {
                    cfg::CONNECT_TIMEOUT => config.connect_timeout = ms(v),
                    cfg::RECONNECT_INITIAL if v == 0 => config.reconnect.enabled = false,
                    cfg::RECONNECT_INITIAL => config.reconnect.initial_delay = ms(v),
                    cfg::RECONNECT_MAX => config.reconnect.max_delay = ms(v),
                    cfg::STABLE_AFTER => config.reconnect.stable_after = ms(v),
                    cfg::BUSY_DELAY => config.reconnect.busy_delay = ms(v),
                    cfg::TAKEOVER_WINDOW => config.reconnect.takeover_window = ms(v),
                    cfg::TAKEOVER_THRESHOLD => config.reconnect.takeover_threshold = v,
                    cfg::MAX_REDIRECTS => config.reconnect.max_redirects = v,
                    cfg::REDIRECT_CREDENTIALS => config.reconnect.redirect_credentials = v != 0,
                    cfg::LOWEST_FREE_IDS => config.lowest_free_ids = v != 0,
                    cfg::PING_TIMEOUT => config.ping_timeout = Some(ms(v)),
                    cfg::OUTBOX_MAX_MESSAGES => config.outbox.max_messages = v as usize,
                    cfg::OUTBOX_MAX_BYTES => config.outbox.max_bytes = v as usize,
                    cfg::OUTBOX_POLICY => {
                        config.outbox.policy = match v {
                            1 => OutboxPolicy::DropOldest,
                            2 => OutboxPolicy::LatestPerTopic,
                            _ => OutboxPolicy::RejectNew,
                        }
                    }
                    cfg::QUEUE_QOS0 => config.outbox.queue_qos0_offline = v != 0,
                    cfg::MAX_INFLIGHT => config.max_inflight = Some(v.clamp(1, 65535) as u16),
                    cfg::PERSISTENCE => {
                        options.persistence = if v == 0 {
                            Persistence::Volatile
                        } else {
                            Persistence::IndexedDb
                        }
                    }
                    cfg::WORKER_TIMER => options.worker_timer = v != 0,
                    cfg::HIGH_WATER => options.high_water_mark = v,
                    cfg::SEED_LO => seed |= u64::from(v),
                    cfg::SEED_HI => seed |= u64::from(v) << 32,
                    cfg::DISCONNECT_TIMEOUT => config.disconnect_timeout = ms(v),
                    _ => {
                        return Err(ClientError::Config(text!(
                            "unknown option key ",
                            crate::text::Hex(k as u64, 1)
                        )))
                    }
                },
                (k, _) => {
                    return Err(ClientError::Config(text!(
                        "unknown option key ",
                        crate::text::Hex(k as u64, 1)
                    )))
                }
            }
        }
        if config.urls.is_empty() {
            return Err(ClientError::Config("a broker URL is required".into()));
        }
        config.seed = seed;
        self.version = config.protocol;
        options.config = config;
        options.credentials = self.credentials.clone().map(provider);
        options.socket = self.socket.clone();
        let dispatch = self.dispatch.clone();
        let version = self.version;
        let tape = Rc::new(RefCell::new(EventTape::default()));
        let driver = Driver::new(options, move |_driver, notices| {
            let (ptr, len) = {
                let mut t = tape.borrow_mut();
                t.words.clear();
                t.strings.clear();
                for n in &notices {
                    t.notice(n, version);
                }
                t.keep = notices;
                (t.words.as_ptr() as usize as u32, t.words.len() as u32)
            };
            // Application handlers run here; they may call back into the client. The function
            // never throws: it rethrows what its handlers throw from a microtask (client.js).
            let _ = dispatch.call2(&JsValue::NULL, &JsValue::from(ptr), &JsValue::from(len));
            let mut t = tape.borrow_mut();
            t.keep.clear();
        });
        self.driver = Some(driver);
        Ok(())
    }

    fn driver(&self) -> Option<&Driver> {
        self.driver.as_ref()
    }

    /// Starts connecting (after loading a persistent session).
    pub fn start(&self) {
        if let Some(d) = self.driver() {
            d.start();
        }
    }

    /// Publishes the PUBLISH described by the tape: the operation id, or -1.
    pub fn publish(&mut self, len: u32) -> f64 {
        let tape = self.take_tape(len);
        let publish = match tape::packet_from_tape(tape, self.version) {
            Ok(Packet::Publish(p)) => p,
            Ok(_) => return self.fail(ClientError::Config("not a PUBLISH".into())),
            Err(e) => return self.fail(ClientError::Config(e.0)),
        };
        let Some(d) = self.driver.clone() else {
            return -1.0;
        };
        match d.publish(publish) {
            Ok(op) => op.0 as f64,
            // A full outbox is not a failure to report but a reason to wait: -2 tells
            // JavaScript so without it building an error (a burst asks once per freed slot).
            Err(e @ ClientError::OutboxFull { .. }) => {
                self.error = Some(e);
                -2.0
            }
            Err(e) => self.fail(e),
        }
    }

    /// Whether the application acknowledges messages itself (`release`; MQTT.js's
    /// `handleMessage`, see `Client::set_manual_acks`).
    pub fn set_manual_acks(&self, manual: bool) {
        if let Some(d) = self.driver() {
            d.input(|c, _| c.set_manual_acks(manual));
        }
    }

    /// Reports every packet sent and received (MQTT.js's `packetsend` / `packetreceive`).
    pub fn set_packet_events(&self, on: bool) {
        if let Some(d) = self.driver() {
            d.input(|c, _| c.set_packet_events(on));
        }
    }

    /// The application is done with message `packet_id` of `qos` (1 or 2).
    pub fn release(&self, packet_id: u16, qos: u8) {
        if let (Some(d), Some(qos)) = (self.driver(), QoS::from_u8(qos)) {
            d.input(|c, _| c.release(packet_id, qos));
        }
    }

    /// Gives up on the in-flight message `packet_id` (see `Client::remove_outgoing`): whether
    /// there was one.
    pub fn remove_outgoing(&self, packet_id: u16) -> bool {
        self.driver()
            .is_some_and(|d| d.input(|c, _| c.remove_outgoing(packet_id)).is_some())
    }

    /// The packet identifier given last, or -1 (see `Client::last_packet_id`); what was just
    /// published goes into flight first if there is room (`Client::fill_now`), as MQTT.js gives
    /// a message its identifier in `publish()`.
    pub fn last_message_id(&self) -> i32 {
        self.driver()
            .and_then(|d| {
                d.input(|c, now| {
                    c.fill_now(now);
                    c.last_packet_id()
                })
            })
            .map_or(-1, i32::from)
    }

    /// Whether a message of `size` topic and payload bytes (or at least so many) could be
    /// queued: 0, or -1 with the error (JavaScript asks before copying a large payload in).
    pub fn refuse_size(&mut self, size: f64) -> i32 {
        let refusal = self
            .driver()
            .and_then(|d| d.read(|c| c.refuse_size(size as usize)));
        match refusal {
            Some(e) => {
                self.error = Some(e);
                -1
            }
            None => 0,
        }
    }

    /// Subscribes as the SUBSCRIBE tape describes (its properties: an identifier, user
    /// properties): the operation id, or -1. The subscriptions' ids are in `last_ids`.
    pub fn subscribe(&mut self, len: u32) -> f64 {
        let tape = self.take_tape(len);
        let (sub, _) = match tape::packet_and_extra(tape, ProtocolVersion::V5) {
            Ok((Packet::Subscribe(s), extra)) => (s, extra),
            Ok(_) => return self.fail(ClientError::Config("not a SUBSCRIBE".into())),
            Err(e) => return self.fail(ClientError::Config(e.0)),
        };
        let identifier = sub.properties.subscription_identifiers.first().copied();
        let filters = sub
            .subscriptions
            .into_iter()
            .map(|s| (s.filter, s.options))
            .collect::<Vec<(_, SubscriptionOptions)>>();
        let users = sub.properties.user_properties.clone();
        let Some(d) = self.driver.clone() else {
            return -1.0;
        };
        match d.subscribe(filters, identifier, users) {
            Ok((op, ids)) => {
                self.last_ids = ids.iter().map(|i| i.0 as u32).collect();
                op.0 as f64
            }
            Err(e) => self.fail(e),
        }
    }

    /// The subscription ids the last `subscribe` made.
    pub fn last_ids(&self) -> Vec<u32> {
        self.last_ids.clone()
    }

    /// Unsubscribes as the UNSUBSCRIBE tape describes: the operation id, or -1.
    pub fn unsubscribe(&mut self, len: u32) -> f64 {
        let tape = self.take_tape(len);
        let filters = match tape::packet_from_tape(tape, ProtocolVersion::V5) {
            Ok(Packet::Unsubscribe(u)) => u.filters,
            Ok(_) => return self.fail(ClientError::Config("not an UNSUBSCRIBE".into())),
            Err(e) => return self.fail(ClientError::Config(e.0)),
        };
        let Some(d) = self.driver.clone() else {
            return -1.0;
        };
        match d.unsubscribe(filters) {
            Ok(op) => op.0 as f64,
            Err(e) => self.fail(e),
        }
    }

    /// MQTT 5 request/response for the PUBLISH tape: the operation id, or -1.
    pub fn request(&mut self, len: u32, timeout_ms: u32, qos: u8) -> f64 {
        let tape = self.take_tape(len);
        let publish = match tape::packet_from_tape(tape, self.version) {
            Ok(Packet::Publish(p)) => p,
            Ok(_) => return self.fail(ClientError::Config("not a PUBLISH".into())),
            Err(e) => return self.fail(ClientError::Config(e.0)),
        };
        let opts = RequestOptions {
            qos: QoS::from_u8(qos).unwrap_or(QoS::AtLeastOnce),
            timeout: Duration::from_millis(timeout_ms.into()),
            response_topic: None,
        };
        let Some(d) = self.driver.clone() else {
            return -1.0;
        };
        match d.request(Publish { ..publish }, opts) {
            Ok(op) => op.0 as f64,
            Err(e) => self.fail(e),
        }
    }

    /// Ends the client: gracefully, or at once with `force`. `reason` is the MQTT 5 reason
    /// code (0 normal, 4 with will); `session_expiry` < 0 leaves it unchanged.
    pub fn end(&self, force: bool, reason: u8, session_expiry: f64) {
        if let Some(d) = self.driver() {
            d.disconnect(DisconnectOptions {
                force,
                reason: ReasonCode::from_u8(reason),
                session_expiry_interval: (session_expiry >= 0.0).then_some(session_expiry as u32),
            });
        }
    }

    /// Keeps the session in the application's stores through `adapter` (see `web/stores.rs`),
    /// or, with none, as `persistence` says (IndexedDB by default in browsers).
    pub fn set_stores(&self, adapter: Option<js_sys::Object>) {
        if let Some(d) = self.driver() {
            d.set_stores(adapter);
        }
    }

    /// Connects again now.
    pub fn reconnect(&self) {
        if let Some(d) = self.driver() {
            d.reconnect();
        }
    }

    /// Probes the link at once (a PINGREQ).
    pub fn check_liveness(&self) {
        if let Some(d) = self.driver() {
            d.input(|c, now| c.check_liveness(now));
        }
    }

    /// MQTT 5 extended authentication: answers a challenge, or (with `reauth`) starts a
    /// re-authentication. 0, or -1.
    pub fn auth(&mut self, data: Option<Vec<u8>>, reauth: bool) -> i32 {
        let Some(d) = self.driver.clone() else {
            return -1;
        };
        let data = data.map(Bytes::from);
        let r = d.input(|c, now| {
            if reauth {
                c.reauthenticate(now, data)
            } else {
                c.auth_continue(now, data)
            }
        });
        match r {
            Ok(()) => 0,
            Err(e) => {
                self.error = Some(e);
                -1
            }
        }
    }

    /// New credentials for the next connections (a stopped client starts again).
    pub fn set_credentials(&self, username: Option<String>, password: Option<Vec<u8>>) {
        if let Some(d) = self.driver() {
            d.input(|c, now| c.set_credentials(now, username, password.map(Bytes::from)));
        }
    }

    /// Metrics: rtt ms, smoothed rtt ms (-1: none), messages in, out, bytes in, out, in-flight
    /// out, in, outbox messages, bytes, reconnects, ms until the next attempt (-1: none),
    /// ms connected (-1: not connected).
    pub fn metrics(&self) -> Vec<f64> {
        let Some(d) = self.driver() else {
            return Vec::new();
        };
        let (m, now) = d.input(|c, now| (c.metrics(), now));
        let ms = |d: Option<Duration>| d.map_or(-1.0, |d| d.as_secs_f64() * 1000.0);
        vec![
            ms(m.rtt),
            ms(m.rtt_smoothed),
            m.messages_in as f64,
            m.messages_out as f64,
            m.bytes_in as f64,
            m.bytes_out as f64,
            m.inflight_out as f64,
            m.inflight_in as f64,
            m.outbox_messages as f64,
            m.outbox_bytes as f64,
            m.reconnects as f64,
            m.next_attempt
                .map_or(-1.0, |at| (at - now).as_secs_f64() * 1000.0),
            m.connected_since
                .map_or(-1.0, |at| (now - at).as_secs_f64() * 1000.0),
        ]
    }

    /// The connection state: idle, connecting, connected, reconnecting, offline, closing,
    /// stopped.
    pub fn state(&self) -> String {
        self.driver()
            .map_or("idle", |d| d.read(|c| c.state_name()))
            .to_string()
    }

    /// The client id in use (a server may have assigned it).
    pub fn client_id(&self) -> String {
        self.driver()
            .map(|d| d.read(|c| crate::text::owned(c.client_id())))
            .unwrap_or_default()
    }

    /// Whether deadlines run unthrottled in a Worker.
    pub fn unthrottled_timer(&self) -> bool {
        self.driver().is_some_and(|d| d.unthrottled_timer())
    }

    /// Forgets the session stored in IndexedDB for this broker and client id.
    pub fn clear_stored_session(&self) {
        if let Some(d) = self.driver() {
            d.clear_stored_session();
        }
    }

    /// The last error's kind (for example `CONNECTION_REFUSED`).
    pub fn error_kind(&self) -> String {
        self.error.as_ref().map_or("", |e| e.kind()).to_string()
    }

    /// The last error's message.
    pub fn error_message(&self) -> String {
        self.error.as_ref().map(|e| e.message()).unwrap_or_default()
    }

    /// The last error's reason code (0xFFFF: none).
    pub fn error_reason(&self) -> u32 {
        self.error
            .as_ref()
            .and_then(|e| e.reason_code())
            .map_or(0xFFFF, |c| c as u32)
    }
}

/// A string JavaScript wrote (always UTF-8: its tape writer encodes with TextEncoder);
/// `from_utf8_lossy` would bring its own decoder for a case that cannot happen.
fn utf8(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap_or_default()
}
