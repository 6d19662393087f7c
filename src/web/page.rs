//! The page's services the dashboard needs, in one place: clocks, randomness, visibility,
//! localStorage, the address. The UI reaches the browser through here (and through the DOM it
//! renders), so what it depends on is explicit and every failure has a typed error.

use super::WebError;

/// Wall-clock time, Unix milliseconds.
pub fn wall_ms() -> f64 {
    js_sys::Date::now()
}

/// The monotonic clock the driver uses (`performance.now()`), in milliseconds.
pub fn monotonic_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// A random number in `0..1` (not for secrets).
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// Whether the page is hidden (a background tab gets no animation frames).
pub fn hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// A value from localStorage.
pub fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Writes a value to localStorage.
pub fn store(key: &str, value: &str) -> Result<(), WebError> {
    let s = storage().ok_or(WebError::StorageUnavailable)?;
    s.set_item(key, value).map_err(|_| WebError::StorageFull)
}

/// A parameter of the page's address (`?name=value`).
pub fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// The address's fragment, without its `#`.
pub fn fragment() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
        .trim_start_matches('#')
        .to_string()
}

/// Sets the address's fragment (a history entry, so back and forward move between views).
pub fn set_fragment(fragment: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(fragment);
    }
}

/// Local time of day `(hours, minutes, seconds, milliseconds)` of a wall-clock time.
pub fn local_time(ms: f64) -> (u32, u32, u32, u32) {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    (
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        d.get_milliseconds(),
    )
}

/// Sets an attribute of the document's root element (the theme).
pub fn set_root_attribute(name: &str, value: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute(name, value);
    }
}
