//! The size floor: the codec and the client core (`proto`) behind the narrowest wasm interface a
//! browser client could have, with nothing else. `cargo xtask size-floor` builds it exactly as the
//! package's modules are built (nightly build-std, opt-level "z", wasm-bindgen, `wasm-opt -Oz`)
//! and prints its size beside theirs (BENCHMARKS.md, issue 11).
//!
//! What it leaves out, on purpose: the MQTT.js facade (options, events and packet objects; here a
//! few numbers and strings cross), the browser driver (socket, timers, page events), persistence
//! (IndexedDB, MQTT.js stores) and the codec's own JavaScript API. What it keeps: every packet
//! the client sends or receives, decoded, validated and encoded; sessions, QoS 1 and 2 both
//! ways, keep-alive, reconnect, flow control, topic aliases; and every error message, since a
//! client must say what failed. So any client built on this core weighs at least this much.
//!
//! Only wasm-bindgen's attributes are for wasm32: `cargo test` builds the rest natively, so the
//! floor keeps up with the core's API.
#![allow(missing_docs)]

pub mod floor {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen::prelude::*;
    use wasmqtt::codec::{ProtocolVersion, Publish, QoS, SubscriptionOptions};
    use wasmqtt::proto::{Client, Config, DisconnectOptions, Event, Instant};
    use wasmqtt::text::Piece;

    fn at(ms: f64) -> Instant {
        Instant::from_micros((ms * 1000.0) as u64)
    }

    fn qos(q: u8) -> QoS {
        match q {
            1 => QoS::AtLeastOnce,
            2 => QoS::ExactlyOnce,
            _ => QoS::AtMostOnce,
        }
    }

    /// One client: calls in (commands, socket and timer events), bytes and events out.
    // Design: the whole state is the core's `Client`; this type only converts arguments.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
    pub struct Core {
        client: Client,
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
    impl Core {
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen(constructor))]
        #[allow(clippy::too_many_arguments)]
        pub fn new(
            url: String,
            client_id: String,
            level: u8,
            clean: bool,
            keep_alive: u16,
            username: Option<String>,
            password: Option<Vec<u8>>,
            session_expiry: Option<u32>,
            now: f64,
        ) -> Core {
            let cfg = Config {
                urls: vec![url],
                client_id,
                protocol: match level {
                    3 => ProtocolVersion::V3_1,
                    5 => ProtocolVersion::V5,
                    _ => ProtocolVersion::V3_1_1,
                },
                clean_start: clean,
                keep_alive,
                username,
                password: password.map(Into::into),
                session_expiry_interval: session_expiry,
                ..Config::default()
            };
            let mut client = Client::new(cfg);
            client.start(at(now));
            Core { client }
        }

        pub fn opened(&mut self, now: f64) {
            self.client.handle_open(at(now));
        }

        pub fn received(&mut self, data: &[u8], now: f64) {
            self.client.handle_bytes(at(now), data);
        }

        pub fn closed(&mut self, now: f64) {
            self.client.handle_close(at(now), None);
        }

        pub fn timer(&mut self, now: f64) {
            self.client.handle_timeout(at(now));
        }

        /// When to call `timer` next (ms), or -1.
        pub fn deadline(&self) -> f64 {
            self.client
                .poll_timeout()
                .map_or(-1.0, |t| t.as_micros() as f64 / 1000.0)
        }

        pub fn online(&mut self, online: bool, now: f64) {
            self.client.set_network_available(at(now), online);
        }

        pub fn end(&mut self, now: f64) {
            self.client
                .disconnect(at(now), DisconnectOptions::default());
        }

        pub fn publish(
            &mut self,
            topic: String,
            payload: Vec<u8>,
            q: u8,
            retain: bool,
            now: f64,
        ) -> Result<f64, String> {
            let mut p = Publish::new(topic, payload);
            p.qos = qos(q);
            p.retain = retain;
            self.client
                .publish(at(now), p)
                .map(|id| id.0 as f64)
                .map_err(|e| e.message())
        }

        pub fn subscribe(&mut self, filter: String, q: u8, now: f64) -> Result<f64, String> {
            let options = SubscriptionOptions {
                qos: qos(q),
                ..SubscriptionOptions::default()
            };
            self.client
                .subscribe(at(now), vec![(filter.into(), options)], None, Vec::new())
                .map(|(id, _)| id.0 as f64)
                .map_err(|e| e.message())
        }

        pub fn unsubscribe(&mut self, filter: String, now: f64) -> Result<f64, String> {
            self.client
                .unsubscribe(at(now), vec![filter.into()])
                .map(|id| id.0 as f64)
                .map_err(|e| e.message())
        }

        /// The next bytes to send, if any.
        pub fn transmit(&mut self, now: f64) -> Option<Vec<u8>> {
            self.client.poll_transmit(at(now))
        }

        /// The URL to open, an empty string to close the socket, or nothing.
        pub fn transport(&mut self) -> Option<String> {
            self.client.poll_transport().map(|a| match a {
                wasmqtt::proto::TransportAction::Open(url) => url,
                wasmqtt::proto::TransportAction::Close => String::new(),
            })
        }

        /// The next event as bytes: a kind, then its fields. A message: 1, the topic's length
        /// (2 bytes), the topic, the payload. A completed operation: 2, its id (8 bytes), then 0
        /// and a reason code, or 1 and the error's text. Connected: 3 and whether a session
        /// was present. Ended: 4 and the error's text, if any.
        pub fn event(&mut self) -> Option<Vec<u8>> {
            let done = |id: u64, r: Result<u8, String>| {
                let mut out = vec![2];
                out.extend(id.to_be_bytes());
                match r {
                    Ok(code) => out.extend([0, code]),
                    Err(e) => {
                        out.push(1);
                        out.extend(e.into_bytes());
                    }
                }
                out
            };
            Some(match self.client.poll_event()? {
                Event::Message(m) => {
                    let topic = m.publish.topic.as_str().as_bytes();
                    let mut out = vec![1];
                    out.extend((topic.len() as u16).to_be_bytes());
                    out.extend(topic);
                    out.extend(&m.publish.payload[..]);
                    out
                }
                Event::Published { id, result, .. } => {
                    done(id.0, result.map(|r| r as u8).map_err(|e| e.message()))
                }
                Event::Subscribed { id, result } => done(
                    id.0,
                    result
                        .map(|g| match g.first() {
                            Some(Ok(q)) => *q as u8,
                            Some(Err(r)) => *r as u8,
                            None => 0,
                        })
                        .map_err(|e| e.message()),
                ),
                Event::Unsubscribed { id, result } => done(
                    id.0,
                    result
                        .map(|r| r.first().map_or(0, |c| *c as u8))
                        .map_err(|e| e.message()),
                ),
                Event::Connected(info) => vec![3, info.session_present as u8],
                Event::Disconnected { error, .. } => {
                    let mut out = vec![4];
                    out.extend(error.map(|e| e.message().into_bytes()).unwrap_or_default());
                    out
                }
                Event::Stopped(e) => {
                    let mut out = vec![4];
                    out.extend(e.message().into_bytes());
                    out
                }
                _ => vec![0],
            })
        }
    }
}
