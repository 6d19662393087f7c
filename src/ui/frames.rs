//! Work timed by the browser's frames, for the parts of the UI that need not run in the task at
//! hand.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::{request_animation_frame, set_timeout};

/// How long a frame may take to come before a timer stands in for it: a page hidden (or
/// hidden in the meantime) draws no frames, and the work must still happen.
const FRAME_OR_AT_MOST: Duration = Duration::from_millis(100);

/// Calls `f` once `n` frames have been drawn: after each frame, in a task of its own.
pub fn after_frames(n: u32, f: impl FnOnce() + 'static) {
    // Whichever comes first, the frame or the timer, takes the step; the other finds it gone.
    let step = Rc::new(Cell::new(Some(move || {
        if n <= 1 {
            f()
        } else {
            after_frames(n - 1, f)
        }
    })));
    let by_timer = step.clone();
    set_timeout(
        move || {
            if let Some(s) = by_timer.take() {
                s()
            }
        },
        FRAME_OR_AT_MOST,
    );
    request_animation_frame(move || {
        // A timer set inside the frame's callback runs after that frame is drawn.
        set_timeout(
            move || {
                if let Some(s) = step.take() {
                    s()
                }
            },
            Duration::ZERO,
        )
    });
}
