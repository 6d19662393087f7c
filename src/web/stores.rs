//! The session kept in the application's own stores (MQTT.js's `incomingStore` and
//! `outgoingStore`) instead of IndexedDB. The npm package gives an adapter object over them:
//!
//! - `load()` resolves with `{ outgoing: [[key, packet, order, publishedAt, removed], ...],
//!   incoming: [id, ...] }` (`packet`: a Uint8Array, MQTT 5; `order` and `publishedAt`: numbers
//!   or null);
//! - `save(puts, dels, incomingPuts, incomingDels)` writes and resolves once every write is
//!   done (`puts` as `load` gives them, the others arrays of keys);
//! - `clear()` forgets everything.
//!
//! What the entries mean is `proto/mirror.rs`'s.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::WebError;
use crate::proto::{session_of_store_entries, Client, Instant, Mirror, MirrorChanges, StoreEntry};

/// The application's stores, through the package's adapter.
// Design: like the IndexedDB store, it knows what the stores hold as of the last completed save
// (`Mirror`), so a save writes only what changed; a failed save leaves it as it was, so the
// next one writes again what this one did not.
pub struct JsStores {
    adapter: js_sys::Object,
    mirror: RefCell<Mirror>,
}

fn failed(what: &str, e: JsValue) -> WebError {
    WebError::Store(text!(what, ": ", super::js_message(&e)))
}

fn num(v: &JsValue) -> Option<u64> {
    v.as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0 && n.fract() == 0.0)
        .map(|n| n as u64)
}

impl JsStores {
    /// Over `adapter` (see the module's documentation).
    pub fn new(adapter: js_sys::Object) -> JsStores {
        JsStores {
            adapter,
            mirror: RefCell::new(Mirror::default()),
        }
    }

    async fn call(&self, name: &str, args: &js_sys::Array) -> Result<JsValue, WebError> {
        let what = text!("the stores' ", name);
        let f = js_sys::Reflect::get(&self.adapter, &name.into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| WebError::Store(text!(what, " is not a function")))?;
        let promise = f.apply(&self.adapter, args).map_err(|e| failed(&what, e))?;
        JsFuture::from(js_sys::Promise::resolve(&promise))
            .await
            .map_err(|e| failed(&what, e))
    }

    /// The session the stores hold (as `Client::import_session` bytes), if anything; the
    /// stores are then known to hold what was found (the next save rewrites it in this
    /// client's form, and deletes what the session did not take).
    pub async fn load(&self, now: Instant, wall_ms: u64) -> Result<Option<Vec<u8>>, WebError> {
        let v = self.call("load", &js_sys::Array::new()).await?;
        let get = |k: &str| js_sys::Reflect::get(&v, &k.into()).unwrap_or(JsValue::UNDEFINED);
        let mut entries = Vec::new();
        for e in js_sys::Array::from(&get("outgoing")).iter() {
            let e = js_sys::Array::from(&e);
            let Some(key) = num(&e.get(0)) else {
                return Err(WebError::Store(
                    "the outgoing store holds an entry whose messageId is not a number".into(),
                ));
            };
            entries.push(StoreEntry {
                key,
                packet: js_sys::Uint8Array::new(&e.get(1)).to_vec(),
                order: num(&e.get(2)),
                published_at: num(&e.get(3)),
                removed: e.get(4).is_truthy(),
            });
        }
        let incoming: Vec<u16> = js_sys::Array::from(&get("incoming"))
            .iter()
            .filter_map(|v| num(&v).and_then(|n| u16::try_from(n).ok()))
            .collect();
        *self.mirror.borrow_mut() =
            Mirror::loaded(entries.iter().map(|e| e.key), incoming.iter().copied());
        if entries.is_empty() && incoming.is_empty() {
            return Ok(None);
        }
        session_of_store_entries(entries, incoming, now, wall_ms)
            .map(Some)
            .map_err(|e| WebError::Store(text!("the stores do not hold a session: ", e)))
    }

    /// What a save of `client`'s session must write now.
    pub fn changes(&self, client: &Client, now: Instant, wall_ms: u64) -> MirrorChanges {
        client.store_changes(&self.mirror.borrow(), now, wall_ms)
    }

    /// Writes `changes`; done when every write is.
    pub async fn save(&self, changes: MirrorChanges) -> Result<(), WebError> {
        if changes.is_empty() {
            return Ok(());
        }
        let puts = js_sys::Array::new();
        for e in &changes.put {
            let opt = |v: Option<u64>| v.map_or(JsValue::NULL, |n| JsValue::from_f64(n as f64));
            let entry = js_sys::Array::of5(
                &JsValue::from_f64(e.key as f64),
                &js_sys::Uint8Array::from(e.packet.as_slice()),
                &opt(e.order),
                &opt(e.published_at),
                &JsValue::from_bool(e.removed),
            );
            puts.push(&entry);
        }
        let keys =
            |v: &mut dyn Iterator<Item = f64>| v.map(JsValue::from_f64).collect::<js_sys::Array>();
        let args = js_sys::Array::of4(
            &puts,
            &keys(&mut changes.del.iter().map(|k| *k as f64)),
            &keys(&mut changes.incoming_put.iter().map(|k| f64::from(*k))),
            &keys(&mut changes.incoming_del.iter().map(|k| f64::from(*k))),
        );
        self.call("save", &args).await?;
        self.mirror.borrow_mut().apply(&changes);
        Ok(())
    }

    /// Forgets the session in the stores.
    pub async fn clear(&self) -> Result<(), WebError> {
        self.call("clear", &js_sys::Array::new()).await?;
        *self.mirror.borrow_mut() = Mirror::default();
        Ok(())
    }
}
