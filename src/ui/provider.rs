//! `<MqttProvider>` and `use_mqtt()`: one client per provider, its state as a [`Dashboard`]
//! model, and one version signal per part of the page, bumped at most once per animation frame.
//!
//! Length: every operation the page sends (publish, subscribe, desired states, rollouts,
//! commands) goes through the one driver and the one frame scheduler kept here; splitting them
//! off would spread one `impl` over files without separating any state.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

use super::frames::after_frames;
use super::model::fleet::Pick;
use super::model::shadow::read_desired;
use super::model::{
    build_publish, Changed, Dashboard, Limits, PresenceConfig, Settings, ShadowConfig, UiEvent,
};
use crate::codec::{QoS, RetainHandling, SubscriptionOptions};
use crate::proto::{DisconnectOptions, Instant};
use crate::web::{page, Driver, Notice, Options};

/// The client, its state, and what the components watch.
// Design: the model is plain data behind a non-reactive `StoredValue`; the client's events
// update it as they come (thousands a second), while the DOM only hears about it through a few
// counters bumped once per animation frame, one per part of the page, so a message does not
// redraw the health panel and a tick does not redraw the log. The driver is not `Send`, so it is
// kept in local storage; everything here is `Copy` and can be moved into closures. A provider
// opens its connection a frame after it mounts (the page's first frame comes first); until then
// the subscriptions its components ask for wait in `early` and go out with the connection, so a
// component may subscribe as it mounts, as it could when the connection opened at once.
#[derive(Clone, Copy)]
pub struct Mqtt {
    model: StoredValue<Dashboard>,
    driver: StoredValue<Option<Driver>, LocalStorage>,
    frame: StoredValue<Rc<RefCell<Frame>>, LocalStorage>,
    /// Numbers the connections: a replaced driver's late events (it numbers its operations
    /// from 1 too) are recognised by it and dropped, never applied to the new connection.
    generation: StoredValue<u64>,
    /// While the provider's first connection is yet to open (it opens a frame after mount):
    /// the subscriptions components asked for meanwhile, sent when it does.
    early: StoredValue<Option<Vec<Early>>, LocalStorage>,
    /// How many mounted components use each filter they subscribed (`use_subscription`), and
    /// the QoS they asked for (a new connection subscribes them again).
    users: StoredValue<std::collections::HashMap<String, (u32, u8)>>,
    /// The connection settings in use (the form edits a copy).
    pub settings: RwSignal<Settings>,
    /// Bumped when the connection state changes.
    pub conn_v: RwSignal<u64>,
    /// Bumped when the message log changes.
    pub log_v: RwSignal<u64>,
    /// Bumped when the topic tree changes.
    pub tree_v: RwSignal<u64>,
    /// Bumped when the device board changes.
    pub devices_v: RwSignal<u64>,
    /// Bumped when the subscription list changes.
    pub subs_v: RwSignal<u64>,
    /// Bumped when the health figures change.
    pub health_v: RwSignal<u64>,
    /// Bumped when a notice is added.
    pub notices_v: RwSignal<u64>,
    /// Bumped when a device shadow or a rollout changes.
    pub shadows_v: RwSignal<u64>,
    /// Bumped when the alerts change.
    pub alerts_v: RwSignal<u64>,
    /// Bumped when a charted series takes a sample (or the time axis moves).
    pub charts_v: RwSignal<u64>,
    /// The bar of the fleet's distributions picked: the board shows only its devices.
    pub pick: RwSignal<Option<Pick>>,
}

/// A subscription asked for before the connection: filter, QoS, no local, retain as
/// published, retain handling.
type Early = (String, u8, bool, bool, u8);

#[derive(Default)]
struct Frame {
    dirty: Changed,
    scheduled: bool,
}

fn wall_now() -> f64 {
    page::wall_ms()
}

/// The client's clock (the driver reads `performance.now()` too).
fn client_now() -> Instant {
    Instant::from_micros((page::monotonic_ms() * 1000.0) as u64)
}

fn random_id() -> String {
    format!(
        "wasmqtt-dash-{:08x}",
        (page::random() * 4_294_967_295.0) as u32
    )
}

impl Mqtt {
    /// A client-less state (the provider makes one; tests can too).
    pub fn new(settings: Settings, limits: Limits, presence: PresenceConfig) -> Mqtt {
        Mqtt {
            model: StoredValue::new(Dashboard::new(limits, presence)),
            driver: StoredValue::new_local(None),
            frame: StoredValue::new_local(Rc::new(RefCell::new(Frame::default()))),
            generation: StoredValue::new(0),
            early: StoredValue::new_local(None),
            users: StoredValue::new(Default::default()),
            settings: RwSignal::new(settings),
            conn_v: RwSignal::new(0),
            log_v: RwSignal::new(0),
            tree_v: RwSignal::new(0),
            devices_v: RwSignal::new(0),
            subs_v: RwSignal::new(0),
            health_v: RwSignal::new(0),
            notices_v: RwSignal::new(0),
            shadows_v: RwSignal::new(0),
            alerts_v: RwSignal::new(0),
            charts_v: RwSignal::new(0),
            pick: RwSignal::new(None),
        }
    }

    /// Reads the state (not tracked: track the version signal of the part you read).
    pub fn with<R>(&self, f: impl FnOnce(&Dashboard) -> R) -> Option<R> {
        self.model.try_with_value(f)
    }

    /// Changes the state from the page (filters, pause, expand) and redraws what `f` says changed.
    pub fn update(&self, f: impl FnOnce(&mut Dashboard) -> Changed) {
        if let Some(c) = self.model.try_update_value(f) {
            self.changed(c);
        }
    }

    /// Feeds one event to the model.
    pub fn apply(&self, ev: UiEvent) {
        self.update(|m| m.apply(ev));
    }

    fn changed(&self, c: Changed) {
        if c == Changed::default() {
            return;
        }
        let Some(frame) = self.frame.try_get_value() else {
            return;
        };
        let mut f = frame.borrow_mut();
        f.dirty |= c;
        if f.scheduled {
            return;
        }
        f.scheduled = true;
        drop(f);
        let this = *self;
        let flush = move || {
            let dirty = {
                let mut f = frame.borrow_mut();
                f.scheduled = false;
                std::mem::take(&mut f.dirty)
            };
            this.bump(dirty);
        };
        // Once per frame; a hidden page gets no frames, so fall back to a timer there.
        if page::hidden() {
            set_timeout(flush, std::time::Duration::from_millis(250));
        } else {
            request_animation_frame(flush);
        }
    }

    fn bump(&self, c: Changed) {
        let pairs = [
            (Changed::CONN, self.conn_v),
            (Changed::LOG, self.log_v),
            (Changed::TREE, self.tree_v),
            (Changed::DEVICES, self.devices_v),
            (Changed::SUBS, self.subs_v),
            (Changed::HEALTH, self.health_v),
            (Changed::NOTICES, self.notices_v),
            (Changed::SHADOWS, self.shadows_v),
            (Changed::ALERTS, self.alerts_v),
            (Changed::CHARTS, self.charts_v),
        ];
        for (bit, signal) in pairs {
            if c.has(bit) {
                signal.try_update(|v| *v += 1);
            }
        }
    }

    fn notice(&self, error: bool, text: impl Into<String>) {
        self.apply(UiEvent::Notice {
            at_ms: wall_now(),
            error,
            text: text.into(),
        });
    }

    /// Connects with `settings` (replacing any current connection) and subscribes to its
    /// filters. A form error is a notice and nothing else happens.
    pub fn connect(&self, settings: Settings) {
        let seed = (page::random() * 9.007_199_254_740_991e15) as u64;
        let cfg = match settings.config(&random_id(), seed) {
            Ok(c) => c,
            Err(e) => return self.notice(true, e),
        };
        let early = self
            .early
            .try_update_value(Option::take)
            .flatten()
            .unwrap_or_default();
        self.disconnect();
        self.settings.set(settings.clone());
        let this = *self;
        let generation = self.generation.try_update_value(|g| {
            *g += 1;
            *g
        });
        let driver = Driver::new(Options::new(cfg), move |_d, notices| {
            if this.generation.try_get_value() != generation {
                return; // a connection since replaced
            }
            let at = wall_now();
            let now = client_now();
            let to_wall =
                |i: Instant| at + (i.as_micros() as f64 - now.as_micros() as f64) / 1000.0;
            for n in notices {
                match n {
                    Notice::Event(e) => {
                        if let Some(ev) = UiEvent::from_event(e, at, to_wall) {
                            this.apply(ev);
                        }
                    }
                    Notice::Persistence(text) => this.notice(true, text),
                }
            }
        });
        self.driver.set_value(Some(driver.clone()));
        for (filter, qos) in &settings.subscriptions {
            self.subscribe(filter, *qos, false, false, 0);
        }
        for (filter, qos, nl, rap, rh) in early {
            if !settings.subscriptions.iter().any(|(f, _)| *f == filter) {
                self.subscribe(&filter, qos, nl, rap, rh);
            }
        }
        // Components still mounted keep wanting their filters on the new connection (another
        // profile, a reconnection by hand).
        let wanted: Vec<(String, u8)> = self
            .users
            .try_with_value(|u| u.iter().map(|(f, (_, q))| (f.clone(), *q)).collect())
            .unwrap_or_default();
        for (filter, qos) in wanted {
            let live = self
                .with(|m| {
                    m.subs.iter().any(|s| {
                        s.filter == filter && !matches!(s.state, super::model::SubState::Failed(_))
                    })
                })
                .unwrap_or(false);
            if !live {
                self.subscribe(&filter, qos, false, false, 0);
            }
        }
        driver.start();
    }

    /// Ends the connection cleanly (DISCONNECT: no will) and forgets the client.
    pub fn disconnect(&self) {
        // The remaining events of the driver (its cancelled operations) belong to a connection
        // the page no longer shows; and a connection the provider has yet to open stays unopened.
        self.generation.try_update_value(|g| *g += 1);
        self.early.try_set_value(None);
        if let Some(d) = self.driver.try_update_value(Option::take).flatten() {
            d.disconnect(DisconnectOptions::default());
            // The driver lives until its DISCONNECT is written and the socket closed.
            let keep = d.clone();
            set_timeout(move || drop(keep), std::time::Duration::from_secs(5));
            self.update(|m| {
                m.apply(UiEvent::Disconnected {
                    cause: None,
                    at_ms: wall_now(),
                    error: None,
                    retry_at_ms: None,
                })
            });
        }
    }

    /// Skips the wait before the next attempt (or restarts a stopped client).
    pub fn reconnect_now(&self) {
        match self.driver.try_get_value().flatten() {
            Some(d) => d.reconnect(),
            None => self.connect(self.settings.get_untracked()),
        }
    }

    /// Whether a client exists (connected or trying).
    pub fn has_client(&self) -> bool {
        self.driver.try_with_value(Option::is_some).unwrap_or(false)
    }

    /// Publishes from the page; the message shows in the log as outgoing. Errors are notices.
    pub fn publish(
        &self,
        topic: &str,
        payload: &str,
        qos: u8,
        retain: bool,
        content_type: &str,
        user_properties: &str,
    ) -> Result<(), String> {
        let p = build_publish(topic, payload, qos, retain, content_type, user_properties)?;
        let d = self
            .driver
            .try_get_value()
            .flatten()
            .ok_or("not connected: connect first")?;
        let op = d.publish(p.clone()).map_err(|e| e.to_string())?;
        self.apply(UiEvent::Sent {
            at_ms: wall_now(),
            publish: p,
            op,
        });
        Ok(())
    }

    /// Sets a device's whole desired state from what the operator typed (a JSON object) and
    /// publishes it (retained, QoS 1); or says what is wrong.
    pub fn set_desired(&self, id: &str, text: &str) -> Result<(), String> {
        let state = read_desired(text)?;
        let d = self.connected_driver()?;
        let now = wall_now();
        let doc = self
            .model
            .try_update_value(|m| m.shadows.desire(id, state, now))
            .ok_or("the dashboard is gone")??;
        self.changed(Changed(Changed::SHADOWS));
        self.send_desired(&d, vec![doc]);
        Ok(())
    }

    /// Sets `patch` (a JSON object) on `share` of `devices` (see `Rollouts::start`) and publishes
    /// their desired documents. Returns the rollout's id and how many devices this wave set.
    pub fn rollout(
        &self,
        patch: &str,
        devices: &[String],
        share: f64,
    ) -> Result<(u32, usize), String> {
        let patch = read_desired(patch)?;
        let d = self.connected_driver()?;
        let now = wall_now();
        let (id, docs) = self
            .model
            .try_update_value(|m| {
                let Dashboard {
                    rollouts, shadows, ..
                } = m;
                rollouts.start(shadows, patch, devices, share, now)
            })
            .ok_or("the dashboard is gone")??;
        let n = docs.len();
        self.changed(Changed(Changed::SHADOWS));
        self.send_desired(&d, docs);
        Ok((id, n))
    }

    /// Sends a command to a device (QoS 1, not retained); it shows in the device's history.
    pub fn command(&self, id: &str, text: &str) -> Result<(), String> {
        let d = self.connected_driver()?;
        let now = wall_now();
        let topic = self
            .model
            .try_update_value(|m| m.shadows.command(id, text, now))
            .ok_or("the dashboard is gone")?;
        let p = build_publish(&topic, text, 1, false, "", "")?;
        let op = d.publish(p.clone()).map_err(|e| e.to_string())?;
        self.apply(UiEvent::Sent {
            at_ms: now,
            publish: p,
            op,
        });
        self.changed(Changed(Changed::SHADOWS));
        Ok(())
    }

    fn connected_driver(&self) -> Result<Driver, String> {
        self.driver
            .try_get_value()
            .flatten()
            .ok_or_else(|| "not connected: connect first".to_string())
    }

    fn send_desired(&self, d: &Driver, docs: Vec<(String, String)>) {
        for (topic, doc) in docs {
            match build_publish(&topic, &doc, 1, true, "application/json", "") {
                Ok(p) => match d.publish(p.clone()) {
                    Ok(op) => self.apply(UiEvent::Sent {
                        at_ms: wall_now(),
                        publish: p,
                        op,
                    }),
                    Err(e) => self.notice(true, format!("desired state for {topic} not sent: {e}")),
                },
                Err(e) => self.notice(true, format!("desired state for {topic} not sent: {e}")),
            }
        }
    }

    /// Subscribes (queued until connected). Errors are notices too.
    pub fn subscribe(
        &self,
        filter: &str,
        qos: u8,
        no_local: bool,
        retain_as_published: bool,
        retain_handling: u8,
    ) {
        let filter = filter.trim().to_string();
        let queued = self.driver.try_with_value(Option::is_none).unwrap_or(false)
            && self
                .early
                .try_update_value(|e| {
                    e.as_mut().map(|q| {
                        q.retain(|x| x.0 != filter);
                        q.push((
                            filter.clone(),
                            qos,
                            no_local,
                            retain_as_published,
                            retain_handling,
                        ));
                    })
                })
                .flatten()
                .is_some();
        if queued {
            return;
        }
        let result = (|| {
            if !self.with(Dashboard::can_subscribe).unwrap_or(false) {
                return Err(format!(
                    "at most {} subscriptions",
                    self.with(|m| m.limits().subscriptions).unwrap_or(0)
                ));
            }
            let d = self
                .driver
                .try_get_value()
                .flatten()
                .ok_or("not connected: connect first")?;
            let qos = QoS::from_u8(qos).ok_or("QoS must be 0, 1 or 2")?;
            let options = SubscriptionOptions {
                qos,
                no_local,
                retain_as_published,
                retain_handling: match retain_handling {
                    1 => RetainHandling::SendIfNew,
                    2 => RetainHandling::DoNotSend,
                    _ => RetainHandling::SendAtSubscribe,
                },
            };
            let (op, ids) = d
                .subscribe(vec![(filter.clone().into(), options)], None, Vec::new())
                .map_err(|e| e.to_string())?;
            Ok((op, ids, qos))
        })();
        match result {
            Ok((op, ids, qos)) => {
                if let Some(&id) = ids.first() {
                    self.apply(UiEvent::Subscribe {
                        filter,
                        qos,
                        no_local,
                        retain_as_published,
                        retain_handling,
                        id,
                        op,
                    });
                }
            }
            Err(e) => self.notice(true, format!("cannot subscribe to {filter:?}: {e}")),
        }
    }

    /// Whether `filter` is subscribed, or waiting to be (see `early`).
    pub fn has_subscription(&self, filter: &str) -> bool {
        self.with(|m| m.subs.iter().any(|s| s.filter == filter))
            .unwrap_or(false)
            || self
                .early
                .try_with_value(|e| e.iter().flatten().any(|x| x.0 == filter))
                .unwrap_or(false)
    }

    /// Unsubscribes from `filter` (or drops it from those waiting for the connection).
    pub fn unsubscribe(&self, filter: &str) {
        self.early
            .try_update_value(|e| e.as_mut().map(|q| q.retain(|x| x.0 != filter)));
        if let Some(d) = self.driver.try_get_value().flatten() {
            if let Err(e) = d.unsubscribe(vec![filter.into()]) {
                return self.notice(true, format!("cannot unsubscribe from {filter:?}: {e}"));
            }
        }
        self.apply(UiEvent::Unsubscribed {
            filter: filter.to_string(),
        });
    }

    /// Once a second: the client's counters into the model.
    fn tick(&self) {
        let Some(d) = self.driver.try_get_value().flatten() else {
            return self.apply(UiEvent::Tick {
                at_ms: wall_now(),
                metrics: Default::default(),
                connected_for_ms: None,
                next_attempt_in_ms: None,
            });
        };
        let metrics = d.metrics();
        let now = client_now();
        let ms =
            |a: Instant, b: Instant| a.as_micros().saturating_sub(b.as_micros()) as f64 / 1000.0;
        let connected_for_ms = metrics.connected_since.map(|s| ms(now, s));
        let next_attempt_in_ms = metrics.next_attempt.map(|a| ms(a, now));
        self.apply(UiEvent::Tick {
            at_ms: wall_now(),
            metrics,
            connected_for_ms,
            next_attempt_in_ms,
        });
    }
}

/// What a component sees of one subscription (see [`use_subscription`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubscriptionView {
    /// Granted by the server.
    pub active: bool,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Messages it matched.
    pub count: u64,
    /// Messages a second.
    pub rate: f64,
    /// Topic of the last message.
    pub last_topic: Option<String>,
    /// Payload of the last message.
    pub last_payload: Option<bytes::Bytes>,
}

/// Subscribes to `filter` while components that call it live, and returns a signal of what
/// arrives: its state, count, rate and last message. Components calling it with one filter share
/// one subscription, unsubscribed when the last of them goes; a filter already subscribed some
/// other way (the form, the settings) is left as it is.
///
/// ```ignore
/// let temp = use_subscription("plant/boiler/temp", 1);
/// view! { <span>{move || temp.with(|t| t.last_payload.as_ref().map(|p| String::from_utf8_lossy(p).into_owned()))}</span> }
/// ```
pub fn use_subscription(filter: impl Into<String>, qos: u8) -> Memo<SubscriptionView> {
    let mqtt = use_mqtt();
    let filter: String = filter.into();
    // Components share a filter: the first subscribes, the last to go unsubscribes. A filter
    // subscribed another way (the form, the settings) is not theirs, and stays.
    let users = mqtt
        .users
        .try_update_value(|u| {
            u.get_mut(&filter).map(|(n, _)| {
                *n += 1;
            })
        })
        .flatten();
    let counted = if users.is_some() {
        // Unsubscribed meanwhile by hand (the list's button): subscribed again for its users.
        if !mqtt.has_subscription(&filter) {
            mqtt.subscribe(&filter, qos, false, false, 0);
        }
        true
    } else if mqtt.has_subscription(&filter) {
        false
    } else {
        mqtt.users.update_value(|u| {
            u.insert(filter.clone(), (1, qos));
        });
        mqtt.subscribe(&filter, qos, false, false, 0);
        true
    };
    if counted {
        let f = filter.clone();
        on_cleanup(move || {
            let last = mqtt
                .users
                .try_update_value(|u| {
                    let (n, _) = u.get_mut(&f)?;
                    *n -= 1;
                    (*n == 0).then(|| u.remove(&f))
                })
                .flatten()
                .is_some();
            if last {
                mqtt.unsubscribe(&f);
            }
        });
    }
    Memo::new(move |_| {
        mqtt.subs_v.track();
        mqtt.with(|m| {
            m.subs
                .iter()
                .find(|s| s.filter == filter)
                .map(|s| SubscriptionView {
                    active: matches!(s.state, super::model::SubState::Active(_)),
                    error: match &s.state {
                        super::model::SubState::Failed(e) => Some(e.clone()),
                        _ => None,
                    },
                    count: s.count,
                    rate: s.rate,
                    last_topic: s.last.as_ref().map(|l| l.0.clone()),
                    last_payload: s.last_payload.clone(),
                })
        })
        .flatten()
        .unwrap_or_default()
    })
}

/// The `Mqtt` of the nearest `<MqttProvider>`.
pub fn use_mqtt() -> Mqtt {
    use_context::<Mqtt>().expect("use_mqtt() needs an <MqttProvider> around the component")
}

/// Provides a client and its state to the components inside it.
///
/// ```ignore
/// view! {
///     <MqttProvider settings=Settings { url: "wss://broker.example/mqtt".into(), ..Default::default() }>
///         <DeviceGrid/>
///         <MessageLog/>
///     </MqttProvider>
/// }
/// ```
#[component]
pub fn MqttProvider(
    /// Connection settings (default: the dev tool's local broker, subscribed to `devices/#`).
    #[prop(optional)]
    settings: Option<Settings>,
    /// Connect at once. Default true.
    #[prop(optional)]
    manual: bool,
    /// Bounds of the log, tree and lists.
    #[prop(optional)]
    limits: Option<Limits>,
    /// Where devices are found.
    #[prop(optional)]
    presence: Option<PresenceConfig>,
    /// The device shadows' topic convention and bounds.
    #[prop(optional)]
    shadows: Option<ShadowConfig>,
    children: Children,
) -> impl IntoView {
    let mqtt = Mqtt::new(
        settings.unwrap_or_default(),
        limits.unwrap_or_default(),
        presence.unwrap_or_default(),
    );
    if let Some(c) = shadows {
        mqtt.update(|m| m.set_shadow_config(c));
    }
    provide_context(mqtt);
    if !manual {
        // After the first frame, in a task of its own: opening the connection (the driver, its
        // store, the socket) need not delay the page's first paint. A `connect` or `disconnect`
        // called before then wins.
        let asked = mqtt.generation.get_value();
        mqtt.early.set_value(Some(Vec::new()));
        after_frames(1, move || {
            if mqtt.generation.try_get_value() == Some(asked) {
                mqtt.connect(mqtt.settings.get_untracked());
            }
        });
    }
    let interval =
        set_interval_with_handle(move || mqtt.tick(), std::time::Duration::from_secs(1)).ok();
    on_cleanup(move || {
        if let Some(h) = interval {
            h.clear();
        }
        mqtt.disconnect();
    });
    children()
}
