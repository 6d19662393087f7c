//! The world's driver half: moving time, carrying bytes, draining the client's outputs as the
//! browser driver does, and the invariant checks.

use std::time::Duration;

use crate::Below;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

use super::{tag, Check, Link, Op, World};

impl World {
    // ------------------------------------------------------------------ the driver

    /// Drains the client's outputs in the documented order, as the browser driver does after
    /// every input: transmit (after persisting the session, so nothing reaches the wire that a
    /// reload would forget), transport actions, events.
    pub(super) fn pump(&mut self) -> Check {
        for _ in 0..10_000 {
            let mut progress = false;
            loop {
                let may = self.client.may_transmit();
                let Some(bytes) = self.client.poll_transmit(self.now) else {
                    break;
                };
                if !may {
                    return Err("may_transmit() was false but poll_transmit() had bytes".into());
                }
                progress = true;
                self.save();
                let Some(link) = &mut self.link else {
                    return Err("the client transmitted with no open transport".into());
                };
                if link.client_closed {
                    return Err("the client transmitted after asking to close".into());
                }
                if !link.silent {
                    link.to_broker
                        .push(&mut self.rng, self.now, self.max_delay_ms, &bytes);
                }
            }
            self.save();
            while let Some(action) = self.client.poll_transport() {
                progress = true;
                match action {
                    TransportAction::Open(url) => {
                        if self.link.is_some() || self.opening.is_some() {
                            return Err(format!("asked to open {url} while a transport exists"));
                        }
                        self.note(format!("driver: open {url}"));
                        self.opening = Some(self.now + Duration::from_millis(self.rng.below(500)));
                    }
                    TransportAction::Close => self.client_closes(),
                }
            }
            while let Some(e) = self.client.poll_event() {
                progress = true;
                self.on_event(e)?;
            }
            if !progress {
                if let Some(e) = self.pending_violation.take() {
                    return Err(e);
                }
                return Ok(());
            }
        }
        Err("the client never stopped producing output".into())
    }

    /// Writes the session to "IndexedDB" when it changed (persistent sessions only).
    fn save(&mut self) {
        if !self.cfg.persistent_session() || self.loading {
            return;
        }
        let rev = self.client.session_revision();
        if rev != self.saved_rev {
            self.saved_rev = rev;
            let store = self.stored.get_or_insert_with(Default::default);
            let changes = self
                .client
                .session_changes(&store.keys, self.now, self.now.as_millis());
            let put = changes.put.len();
            store.save(changes);
            if let Some(n) = store.strays.iter().find(|n| store.segments.contains_key(n)) {
                self.pending_violation =
                    Some(format!("a save left segment {n}, which no index refers to"));
            }
            store.strays.clear();
            // Incremental saves keep exactly the live session's messages, each once (checked
            // whole on every save that wrote a record and every eighth other, for speed).
            if put == 0 && rev % 8 != 0 {
                return;
            }
            let live = Session::import(
                &self.client.export_session(self.now, self.now.as_millis()),
                self.now,
                self.now.as_millis(),
            );
            let saved = Session::import(&store.whole(), self.now, self.now.as_millis());
            match (live, saved) {
                (Ok(live), Ok(saved)) => {
                    let view = |s: &Session| {
                        let inflight: Vec<_> = s
                            .inflight
                            .iter()
                            .map(|m| {
                                (
                                    m.key,
                                    m.id,
                                    m.stage,
                                    m.publish.topic.clone(),
                                    m.publish.payload.clone(),
                                )
                            })
                            .collect();
                        let queued: Vec<_> = s
                            .outbox
                            .iter()
                            .map(|q| (q.key, q.publish.topic.clone(), q.publish.payload.clone()))
                            .collect();
                        let qos2: Vec<u16> = s.received_qos2.iter().collect();
                        (inflight, queued, qos2, s.registry.len())
                    };
                    if view(&live) != view(&saved) {
                        let short = |s: &Session| {
                            let (i, q, r, n) = view(s);
                            let i: Vec<_> = i.iter().map(|m| (m.0, m.1, m.2)).collect();
                            let q: Vec<_> = q.iter().map(|m| m.0).collect();
                            format!("in flight {i:?}, queued {q:?}, qos2 {r:?}, {n} subscriptions")
                        };
                        self.pending_violation = Some(format!(
                            "the incrementally saved session differs from the live one: live {}, saved {}",
                            short(&live),
                            short(&saved)
                        ));
                    } else if store.segments.len() > 32 {
                        self.pending_violation =
                            Some(format!("the store holds {} segments", store.segments.len()));
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    self.pending_violation = Some(format!("a saved session does not import: {e}"))
                }
            }
        }
    }

    /// The client asked to close: what it sent so far still reaches the broker (unless the
    /// link is silent), then the broker sees the close.
    fn client_closes(&mut self) {
        self.note("driver: close".into());
        self.opening = None;
        if let Some(mut link) = self.link.take() {
            if link.silent {
                // The broker never hears of it; its keep-alive or the next connection will.
                self.broker_orphan = self.broker.is_connected();
            } else {
                let rest = link.to_broker.drain_all();
                if let Err(e) = self.broker.handle_bytes(self.now, &rest) {
                    self.pending_violation = Some(e);
                }
                let _ = self.broker.take_out();
                self.broker.handle_close(self.now);
            }
        }
        self.client.handle_close(self.now, None);
    }

    /// Carries what the broker produced to the client, and its close if it closed.
    pub(super) fn flush_broker(&mut self) -> Check {
        let out = self.broker.take_out();
        let close = self.broker.take_close();
        if self.broker_orphan {
            // The broker is talking to a connection the client already abandoned.
            if close {
                self.broker.handle_close(self.now);
                self.broker_orphan = false;
            }
            return Ok(());
        }
        let Some(link) = &mut self.link else {
            if close {
                self.broker.handle_close(self.now);
            }
            return Ok(());
        };
        if !link.silent && !out.is_empty() {
            link.to_client
                .push(&mut self.rng, self.now, self.max_delay_ms, &out);
        }
        if close {
            self.broker.handle_close(self.now);
            if link.silent {
                // Half-open: the client's end will find out by itself.
                link.to_broker = Default::default();
                return Ok(());
            }
            // What the broker sent before closing arrives first; the client's answers to it
            // go nowhere.
            let rest = link.to_client.drain_all();
            link.silent = true;
            self.note("broker: closes the connection".into());
            self.client.handle_bytes(self.now, &rest);
            self.pump()?;
            self.link = None;
            self.client
                .handle_close(self.now, Some("closed by the server".into()));
        }
        self.pump()
    }

    /// When something outside the client happens next.
    pub(super) fn broker_side_next(&self) -> Option<Instant> {
        let to_broker = self.link.as_ref().and_then(|l| l.to_broker.next_at());
        [
            to_broker,
            self.broker.next_deadline(),
            self.broker_down_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// What happens outside the client at `now`: bytes reach the broker, its timers fire.
    pub(super) fn broker_side_due(&mut self) -> Check {
        if self.broker_down_until.is_some_and(|at| at <= self.now) {
            self.broker_down_until = None;
        }
        while let Some(bytes) = self
            .link
            .as_mut()
            .and_then(|l| l.to_broker.pop_due(self.now))
        {
            self.broker.handle_bytes(self.now, &bytes)?;
            self.flush_broker()?;
        }
        self.broker.tick(self.now);
        self.flush_broker()
    }

    /// Everything due at `now`, client side included.
    pub(super) fn due(&mut self) -> Check {
        self.broker_side_due()?;
        if self.opening.is_some_and(|at| at <= self.now) {
            self.opening = None;
            let up = self.broker_down_until.is_none() && self.online;
            if up {
                self.stats.connections += 1;
                self.link = Some(Link::default());
                self.broker.accept(self.now);
                self.broker_orphan = false;
                self.client.handle_open(self.now);
            } else {
                self.client
                    .handle_close(self.now, Some("connection refused".into()));
            }
            self.pump()?;
        }
        while let Some(bytes) = self
            .link
            .as_mut()
            .and_then(|l| l.to_client.pop_due(self.now))
        {
            self.client.handle_bytes(self.now, &bytes);
            self.pump()?;
        }
        if self.client.poll_timeout().is_some_and(|at| at <= self.now) {
            self.client.handle_timeout(self.now);
            self.pump()?;
        }
        Ok(())
    }

    fn next_event(&self) -> Option<Instant> {
        let to_client = self.link.as_ref().and_then(|l| l.to_client.next_at());
        [
            self.broker_side_next(),
            to_client,
            self.opening,
            self.client.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Moves the clock by `d`, handling everything due on the way in time order.
    pub(super) fn advance(&mut self, d: Duration) -> Check {
        let end = self.now + d;
        while let Some(at) = self.next_event().filter(|at| *at <= end) {
            self.now = self.now.max(at);
            self.due()?;
        }
        self.now = end;
        self.due()
    }

    // ------------------------------------------------------------------ the checks

    fn complete(&mut self, id: OpId, what: &str) -> Result<Op, String> {
        self.ops
            .remove(&id)
            .ok_or_else(|| format!("{what} {id:?} completed twice, or was never started"))
    }

    fn on_event(&mut self, e: Event) -> Check {
        match e {
            Event::Published { id, result, .. } => {
                let Op::Publish(tag) = self.complete(id, "publish")? else {
                    return Err(format!("{id:?} is not a publish"));
                };
                self.note(format!("event: {tag} published: {result:?}"));
                let s = self.sent.get_mut(&tag).ok_or("unknown message")?;
                s.outcome = Some(result.is_ok());
                if result.is_ok() && s.qos != QoS::AtMostOnce {
                    self.stats.delivered += 1;
                    if !self.broker.received.contains_key(&tag) {
                        return Err(format!(
                            "{tag} ({:?}) completed successfully, but the broker never got it",
                            s.qos
                        ));
                    }
                }
            }
            Event::Subscribed { id, result } => {
                self.complete(id, "subscribe")?;
                self.note(format!("event: subscribed {id:?}: {result:?}"));
            }
            Event::Unsubscribed { id, result } => {
                self.complete(id, "unsubscribe")?;
                self.note(format!("event: unsubscribed {id:?}: {result:?}"));
            }
            Event::Response { id, .. } => {
                return Err(format!("a response to {id:?}, which no request started"));
            }
            Event::Message(m) => {
                self.stats.received += 1;
                let tag = tag(&m.publish.payload);
                self.note(format!("event: message {tag} {:?}", m.publish.qos));
                if self.manual_acks && m.publish.qos != QoS::AtMostOnce {
                    self.held.push((m.publish.packet_id, m.publish.qos));
                }
                if m.publish.retain {
                    return Ok(());
                }
                let epoch = self.client_epoch;
                let seen = self.got.entry(tag.clone()).or_default();
                if m.publish.qos == QoS::ExactlyOnce && seen.contains(&epoch) {
                    return Err(format!(
                        "QoS 2 message {tag} delivered to the application twice [MQTT-4.3.3-10]"
                    ));
                }
                seen.push(epoch);
            }
            Event::Connected(info) => {
                self.note(format!(
                    "event: connected, session present {}",
                    info.session_present
                ));
                if !info.session_present {
                    self.broker.new_session_unseen = false;
                    self.broker.exempt = false;
                } else if self.broker.new_session_unseen {
                    // The broker made a new session for a CONNECT whose CONNACK never reached
                    // the client, and now reports it present: the client keeps identifiers
                    // of QoS 2 messages the new session knows nothing of, and drops a new
                    // message on one of them as a duplicate [MQTT-4.3.3-9]. The protocol
                    // gives the client no way to tell; such messages are exempt until the
                    // views agree again.
                    self.broker.exempt = true;
                }
            }
            Event::Disconnected {
                error,
                reconnect_at,
            } => self.note(format!(
                "event: disconnected {:?}, reconnect at {:?}",
                error.map(|e| e.to_string()),
                reconnect_at.map(|t| t.as_millis())
            )),
            Event::Stopped(e) => self.note(format!("event: stopped: {e}")),
            other => self.note(format!("event: {other:?}")),
        }
        Ok(())
    }

    /// Every bound the configuration sets, after every step.
    pub(super) fn check_bounds(&mut self) -> Check {
        if let Some(e) = self.pending_violation.take() {
            return Err(e);
        }
        let m = self.client.metrics();
        let o = &self.cfg.outbox;
        let mut window = usize::from(self.cfg.inflight_window());
        if self.cfg.protocol.is_v5() {
            window = window.min(usize::from(self.broker.limits.receive_maximum));
        }
        // Messages a lost session returns go first and may exceed the bounds by the in-flight
        // window (of messages the outbox admitted, each at most its byte bound).
        if m.outbox_messages > o.max_messages + window
            || m.outbox_bytes > o.max_bytes * (1 + window)
        {
            return Err(format!(
                "outbox {} messages / {} bytes over its bounds {} / {} (+ the window {window})",
                m.outbox_messages, m.outbox_bytes, o.max_messages, o.max_bytes
            ));
        }
        if m.inflight_out > window {
            return Err(format!(
                "{} in flight, over the window of {window}",
                m.inflight_out
            ));
        }
        let rm = usize::from(self.cfg.receive_maximum.unwrap_or(u16::MAX));
        if m.inflight_in > rm {
            return Err(format!(
                "{} incoming QoS 2 held, over our Receive Maximum {rm}",
                m.inflight_in
            ));
        }
        if self.client.subscriptions().count() > self.cfg.max_subscriptions {
            return Err("more subscriptions than max_subscriptions".into());
        }
        Ok(())
    }

    /// The end of a run: faults stop, the application (re)starts the client, and within
    /// bounded virtual time every operation completes, every accepted QoS 1/2 message is
    /// delivered (or failed visibly), and the broker owes the client nothing.
    pub fn settle(&mut self) -> Check {
        self.note("settle: faults stop".into());
        self.finish_loading()?;
        self.broker_down_until = None;
        if !self.online {
            self.online = true;
            self.client.set_network_available(self.now, true);
        }
        if !self.app_started || self.client.stopped().is_some() {
            self.start()?;
        }
        self.pump()?;
        let deadline = self.now + Duration::from_secs(1800);
        loop {
            let m = self.client.metrics();
            let quiet = self.ops.is_empty()
                && m.outbox_messages == 0
                && m.inflight_out == 0
                && self.broker.owed_to_client() == 0
                && self.client.is_connected();
            if quiet {
                break;
            }
            // The application finishes with what it holds (what arrives meanwhile too).
            while !self.held.is_empty() {
                let (id, qos) = self.held.remove(0);
                self.client.release(id, qos);
            }
            if self.now > deadline {
                return Err(format!(
                    "hung: after 30 virtual minutes without faults, {} operations are still \
                     waiting ({:?}), outbox {}, in flight {}, broker owes {}, state {}",
                    self.ops.len(),
                    self.ops.iter().take(5).collect::<Vec<_>>(),
                    m.outbox_messages,
                    m.inflight_out,
                    self.broker.owed_to_client(),
                    self.client.state_name()
                ));
            }
            if self.client.stopped().is_some() {
                self.start()?;
            }
            self.advance(Duration::from_secs(1))?;
            self.check_bounds()?;
        }
        self.check_delivery()?;
        // A graceful end completes too.
        self.end_gracefully()
    }

    fn check_delivery(&self) -> Check {
        let persistent = self.cfg.persistent_session();
        for (tag, s) in &self.sent {
            if s.qos == QoS::AtMostOnce || s.outcome == Some(false) {
                continue;
            }
            // Abandoned with a non-persistent session, or published on a page that was
            // reloaded again before its stored session loaded: lost with the page. Under
            // 'drop-oldest' and 'latest-per-topic' a later page's publishes may displace a
            // restored message, whose caller is gone: the policy the application chose. A
            // message with an expiry interval may expire first, and one too large for the
            // broker is refused with nobody left to tell.
            let must_arrive = s.abandoned
                && persistent
                && !s.loading
                && !s.expires
                && !s.too_large
                && self.cfg.outbox.policy == OutboxPolicy::RejectNew;
            if s.outcome.is_none() && !must_arrive {
                continue;
            }
            if !self.broker.received.contains_key(tag) {
                return Err(format!(
                    "{tag} ({:?}, outcome {:?}, abandoned {}) was accepted and never delivered",
                    s.qos, s.outcome, s.abandoned
                ));
            }
        }
        let epoch = self.broker.epoch;
        for (tag, seen) in &self.broker.queued_for_client {
            if seen.qos == QoS::AtMostOnce
                || (seen.exempt && seen.qos == QoS::ExactlyOnce)
                || seen.epoch != epoch
                || self.broker.undeliverable.contains(tag)
            {
                continue;
            }
            if !self.got.contains_key(tag) {
                return Err(format!(
                    "{tag} ({:?}) was queued for the client's session and never reached the application",
                    seen.qos
                ));
            }
        }
        Ok(())
    }

    fn end_gracefully(&mut self) -> Check {
        self.note("app: end (graceful, final)".into());
        self.app_started = false;
        self.client
            .disconnect(self.now, DisconnectOptions::default());
        self.pump()?;
        self.advance(Duration::from_secs(60))?;
        if !self.ops.is_empty() {
            return Err(format!(
                "after a graceful end, operations still wait: {:?}",
                self.ops
            ));
        }
        if self.link.is_some() || self.client.is_connected() {
            return Err("a graceful end did not close the connection within 60 s".into());
        }
        Ok(())
    }
}
