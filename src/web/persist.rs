//! IndexedDB persistence of the session, so a page reload with a persistent session loses
//! nothing and duplicates nothing at QoS 2. Saves are incremental: each message is written
//! once, in the segment of the save that first found it (`proto/stored.rs`: the stored form).

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::WebError;
use crate::proto::{assemble_session, Client, Instant, MirrorChanges, SessionChanges, StoredKeys};

const DB: &str = "wasmqtt";
/// Version 2 added the object store `messages` (segments of message records, by `[session key,
/// segment number]`, see `proto/stored.rs`); version 1 kept each session as one value in
/// `sessions`, which now holds a session's index by session key (idb.js).
const DB_VERSION: u32 = 2;

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
    /// The open `IDBDatabase`.
    db: JsValue,
    key: String,
    stored: RefCell<StoredKeys>,
}

pub(crate) fn message(e: JsValue) -> String {
    super::js_message(&e)
}

// The IndexedDB calls themselves are in JavaScript (idb.js): as wasm-bindgen imports of
// web-sys, each request, transaction and event handler cost the package several times more.
#[wasm_bindgen(module = "/src/web/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = idbOpen)]
    fn idb_open(name: &str, version: u32) -> js_sys::Promise;
    #[wasm_bindgen(js_name = idbLoad)]
    fn idb_load(db: &JsValue, key: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = idbSave)]
    fn idb_save(
        db: &JsValue,
        key: &str,
        deletes: &[f64],
        numbers: &[f64],
        lengths: &[u32],
        bytes: &[u8],
        index: &[u8],
    ) -> js_sys::Promise;
    #[wasm_bindgen(js_name = idbClear)]
    fn idb_clear(db: &JsValue, key: &str) -> js_sys::Promise;
}

/// What `promise` resolves with, or the browser's reason as the failure of `what`.
async fn settled(what: &'static str, promise: js_sys::Promise) -> Result<JsValue, WebError> {
    JsFuture::from(promise)
        .await
        .map_err(|e| WebError::idb(what, e))
}

impl Store {
    /// Opens (creating or upgrading on first use) the store for `key`.
    pub async fn open(key: String) -> Result<Store, WebError> {
        // A page's or a worker's (dedicated or shared) IndexedDB.
        let db = settled("open", idb_open(DB, DB_VERSION)).await?;
        if db.is_null() {
            return Err(WebError::IndexedDbUnavailable);
        }
        Ok(Store {
            db,
            key,
            stored: RefCell::new(StoredKeys::default()),
        })
    }

    /// What the store holds of the session, whole (see `proto::assemble_session`), if anything.
    /// The store then knows which records it holds (leftovers included: the next save deletes
    /// them).
    pub async fn load(&self) -> Result<Option<Vec<u8>>, WebError> {
        let all = settled("load", idb_load(&self.db, &self.key)).await?;
        let all = js_sys::Array::from(&all);
        let mut all = all
            .iter()
            .map(|v| (!v.is_null()).then(|| js_sys::Uint8Array::new(&v).to_vec()));
        let index = all.next().flatten();
        let segments: Vec<Vec<u8>> = all.flatten().collect();
        *self.stored.borrow_mut() = StoredKeys::of_segments(segments.iter().map(Vec::as_slice));
        let Some(index) = index else {
            return Ok(None);
        };
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
        let deletes: Vec<f64> = changes.delete.iter().map(|&k| k as f64).collect();
        let numbers: Vec<f64> = changes.put.iter().map(|s| s.number as f64).collect();
        let lengths: Vec<u32> = changes.put.iter().map(|s| s.bytes.len() as u32).collect();
        let bytes: Vec<u8> = changes
            .put
            .iter()
            .flat_map(|s| s.bytes.iter().copied())
            .collect();
        let saved = idb_save(
            &self.db,
            &self.key,
            &deletes,
            &numbers,
            &lengths,
            &bytes,
            &changes.index,
        );
        settled("save", saved).await?;
        self.stored.borrow_mut().apply(&changes);
        Ok(())
    }

    /// Forgets the session.
    pub async fn clear(&self) -> Result<(), WebError> {
        settled("clear", idb_clear(&self.db, &self.key)).await?;
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
