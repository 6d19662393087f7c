//! The browser driver's errors: what the browser refused, and where.

/// Something the browser did not do for the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebError {
    /// IndexedDB is not there (a private window in some browsers, a sandboxed frame).
    IndexedDbUnavailable,
    /// An IndexedDB operation failed (`what`: open, load, save, clear), with the browser's
    /// reason (a quota error, a blocked upgrade, ...).
    IndexedDb {
        /// The operation.
        what: &'static str,
        /// What the browser said.
        detail: String,
    },
    /// IndexedDB did not answer in time.
    IndexedDbTimeout(u32),
    /// The page has no localStorage (private mode, or disabled).
    StorageUnavailable,
    /// localStorage refused a write.
    StorageFull,
    /// The application's stores (`incomingStore` / `outgoingStore`) failed or hold what cannot
    /// be a session.
    Store(String),
    /// The application's credentials provider threw or its promise was rejected.
    Credentials(String),
}

impl crate::text::Piece for WebError {
    fn put(&self, out: &mut String) {
        use WebError::*;
        match self {
            IndexedDbUnavailable => {
                put!(out; "IndexedDB is not available in this browser context: the session is kept in memory only")
            }
            IndexedDb { what, detail } => {
                put!(out; "cannot ", *what, " the stored session: ", detail)
            }
            IndexedDbTimeout(s) => put!(out; "IndexedDB did not answer within ", s,
                " s: the session is kept in memory only this time (it will not survive a reload)"),
            StorageUnavailable => {
                put!(out; "this browser has no localStorage (private mode?): nothing can be saved")
            }
            StorageFull => {
                put!(out; "cannot save: the storage quota is exceeded or storage is disabled")
            }
            Store(e) => put!(out; "the session's stores failed: ", e),
            Credentials(e) => put!(out; "the credentials provider failed: ", e),
        }
    }
}

display_by_piece!(WebError);
impl std::error::Error for WebError {}

impl WebError {
    /// An IndexedDB failure of `what`, from the browser's error value.
    pub(crate) fn idb(what: &'static str, e: wasm_bindgen::JsValue) -> WebError {
        WebError::IndexedDb {
            what,
            detail: super::persist::message(e),
        }
    }
}
