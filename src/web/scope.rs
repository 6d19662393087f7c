//! The global scope the driver runs in: a page's window, or the global scope of a dedicated or
//! shared Worker. The driver needs the same few services from either (the monotonic
//! clock, whether the network is up, the `online` / `offline` events); what only a page has
//! (visibility, `pageshow` / `pagehide`) comes from [`Scope::window`].

use wasm_bindgen::JsCast;

/// Where the driver runs. Neither in Node (no IndexedDB, no network events): then `current()`
/// is None and the driver assumes the network is up.
pub enum Scope {
    Window(web_sys::Window),
    Worker(web_sys::WorkerGlobalScope),
}

impl Scope {
    /// The current global scope, if it is a window or a worker's.
    pub fn current() -> Option<Scope> {
        let global = js_sys::global();
        // wasm-bindgen's instanceof checks are guarded: `Window` is undefined in a worker.
        if let Some(w) = global.dyn_ref::<web_sys::Window>() {
            return Some(Scope::Window(w.clone()));
        }
        global
            .dyn_into::<web_sys::WorkerGlobalScope>()
            .ok()
            .map(Scope::Worker)
    }

    /// The page's window; None in a worker.
    pub fn window(&self) -> Option<&web_sys::Window> {
        match self {
            Scope::Window(w) => Some(w),
            Scope::Worker(_) => None,
        }
    }

    /// `performance`, for the monotonic clock.
    pub fn performance(&self) -> Option<web_sys::Performance> {
        match self {
            Scope::Window(w) => w.performance(),
            Scope::Worker(w) => w.performance(),
        }
    }

    /// `navigator.onLine`.
    pub fn online(&self) -> bool {
        match self {
            Scope::Window(w) => w.navigator().on_line(),
            Scope::Worker(w) => w.navigator().on_line(),
        }
    }

    /// Where `online` and `offline` are fired.
    pub fn target(&self) -> web_sys::EventTarget {
        match self {
            Scope::Window(w) => w.clone().into(),
            Scope::Worker(w) => w.clone().into(),
        }
    }
}
