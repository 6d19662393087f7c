//! The browser driver's errors: what the browser refused, and where.

/// Something the browser did not do for the driver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// IndexedDB is not there (a private window in some browsers, a sandboxed frame).
    #[error(
        "IndexedDB is not available in this browser context: the session is kept in memory only"
    )]
    IndexedDbUnavailable,
    /// An IndexedDB operation failed (`what`: open, load, save, clear), with the browser's
    /// reason (a quota error, a blocked upgrade, ...).
    #[error("cannot {what} the stored session: {detail}")]
    IndexedDb {
        /// The operation.
        what: &'static str,
        /// What the browser said.
        detail: String,
    },
    /// IndexedDB did not answer in time.
    #[error("IndexedDB did not answer within {0} s: the session is kept in memory only this time (it will not survive a reload)")]
    IndexedDbTimeout(u32),
    /// The page has no localStorage (private mode, or disabled).
    #[error("this browser has no localStorage (private mode?): nothing can be saved")]
    StorageUnavailable,
    /// localStorage refused a write.
    #[error("cannot save: the storage quota is exceeded or storage is disabled")]
    StorageFull,
    /// The application's stores (`incomingStore` / `outgoingStore`) failed or hold what cannot
    /// be a session.
    #[error("the session's stores failed: {0}")]
    Store(String),
    /// The application's credentials provider threw or its promise was rejected.
    #[error("the credentials provider failed: {0}")]
    Credentials(String),
}

impl WebError {
    /// An IndexedDB failure of `what`, from the browser's error value.
    pub(crate) fn idb(what: &'static str, e: wasm_bindgen::JsValue) -> WebError {
        WebError::IndexedDb {
            what,
            detail: super::persist::message(e),
        }
    }
}
