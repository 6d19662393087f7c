//! IndexedDB persistence of the session, so a page reload with a persistent session loses
//! nothing and duplicates nothing at QoS 2.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::WebError;

const DB: &str = "wasmqtt";
const STORE: &str = "sessions";

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
pub struct Store {
    db: web_sys::IdbDatabase,
    key: String,
}

pub(crate) fn message(e: JsValue) -> String {
    if let Some(ex) = e.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", ex.name(), ex.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
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

impl Store {
    /// Opens (creating on first use) the store for `key`.
    pub async fn open(key: String) -> Result<Store, WebError> {
        let window = web_sys::window().ok_or(WebError::IndexedDbUnavailable)?;
        let factory = window
            .indexed_db()
            .map_err(|e| WebError::idb("open", e))?
            .ok_or(WebError::IndexedDbUnavailable)?;
        let open = factory
            .open_with_u32(DB, 1)
            .map_err(|e| WebError::idb("open", e))?;
        let on_upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let db = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::IdbOpenDbRequest>().ok())
                .and_then(|r| r.result().ok())
                .and_then(|r| r.dyn_into::<web_sys::IdbDatabase>().ok());
            if let Some(db) = db {
                let _ = db.create_object_store(STORE);
            }
        });
        open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db = request("open", &open).await?;
        drop(on_upgrade);
        let db = db
            .dyn_into::<web_sys::IdbDatabase>()
            .map_err(|e| WebError::idb("open", e))?;
        Ok(Store { db, key })
    }

    fn store(
        &self,
        what: &'static str,
        mode: web_sys::IdbTransactionMode,
    ) -> Result<web_sys::IdbObjectStore, WebError> {
        self.db
            .transaction_with_str_and_mode(STORE, mode)
            .and_then(|t| t.object_store(STORE))
            .map_err(|e| WebError::idb(what, e))
    }

    /// The saved session, if any.
    pub async fn load(&self) -> Result<Option<Vec<u8>>, WebError> {
        let store = self.store("load", web_sys::IdbTransactionMode::Readonly)?;
        let get = store
            .get(&JsValue::from_str(&self.key))
            .map_err(|e| WebError::idb("load", e))?;
        let v = request("load", &get).await?;
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        Ok(Some(js_sys::Uint8Array::new(&v).to_vec()))
    }

    /// Saves the session. Done means the transaction committed, not only that the write was
    /// accepted: a quota error at commit is returned, never swallowed.
    pub async fn save(&self, bytes: &[u8]) -> Result<(), WebError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(STORE, web_sys::IdbTransactionMode::Readwrite)
            .map_err(|e| WebError::idb("save", e))?;
        let committed = js_sys::Promise::new(&mut |resolve, reject| {
            tx.set_oncomplete(Some(&resolve));
            tx.set_onerror(Some(&reject));
            tx.set_onabort(Some(&reject));
        });
        let store = tx
            .object_store(STORE)
            .map_err(|e| WebError::idb("save", e))?;
        let value = js_sys::Uint8Array::from(bytes);
        store
            .put_with_key(&value, &JsValue::from_str(&self.key))
            .map_err(|e| WebError::idb("save", e))?;
        JsFuture::from(committed)
            .await
            .map_err(|e| WebError::IndexedDb {
                what: "save",
                detail: tx
                    .error()
                    .map(|ex| format!("{}: {}", ex.name(), ex.message()))
                    .unwrap_or_else(|| message(e)),
            })?;
        Ok(())
    }

    /// Forgets the session.
    pub async fn clear(&self) -> Result<(), WebError> {
        let store = self.store("clear", web_sys::IdbTransactionMode::Readwrite)?;
        let delete = store
            .delete(&JsValue::from_str(&self.key))
            .map_err(|e| WebError::idb("clear", e))?;
        request("clear", &delete).await?;
        Ok(())
    }
}
