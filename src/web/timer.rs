//! The one real timer the driver arms for the core's `poll_timeout()`.
//!
//! Chrome throttles main-thread timers in hidden pages (intensive wake-up throttling: one
//! wake-up a minute after five minutes hidden, and 2x delays before that), which is why MQTT.js
//! connections with keep-alives under a minute die in background tabs. Timers in a dedicated
//! Worker are not throttled, so the deadline is kept there and the Worker posts a message when
//! it is due. Where a Worker cannot be made (a Content Security Policy without `blob:`), a
//! main-thread timeout (gloo-timers) does the job, throttled.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

const WORKER_SOURCE: &str =
    "let t;onmessage=e=>{clearTimeout(t);if(e.data>=0)t=setTimeout(()=>postMessage(0),e.data)};";

/// The Worker and its message handler (kept alive with it).
type WorkerTimer = (web_sys::Worker, Closure<dyn FnMut(web_sys::MessageEvent)>);

/// A single re-armable timer.
// Design: one timer for the earliest deadline (the core keeps the rest as data). The driver asks
// for its deadline after every burst of work, thousands of times a second under load, and a
// postMessage to the Worker costs more than decoding a packet; so the timer only re-arms when
// the new deadline is earlier than the armed one. A timer armed too early just fires, the driver
// finds nothing due and arms the real deadline: at most one spare wake-up per deadline. The
// callback is shared by both implementations so the driver sees one source.
pub struct Timer {
    callback: std::rc::Rc<dyn Fn()>,
    worker: Option<WorkerTimer>,
    fallback: Option<gloo_timers::callback::Timeout>,
    /// When the armed timer fires (ms on the driver's clock); None when nothing is armed.
    /// Shared with the firing callbacks, which clear it.
    armed: std::rc::Rc<std::cell::Cell<Option<f64>>>,
}

impl Timer {
    /// A timer calling `callback` when due; `use_worker` asks for the unthrottled kind.
    pub fn new(callback: std::rc::Rc<dyn Fn()>, use_worker: bool) -> Timer {
        let armed = std::rc::Rc::new(std::cell::Cell::new(None));
        let callback: std::rc::Rc<dyn Fn()> = {
            let armed = armed.clone();
            std::rc::Rc::new(move || {
                armed.set(None);
                callback()
            })
        };
        let worker = if use_worker {
            make_worker(callback.clone()).ok()
        } else {
            None
        };
        Timer {
            callback,
            worker,
            fallback: None,
            armed,
        }
    }

    /// Whether deadlines run in a Worker (not throttled in hidden pages).
    pub fn unthrottled(&self) -> bool {
        self.worker.is_some()
    }

    /// Makes sure the timer fires by `due_ms` (on the clock `now_ms` reads); None disarms.
    pub fn arm(&mut self, now_ms: f64, due_ms: Option<f64>) {
        match (self.armed.get(), due_ms) {
            (None, None) => return,
            (Some(armed), Some(due)) if armed <= due => return,
            _ => {}
        }
        self.armed.set(due_ms);
        self.post(due_ms.map(|due| (due - now_ms).max(0.0)));
    }

    fn post(&mut self, delay_ms: Option<f64>) {
        if let Some((w, _)) = &self.worker {
            if w.post_message(&JsValue::from_f64(delay_ms.unwrap_or(-1.0)))
                .is_ok()
            {
                return;
            }
        }
        self.fallback = delay_ms.map(|ms| {
            let cb = self.callback.clone();
            gloo_timers::callback::Timeout::new(ms.clamp(0.0, 2_147_483_647.0) as u32, move || cb())
        });
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some((w, _)) = self.worker.take() {
            w.set_onmessage(None);
            w.terminate();
        }
    }
}

fn make_worker(callback: std::rc::Rc<dyn Fn()>) -> Result<WorkerTimer, JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(WORKER_SOURCE));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let worker = web_sys::Worker::new(&url);
    let _ = web_sys::Url::revoke_object_url(&url);
    let worker = worker?;
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| callback());
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    Ok((worker, on_message))
}
