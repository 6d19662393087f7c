//! The browser driver: the only module that touches web-sys. It carries the core's bytes over a
//! `WebSocket`, arms one timer for its deadlines, tells it about the network and the page's
//! visibility, and keeps its session in IndexedDB.
//!
//! Length: the driver is one object whose socket, timer, listeners and persistence callbacks all
//! feed the same pump; `persist.rs`, `timer.rs`, `page.rs` and `error.rs` hold what stands alone.
//! The next split is the persistence orchestration (load, commit before send, save) into a type
//! of its own.

mod error;
pub mod page;
mod persist;
mod scope;
mod stores;
mod timer;

pub use error::WebError;
pub use persist::Persistence;

use crate::text::Piece;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use bytes::Bytes;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use crate::codec::{ByteStr, ProtocolVersion, Publish, SubscriptionOptions};
use crate::proto::{
    Client, ClientError, Config, DisconnectOptions, Event, Instant, Metrics, OpId, RequestOptions,
    ServerInfo, SubscriptionId, TransportAction,
};

/// What a credentials provider is asked before every connection attempt.
#[derive(Debug, Clone)]
pub struct CredentialsRequest {
    /// The URL about to be opened.
    pub url: String,
    /// Attempt number since the last stable connection.
    pub attempt: u32,
}

/// What a credentials provider answers: each field replaces the configured one if given.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// A URL to open instead (for example a freshly signed one).
    pub url: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// Password or token.
    pub password: Option<Bytes>,
}

/// The future a credentials provider returns.
pub type CredentialsFuture = Pin<Box<dyn Future<Output = Result<Credentials, WebError>>>>;

/// Called before every (re)connection for the URL and credentials (tokens and signed URLs
/// expire). Its error fails that attempt, which is then retried with backoff.
pub type CredentialsProvider = Rc<dyn Fn(CredentialsRequest) -> CredentialsFuture>;

/// How the driver runs the client.
pub struct Options {
    /// The client's configuration.
    pub config: Config,
    /// Where the session is kept between page loads.
    pub persistence: Persistence,
    /// The IndexedDB key (default: the first broker URL and the client id).
    pub persistence_key: Option<String>,
    /// Run deadlines from a Worker, which hidden pages do not throttle. Default true.
    pub worker_timer: bool,
    /// Asked before every attempt for the URL and credentials.
    pub credentials: Option<CredentialsProvider>,
    /// Stop handing bytes to the WebSocket while this many are buffered in it (back-pressure:
    /// the outbox fills and publishers wait instead of memory growing). Default 1 MiB.
    pub high_water_mark: u32,
    /// A constructor used instead of the page's `WebSocket`: `new socket(url, protocol)` gives
    /// an object with the WebSocket interface the driver uses (the npm package's Node
    /// transports: the `ws` package, TCP and TLS). Every decision stays in the core.
    pub socket: Option<js_sys::Function>,
    /// Keep the session in the application's stores (an adapter over MQTT.js's
    /// `incomingStore` / `outgoingStore`, see `stores.rs`) instead of IndexedDB, whether the
    /// session is persistent or not (as MQTT.js does).
    pub stores: Option<js_sys::Object>,
}

impl Options {
    /// Defaults around `config`.
    pub fn new(config: Config) -> Options {
        Options {
            config,
            persistence: Persistence::default(),
            persistence_key: None,
            worker_timer: true,
            credentials: None,
            high_water_mark: 1 << 20,
            socket: None,
            stores: None,
        }
    }
}

/// What the driver reports: the core's events, and its own failures.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// An event of the client.
    Event(Event),
    /// The session could not be saved or loaded (for example the storage quota is exceeded).
    Persistence(String),
}

type Notify = Box<dyn FnMut(&Driver, Vec<Notice>)>;

/// How long starting waits for IndexedDB before going on with the session in memory only.
pub const LOAD_TIMEOUT_MS: u32 = 3_000;

/// A handle to a client running in the browser. Clones share it.
// Design: one `Rc` shared by the application's handles and (weakly) by the socket, timer and
// listener callbacks. Every input mutates the client and schedules one pump on a microtask, so
// everything a task produces leaves in one WebSocket message, and application callbacks never
// run while the client is borrowed.
#[derive(Clone)]
pub struct Driver(Rc<Shared>);

struct Shared {
    inner: RefCell<Inner>,
    notify: RefCell<Notify>,
}

struct Socket {
    ws: web_sys::WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_close: Closure<dyn FnMut(web_sys::CloseEvent)>,
}

impl Socket {
    fn detach_and_close(self, code: Option<u16>, reason: &str) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = match code {
            Some(c) => self.ws.close_with_code_and_reason(c, reason),
            None => self.ws.close(),
        };
    }
}

type Listener = (
    web_sys::EventTarget,
    &'static str,
    Closure<dyn FnMut(web_sys::Event)>,
);

struct Inner {
    client: Client,
    socket: Option<Socket>,
    /// Incremented for every transport opened or closed: stale callbacks compare and return.
    generation: u64,
    timer: Option<timer::Timer>,
    store: Option<Rc<persist::Backend>>,
    /// The application's stores (an adapter, see `stores.rs`), used instead of IndexedDB.
    stores: Option<js_sys::Object>,
    /// The stores were changed while a session was live: their content is replaced by the
    /// next save, which must come even if the session did not change.
    resave: bool,
    persistence: Persistence,
    persistence_key: String,
    saved_revision: u64,
    saving: bool,
    /// The stored session is being read (see `start`); `loads` numbers the attempts, so a
    /// load that timed out and finishes late is ignored.
    loading: bool,
    loads: u64,
    /// The application asked to start (cleared by `disconnect`): a load starts the client when
    /// it is done only if this still holds.
    wants_start: bool,
    /// `clear_stored_session` was called: nothing is saved until the application starts again.
    cleared: bool,
    /// Keep the timer in a Worker (see `timer.rs`).
    worker_timer: bool,
    /// A persistent session's bytes wait here until the session state that produced them is
    /// committed to IndexedDB (durable before sent); `committing` while that write runs.
    held: Vec<Vec<u8>>,
    committing: bool,
    scheduled: bool,
    credentials: Option<CredentialsProvider>,
    high_water: u32,
    /// See [`Options::socket`].
    socket_constructor: Option<js_sys::Function>,
    backpressure: Option<gloo_timers::callback::Timeout>,
    listeners: Vec<Listener>,
    notices: Vec<Notice>,
    performance: Option<web_sys::Performance>,
}

impl Inner {
    fn now(&self) -> Instant {
        let ms = self
            .performance
            .as_ref()
            .map_or_else(js_sys::Date::now, |p| p.now());
        Instant::from_micros((ms * 1000.0) as u64)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for (target, name, f) in self.listeners.drain(..) {
            let _ = target.remove_event_listener_with_callback(name, f.as_ref().unchecked_ref());
        }
        if let Some(s) = self.socket.take() {
            s.detach_and_close(None, "");
        }
    }
}

/// What a JavaScript error value says: `name: message` for a DOMException (IndexedDB's
/// `QuotaExceededError: ...`), the message of an Error, a thrown string itself.
fn js_message(e: &JsValue) -> String {
    if let Some(ex) = e.dyn_ref::<web_sys::DomException>() {
        return text!(ex.name(), ": ", ex.message());
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| "unknown error".into())
}

fn describe_close(e: &web_sys::CloseEvent) -> String {
    // Node's TCP / TLS socket (src/js/node-socket.js) stands in for a WebSocket: its events
    // name their transport, and their reason says what happened.
    if js_sys::Reflect::get(e, &JsValue::from_str("transport")).is_ok_and(|t| t.is_string()) {
        return e.reason();
    }
    let what = match e.code() {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1006 => "abnormal closure, no close frame (network or server gone)",
        1008 => "policy violation",
        1009 => "message too big",
        1011 => "server error",
        1015 => "TLS handshake failure",
        _ => "closed",
    };
    let reason = e.reason();
    if reason.is_empty() {
        text!("WebSocket ", what, " (code ", e.code(), ")")
    } else {
        text!("WebSocket ", what, " (code ", e.code(), "): ", reason)
    }
}

impl Driver {
    /// A driver for `options`; `notify` receives every event, in order, outside any borrow (it
    /// may call the driver).
    pub fn new(options: Options, notify: impl FnMut(&Driver, Vec<Notice>) + 'static) -> Driver {
        let cfg = options.config;
        let key = options.persistence_key.unwrap_or_else(|| {
            crate::proto::storage_key(
                cfg.urls.first().map(String::as_str).unwrap_or(""),
                &cfg.client_id,
            )
        });
        let scope = scope::Scope::current();
        let online = scope.as_ref().is_none_or(scope::Scope::online);
        let mut client = Client::new(cfg);
        client.set_network_available(Instant::ZERO, online);
        let shared = Rc::new(Shared {
            inner: RefCell::new(Inner {
                client,
                socket: None,
                generation: 0,
                timer: None,
                store: None,
                stores: options.stores,
                resave: false,
                persistence: options.persistence,
                persistence_key: key,
                saved_revision: 0,
                saving: false,
                loading: false,
                loads: 0,
                wants_start: false,
                cleared: false,
                worker_timer: options.worker_timer,
                held: Vec::new(),
                committing: false,
                scheduled: false,
                credentials: options.credentials,
                high_water: options.high_water_mark,
                socket_constructor: options.socket,
                backpressure: None,
                listeners: Vec::new(),
                notices: Vec::new(),
                performance: scope.as_ref().and_then(scope::Scope::performance),
            }),
            notify: RefCell::new(Box::new(notify)),
        });
        Driver(shared)
    }

    /// Takes the browser resources a running client needs: the timer (a Worker) and the page's
    /// network and visibility listeners. Released by [`Driver::detach`] once the application
    /// ended the client, so ended clients leave nothing behind.
    fn attach(&self) {
        if self.0.inner.borrow().timer.is_none() {
            let weak = Rc::downgrade(&self.0);
            let worker = self.0.inner.borrow().worker_timer;
            let timer = timer::Timer::new(
                Rc::new(move || {
                    if let Some(d) = upgrade(&weak) {
                        d.event(|c, now| c.handle_timeout(now));
                    }
                }),
                worker,
            );
            self.0.inner.borrow_mut().timer = Some(timer);
        }
        if self.0.inner.borrow().listeners.is_empty() {
            self.listen();
        }
    }

    /// Releases what [`Driver::attach`] took (the Worker is terminated, the listeners removed).
    fn detach(&self) {
        let (timer, listeners) = {
            let mut inner = self.0.inner.borrow_mut();
            (inner.timer.take(), std::mem::take(&mut inner.listeners))
        };
        drop(timer);
        for (target, name, f) in listeners {
            let _ = target.remove_event_listener_with_callback(name, f.as_ref().unchecked_ref());
        }
    }

    /// Whether deadlines run unthrottled (in a Worker).
    pub fn unthrottled_timer(&self) -> bool {
        self.0
            .inner
            .borrow()
            .timer
            .as_ref()
            .is_some_and(|t| t.unthrottled())
    }

    fn listen(&self) {
        let Some(scope) = scope::Scope::current() else {
            return;
        };
        let add = |target: web_sys::EventTarget, name: &'static str, f: fn(&Driver)| {
            let weak = Rc::downgrade(&self.0);
            let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
                if let Some(d) = upgrade(&weak) {
                    f(&d);
                }
            });
            if target
                .add_event_listener_with_callback(name, cb.as_ref().unchecked_ref())
                .is_ok()
            {
                self.0.inner.borrow_mut().listeners.push((target, name, cb));
            }
        };
        // A window and a worker's global scope both fire these.
        add(scope.target(), "online", |d| {
            d.event(|c, now| c.set_network_available(now, true))
        });
        add(scope.target(), "offline", |d| {
            d.event(|c, now| c.set_network_available(now, false))
        });
        // The rest is a page's: a worker has no visibility and is not shown or hidden.
        let Some(window) = scope.window() else {
            return;
        };
        let w: web_sys::EventTarget = window.clone().into();
        // Back from the background (or the back/forward cache): is the link still alive?
        add(w.clone(), "pageshow", |d| {
            d.event(|c, now| c.check_liveness(now))
        });
        // Leaving: save now, even while an earlier save is under way (the later write wins).
        add(w, "pagehide", |d| d.persist_now(true));
        if let Some(doc) = window.document() {
            add(doc.into(), "visibilitychange", |d| {
                let visible = web_sys::window()
                    .and_then(|w| w.document())
                    .is_some_and(|doc| doc.visibility_state() == web_sys::VisibilityState::Visible);
                if visible {
                    d.event(|c, now| c.check_liveness(now));
                } else {
                    d.persist();
                }
            });
        }
    }

    /// Runs `f` on the client at the current time, then schedules a pump.
    pub fn input<R>(&self, f: impl FnOnce(&mut Client, Instant) -> R) -> R {
        let r = {
            let mut inner = self.0.inner.borrow_mut();
            let now = inner.now();
            f(&mut inner.client, now)
        };
        self.schedule();
        r
    }

    /// Feeds the client an event from the browser (socket, timer, network, page) and drains it
    /// at once: these arrive as tasks of their own, so there is nothing to batch them with, and
    /// a microtask per WebSocket message would cost more than decoding it.
    fn event(&self, f: impl FnOnce(&mut Client, Instant)) {
        let now = {
            let mut inner = self.0.inner.borrow_mut();
            let now = inner.now();
            f(&mut inner.client, now);
            now
        };
        self.pump_at(Some(now));
    }

    /// Reads the client.
    pub fn read<R>(&self, f: impl FnOnce(&Client) -> R) -> R {
        f(&self.0.inner.borrow().client)
    }

    fn schedule(&self) {
        let mut inner = self.0.inner.borrow_mut();
        if inner.scheduled {
            return;
        }
        inner.scheduled = true;
        drop(inner);
        let weak = Rc::downgrade(&self.0);
        spawn_local(async move {
            if let Some(d) = upgrade(&weak) {
                d.pump();
            }
        });
    }

    /// Drains the client: bytes to the socket (while it is not backed up), transport actions,
    /// events to the application, the next deadline to the timer; then persistence.
    fn pump(&self) {
        self.pump_at(None);
    }

    /// [`Driver::pump`], with the time just read by the caller for its first round (a clock read
    /// per WebSocket message is measurable).
    fn pump_at(&self, mut first: Option<Instant>) {
        for _ in 0..64 {
            let (actions, notices) = {
                let mut inner = self.0.inner.borrow_mut();
                inner.scheduled = false;
                let now = first.take().unwrap_or_else(|| inner.now());
                self.transmit(&mut inner, now);
                let mut actions = Vec::new();
                while let Some(a) = inner.client.poll_transport() {
                    actions.push(a);
                }
                let mut notices = std::mem::take(&mut inner.notices);
                while let Some(e) = inner.client.poll_event() {
                    notices.push(Notice::Event(e));
                }
                let due = inner.client.poll_timeout();
                if let Some(t) = inner.timer.as_mut() {
                    let ms = |i: Instant| i.as_micros() as f64 / 1000.0;
                    t.arm(ms(now), due.map(ms));
                }
                (actions, notices)
            };
            let idle = actions.is_empty() && notices.is_empty();
            for a in actions {
                self.transport(a);
            }
            if !notices.is_empty() {
                if let Ok(mut notify) = self.0.notify.try_borrow_mut() {
                    notify(self, notices);
                }
            }
            if idle {
                break;
            }
        }
        self.persist();
        let ended = {
            let inner = self.0.inner.borrow();
            !inner.wants_start
                && !inner.loading
                && matches!(inner.client.state_name(), "idle" | "stopped")
                && (inner.timer.is_some() || !inner.listeners.is_empty())
        };
        if ended {
            self.detach();
        }
    }

    fn transmit(&self, inner: &mut Inner, now: Instant) {
        // A persistent session (its store loaded) sends nothing the stored session would not
        // know after a reload: what a round produces is held, the session written in one
        // transaction (group commit), and then it goes out (`commit`).
        let durable = inner.store.is_some() && !inner.cleared;
        if durable && inner.committing {
            return;
        }
        self.transmit_round(inner, now, durable);
        if durable && !inner.held.is_empty() {
            self.commit(inner, now);
        }
    }

    fn transmit_round(&self, inner: &mut Inner, now: Instant, durable: bool) {
        loop {
            if !inner.client.may_transmit() {
                return;
            }
            let Some(socket) = &inner.socket else {
                return;
            };
            if socket.ws.ready_state() != web_sys::WebSocket::OPEN {
                return;
            }
            if socket.ws.buffered_amount() >= inner.high_water {
                // Back-pressure: check again shortly (2 ms: the socket drains a MiB in tens of ms, and a
                // longer nap leaves it idle); meanwhile messages wait in the outbox.
                if inner.backpressure.is_none() {
                    let weak = Rc::downgrade(&self.0);
                    inner.backpressure = Some(gloo_timers::callback::Timeout::new(2, move || {
                        if let Some(d) = upgrade(&weak) {
                            d.0.inner.borrow_mut().backpressure = None;
                            d.schedule();
                        }
                    }));
                }
                return;
            }
            let Some(bytes) = inner.client.poll_transmit(now) else {
                return;
            };
            if durable {
                inner.held.push(bytes);
                continue;
            }
            if let Err(e) = socket.ws.send_with_u8_array(&bytes) {
                let detail = text!("cannot send on the WebSocket: ", js_message(&e));
                if let Some(s) = inner.socket.take() {
                    s.detach_and_close(None, "");
                }
                inner.generation += 1;
                inner.client.handle_close(now, Some(detail));
                return;
            }
        }
    }

    /// Writes the session as it is now (after the round that produced the held bytes), then
    /// sends those bytes on the connection they were made for, if it is still open.
    fn commit(&self, inner: &mut Inner, now: Instant) {
        let Some(store) = inner.store.clone() else {
            return;
        };
        inner.committing = true;
        let held = std::mem::take(&mut inner.held);
        let generation = inner.generation;
        let revision = inner.client.session_revision();
        let changes = store.changes(&inner.client, now, js_sys::Date::now() as u64);
        let weak = Rc::downgrade(&self.0);
        spawn_local(async move {
            let result = store.save(changes).await;
            let Some(d) = upgrade(&weak) else { return };
            {
                let mut inner = d.0.inner.borrow_mut();
                inner.committing = false;
                // A failed save is not retried at once (a store that fails synchronously would
                // spin): the next change saves again, and writes what this one did not (the
                // store's record of what it holds changed only on success).
                inner.saved_revision = inner.saved_revision.max(revision);
                if let Err(e) = result {
                    inner.notices.push(Notice::Persistence(text!(
                        "cannot save the session before sending (sent anyway): ",
                        e
                    )));
                }
                let open = inner.generation == generation
                    && inner
                        .socket
                        .as_ref()
                        .is_some_and(|s| s.ws.ready_state() == web_sys::WebSocket::OPEN);
                if open {
                    for b in &held {
                        if let Some(s) = &inner.socket {
                            let _ = s.ws.send_with_u8_array(b);
                        }
                    }
                }
            }
            d.schedule();
        });
    }

    fn transport(&self, action: TransportAction) {
        match action {
            TransportAction::Open(url) => {
                let (generation, provider, attempt) = {
                    let mut inner = self.0.inner.borrow_mut();
                    inner.generation += 1;
                    let attempt = inner.client.metrics().reconnects as u32;
                    (inner.generation, inner.credentials.clone(), attempt)
                };
                match provider {
                    None => self.open_socket(generation, url),
                    Some(p) => {
                        let weak = Rc::downgrade(&self.0);
                        let fut = p(CredentialsRequest {
                            url: url.clone(),
                            attempt,
                        });
                        spawn_local(async move {
                            let result = fut.await;
                            let Some(d) = upgrade(&weak) else { return };
                            if d.0.inner.borrow().generation != generation {
                                return;
                            }
                            match result {
                                Ok(c) => {
                                    let target = c.url.clone().unwrap_or(url);
                                    if c.username.is_some() || c.password.is_some() {
                                        let mut inner = d.0.inner.borrow_mut();
                                        let now = inner.now();
                                        let cfg = inner.client.config();
                                        let user = c.username.or_else(|| cfg.username.clone());
                                        let pass = c.password.or_else(|| cfg.password.clone());
                                        inner.client.set_credentials(now, user, pass);
                                    }
                                    d.open_socket(generation, target);
                                }
                                Err(e) => d.input(|c, now| c.handle_close(now, Some(e.message()))),
                            }
                        });
                    }
                }
            }
            TransportAction::Close => {
                let mut inner = self.0.inner.borrow_mut();
                inner.generation += 1;
                if let Some(s) = inner.socket.take() {
                    s.detach_and_close(Some(1000), "");
                }
                let now = inner.now();
                inner.client.handle_close(now, None);
                drop(inner);
                self.schedule();
            }
        }
    }

    fn open_socket(&self, generation: u64, url: String) {
        let protocol = {
            let inner = self.0.inner.borrow();
            if inner.client.config().protocol == ProtocolVersion::V3_1 {
                "mqttv3.1"
            } else {
                "mqtt"
            }
        };
        let constructor = self.0.inner.borrow().socket_constructor.clone();
        let ws = match constructor {
            Some(f) => {
                let args =
                    js_sys::Array::of2(&JsValue::from_str(&url), &JsValue::from_str(protocol));
                js_sys::Reflect::construct(&f, &args)
                    .map(|v| v.unchecked_into::<web_sys::WebSocket>())
            }
            None => web_sys::WebSocket::new_with_str(&url, protocol),
        };
        let ws = match ws {
            Ok(ws) => ws,
            Err(e) => {
                let detail = text!("cannot open a WebSocket to ", url, ": ", js_message(&e));
                return self.input(|c, now| c.handle_close(now, Some(detail)));
            }
        };
        ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
        let weak = Rc::downgrade(&self.0);
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(d) = upgrade_current(&weak, generation) {
                d.event(|c, now| c.handle_open(now));
            }
        });
        let weak = Rc::downgrade(&self.0);
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |e: web_sys::MessageEvent| {
                let Some(d) = upgrade_current(&weak, generation) else {
                    return;
                };
                let data = e.data();
                // An ArrayBuffer from a WebSocket; a Uint8Array from a Node transport.
                let view = match data.dyn_ref::<js_sys::ArrayBuffer>() {
                    Some(buffer) => Some(js_sys::Uint8Array::new(buffer)),
                    None => data.dyn_ref::<js_sys::Uint8Array>().cloned(),
                };
                match view {
                Some(view) => {
                    let n = view.length() as usize;
                    d.event(|c, now| {
                        c.handle_bytes_with(now, n, |at, dst| {
                            if dst.len() == n {
                                view.copy_to(dst) // the usual case: one piece, no sub-view
                            } else {
                                let end = (at + dst.len()) as u32;
                                view.subarray(at as u32, end).copy_to(dst)
                            }
                        })
                    });
                }
                None => d.fail_socket(
                    1003,
                    "the server sent a text frame; MQTT over WebSocket uses binary frames only [MQTT-6.0.0-1]",
                ),
            }
            },
        );
        let weak = Rc::downgrade(&self.0);
        let on_close =
            Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |e: web_sys::CloseEvent| {
                if let Some(d) = upgrade_current(&weak, generation) {
                    let detail = describe_close(&e);
                    {
                        let mut inner = d.0.inner.borrow_mut();
                        inner.socket = None;
                        inner.generation += 1;
                    }
                    d.event(|c, now| c.handle_close(now, Some(detail)));
                }
            });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut inner = self.0.inner.borrow_mut();
        if inner.generation != generation {
            drop(inner);
            Socket {
                ws,
                _on_open: on_open,
                _on_message: on_message,
                _on_close: on_close,
            }
            .detach_and_close(None, "");
            return;
        }
        inner.socket = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    /// Closes the socket for a transport-level reason and tells the client.
    fn fail_socket(&self, code: u16, detail: &str) {
        {
            let mut inner = self.0.inner.borrow_mut();
            inner.generation += 1;
            if let Some(s) = inner.socket.take() {
                s.detach_and_close(Some(code), "");
            }
        }
        let detail = detail.to_string();
        self.input(|c, now| c.handle_close(now, Some(detail)));
    }

    // ------------------------------------------------------------------ persistence

    fn persist(&self) {
        self.persist_now(false);
    }

    /// Saves the session if it changed since the last save; `force`: even while a save is
    /// under way.
    fn persist_now(&self, force: bool) {
        let mut inner = self.0.inner.borrow_mut();
        let Some(store) = inner.store.clone() else {
            return;
        };
        let revision = inner.client.session_revision();
        if inner.cleared
            || (inner.saving && !force)
            || (revision == inner.saved_revision && !inner.resave)
        {
            return;
        }
        inner.resave = false;
        inner.saving = true;
        let now = inner.now();
        let changes = store.changes(&inner.client, now, js_sys::Date::now() as u64);
        drop(inner);
        let weak = Rc::downgrade(&self.0);
        spawn_local(async move {
            let result = store.save(changes).await;
            let Some(d) = upgrade(&weak) else { return };
            let (again, clear) = {
                let mut inner = d.0.inner.borrow_mut();
                inner.saving = false;
                // Failed: saved again at the next change (see `commit`), not at once.
                inner.saved_revision = inner.saved_revision.max(revision);
                if let Err(e) = result {
                    inner
                        .notices
                        .push(Notice::Persistence(text!("cannot save the session: ", e)));
                }
                (
                    !inner.cleared && inner.client.session_revision() != inner.saved_revision,
                    inner.cleared,
                )
            };
            if clear {
                // Cleared while this save was under way: the clear must win.
                let _ = store.clear().await;
            }
            if again {
                d.schedule();
            }
        });
    }

    // ------------------------------------------------------------------ the application's API

    /// Starts connecting. A persistent session is first loaded from IndexedDB (unless
    /// persistence is volatile), so what was in flight before a reload is resumed; starting
    /// again while it loads waits for the same load (it never imports twice). If IndexedDB does
    /// not answer within [`LOAD_TIMEOUT_MS`], the client starts with the session in memory only
    /// and says so.
    pub fn start(&self) {
        self.attach();
        let (persistent, key, loaded, loading) = {
            let mut inner = self.0.inner.borrow_mut();
            inner.wants_start = true;
            inner.cleared = false;
            (
                inner.stores.is_some()
                    || (inner.persistence == Persistence::IndexedDb
                        && inner.client.config().persistent_session()),
                inner.persistence_key.clone(),
                inner.store.is_some(),
                inner.loading,
            )
        };
        if loading {
            return;
        }
        if !persistent || loaded {
            return self.input(|c, now| c.start(now));
        }
        let load = {
            let mut inner = self.0.inner.borrow_mut();
            inner.loading = true;
            inner.loads += 1;
            inner.loads
        };
        let weak = Rc::downgrade(&self.0);
        let timeout = gloo_timers::callback::Timeout::new(LOAD_TIMEOUT_MS, {
            let weak = weak.clone();
            move || {
                if let Some(d) = upgrade(&weak) {
                    d.loaded(
                        load,
                        Err(WebError::IndexedDbTimeout(LOAD_TIMEOUT_MS / 1000)),
                    );
                }
            }
        });
        let (stores, now) = {
            let inner = self.0.inner.borrow();
            (inner.stores.clone(), inner.now())
        };
        spawn_local(async move {
            let result = match stores {
                Some(adapter) => {
                    let s = stores::JsStores::new(adapter);
                    let wall = js_sys::Date::now() as u64;
                    s.load(now, wall)
                        .await
                        .map(|bytes| (persist::Backend::Stores(s), bytes))
                }
                None => match persist::Store::open(key).await {
                    Ok(store) => store
                        .load()
                        .await
                        .map(|bytes| (persist::Backend::IndexedDb(store), bytes)),
                    Err(e) => Err(e),
                },
            };
            drop(timeout);
            if let Some(d) = upgrade(&weak) {
                d.loaded(load, result);
            }
        });
    }

    /// The stored session's load `load` ended (or timed out): import it, then start if the
    /// application still wants to.
    fn loaded(&self, load: u64, result: Result<(persist::Backend, Option<Vec<u8>>), WebError>) {
        let start = {
            let mut inner = self.0.inner.borrow_mut();
            if !inner.loading || inner.loads != load {
                return; // timed out earlier, or superseded: the client went on without it
            }
            inner.loading = false;
            match result {
                Ok((store, bytes)) => {
                    if inner.client.session_is_live() {
                        // Stores given to a running client (`reconnect({ stores })`): they
                        // hold its live session from the next save on.
                        inner.resave = true;
                    } else if let Some(bytes) = bytes {
                        let now = inner.now();
                        if let Err(e) =
                            inner
                                .client
                                .import_session(&bytes, now, js_sys::Date::now() as u64)
                        {
                            inner.notices.push(Notice::Persistence(text!(
                                "the saved session was not restored: ",
                                e
                            )));
                        }
                    }
                    inner.saved_revision = inner.client.session_revision();
                    inner.store = Some(Rc::new(store));
                }
                Err(e) => inner.notices.push(Notice::Persistence(e.message())),
            }
            inner.wants_start
        };
        if start {
            self.input(|c, now| c.start(now));
        } else {
            self.schedule();
        }
    }

    /// Queues a message (see [`Client::publish`]).
    pub fn publish(&self, publish: Publish) -> Result<OpId, ClientError> {
        self.input(|c, now| c.publish(now, publish))
    }

    /// Subscribes (see [`Client::subscribe`]).
    pub fn subscribe(
        &self,
        filters: Vec<(ByteStr, SubscriptionOptions)>,
        identifier: Option<u32>,
        user_properties: Vec<(ByteStr, ByteStr)>,
    ) -> Result<(OpId, Vec<SubscriptionId>), ClientError> {
        self.input(|c, now| c.subscribe(now, filters, identifier, user_properties))
    }

    /// Unsubscribes (see [`Client::unsubscribe`]).
    pub fn unsubscribe(&self, filters: Vec<ByteStr>) -> Result<OpId, ClientError> {
        self.input(|c, now| c.unsubscribe(now, filters))
    }

    /// Request/response (see [`Client::request`]).
    pub fn request(&self, publish: Publish, opts: RequestOptions) -> Result<OpId, ClientError> {
        self.input(|c, now| c.request(now, publish, opts))
    }

    /// Disconnects (see [`Client::disconnect`]).
    pub fn disconnect(&self, opts: DisconnectOptions) {
        self.0.inner.borrow_mut().wants_start = false;
        self.input(|c, now| c.disconnect(now, opts));
    }

    /// Forgets the stored session of this broker and client id. A client the application
    /// ended saves nothing more until it is started again (a save under way, or the one its
    /// end would make, is undone); a running client goes on saving its live session.
    pub fn clear_stored_session(&self) {
        let store = {
            let mut inner = self.0.inner.borrow_mut();
            inner.cleared = !inner.wants_start;
            inner.store.clone()
        };
        if let Some(store) = store {
            spawn_local(async move {
                let _ = store.clear().await;
            });
        }
    }

    /// Keeps the session in `stores` (an adapter, see `stores.rs`) from now on, or in IndexedDB
    /// (as configured) if None. A client that has not started loads what they hold when it
    /// starts; a running one writes its live session into them, replacing what they held.
    pub fn set_stores(&self, stores: Option<js_sys::Object>) {
        let mut inner = self.0.inner.borrow_mut();
        inner.stores = stores;
        inner.store = None;
        inner.loading = false; // a load under way is superseded (`loads` tells it)
    }

    /// Connects again now (after a stop, or to skip a backoff).
    pub fn reconnect(&self) {
        self.start();
    }

    /// Counters and gauges.
    pub fn metrics(&self) -> Metrics {
        self.read(Client::metrics)
    }

    /// What the server granted, while connected.
    pub fn server(&self) -> Option<ServerInfo> {
        self.read(|c| c.server().cloned())
    }
}

fn upgrade(weak: &Weak<Shared>) -> Option<Driver> {
    weak.upgrade().map(Driver)
}

/// The driver, if it still exists and `generation` is still its transport.
fn upgrade_current(weak: &Weak<Shared>, generation: u64) -> Option<Driver> {
    let d = upgrade(weak)?;
    let current = d.0.inner.try_borrow().ok()?.generation == generation;
    current.then_some(d)
}
