//! Pieces the components share: the virtual-list window and small formatting helpers.

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast};

/// Rows drawn beyond the visible ones, above and below (smooth scrolling).
const OVERSCAN: usize = 8;

/// The rows to draw: `(first, count)` for a list of `len` rows of `row_h` px scrolled to
/// `scroll_top` in a viewport `viewport_h` px high.
pub fn visible_range(scroll_top: f64, viewport_h: f64, row_h: f64, len: usize) -> (usize, usize) {
    let first = ((scroll_top / row_h).floor().max(0.0) as usize).saturating_sub(OVERSCAN);
    let visible = (viewport_h / row_h).ceil() as usize + 2 * OVERSCAN;
    let first = first.min(len);
    (first, visible.min(len - first))
}

/// Scroll position and height of a virtual list's viewport, kept up to date.
// Design: a virtual list draws only the rows in view, so it needs the scroll offset and the
// viewport's height as signals; both live here so every list (log, tree, devices) computes its
// window the same way. The height comes from a ResizeObserver: it reports after the browser's
// own layout, so measuring never forces a synchronous layout in the task that mounts the page
// (reading `clientHeight` at mount did: 40 ms of the dashboard's start-up), and it sees every
// change of the list's box, not only window resizes (a panel opening above it, a container
// resized by the embedding app).
#[derive(Clone, Copy)]
pub struct Viewport {
    /// Scroll offset, px.
    pub scroll: RwSignal<f64>,
    /// Height, px.
    pub height: RwSignal<f64>,
    /// The scrolling element.
    pub node: NodeRef<leptos::html::Div>,
}

/// A ResizeObserver and the callback it calls, released together with the list.
struct SizeWatch {
    observer: Option<web_sys::ResizeObserver>,
    _on_resize: Closure<dyn FnMut()>,
}

impl Drop for SizeWatch {
    fn drop(&mut self) {
        if let Some(o) = &self.observer {
            o.disconnect();
        }
    }
}

impl Viewport {
    /// A viewport with a guess of its height until it is measured.
    pub fn new(height_guess: f64) -> Viewport {
        let v = Viewport {
            scroll: RwSignal::new(0.0),
            height: RwSignal::new(height_guess),
            node: NodeRef::new(),
        };
        let on_resize = Closure::<dyn FnMut()>::new(move || v.measure());
        // Without ResizeObserver (browsers before 2020) the list keeps its guessed height.
        let observer = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
        let watched = observer.clone();
        Effect::new(move |_| {
            if let (Some(el), Some(o)) = (v.node.get(), &watched) {
                o.observe(&el);
            }
        });
        // Owned by the list's component: disconnected and freed when the list goes.
        StoredValue::new_local(SizeWatch {
            observer,
            _on_resize: on_resize,
        });
        // The window's height caps the list's (below), so a window resize re-measures too.
        let handle = window_event_listener(leptos::ev::resize, move |_| v.measure());
        on_cleanup(move || handle.remove());
        v
    }

    /// The list's height, at most the window's: a list whose box is not bounded by its
    /// container (no stylesheet, or a page that scrolls instead of the list) is as high as all
    /// its rows, yet no more than a window's worth of them can be seen at once.
    fn measure(self) {
        let Some(el) = self.node.get_untracked() else {
            return;
        };
        let mut h = f64::from(el.client_height());
        if let Some(window_h) = web_sys::window()
            .and_then(|w| w.inner_height().ok())
            .and_then(|h| h.as_f64())
        {
            h = h.min(window_h);
        }
        // Zero while hidden (display: none): keep the last height until shown again.
        if h > 0.0 {
            self.height.set(h);
        }
    }

    /// Records a scroll event.
    pub fn on_scroll(&self, ev: &leptos::ev::Event) {
        let el: web_sys::Element = event_target(ev);
        self.scroll.set(f64::from(el.scroll_top()));
    }

    /// Scrolls back to the top.
    pub fn scroll_to_top(&self) {
        if let Some(el) = self.node.get_untracked() {
            el.set_scroll_top(0);
        }
        self.scroll.set(0.0);
    }
}

/// A time of day, `HH:MM:SS.mmm`, local time.
pub fn clock(ms: f64) -> String {
    let (h, m, s, milli) = crate::web::page::local_time(ms);
    format!("{:02}:{:02}:{:02}.{:03}", h, m, s, milli)
}

/// A topic or filter that may wrap after each `/` (a `<wbr>` there) rather than anywhere: a
/// long filter in a narrow column reads `devices/+/` / `telemetry/#`, not `devi` / `ces/+/…`.
pub fn breakable(topic: &str) -> impl IntoView {
    topic
        .split_inclusive('/')
        .map(|level| (level.to_string(), leptos::html::wbr()))
        .collect::<Vec<_>>()
}

/// A rate for people: 0.4/s, 12/s, 3.2k/s.
pub fn rate(x: f64) -> String {
    if x >= 10_000.0 {
        format!("{:.0}k/s", x / 1000.0)
    } else if x >= 1000.0 {
        format!("{:.1}k/s", x / 1000.0)
    } else if x >= 10.0 || x == 0.0 {
        format!("{x:.0}/s")
    } else {
        format!("{x:.1}/s")
    }
}

/// Draws its children `frame` frames after it is mounted (0: at once).
///
/// For the parts of a page that need not be in its first frame: each gets a frame of its own,
/// so the browser lays out the page in several short tasks instead of one long one.
// Design: the first layout of form controls is the costliest part of the dashboard's start-up
// (BENCHMARKS.md: the sidebar's forms alone take the first frame past 50 ms), and a task that
// long delays the first input the user makes. A flag per part, set once, keeps this a pure
// rendering choice: the children are the same components, built the same way, a few frames on.
#[component]
pub fn Later(
    /// How many frames to wait.
    #[prop(optional)]
    frame: u32,
    children: ChildrenFn,
) -> impl IntoView {
    let ready = RwSignal::new(frame == 0);
    if frame > 0 {
        // The component may be gone before its frame comes: then there is nothing to set.
        crate::ui::frames::after_frames(frame, move || {
            let _ = ready.try_set(true);
        });
    }
    move || ready.get().then(|| children())
}
