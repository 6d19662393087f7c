//! The client: a sans-IO state machine for one MQTT session over successive connections.
//!
//! Length: this is the coordinator. Its sub-state machines own their data in files of their
//! own: the connection and keep-alive (`link.rs`), timers (`timers.rs`), pending subscribes
//! and unsubscribes (`pending.rs`), request/response (`requests.rs`), the outgoing message
//! flow (`outbound.rs`), the session (`session.rs`) and reconnect policy (`reconnect.rs`).
//! What remains here is the connection lifecycle, the application's commands (validation,
//! then a hand-off) and the routing of received packets. The next split is the inbound side
//! (acknowledgements and incoming QoS 2 into `Session`, SUBACK/UNSUBACK into `PendingOps`).

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;

use crate::text::Piece;

use super::acks::{AppAcks, Due};
use super::config::Config;
use super::event::{Event, Granted, Message, OpId, ServerInfo, TransportAction};
use super::link::Link;
use super::metrics::Metrics;
use super::pending::{Pending, PendingKind, PendingOps};
use super::reconnect::{Decision, Ending, Reconnect};
use super::requests::Requests;
use super::rng::Rng;
use super::session::{Inflight, Queued, Session, Stage};
use super::timers::{Timer, Timers};
use super::topic::{ActiveSubscription, SubscriptionId};
use super::{ClientError, Instant};
use crate::codec::{
    is_shared, validate_topic_filter, validate_topic_name, Auth, ByteStr, ConnAck, Connect,
    Decoder, Disconnect, Packet, Properties, PubResp, Publish, QoS, ReasonCode, SubAck,
    SubscriptionOptions, UnsubAck,
};

/// The largest piece of received bytes copied into the decoder at once (see
/// [`Client::handle_bytes_with`]).
pub const PIECE: usize = 64 * 1024;

/// The subscription the request/response helper makes for itself (never routed to the app).
const INTERNAL: SubscriptionId = SubscriptionId(0);

#[derive(Debug)]
enum State {
    /// Not connecting: never started, stopped, or disconnected by the application.
    Idle,
    /// Waiting for the backoff delay before the next attempt.
    Waiting { until: Instant },
    /// The browser says it is offline: attempt as soon as it is back.
    Offline,
    /// The driver was asked to open the transport.
    Opening { since: Instant, url: String },
    /// CONNECT sent (and possibly AUTH exchanged); waiting for CONNACK.
    Handshake { url: String },
    /// Connected.
    Connected(Box<Link>),
    /// The driver was asked to close; `ending` says what happens next (None: the application
    /// asked, so no reconnect).
    Closing {
        ending: Option<Ending>,
        connected_for: Option<Duration>,
    },
}

/// Options of a graceful disconnect.
#[derive(Debug, Clone, Default)]
pub struct DisconnectOptions {
    /// Skip waiting for the outbox and in-flight messages.
    pub force: bool,
    /// MQTT 5 reason: Normal disconnection (no will) or Disconnect with Will Message (0x04).
    pub reason: Option<ReasonCode>,
    /// MQTT 5: a new session expiry interval.
    pub session_expiry_interval: Option<u32>,
}

/// Options of a request (request/response helper, MQTT 5).
#[derive(Debug, Clone)]
pub struct RequestOptions {
    /// QoS of the request.
    pub qos: QoS,
    /// How long to wait for the response.
    pub timeout: Duration,
    /// Where responses should go; default `{response information or "wasmqtt/response"}/{client id}`.
    pub response_topic: Option<String>,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            qos: QoS::AtLeastOnce,
            timeout: Duration::from_secs(30),
            response_topic: None,
        }
    }
}

/// An MQTT client that knows everything about the protocol and nothing about sockets or clocks.
///
/// Inputs: `handle_open`, `handle_bytes`, `handle_close`, `handle_timeout` (from the driver) and
/// the application's commands (`start`, `publish`, `subscribe`, ...). Outputs, drained after
/// every input in this order: `poll_transmit` (bytes to send, coalesced), `poll_transport`
/// (open or close the connection), `poll_event` (for the application), `poll_timeout` (when to
/// call `handle_timeout`).
// Design: one value owns the session (what survives reconnects) and the connection state (what
// does not); every input mutates it and queues outputs, so behaviour is a function of the input
// sequence and tests drive it with a virtual clock and a scripted broker.
#[derive(Debug)]
pub struct Client {
    cfg: Config,
    client_id: String,
    state: State,
    session: Session,
    reconnect: Reconnect,
    rng: Rng,
    decoder: Decoder,
    tx: Vec<u8>,
    events: VecDeque<Event>,
    transport: VecDeque<TransportAction>,
    timers: Timers,
    metrics: Metrics,
    next_op: u64,
    next_sub: u64,
    pending: PendingOps,
    /// Request/response (bounded by `max_pending_requests`).
    requests: Requests,
    /// Acknowledgements the application holds back (`set_manual_acks`).
    acks: AppAcks,
    /// Report every packet sent and received as events (`set_packet_events`); off, it costs
    /// nothing.
    packet_events: bool,
    online: bool,
    started: bool,
    /// The application ended the client; operations fail until it starts again.
    ended: bool,
    stopped: Option<ClientError>,
    /// Limits the last CONNACK granted, kept while disconnected to check publishes early.
    last_server: Option<ServerInfo>,
    /// Bumped by every input that may change the session (see `session_revision`).
    revision: u64,
}

impl Client {
    /// A client for `cfg`; call [`Client::start`] to connect.
    pub fn new(cfg: Config) -> Client {
        let mut decoder = Decoder::new(cfg.protocol);
        decoder.set_max_packet_size(cfg.maximum_packet_size as usize);
        let mut session = Session::default();
        session.ids.set_lowest_first(cfg.lowest_free_ids);
        Client {
            client_id: cfg.client_id.clone(),
            reconnect: Reconnect::new(cfg.reconnect.clone(), cfg.urls.clone()),
            rng: Rng::new(cfg.seed),
            decoder,
            state: State::Idle,
            session,
            tx: Vec::new(),
            events: VecDeque::new(),
            transport: VecDeque::new(),
            timers: Timers::default(),
            metrics: Metrics::default(),
            next_op: 1,
            next_sub: 1,
            pending: PendingOps::default(),
            requests: Requests::default(),
            acks: AppAcks::default(),
            packet_events: false,
            online: true,
            started: false,
            ended: false,
            stopped: None,
            last_server: None,
            revision: 0,
            cfg,
        }
    }

    /// A number that changes whenever the session (outbox, in-flight, received QoS 2
    /// identifiers, subscriptions) may have changed: a driver persists it when this moves.
    pub fn session_revision(&self) -> u64 {
        self.revision
    }

    /// Whether [`Client::poll_transmit`] may have bytes: false means a driver need not look at
    /// its socket at all (it is asked after every event, and most received messages send nothing).
    pub fn may_transmit(&self) -> bool {
        !self.tx.is_empty()
            || !self.session.outbox.is_empty()
            || matches!(&self.state, State::Connected(link) if link.draining.is_some())
    }

    // ------------------------------------------------------------------ getters

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The client identifier in use (an MQTT 5 server may have assigned it).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether a connection is established (CONNACK received).
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected(_))
    }

    /// What the server granted on the current connection.
    pub fn server(&self) -> Option<&ServerInfo> {
        match &self.state {
            State::Connected(l) => Some(&l.server),
            _ => None,
        }
    }

    /// Why the client stopped reconnecting, if it did.
    pub fn stopped(&self) -> Option<&ClientError> {
        self.stopped.as_ref()
    }

    /// Counters and gauges.
    pub fn metrics(&self) -> Metrics {
        let mut m = self.metrics.clone();
        m.inflight_out = self.session.inflight.len();
        m.inflight_in = self.session.received_qos2.len();
        m.outbox_messages = self.session.outbox.len();
        m.outbox_bytes = self.session.outbox.bytes();
        m.next_attempt = match self.state {
            State::Waiting { until } => Some(until),
            _ => None,
        };
        m.connected_since = match &self.state {
            State::Connected(l) => Some(l.since),
            _ => None,
        };
        m
    }

    /// The active subscriptions.
    pub fn subscriptions(&self) -> impl Iterator<Item = &ActiveSubscription> {
        self.session.registry.iter().filter(|s| s.id != INTERNAL)
    }

    /// A short name of the connection state, for display.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::Idle if self.stopped.is_some() => "stopped",
            State::Idle => "idle",
            State::Waiting { .. } => "reconnecting",
            State::Offline => "offline",
            State::Opening { .. } | State::Handshake { .. } => "connecting",
            State::Connected(_) => "connected",
            State::Closing { .. } => "closing",
        }
    }

    // ------------------------------------------------------------------ outputs

    /// Bytes to send now, every packet produced since the last call coalesced into one buffer
    /// (one WebSocket message). Call it again until None: messages beyond one batch come in the
    /// next buffer, so a driver applying back-pressure simply stops calling while its socket is
    /// full.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        if !self.session.outbox.is_empty() {
            self.revision += 1;
        }
        self.fill_from_outbox(now);
        self.finish_drain(now);
        if self.tx.is_empty() {
            return None;
        }
        let out = std::mem::take(&mut self.tx);
        self.metrics.bytes_out += out.len() as u64;
        if self.packet_events {
            self.report_sent(&out);
        }
        if let State::Connected(link) = &mut self.state {
            link.sent(now, &mut self.timers);
        }
        Some(out)
    }

    /// What the driver must do with its transport.
    #[must_use]
    pub fn poll_transport(&mut self) -> Option<TransportAction> {
        self.transport.pop_front()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    // ------------------------------------------------------------------ lifecycle

    /// Starts connecting (again, after a stop or a disconnect: failures are forgotten).
    /// A graceful disconnect still draining is called off: the connection stays; a
    /// connection the application's disconnect is closing is followed by a new one.
    pub fn start(&mut self, now: Instant) {
        self.started = true;
        self.ended = false;
        self.stopped = None;
        self.reconnect.reset();
        match &mut self.state {
            State::Idle | State::Waiting { .. } | State::Offline => self.attempt(now),
            State::Connected(link) => {
                // (Not a match guard: `take` needs the link mutably.)
                #[allow(clippy::collapsible_match)]
                if link.draining.take().is_some() {
                    self.timers.clear(Timer::Disconnect);
                }
            }
            _ => {}
        }
    }

    /// New credentials (tokens expire): used from the next connection on, and a client that
    /// stopped on bad credentials starts again.
    pub fn set_credentials(
        &mut self,
        now: Instant,
        username: Option<String>,
        password: Option<Bytes>,
    ) {
        self.cfg.username = username;
        self.cfg.password = password;
        if self.started && self.stopped.is_some() {
            self.start(now);
        }
    }

    /// Replaces the URL list (for example a freshly signed URL); used from the next attempt on.
    pub fn set_urls(&mut self, urls: Vec<String>) {
        self.cfg.urls = urls.clone();
        let cfg = self.cfg.reconnect.clone();
        let attempt_state = std::mem::replace(&mut self.reconnect, Reconnect::new(cfg, urls));
        let _ = attempt_state;
    }

    /// The browser's view of the network. Offline: no attempts are made (none are wasted);
    /// a connection is checked with a ping. Back online: an attempt is made at once.
    pub fn set_network_available(&mut self, now: Instant, online: bool) {
        let was = self.online;
        self.online = online;
        match (&self.state, online) {
            (State::Waiting { .. }, false) => {
                self.timers.clear(Timer::Reconnect);
                self.state = State::Offline;
            }
            (State::Offline | State::Waiting { .. }, true)
                if !was || matches!(self.state, State::Offline) =>
            {
                self.attempt(now);
            }
            (State::Connected(_), _) => self.check_liveness(now),
            _ => {}
        }
    }

    /// Checks the connection now (the page became visible, the network changed): a PINGREQ
    /// unless one is outstanding, so a dead link is found within the ping timeout. Overdue
    /// timers (a frozen page) fire too.
    pub fn check_liveness(&mut self, now: Instant) {
        self.handle_timeout(now);
        if let State::Connected(link) = &mut self.state {
            if link.ping_sent.is_none() && link.draining.is_none() {
                link.ping(&self.cfg, &mut self.tx, &mut self.timers, now);
            }
        }
    }

    /// Disconnects. Gracefully (default): waits up to the configured time for the outbox and
    /// in-flight messages, then sends DISCONNECT (no will is published) and closes; no
    /// reconnect follows. A non-persistent session's unfinished operations fail with
    /// `Cancelled`; a persistent session keeps them for the next connection.
    pub fn disconnect(&mut self, now: Instant, opts: DisconnectOptions) {
        self.revision += 1;
        self.started = false;
        self.ended = true;
        let mut packet = Disconnect::new(opts.reason.unwrap_or(ReasonCode::Success));
        if self.cfg.protocol.is_v5() {
            packet.properties.session_expiry_interval = opts.session_expiry_interval;
        } else {
            packet.reason_code = ReasonCode::Success;
        }
        match &mut self.state {
            State::Connected(link) => {
                link.draining = Some(packet);
                self.timers
                    .set(Timer::Disconnect, now + self.cfg.disconnect_timeout);
                if opts.force {
                    self.timers.set(Timer::Disconnect, now);
                    self.finish_drain(now);
                }
            }
            State::Opening { .. } | State::Handshake { .. } => {
                self.transport.push_back(TransportAction::Close);
                self.state = State::Closing {
                    ending: None,
                    connected_for: None,
                };
                self.clear_connection_timers();
            }
            State::Waiting { .. } | State::Offline => {
                self.state = State::Idle;
                self.clear_connection_timers();
                self.ended_by_app();
                self.events.push_back(Event::Disconnected {
                    error: None,
                    reconnect_at: None,
                });
            }
            State::Idle | State::Closing { .. } => {}
        }
    }

    // ------------------------------------------------------------------ driver inputs

    /// The transport asked for with [`TransportAction::Open`] is open: the client sends CONNECT.
    pub fn handle_open(&mut self, now: Instant) {
        let State::Opening { since, url } = &self.state else {
            return;
        };
        let (since, url) = (*since, url.clone());
        self.decoder = Decoder::new(self.cfg.protocol);
        self.decoder
            .set_max_packet_size(self.cfg.maximum_packet_size as usize);
        self.tx.clear();
        let connect = self.build_connect();
        self.write(now, &Packet::Connect(Box::new(connect)));
        let _ = since;
        self.state = State::Handshake { url };
    }

    /// Bytes received from the transport, in any chunking.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        self.handle_bytes_with(now, data.len(), |at, buf| {
            buf.copy_from_slice(&data[at..at + buf.len()])
        });
    }

    /// Like [`Client::handle_bytes`], for `n` bytes that `fill(offset, dst)` writes straight
    /// into the decoder's buffer (a browser driver copies a WebSocket message there without an
    /// intermediate copy). Large inputs go in pieces of [`PIECE`] bytes, decoded as they come:
    /// a packet over our Maximum Packet Size is refused from its fixed header, before the
    /// rest is copied.
    pub fn handle_bytes_with(
        &mut self,
        now: Instant,
        n: usize,
        mut fill: impl FnMut(usize, &mut [u8]),
    ) {
        let mut at = 0;
        while at < n {
            if !matches!(self.state, State::Handshake { .. } | State::Connected(_)) {
                return;
            }
            let piece = (n - at).min(PIECE);
            self.revision += 1;
            self.metrics.bytes_in += piece as u64;
            fill(at, self.decoder.append_zeroed(piece));
            at += piece;
            self.decode_received(now);
        }
    }

    fn decode_received(&mut self, now: Instant) {
        loop {
            match self.decoder.decode() {
                Ok(Some(packet)) => {
                    if self.packet_events {
                        let copy = Box::new(packet.clone());
                        self.events.push_back(Event::PacketReceived(copy));
                    }
                    self.handle_packet(now, packet);
                    if !matches!(self.state, State::Handshake { .. } | State::Connected(_)) {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let reason = e.reason_code();
                    self.fail_connection(now, reason, Ending::Protocol(ClientError::Malformed(e)));
                    return;
                }
            }
        }
    }

    /// The transport closed (or failed to open). `detail`: what the driver knows.
    pub fn handle_close(&mut self, now: Instant, detail: Option<String>) {
        self.revision += 1;
        // Held QoS 1 acknowledgements belong to the connection (the server sends again).
        self.acks.connection_lost();
        let (ending, connected_for) = match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => return,
            State::Waiting { until } => {
                self.state = State::Waiting { until };
                return;
            }
            State::Offline => {
                self.state = State::Offline;
                return;
            }
            State::Opening { .. } | State::Handshake { .. } => (Some(Ending::Lost(detail)), None),
            State::Connected(link) => (Some(Ending::Lost(detail)), Some(now - link.since)),
            State::Closing {
                ending,
                connected_for,
            } => (ending, connected_for),
        };
        self.clear_connection_timers();
        match ending {
            None if self.started => {
                // The application started again while its disconnect was closing.
                self.events.push_back(Event::Disconnected {
                    error: None,
                    reconnect_at: Some(now),
                });
                self.attempt(now);
            }
            None => {
                self.ended_by_app();
                self.events.push_back(Event::Disconnected {
                    error: None,
                    reconnect_at: None,
                });
            }
            Some(ending) => self.after_ending(now, ending, connected_for),
        }
    }

    /// Time passed: fires every due timer.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.revision += 1;
        if self.timers.due(Timer::Reconnect, now) {
            self.timers.clear(Timer::Reconnect);
            if matches!(self.state, State::Waiting { .. }) {
                self.attempt(now);
            }
        }
        if self.timers.due(Timer::Connect, now) {
            self.timers.clear(Timer::Connect);
            if matches!(self.state, State::Opening { .. } | State::Handshake { .. }) {
                let t = self.cfg.connect_timeout;
                self.close_with(Ending::ConnectTimeout(t), None);
            }
        }
        if self.timers.due(Timer::PingTimeout, now) {
            self.timers.clear(Timer::PingTimeout);
            if let State::Connected(link) = &self.state {
                if let Some(sent) = link.ping_sent {
                    let waited = now - sent;
                    let connected_for = Some(now - link.since);
                    self.close_with(Ending::KeepAlive(waited), connected_for);
                }
            }
        }
        if self.timers.due(Timer::Ping, now) {
            self.timers.clear(Timer::Ping);
            if let State::Connected(link) = &mut self.state {
                if link.ping_sent.is_none() {
                    link.ping(&self.cfg, &mut self.tx, &mut self.timers, now);
                }
            }
        }
        if self.timers.due(Timer::Disconnect, now) {
            self.finish_drain(now);
        }
        if self.timers.due(Timer::Request, now) {
            self.expire_requests(now);
        }
        if self.timers.due(Timer::Expiry, now) {
            self.expire_outbox(now);
        }
    }

    // ------------------------------------------------------------------ application commands

    fn op(&mut self) -> OpId {
        let id = OpId(self.next_op);
        self.next_op += 1;
        id
    }

    /// Queues a message; it is sent as soon as the connection and the server's quota allow.
    /// Completion (with the acknowledging reason code, or an error) arrives as
    /// [`Event::Published`]. Invalid messages are refused here, before anything is sent.
    pub fn publish(&mut self, now: Instant, mut publish: Publish) -> Result<OpId, ClientError> {
        self.revision += 1;
        if self.ended {
            return Err(ClientError::Ended);
        }
        publish.dup = false;
        publish.packet_id = 0;
        self.check_publish(&publish)?;
        if publish.qos == QoS::AtMostOnce
            && !self.is_connected()
            && !self.cfg.outbox.queue_qos0_offline
        {
            return Err(ClientError::NotConnected);
        }
        let op = self.op();
        self.enqueue(now, publish, Some(op))?;
        Ok(op)
    }

    /// Refuses a message that can never be queued from its size alone (`size`: its topic and
    /// payload bytes, or a lower bound of them), before it is built: a caller holding a large
    /// payload outside (JavaScript) asks first, so one that is too large is never copied in.
    /// `None`: it may fit, and [`Client::publish`] decides.
    pub fn refuse_size(&self, size: usize) -> Option<ClientError> {
        let max = self.cfg.outbox.max_bytes;
        (size > max).then_some(ClientError::MessageTooLarge { size, max })
    }

    fn check_publish(&self, p: &Publish) -> Result<(), ClientError> {
        let v = self.cfg.protocol;
        validate_topic_name(&p.topic).map_err(|problem| ClientError::InvalidTopic {
            topic: crate::text::owned(&p.topic),
            problem,
        })?;
        if p.properties.topic_alias.is_some() {
            return Err(ClientError::Unsupported(
                "topic aliases are assigned by the client automatically: leave topicAlias unset",
            ));
        }
        if !p.properties.subscription_identifiers.is_empty() {
            // [MQTT-3.3.4-6]
            return Err(ClientError::Unsupported(
                "a PUBLISH from a client must not carry subscription identifiers [MQTT-3.3.4-6]",
            ));
        }
        let mut probe = p.clone();
        probe.packet_id = if p.qos == QoS::AtMostOnce { 0 } else { 1 };
        let size = Packet::Publish(probe)
            .encoded_len(v)
            .map_err(ClientError::Encode)?;
        if let Some(server) = self.server().or(self.last_server.as_ref()) {
            if p.qos > server.maximum_qos {
                return Err(ClientError::QoSNotSupported {
                    requested: p.qos,
                    max: server.maximum_qos,
                });
            }
            if p.retain && !server.retain_available {
                return Err(ClientError::RetainNotSupported);
            }
            if let Some(max) = server.maximum_packet_size {
                if size > max as usize {
                    return Err(ClientError::PacketTooLarge { size, max });
                }
            }
        }
        Ok(())
    }

    fn enqueue(
        &mut self,
        now: Instant,
        publish: Publish,
        op: Option<OpId>,
    ) -> Result<(), ClientError> {
        let has_expiry = publish.properties.message_expiry_interval.is_some();
        // The bounds are on what waits to be sent: messages in flight are bounded by the
        // server's quota, and counting them here would make every burst beyond the bound wait
        // in the application's queue one acknowledgement at a time.
        let held = (0, 0);
        let displaced = self.session.outbox.push(
            Queued {
                publish,
                op,
                queued_at: now,
                key: 0, // numbered by the outbox
            },
            &self.cfg.outbox,
            held,
        )?;
        for (op, e) in displaced {
            self.complete_publish(op, Err(e));
        }
        if has_expiry {
            self.arm_expiry(now);
        }
        Ok(())
    }

    /// Subscribes to `filters`. Returns the operation and one [`SubscriptionId`] per filter:
    /// received messages name the subscriptions they matched. Filters are validated before
    /// anything is sent; the SUBSCRIBE goes out now if connected, else on connection.
    pub fn subscribe(
        &mut self,
        now: Instant,
        filters: Vec<(ByteStr, SubscriptionOptions)>,
        identifier: Option<u32>,
        user_properties: Vec<(ByteStr, ByteStr)>,
    ) -> Result<(OpId, Vec<SubscriptionId>), ClientError> {
        self.revision += 1;
        if self.ended {
            return Err(ClientError::Ended);
        }
        let v5 = self.cfg.protocol.is_v5();
        if filters.is_empty() {
            return Err(ClientError::Config(
                "subscribe needs at least one topic filter".into(),
            ));
        }
        let server = self.server().or(self.last_server.as_ref());
        for (f, _) in &filters {
            validate_topic_filter(f, v5).map_err(|problem| ClientError::InvalidFilter {
                filter: crate::text::owned(f),
                problem,
            })?;
            let shared = is_shared(f);
            if let Some(s) = server {
                if shared && !s.shared_subscription_available {
                    return Err(ClientError::Unsupported(
                        "the server does not support shared subscriptions",
                    ));
                }
                if (f.contains('+') || f.contains('#')) && !s.wildcard_subscription_available {
                    return Err(ClientError::Unsupported(
                        "the server does not support wildcard subscriptions",
                    ));
                }
                if identifier.is_some() && !s.subscription_identifier_available {
                    return Err(ClientError::Unsupported(
                        "the server does not support subscription identifiers",
                    ));
                }
            }
        }
        // The bound covers subscribes still waiting for their SUBACK too: offline, every
        // subscribe waits, and the registry alone would let any number through.
        let max = self.cfg.max_subscriptions;
        let with = self
            .pending
            .count_with(&self.session.registry, filters.iter().map(|(f, _)| f));
        if with > max {
            return Err(ClientError::TooMany {
                what: "subscriptions",
                max,
            });
        }
        let subs: Vec<ActiveSubscription> = filters
            .into_iter()
            .map(|(filter, options)| {
                let id = SubscriptionId(self.next_sub);
                self.next_sub += 1;
                ActiveSubscription {
                    id,
                    filter,
                    options,
                    identifier,
                }
            })
            .collect();
        let ids = subs.iter().map(|s| s.id).collect();
        let mut properties = Properties::default();
        if !user_properties.is_empty() {
            properties.user_properties = user_properties;
        }
        let kind = PendingKind::Subscribe {
            subs,
            properties,
            internal: false,
        };
        // The codec decides what a SUBSCRIBE may carry (option and property rules, ranges):
        // asked here, before anything is queued, not restated.
        let probe = Pending {
            op: None,
            kind,
            packet_id: None,
        };
        probe
            .packet(1)
            .encoded_len(self.cfg.protocol)
            .map_err(subscribe_refused)?;
        let op = self.op();
        self.pending.push(Some(op), probe.kind);
        self.send_pending(now);
        Ok((op, ids))
    }

    /// Unsubscribes from `filters` (as subscribed, exactly [MQTT-3.10.4-1]).
    pub fn unsubscribe(
        &mut self,
        now: Instant,
        filters: Vec<ByteStr>,
    ) -> Result<OpId, ClientError> {
        self.revision += 1;
        if self.ended {
            return Err(ClientError::Ended);
        }
        if filters.is_empty() {
            return Err(ClientError::Config(
                "unsubscribe needs at least one topic filter".into(),
            ));
        }
        for f in &filters {
            validate_topic_filter(f, self.cfg.protocol.is_v5()).map_err(|problem| {
                ClientError::InvalidFilter {
                    filter: crate::text::owned(f),
                    problem,
                }
            })?;
        }
        let op = self.op();
        self.pending.push(
            Some(op),
            PendingKind::Unsubscribe {
                filters,
                properties: Properties::default(),
            },
        );
        self.send_pending(now);
        Ok(op)
    }

    /// MQTT 5 request/response: publishes `publish` with a response topic and fresh correlation
    /// data, and completes with [`Event::Response`] when the matching response arrives (or with
    /// `RequestTimeout`). The response topic is subscribed to once, on first use.
    pub fn request(
        &mut self,
        now: Instant,
        mut publish: Publish,
        opts: RequestOptions,
    ) -> Result<OpId, ClientError> {
        if self.ended {
            return Err(ClientError::Ended);
        }
        if !self.cfg.protocol.is_v5() {
            return Err(ClientError::Unsupported(
                "request/response needs MQTT 5 (response topic, correlation data)",
            ));
        }
        if self.requests.len() >= self.cfg.max_pending_requests {
            return Err(ClientError::TooMany {
                what: "pending requests",
                max: self.cfg.max_pending_requests,
            });
        }
        let topic = match (&opts.response_topic, &self.requests.response_topic) {
            (Some(t), _) => t.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => {
                let base = self
                    .server()
                    .and_then(|s| {
                        s.properties
                            .response_information
                            .as_ref()
                            .map(|r| crate::text::owned(r))
                    })
                    .unwrap_or_else(|| "wasmqtt/response".to_string());
                let id = if self.client_id.is_empty() {
                    text!("c", crate::text::Digits16(self.rng.next_u64()))
                } else {
                    self.client_id.clone()
                };
                text!(base.trim_end_matches('/'), "/", id)
            }
        };
        validate_topic_name(&topic).map_err(|problem| ClientError::InvalidTopic {
            topic: topic.clone(),
            problem,
        })?;
        if self.session.registry.get(&topic).is_none() && !self.pending.subscribing(&topic) {
            self.pending.push(
                None,
                PendingKind::Subscribe {
                    subs: vec![ActiveSubscription {
                        id: INTERNAL,
                        filter: topic.clone().into(),
                        options: SubscriptionOptions {
                            qos: QoS::AtLeastOnce,
                            no_local: true,
                            ..Default::default()
                        },
                        identifier: None,
                    }],
                    properties: Properties::default(),
                    internal: true,
                },
            );
            self.send_pending(now);
        }
        self.requests
            .response_topic
            .get_or_insert_with(|| topic.clone());
        let correlation = Bytes::from(self.rng.bytes(16));
        publish.properties.response_topic = Some(topic.into());
        publish.properties.correlation_data = Some(correlation.clone());
        publish.qos = opts.qos;
        self.check_publish(&publish)?;
        let op = self.op();
        self.enqueue(now, publish, None)?;
        self.requests.insert(correlation, op, now, opts.timeout);
        self.arm_requests();
        Ok(op)
    }

    /// MQTT 5 extended authentication: answers an [`Event::AuthChallenge`].
    pub fn auth_continue(&mut self, now: Instant, data: Option<Bytes>) -> Result<(), ClientError> {
        let method = self
            .cfg
            .authentication_method
            .clone()
            .ok_or(ClientError::Unsupported(
                "no authentication method is configured",
            ))?;
        let mut auth = Auth {
            reason_code: ReasonCode::ContinueAuthentication,
            ..Auth::default()
        };
        auth.properties.authentication_method = Some(method.into());
        auth.properties.authentication_data = data;
        self.write(now, &Packet::Auth(auth));
        Ok(())
    }

    /// MQTT 5 re-authentication on a live connection [MQTT-4.12.1-1].
    pub fn reauthenticate(&mut self, now: Instant, data: Option<Bytes>) -> Result<(), ClientError> {
        let method = self
            .cfg
            .authentication_method
            .clone()
            .ok_or(ClientError::Unsupported(
                "re-authentication needs an authentication method",
            ))?;
        let State::Connected(link) = &mut self.state else {
            return Err(ClientError::NotConnected);
        };
        link.reauthenticating = true;
        self.cfg.authentication_data = data.clone();
        let mut auth = Auth {
            reason_code: ReasonCode::ReAuthenticate,
            ..Auth::default()
        };
        auth.properties.authentication_method = Some(method.into());
        auth.properties.authentication_data = data;
        self.write(now, &Packet::Auth(auth));
        Ok(())
    }

    /// The session (in-flight, outbox, received QoS 2 identifiers, subscriptions) as bytes, for
    /// the browser layer to persist. `wall_ms`: Unix milliseconds now.
    pub fn export_session(&self, now: Instant, wall_ms: u64) -> Vec<u8> {
        self.session.export(now, wall_ms)
    }

    /// With `manual`, the application acknowledges each QoS 1 / 2 message it received, by
    /// `release`, once it has handled it (MQTT.js's `handleMessage`); PUBACKs still leave in
    /// the order the messages came [MQTT-4.6.0-2], and for QoS 2 the PUBCOMP is held (the
    /// PUBREC goes at once). Unreleased messages count against our Receive Maximum, so the
    /// server paces delivery to the application.
    pub fn set_manual_acks(&mut self, manual: bool) {
        self.acks.set_manual(manual);
    }

    /// Reports every packet sent and received as [`Event::PacketSent`] and
    /// [`Event::PacketReceived`] (MQTT.js's `packetsend` / `packetreceive`), from now on.
    pub fn set_packet_events(&mut self, on: bool) {
        self.packet_events = on;
    }

    /// The packets in bytes about to be sent, as events. The bytes hold whole packets this
    /// client encoded, so they decode (a new decoder accepts up to the protocol's limit).
    fn report_sent(&mut self, bytes: &[u8]) {
        let mut decoder = Decoder::new(self.cfg.protocol);
        decoder.push(bytes);
        while let Ok(Some(packet)) = decoder.decode() {
            self.events.push_back(Event::PacketSent(Box::new(packet)));
        }
    }

    /// The application is done with the message `packet_id` of `qos` (see `set_manual_acks`).
    pub fn release(&mut self, packet_id: u16, qos: QoS) {
        let v = self.cfg.protocol;
        let due = self.acks.release(packet_id, qos);
        if !self.is_connected() {
            return; // the server sends its QoS 1 messages again, and PUBREL again
        }
        for d in due {
            let packet = match d {
                Due::PubAck(id) => Packet::PubAck(PubResp::new(id)),
                Due::PubComp(id) => Packet::PubComp(PubResp::new(id)),
            };
            let _ = packet.encode(v, &mut self.tx);
        }
    }

    /// The packet identifier given last (to a PUBLISH, SUBSCRIBE or UNSUBSCRIBE), if any: an
    /// identifier is given when the packet is sent, not when it is queued (MQTT.js's
    /// `getLastMessageId`).
    pub fn last_packet_id(&self) -> Option<u16> {
        self.session.ids.last_allocated()
    }

    /// Moves what the in-flight window has room for from the outbox into flight now (up to one
    /// batch of bytes waiting for [`Client::poll_transmit`]), so the identifiers of messages
    /// just published are known: MQTT.js code reads `getLastMessageId()` right after
    /// `publish()`. A driver otherwise fills at `poll_transmit`, batching a task's publishes.
    pub fn fill_now(&mut self, now: Instant) {
        if self.tx.len() < super::outbound::BATCH_BYTES {
            self.revision += 1;
            self.fill_from_outbox(now);
        }
    }

    /// The application gives up on the in-flight message `packet_id` (MQTT.js's
    /// `removeOutgoingMessage`): its publish completes now with [`ClientError::Removed`], and it
    /// is not sent as a new message if the session is lost. While the session lasts its flow
    /// goes on as MQTT requires: resent on a resumed session [MQTT-4.4.0-1], its identifier
    /// held until its PUBACK or PUBCOMP (a new QoS 2 message on an identifier the server holds
    /// would be taken for a duplicate and lost, [MQTT-4.3.3-9]); it may therefore still
    /// arrive, once at most at QoS 2. (MQTT.js deletes it from its store, so a resumed session
    /// does not send it again, against [MQTT-4.4.0-1].) Returns the message, or None
    /// if none is in flight with that identifier (queued messages have none yet) or it was
    /// removed already.
    pub fn remove_outgoing(&mut self, packet_id: u16) -> Option<Publish> {
        let m = self.session.inflight_mut(packet_id)?;
        if m.removed {
            return None;
        }
        m.removed = true;
        let op = m.op.take();
        let publish = m.publish.clone();
        self.revision += 1;
        self.complete_publish_by(op, Some(packet_id), Err(ClientError::Removed));
        Some(publish)
    }

    /// What a save must write so that MQTT.js Stores holding `mirror` hold this session's
    /// outgoing messages and incoming QoS 2 identifiers (see `mirror.rs`). Apply the changes
    /// to `mirror` once the save has completed.
    pub fn store_changes(
        &self,
        mirror: &super::Mirror,
        now: Instant,
        wall_ms: u64,
    ) -> super::MirrorChanges {
        super::mirror::changes(&self.session, mirror, now, wall_ms)
    }

    /// What a save must write so that a store holding `stored` holds this session: the new
    /// index, the records of messages it does not hold yet, and those to delete (see
    /// `stored.rs`). Apply the changes to `stored` once the save has committed.
    pub fn session_changes(
        &self,
        stored: &super::StoredKeys,
        now: Instant,
        wall_ms: u64,
    ) -> super::SessionChanges {
        super::stored::changes(&self.session, stored, now, wall_ms)
    }

    /// Whether this client has started a session of its own (then a stored one is never
    /// imported into it: [`Client::import_session`]).
    pub fn session_is_live(&self) -> bool {
        self.started || self.last_server.is_some() || !matches!(self.state, State::Idle)
    }

    /// Restores a session exported by [`Client::export_session`] (before `start`). What was
    /// published or subscribed while it loaded is kept, after the restored messages.
    pub fn import_session(
        &mut self,
        bytes: &[u8],
        now: Instant,
        wall_ms: u64,
    ) -> Result<(), String> {
        if self.session_is_live() {
            // A live session is never replaced by a stored one.
            return Err(
                "a stored session is imported before the client starts; this client has \
                 already started, so its own session is kept"
                    .into(),
            );
        }
        let mut s = Session::import(bytes, now, wall_ms)?;
        self.revision += 1;
        self.next_sub = self
            .next_sub
            .max(s.registry.iter().map(|x| x.id.0 + 1).max().unwrap_or(1));
        let mut current = std::mem::take(&mut self.session);
        // Restored messages first; those published while loading follow if the bounds
        // leave room (restored messages, whose callers are gone, are never displaced).
        let held = (0, 0);
        for q in current.outbox.drain() {
            if let Err((q, e)) = s.outbox.push_if_room(q, &self.cfg.outbox, held) {
                self.complete_publish(q.op, Err(e));
            }
        }
        for sub in current.registry.iter() {
            s.registry.insert(sub.clone());
        }
        self.session = s;
        self.session.ids.set_lowest_first(self.cfg.lowest_free_ids);
        // Subscribes made while it loaded count against the bound with the restored ones.
        let max = self.cfg.max_subscriptions;
        let refused = self.pending.refuse_beyond(&self.session.registry, max);
        for p in refused {
            self.fail_pending(
                p,
                ClientError::TooMany {
                    what: "subscriptions",
                    max,
                },
            );
        }
        self.arm_expiry(now);
        Ok(())
    }

    // ------------------------------------------------------------------ connection internals

    fn attempt(&mut self, now: Instant) {
        if !self.online {
            self.state = State::Offline;
            return;
        }
        let url = self.reconnect.url().to_string();
        if url.is_empty() {
            let e = ClientError::Config("no broker URL is configured".into());
            self.stopped = Some(e.clone());
            self.state = State::Idle;
            self.events.push_back(Event::Stopped(e));
            return;
        }
        self.timers.clear(Timer::Reconnect);
        self.timers
            .set(Timer::Connect, now + self.cfg.connect_timeout);
        let attempt = self.reconnect.attempt();
        if self.metrics.connected_since.is_some()
            || attempt > 0
            || self.metrics.reconnects > 0
            || self.last_server.is_some()
        {
            self.metrics.reconnects += 1;
        }
        self.events.push_back(Event::Connecting {
            attempt,
            url: url.clone(),
        });
        self.transport.push_back(TransportAction::Open(url.clone()));
        self.state = State::Opening { since: now, url };
    }

    fn build_connect(&self) -> Connect {
        let cfg = &self.cfg;
        let mut c = Connect {
            protocol: cfg.protocol,
            clean_start: cfg.clean_start,
            keep_alive: cfg.keep_alive,
            client_id: self.client_id.as_str().into(),
            will: cfg.will.clone(),
            // A host a server redirected us to gets no credentials unless trusted.
            username: cfg
                .username
                .as_deref()
                .filter(|_| self.reconnect.trusted())
                .map(ByteStr::from),
            password: cfg.password.clone().filter(|_| self.reconnect.trusted()),
            properties: Properties::default(),
        };
        if cfg.protocol.is_v5() {
            let p = &mut c.properties;
            p.session_expiry_interval = cfg.session_expiry_interval;
            p.receive_maximum = cfg.receive_maximum;
            p.maximum_packet_size = Some(cfg.maximum_packet_size);
            if cfg.topic_alias_maximum > 0 {
                p.topic_alias_maximum = Some(cfg.topic_alias_maximum);
            }
            if cfg.request_response_information {
                p.request_response_information = Some(true);
            }
            p.request_problem_information = cfg.request_problem_information;
            if !cfg.user_properties.is_empty() {
                p.user_properties = cfg.user_properties.clone();
            }
            p.authentication_method = cfg.authentication_method.as_deref().map(ByteStr::from);
            p.authentication_data = cfg.authentication_data.clone();
            if c.properties.is_empty() {
                c.properties = Properties::default();
            }
        }
        c
    }

    /// Encodes a control packet into the transmit buffer (it goes out on the next
    /// `poll_transmit`). Encoding errors here are bugs in the client, reported, never panics.
    fn write(&mut self, _now: Instant, packet: &Packet) {
        if let Err(e) = packet.encode(self.cfg.protocol, &mut self.tx) {
            self.events
                .push_back(Event::Stopped(ClientError::Encode(e)));
        }
    }

    fn clear_connection_timers(&mut self) {
        self.timers.clear_connection();
    }

    /// We end the connection: MQTT 5 gets a DISCONNECT with `reason` first.
    fn fail_connection(&mut self, now: Instant, reason: ReasonCode, ending: Ending) {
        let connected_for = match &self.state {
            State::Connected(l) => Some(now - l.since),
            _ => None,
        };
        if self.cfg.protocol.is_v5()
            && matches!(self.state, State::Connected(_) | State::Handshake { .. })
        {
            let mut d = Disconnect::new(reason);
            if let Ending::Protocol(e) = &ending {
                let text = e.message();
                if text.len() < 256 {
                    d.properties.reason_string = Some(text.into());
                }
            }
            if Packet::Disconnect(d.clone())
                .encode(self.cfg.protocol, &mut self.tx)
                .is_err()
            {
                let _ = Packet::Disconnect(Disconnect::new(reason))
                    .encode(self.cfg.protocol, &mut self.tx);
            }
        }
        self.close_with(ending, connected_for);
    }

    fn close_with(&mut self, ending: Ending, connected_for: Option<Duration>) {
        self.transport.push_back(TransportAction::Close);
        self.state = State::Closing {
            ending: Some(ending),
            connected_for,
        };
        self.clear_connection_timers();
    }

    fn after_ending(&mut self, now: Instant, ending: Ending, connected_for: Option<Duration>) {
        let error = ending.error();
        if !self.started {
            // The application ended the client and the connection broke before the end
            // finished: it ends all the same.
            self.state = State::Idle;
            self.ended_by_app();
            self.events.push_back(Event::Disconnected {
                error: Some(error),
                reconnect_at: None,
            });
            return;
        }
        match self.reconnect.decide(&ending, connected_for, &mut self.rng) {
            Decision::Retry { delay, .. } => {
                if self.online {
                    let until = now + delay;
                    self.state = State::Waiting { until };
                    self.timers.set(Timer::Reconnect, until);
                    self.events.push_back(Event::Disconnected {
                        error: Some(error),
                        reconnect_at: Some(until),
                    });
                } else {
                    self.state = State::Offline;
                    self.events.push_back(Event::Disconnected {
                        error: Some(error),
                        reconnect_at: None,
                    });
                }
            }
            Decision::Stop(e) => {
                self.state = State::Idle;
                self.stopped = Some(e.clone());
                self.events.push_back(Event::Disconnected {
                    error: Some(error),
                    reconnect_at: None,
                });
                self.events.push_back(Event::Stopped(e));
            }
        }
    }

    /// The application ended the client: a non-persistent session's operations fail.
    fn ended_by_app(&mut self) {
        if self.cfg.persistent_session() {
            return;
        }
        let inflight: Vec<Inflight> = self.session.inflight.take_all();
        for m in inflight {
            self.session.ids.remove(m.id);
            self.complete_publish(m.op, Err(ClientError::Cancelled));
        }
        for q in self.session.outbox.drain() {
            self.complete_publish(q.op, Err(ClientError::Cancelled));
        }
        for p in self.pending.drain() {
            if let Some(id) = p.packet_id {
                self.session.ids.remove(id);
            }
            self.fail_pending(p, ClientError::Cancelled);
        }
        for op in self.requests.drain() {
            self.events.push_back(Event::Response {
                id: op,
                result: Err(ClientError::Cancelled),
            });
        }
        self.arm_requests();
        self.session.received_qos2.clear();
    }

    fn fail_pending(&mut self, p: Pending, e: ClientError) {
        let Some(id) = p.op else { return };
        self.events.push_back(match p.kind {
            PendingKind::Subscribe { .. } => Event::Subscribed { id, result: Err(e) },
            PendingKind::Unsubscribe { .. } => Event::Unsubscribed { id, result: Err(e) },
        });
    }

    /// A graceful disconnect sends DISCONNECT once nothing is left to deliver (or at its
    /// deadline).
    fn finish_drain(&mut self, now: Instant) {
        let State::Connected(link) = &mut self.state else {
            return;
        };
        let Some(packet) = link.draining.clone() else {
            return;
        };
        let drained = self.session.outbox.is_empty() && self.session.inflight.is_empty();
        if !drained && !self.timers.due(Timer::Disconnect, now) {
            return;
        }
        let _ = Packet::Disconnect(packet).encode(self.cfg.protocol, &mut self.tx);
        self.transport.push_back(TransportAction::Close);
        self.state = State::Closing {
            ending: None,
            connected_for: None,
        };
        self.clear_connection_timers();
    }

    // ------------------------------------------------------------------ sending

    /// Moves messages from the outbox to the wire (see [`Session::fill`]).
    fn fill_from_outbox(&mut self, now: Instant) {
        let State::Connected(link) = &mut self.state else {
            return;
        };
        let (window, exactly_once) = (self.cfg.inflight_window(), self.cfg.exactly_once_window());
        let (completed, sent) = self.session.fill(
            link,
            window,
            exactly_once,
            self.cfg.protocol,
            &mut self.tx,
            now,
        );
        self.metrics.messages_out += sent;
        for (op, r) in completed {
            self.complete_publish(op, r);
        }
    }

    fn complete_publish(&mut self, op: Option<OpId>, result: Result<ReasonCode, ClientError>) {
        self.complete_publish_by(op, None, result);
    }

    /// Completes a publish with the acknowledgement (PUBACK, PUBREC with an error, PUBCOMP)
    /// that decided it, so the application sees that packet's identifier.
    fn complete_publish_by(
        &mut self,
        op: Option<OpId>,
        packet_id: Option<u16>,
        result: Result<ReasonCode, ClientError>,
    ) {
        if let Some(id) = op {
            self.events.push_back(Event::Published {
                id,
                result,
                packet_id,
            });
        }
    }

    /// Sends every pending (un)subscribe not yet sent on this connection.
    fn send_pending(&mut self, now: Instant) {
        if !matches!(self.state, State::Connected(_)) {
            return;
        }
        let max = self.server().and_then(|s| s.maximum_packet_size);
        while let Some(i) = self.pending.first_unsent() {
            let Some(id) = self.session.ids.allocate() else {
                return;
            };
            let packet = self.pending.mark_sent(i, id);
            let refused = match (packet.encoded_len(self.cfg.protocol), max) {
                (Ok(size), Some(max)) if size > max as usize => {
                    Some(ClientError::PacketTooLarge { size, max })
                }
                (Err(e), _) => Some(ClientError::Encode(e)),
                _ => None,
            };
            match refused {
                Some(e) => {
                    self.session.ids.remove(id);
                    let p = self.pending.remove(i);
                    self.fail_pending(p, e);
                }
                None => self.write(now, &packet),
            }
        }
    }

    // ------------------------------------------------------------------ receiving

    fn handle_packet(&mut self, now: Instant, packet: Packet) {
        match &mut self.state {
            State::Connected(link) => link.received(now, &mut self.timers),
            State::Handshake { .. } => {}
            _ => return,
        }
        let handshake = matches!(self.state, State::Handshake { .. });
        match packet {
            Packet::ConnAck(c) if handshake => self.on_connack(now, c),
            Packet::Auth(a) if self.cfg.protocol.is_v5() => self.on_auth(now, a),
            _ if handshake => self.violation(
                now,
                ReasonCode::ProtocolError,
                "the server sent a packet before CONNACK [MQTT-3.2.0-1]".into(),
            ),
            Packet::Publish(p) => self.on_publish(now, p),
            Packet::PubAck(r) => self.on_puback(r),
            Packet::PubRec(r) => self.on_pubrec(now, r),
            Packet::PubRel(r) => self.on_pubrel(now, r),
            Packet::PubComp(r) => self.on_pubcomp(r),
            Packet::SubAck(a) => self.on_suback(now, a),
            Packet::UnsubAck(a) => self.on_unsuback(now, a),
            Packet::PingResp => {
                if let State::Connected(link) = &mut self.state {
                    if let Some(rtt) = link.pong(now, &mut self.timers) {
                        self.metrics.record_rtt(rtt);
                    }
                }
            }
            Packet::Disconnect(d) => self.on_server_disconnect(now, d),
            other => {
                let t = other.packet_type();
                self.violation(
                    now,
                    ReasonCode::ProtocolError,
                    text!("a server does not send ", t),
                );
            }
        }
    }

    fn violation(&mut self, now: Instant, reason: ReasonCode, detail: String) {
        let e = ClientError::ProtocolViolation { reason, detail };
        self.fail_connection(now, reason, Ending::Protocol(e));
    }

    fn on_connack(&mut self, now: Instant, c: ConnAck) {
        let State::Handshake { url, .. } = &self.state else {
            return;
        };
        let url = url.clone();
        if c.reason_code.is_error() {
            let ending = Ending::Refused {
                reason: c.reason_code,
                reason_string: c
                    .properties
                    .reason_string
                    .as_ref()
                    .map(|s| crate::text::owned(s)),
                server_reference: c
                    .properties
                    .server_reference
                    .as_ref()
                    .map(|s| crate::text::owned(s)),
            };
            self.close_with(ending, None);
            return;
        }
        if c.session_present && self.cfg.clean_start {
            // [MQTT-3.2.2-4]: the server claims a session we asked it to discard.
            self.violation(
                now,
                ReasonCode::ProtocolError,
                "Session Present after Clean Start [MQTT-3.2.2-4]".into(),
            );
            return;
        }
        if let Some(m) = &self.cfg.authentication_method {
            if c.properties.authentication_method.as_deref() != Some(m.as_str()) {
                // [MQTT-4.12.0-5]
                self.violation(
                    now,
                    ReasonCode::ProtocolError,
                    "CONNACK authentication method differs from ours [MQTT-4.12.0-5]".into(),
                );
                return;
            }
        }
        let p = &c.properties;
        if let Some(assigned) = &p.assigned_client_identifier {
            self.client_id = crate::text::owned(assigned);
        }
        let keep_alive = p.server_keep_alive.unwrap_or(self.cfg.keep_alive);
        let server = ServerInfo {
            session_present: c.session_present,
            client_id: self.client_id.clone(),
            keep_alive,
            receive_maximum: p.receive_maximum.unwrap_or(u16::MAX),
            maximum_qos: p.maximum_qos.unwrap_or(QoS::ExactlyOnce),
            retain_available: p.retain_available.unwrap_or(true),
            maximum_packet_size: p.maximum_packet_size,
            topic_alias_maximum: p.topic_alias_maximum.unwrap_or(0),
            wildcard_subscription_available: p.wildcard_subscription_available.unwrap_or(true),
            subscription_identifier_available: p.subscription_identifier_available.unwrap_or(true),
            shared_subscription_available: p.shared_subscription_available.unwrap_or(true),
            url,
            properties: c.properties.clone(),
        };
        self.timers.clear(Timer::Connect);
        let alias_maximum = if self.cfg.protocol.is_v5() {
            self.cfg.topic_alias_maximum
        } else {
            0
        };
        let link = Link::new(server.clone(), now, keep_alive, alias_maximum);
        self.state = State::Connected(Box::new(link));
        self.last_server = Some(server.clone());
        if c.session_present {
            self.resend_inflight(now);
        } else {
            self.session_lost(now);
        }
        // Pending (un)subscribes of the last connection were never acknowledged: send again.
        self.pending.unsend_all();
        // In-flight (un)subscribe identifiers from the last connection are free again.
        // (`clear` keeps how identifiers are given and the last one given.)
        let inflight_ids: Vec<u16> = self.session.inflight.iter().map(|m| m.id).collect();
        self.session.ids.clear();
        for id in inflight_ids {
            self.session.ids.insert(id);
        }
        self.send_pending(now);
        if let State::Connected(link) = &mut self.state {
            link.arm_ping(&mut self.timers);
        }
        self.events.push_back(Event::Connected(Box::new(server)));
    }

    /// Resume: what was in flight goes again (see [`Session::resend`]).
    fn resend_inflight(&mut self, now: Instant) {
        let max = self.server().and_then(|s| s.maximum_packet_size);
        for (op, r) in self
            .session
            .resend(max, self.cfg.protocol, &mut self.tx, now)
        {
            self.complete_publish(op, r);
        }
    }

    /// The server has no session for us [MQTT-3.2.2-5]: its protocol state is gone. Messages it
    /// never acknowledged are sent again as new publications (at least once, not lost); those it
    /// acknowledged with PUBREC are complete (it took ownership [MQTT-4.3.3-8]); subscriptions
    /// are made again.
    fn session_lost(&mut self, now: Instant) {
        self.acks.session_lost();
        for (op, r) in self.session.server_forgot() {
            self.complete_publish(op, r);
        }
        if self.session.registry.is_empty() {
            return;
        }
        // Group by subscription identifier: one SUBSCRIBE carries at most one.
        let mut groups: Vec<(Option<u32>, Vec<ActiveSubscription>)> = Vec::new();
        for s in self.session.registry.iter() {
            match groups.iter_mut().find(|(i, _)| *i == s.identifier) {
                Some((_, g)) => g.push(s.clone()),
                None => groups.push((s.identifier, vec![s.clone()])),
            }
        }
        // Ahead of the application's own pending requests, in the order first subscribed.
        let again: Vec<Pending> = groups
            .into_iter()
            .map(|(_, subs)| Pending {
                op: None,
                kind: PendingKind::Subscribe {
                    internal: subs.iter().all(|s| s.id == INTERNAL),
                    subs,
                    properties: Properties::default(),
                },
                packet_id: None,
            })
            .collect();
        self.pending.prepend(again);
        let _ = now;
    }

    fn on_auth(&mut self, now: Instant, a: Auth) {
        let Some(method) = self.cfg.authentication_method.clone() else {
            // [MQTT-4.12.0-6]
            self.violation(
                now,
                ReasonCode::ProtocolError,
                "AUTH without an authentication method [MQTT-4.12.0-6]".into(),
            );
            return;
        };
        if a.properties.authentication_method.as_deref() != Some(method.as_str()) {
            self.violation(
                now,
                ReasonCode::ProtocolError,
                "AUTH with another authentication method [MQTT-4.12.0-5]".into(),
            );
            return;
        }
        match a.reason_code {
            ReasonCode::ContinueAuthentication => self.events.push_back(Event::AuthChallenge {
                method,
                data: a.properties.authentication_data.clone(),
            }),
            ReasonCode::Success => match &mut self.state {
                State::Connected(link) if link.reauthenticating => {
                    link.reauthenticating = false;
                    self.events.push_back(Event::Reauthenticated);
                }
                _ => self.violation(
                    now,
                    ReasonCode::ProtocolError,
                    "unexpected AUTH Success".into(),
                ),
            },
            _ => self.violation(
                now,
                ReasonCode::ProtocolError,
                "a server does not send AUTH Re-authenticate".into(),
            ),
        }
    }

    fn on_publish(&mut self, now: Instant, mut p: Publish) {
        let State::Connected(link) = &mut self.state else {
            return;
        };
        // Resolve a topic alias [MQTT-3.3.2-10].
        let alias = p.properties.topic_alias.take();
        match link.in_aliases.resolve(std::mem::take(&mut p.topic), alias) {
            Ok(topic) => p.topic = topic,
            Err((reason, detail)) => return self.violation(now, reason, detail),
        }
        let v = self.cfg.protocol;
        match p.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => {
                // Acknowledge in order received [MQTT-4.6.0-2] (the ack is queued before any
                // later packet's), unless the application acknowledges (`release`).
                if self.acks.on_qos1(p.packet_id) {
                    let _ = Packet::PubAck(PubResp::new(p.packet_id)).encode(v, &mut self.tx);
                }
            }
            QoS::ExactlyOnce => {
                let id = p.packet_id;
                if self.session.received_qos2.contains(id) {
                    // Already delivered: acknowledge again, deliver once [MQTT-4.3.3-10].
                    let _ = Packet::PubRec(PubResp::new(id)).encode(v, &mut self.tx);
                    return;
                }
                let max = usize::from(self.cfg.receive_maximum.unwrap_or(u16::MAX));
                if v.is_v5() && self.session.received_qos2.len() >= max {
                    // Refused, so never acknowledged: the server must not think it delivered.
                    return self.violation(
                        now,
                        ReasonCode::ReceiveMaximumExceeded,
                        text!(
                            "the server sent more than our Receive Maximum of ",
                            max,
                            " unacknowledged QoS 2 messages [MQTT-3.3.4-9]"
                        ),
                    );
                }
                self.session.received_qos2.insert(id);
                self.acks.on_qos2(id);
                let _ = Packet::PubRec(PubResp::new(id)).encode(v, &mut self.tx);
            }
        }
        self.metrics.messages_in += 1;
        self.deliver(p);
    }

    fn deliver(&mut self, p: Publish) {
        let mut routes = self
            .session
            .registry
            .route(&p.topic, &p.properties.subscription_identifiers);
        if let Some(c) = &p.properties.correlation_data {
            if let Some(op) = self.requests.take(c) {
                routes.retain(|r| *r != INTERNAL);
                let message = Message {
                    publish: p.clone(),
                    subscriptions: routes.clone(),
                };
                self.events.push_back(Event::Response {
                    id: op,
                    result: Ok(Box::new(message)),
                });
                self.arm_requests();
                if routes.is_empty() {
                    return;
                }
            }
        }
        routes.retain(|r| *r != INTERNAL);
        if routes.is_empty() && self.requests.response_topic.as_deref() == Some(&*p.topic) {
            // A late response to a request that timed out.
            return;
        }
        self.events.push_back(Event::Message(Box::new(Message {
            publish: p,
            subscriptions: routes,
        })));
    }

    fn on_puback(&mut self, r: PubResp) {
        let is_ack = self
            .session
            .inflight
            .get(r.packet_id)
            .is_some_and(|m| m.stage == Stage::AwaitAck);
        if !is_ack {
            return;
        }
        if let Some(m) = self.session.take_inflight(r.packet_id) {
            let result = if r.reason_code.is_error() {
                Err(ClientError::PublishRejected {
                    reason: r.reason_code,
                    reason_string: r
                        .properties
                        .reason_string
                        .as_ref()
                        .map(|s| crate::text::owned(s)),
                })
            } else {
                Ok(r.reason_code)
            };
            self.complete_publish_by(m.op, Some(r.packet_id), result);
        }
    }

    fn on_pubrec(&mut self, now: Instant, r: PubResp) {
        let v = self.cfg.protocol;
        let stage = self.session.inflight_mut(r.packet_id).map(|m| m.stage);
        match stage {
            Some(Stage::AwaitRec) if r.reason_code.is_error() => {
                // [MQTT-4.4.0-2]: acknowledged with an error; never retransmitted.
                if let Some(m) = self.session.take_inflight(r.packet_id) {
                    self.complete_publish_by(
                        m.op,
                        Some(r.packet_id),
                        Err(ClientError::PublishRejected {
                            reason: r.reason_code,
                            reason_string: r
                                .properties
                                .reason_string
                                .as_ref()
                                .map(|s| crate::text::owned(s)),
                        }),
                    );
                }
            }
            Some(Stage::AwaitRec | Stage::AwaitComp) => {
                if let Some(m) = self.session.inflight_mut(r.packet_id) {
                    m.stage = Stage::AwaitComp;
                }
                // [MQTT-4.3.3-4], in the order PUBRECs arrive [MQTT-4.6.0-4].
                let _ = Packet::PubRel(PubResp::new(r.packet_id)).encode(v, &mut self.tx);
            }
            Some(Stage::AwaitAck) => self.violation(
                now,
                ReasonCode::ProtocolError,
                text!("PUBREC for QoS 1 message ", r.packet_id),
            ),
            None => {
                // Unknown: let the server finish its side (MQTT 5: "Packet Identifier not found").
                let mut rel = PubResp::new(r.packet_id);
                if v.is_v5() {
                    rel.reason_code = ReasonCode::PacketIdentifierNotFound;
                }
                let _ = Packet::PubRel(rel).encode(v, &mut self.tx);
            }
        }
    }

    fn on_pubrel(&mut self, _now: Instant, r: PubResp) {
        let v = self.cfg.protocol;
        let known = self.session.received_qos2.remove(r.packet_id);
        if !self.acks.on_pubrel(r.packet_id) {
            return; // PUBCOMP once the application released the message (`release`)
        }
        let mut comp = PubResp::new(r.packet_id);
        if !known && v.is_v5() {
            comp.reason_code = ReasonCode::PacketIdentifierNotFound;
        }
        // [MQTT-4.3.3-11]
        let _ = Packet::PubComp(comp).encode(v, &mut self.tx);
    }

    fn on_pubcomp(&mut self, r: PubResp) {
        let is_comp = self
            .session
            .inflight
            .get(r.packet_id)
            .is_some_and(|m| m.stage == Stage::AwaitComp);
        if !is_comp {
            return;
        }
        if let Some(m) = self.session.take_inflight(r.packet_id) {
            // PUBCOMP "Packet Identifier not found" still follows a successful PUBREC: the
            // server took ownership of the message then.
            self.complete_publish_by(m.op, Some(r.packet_id), Ok(r.reason_code));
        }
    }

    fn take_pending(&mut self, id: u16) -> Option<Pending> {
        let p = self.pending.take(id)?;
        self.session.ids.remove(id);
        Some(p)
    }

    fn on_suback(&mut self, now: Instant, a: SubAck) {
        let Some(p) = self.take_pending(a.packet_id) else {
            return self.violation(
                now,
                ReasonCode::ProtocolError,
                text!("SUBACK for unknown packet identifier ", a.packet_id),
            );
        };
        let PendingKind::Subscribe { subs, internal, .. } = p.kind else {
            return self.violation(
                now,
                ReasonCode::ProtocolError,
                "SUBACK answering an UNSUBSCRIBE".into(),
            );
        };
        if a.reason_codes.len() != subs.len() {
            // [MQTT-3.8.4-6]
            return self.violation(
                now,
                ReasonCode::ProtocolError,
                text!(
                    "SUBACK has ",
                    a.reason_codes.len(),
                    " codes for ",
                    subs.len(),
                    " filters [MQTT-3.8.4-6]"
                ),
            );
        }
        let mut results: Vec<Granted> = Vec::with_capacity(subs.len());
        for (sub, code) in subs.into_iter().zip(&a.reason_codes) {
            match code.granted_qos() {
                Some(q) => {
                    results.push(Ok(q));
                    self.session.registry.insert(sub);
                }
                None => {
                    results.push(Err(*code));
                    self.session.registry.remove(&sub.filter);
                }
            }
        }
        let _ = internal;
        if let Some(id) = p.op {
            self.events.push_back(Event::Subscribed {
                id,
                result: Ok(results),
            });
        }
    }

    fn on_unsuback(&mut self, now: Instant, a: UnsubAck) {
        let Some(p) = self.take_pending(a.packet_id) else {
            return self.violation(
                now,
                ReasonCode::ProtocolError,
                text!("UNSUBACK for unknown packet identifier ", a.packet_id),
            );
        };
        let PendingKind::Unsubscribe { filters, .. } = p.kind else {
            return self.violation(
                now,
                ReasonCode::ProtocolError,
                "UNSUBACK answering a SUBSCRIBE".into(),
            );
        };
        let codes = if self.cfg.protocol.is_v5() {
            if a.reason_codes.len() != filters.len() {
                return self.violation(
                    now,
                    ReasonCode::ProtocolError,
                    "UNSUBACK code count differs from the filters [MQTT-3.11.3-1]".into(),
                );
            }
            a.reason_codes
        } else {
            vec![ReasonCode::Success; filters.len()]
        };
        for (f, c) in filters.iter().zip(&codes) {
            if !c.is_error() {
                self.session.registry.remove(f);
            }
        }
        if let Some(id) = p.op {
            self.events.push_back(Event::Unsubscribed {
                id,
                result: Ok(codes),
            });
        }
    }

    fn on_server_disconnect(&mut self, now: Instant, d: Disconnect) {
        let connected_for = match &self.state {
            State::Connected(l) => Some(now - l.since),
            _ => None,
        };
        let ending = Ending::ServerDisconnect {
            reason: d.reason_code,
            reason_string: d
                .properties
                .reason_string
                .as_ref()
                .map(|s| crate::text::owned(s)),
            server_reference: d
                .properties
                .server_reference
                .as_ref()
                .map(|s| crate::text::owned(s)),
        };
        self.close_with(ending, connected_for);
    }

    // ------------------------------------------------------------------ timers

    fn arm_requests(&mut self) {
        self.timers
            .set_or_clear(Timer::Request, self.requests.next_deadline());
    }

    fn expire_requests(&mut self, now: Instant) {
        for (op, ms) in self.requests.expire(now) {
            self.events.push_back(Event::Response {
                id: op,
                result: Err(ClientError::RequestTimeout(ms)),
            });
        }
        self.arm_requests();
    }

    fn arm_expiry(&mut self, _now: Instant) {
        let next = self
            .session
            .outbox
            .iter()
            .filter_map(|q| {
                q.publish
                    .properties
                    .message_expiry_interval
                    .map(|s| q.queued_at + Duration::from_secs(u64::from(s)))
            })
            .min();
        self.timers.set_or_clear(Timer::Expiry, next);
    }

    fn expire_outbox(&mut self, now: Instant) {
        for (op, e) in self.session.outbox.remove_expired(now) {
            self.complete_publish(op, Err(e));
        }
        self.arm_expiry(now);
    }
}

/// A SUBSCRIBE the codec refuses to encode, as the application's error: its kind says what to
/// change (a feature of MQTT 5, a value out of range), its message cites the rule.
fn subscribe_refused(e: crate::codec::EncodeError) -> ClientError {
    use crate::codec::EncodeError as E;
    match e {
        E::SubscriptionOptionsRequireV5 => ClientError::Unsupported(
            "No Local, Retain As Published and Retain Handling need MQTT 5",
        ),
        E::PropertiesRequireV5 { .. } => {
            ClientError::Unsupported("subscription identifiers and user properties need MQTT 5")
        }
        E::NoLocalOnSharedSubscription | E::InvalidPropertyValue { .. } => {
            ClientError::Config(e.message())
        }
        other => ClientError::Encode(other),
    }
}
