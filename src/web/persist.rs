//! IndexedDB persistence of the session, so a page reload with a persistent session loses
//! nothing and duplicates nothing at QoS 2. Saves are incremental: each message is written
//! once, in the segment of the save that first found it (`proto/stored.rs`: the stored form).

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::WebError;
use crate::proto::{assemble_session, Client, Instant, MirrorChanges, SessionChanges, StoredKeys};

const DB: &str = "wasmqtt";
/// Version 2 added `MESSAGES` (version 1 kept each session as one value in `SESSIONS`).
const DB_VERSION: u32 = 2;
/// A session's index (or, stored by version 1, its whole first-format value), by session key.
const SESSIONS: &str = "sessions";
/// Segments of message records (see `proto/stored.rs`), by `[session key, segment number]`.
const MESSAGES: &str = "messages";

/// Where the session is kept between page loads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Persistence {
    /// Only in memory: a reload starts a fresh session state.
    Volatile,
    /// In IndexedDB, keyed by broker URL and client id, when the session is persistent
    /// (clean = false, or session expiry > 0). The default.
    #[default]
    IndexedDb,
}

/// An open session store for one broker and client id.
// Design: a save writes what changed since the last committed save (`StoredKeys` knows which
// segments the database holds): the index, at most one new segment, and the deletion of the
// segments whose messages all left, in one transaction over both object stores, so the index
// and the segments it names change together or not at all; the keys change only once that
// transaction has committed.
pub struct Store {
    db: web_sys::IdbDatabase,
    key: String,
    stored: RefCell<StoredKeys>,
}

pub(crate) fn message(e: JsValue) -> String {
    super::js_message(&e)
}

/// Resolves when an IndexedDB request succeeds (with its result) or fails.
async fn request(what: &'static str, req: &web_sys::IdbRequest) -> Result<JsValue, WebError> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| WebError::idb(what, e))?;
    req.result().map_err(|e| WebError::idb(what, e))
}

/// Resolves when a transaction has committed; a quota error at commit is an error.
async fn committed(what: &'static str, tx: &web_sys::IdbTransaction) -> Result<(), WebError> {
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    JsFuture::from(done)
        .await
        .map_err(|e| WebError::IndexedDb {
            what,
            detail: tx
                .error()
                .map(|ex| text!(ex.name(), ": ", ex.message()))
                .unwrap_or_else(|| message(e)),
        })?;
    Ok(())
}

impl Store {
    /// Opens (creating or upgrading on first use) the store for `key`.
    pub async fn open(key: String) -> Result<Store, WebError> {
        // A page's or a worker's (dedicated or shared) IndexedDB.
        let scope = super::scope::Scope::current().ok_or(WebError::IndexedDbUnavailable)?;
        let factory = scope
            .indexed_db()
            .map_err(|e| WebError::idb("open", e))?
            .ok_or(WebError::IndexedDbUnavailable)?;
        let open = factory
            .open_with_u32(DB, DB_VERSION)
            .map_err(|e| WebError::idb("open", e))?;
        let on_upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let db = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::IdbOpenDbRequest>().ok())
                .and_then(|r| r.result().ok())
                .and_then(|r| r.dyn_into::<web_sys::IdbDatabase>().ok());
            if let Some(db) = db {
                for name in [SESSIONS, MESSAGES] {
                    if !db.object_store_names().contains(name) {
                        let _ = db.create_object_store(name);
                    }
                }
            }
        });
        open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db = request("open", &open).await?;
        drop(on_upgrade);
        let db = db
            .dyn_into::<web_sys::IdbDatabase>()
            .map_err(|e| WebError::idb("open", e))?;
        Ok(Store {
            db,
            key,
            stored: RefCell::new(StoredKeys::default()),
        })
    }

    fn transaction(
        &self,
        what: &'static str,
        mode: web_sys::IdbTransactionMode,
    ) -> Result<
        (
            web_sys::IdbTransaction,
            web_sys::IdbObjectStore,
            web_sys::IdbObjectStore,
        ),
        WebError,
    > {
        let names = js_sys::Array::of2(&SESSIONS.into(), &MESSAGES.into());
        let tx = self
            .db
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(|e| WebError::idb(what, e))?;
        let sessions = tx
            .object_store(SESSIONS)
            .map_err(|e| WebError::idb(what, e))?;
        let messages = tx
            .object_store(MESSAGES)
            .map_err(|e| WebError::idb(what, e))?;
        Ok((tx, sessions, messages))
    }

    fn segment_key(&self, n: u64) -> JsValue {
        js_sys::Array::of2(&JsValue::from_str(&self.key), &JsValue::from_f64(n as f64)).into()
    }

    /// Every segment of this session.
    fn records(&self, what: &'static str) -> Result<JsValue, WebError> {
        let bound =
            |n: f64| js_sys::Array::of2(&JsValue::from_str(&self.key), &JsValue::from_f64(n));
        web_sys::IdbKeyRange::bound(&bound(0.0).into(), &bound(f64::INFINITY).into())
            .map(JsValue::from)
            .map_err(|e| WebError::idb(what, e))
    }

    /// What the store holds of the session, whole (see `proto::assemble_session`), if anything.
    /// The store then knows which records it holds (leftovers included: the next save deletes
    /// them).
    pub async fn load(&self) -> Result<Option<Vec<u8>>, WebError> {
        let (_tx, sessions, messages) =
            self.transaction("load", web_sys::IdbTransactionMode::Readonly)?;
        let index = sessions
            .get(&JsValue::from_str(&self.key))
            .map_err(|e| WebError::idb("load", e))?;
        let all = messages
            .get_all_with_key(&self.records("load")?)
            .map_err(|e| WebError::idb("load", e))?;
        let index = request("load", &index).await?;
        let all = request("load", &all).await?;
        let segments: Vec<Vec<u8>> = js_sys::Array::from(&all)
            .iter()
            .map(|v| js_sys::Uint8Array::new(&v).to_vec())
            .collect();
        *self.stored.borrow_mut() = StoredKeys::of_segments(segments.iter().map(Vec::as_slice));
        if index.is_undefined() || index.is_null() {
            return Ok(None);
        }
        let index = js_sys::Uint8Array::new(&index).to_vec();
        if !index.starts_with(b"WQS2") {
            return Ok(Some(index)); // the first format: the whole session in one value
        }
        Ok(Some(assemble_session(
            &index,
            segments.iter().map(Vec::as_slice),
        )))
    }

    /// What a save of `client`'s session must write now.
    pub fn changes(&self, client: &Client, now: Instant, wall_ms: u64) -> SessionChanges {
        client.session_changes(&self.stored.borrow(), now, wall_ms)
    }

    /// Writes `changes` in one transaction. Done means the transaction committed, not only that
    /// the writes were accepted: a quota error at commit is returned, never swallowed.
    pub async fn save(&self, changes: SessionChanges) -> Result<(), WebError> {
        let (tx, sessions, messages) =
            self.transaction("save", web_sys::IdbTransactionMode::Readwrite)?;
        let fail = |e| WebError::idb("save", e);
        for k in &changes.delete {
            messages.delete(&self.segment_key(*k)).map_err(fail)?;
        }
        for seg in &changes.put {
            let value = js_sys::Uint8Array::from(seg.bytes.as_slice());
            messages
                .put_with_key(&value, &self.segment_key(seg.number))
                .map_err(fail)?;
        }
        let index = js_sys::Uint8Array::from(changes.index.as_slice());
        sessions
            .put_with_key(&index, &JsValue::from_str(&self.key))
            .map_err(fail)?;
        committed("save", &tx).await?;
        self.stored.borrow_mut().apply(&changes);
        Ok(())
    }

    /// Forgets the session.
    pub async fn clear(&self) -> Result<(), WebError> {
        let (tx, sessions, messages) =
            self.transaction("clear", web_sys::IdbTransactionMode::Readwrite)?;
        let fail = |e| WebError::idb("clear", e);
        sessions
            .delete(&JsValue::from_str(&self.key))
            .map_err(fail)?;
        messages.delete(&self.records("clear")?).map_err(fail)?;
        committed("clear", &tx).await?;
        *self.stored.borrow_mut() = StoredKeys::default();
        Ok(())
    }
}

/// Where a session is saved: IndexedDB, or the application's own stores.
pub enum Backend {
    /// This page's (or worker's) IndexedDB.
    IndexedDb(Store),
    /// MQTT.js Stores the application gave (`incomingStore` / `outgoingStore`).
    Stores(super::stores::JsStores),
}

/// What one save writes, in its backend's form.
pub enum Pending {
    /// An index and segments.
    IndexedDb(SessionChanges),
    /// Store entries.
    Stores(MirrorChanges),
}

impl Backend {
    /// What a save of `client`'s session must write now.
    pub fn changes(&self, client: &Client, now: Instant, wall_ms: u64) -> Pending {
        match self {
            Backend::IndexedDb(s) => Pending::IndexedDb(s.changes(client, now, wall_ms)),
            Backend::Stores(s) => Pending::Stores(s.changes(client, now, wall_ms)),
        }
    }

    /// Writes `pending` (from this backend's `changes`).
    pub async fn save(&self, pending: Pending) -> Result<(), WebError> {
        match (self, pending) {
            (Backend::IndexedDb(s), Pending::IndexedDb(c)) => s.save(c).await,
            (Backend::Stores(s), Pending::Stores(c)) => s.save(c).await,
            _ => Ok(()), // the backend changed since: the next save writes the session again
        }
    }

    /// Forgets the session.
    pub async fn clear(&self) -> Result<(), WebError> {
        match self {
            Backend::IndexedDb(s) => s.clear().await,
            Backend::Stores(s) => s.clear().await,
        }
    }
}
