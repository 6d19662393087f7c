//! Device shadows on the page: `<DeviceShadow id=.../>`, one device's reported, desired and
//! delta side by side with the desired state edited as JSON, commands, and its history; and
//! `<Rollouts/>`, a desired change set on a share of the fleet, then the rest, converging.

use leptos::prelude::*;

use super::super::model::json::{Json, JsonExt};
use super::super::model::shadow::{read_desired, Doc};
use super::super::model::{format, DeviceSort, Progress};
use super::super::provider::use_mqtt;

/// What the panel shows of a shadow, read once per change.
#[derive(Clone, Default, PartialEq)]
struct Shown {
    reported: Option<(u64, String, f64)>,
    desired: Option<(u64, String, f64)>,
    delta: String,
    sync_label: &'static str,
    sync_text: String,
    pending: usize,
    dropped: u64,
    ignored: u64,
    converged: Option<f64>,
    history: Vec<(f64, String)>,
    now: f64,
}

fn doc(d: &Option<Doc>) -> Option<(u64, String, f64)> {
    d.as_ref()
        .map(|d| (d.version, Json::Object(d.state.clone()).pretty(), d.at_ms))
}

/// One device's shadow: reported / desired / delta, the desired editor, commands, history.
#[component]
pub fn DeviceShadow(
    /// The device.
    #[prop(into)]
    id: Signal<String>,
    /// Called by the close button (no button without it).
    #[prop(optional)]
    on_close: Option<Callback<()>>,
) -> impl IntoView {
    let mqtt = use_mqtt();
    // Escape closes it, as it closes other drawers.
    if let Some(close) = on_close {
        let esc = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                close.run(());
            }
        });
        on_cleanup(move || esc.remove());
    }
    let shown = Memo::new(move |_| {
        mqtt.shadows_v.track();
        mqtt.health_v.track(); // ages move on
        let id = id.get();
        mqtt.with(|m| {
            let progress = &m.shadows.config().progress_field;
            let Some(s) = m.shadows.get(&id) else {
                return Shown {
                    sync_label: "none",
                    sync_text: "no shadow reported yet".into(),
                    now: m.now_ms,
                    ..Default::default()
                };
            };
            let sync = s.sync(progress);
            let delta = s.delta();
            Shown {
                reported: doc(&s.reported),
                desired: doc(&s.desired),
                delta: if delta.is_empty() {
                    String::new()
                } else {
                    Json::Object(delta).pretty()
                },
                sync_label: sync.label(),
                sync_text: sync.describe(),
                pending: s.pending.len(),
                dropped: s.dropped,
                ignored: s.ignored,
                converged: s.converged_in_ms(),
                history: s
                    .history
                    .iter()
                    .rev()
                    .map(|(at, c)| (*at, c.describe()))
                    .collect(),
                now: m.now_ms,
            }
        })
        .unwrap_or_default()
    });
    // The editor starts from the desired state held when the device is opened, and is the
    // operator's from then on (updates do not overwrite what is being typed).
    let text = RwSignal::new(String::new());
    Effect::new(move |_| {
        let id = id.get();
        let start = mqtt
            .with(|m| {
                m.shadows
                    .get(&id)
                    .and_then(|s| s.desired.as_ref())
                    .map(|d| Json::Object(d.state.clone()).pretty())
            })
            .flatten()
            .unwrap_or_else(|| "{\n  \n}".into());
        text.set(start);
    });
    let check = Memo::new(move |_| read_desired(&text.get()).err());
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let r = mqtt.set_desired(&id.get_untracked(), &text.get_untracked());
        outcome.set(Some(r.map(|_| "desired state sent".into())));
    };
    let command = RwSignal::new(String::new());
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c = command.get_untracked();
        if c.trim().is_empty() {
            return;
        }
        match mqtt.command(&id.get_untracked(), c.trim()) {
            Ok(()) => command.set(String::new()),
            Err(e) => outcome.set(Some(Err(e))),
        }
    };
    let column = move |title: &'static str,
                       testid: &'static str,
                       get: fn(&Shown) -> Option<(u64, String, f64)>| {
        view! {
            <div class="shadow-col">
                <h3>{title}
                    <span class="muted small" data-testid=format!("{testid}-version")>{move || shown.with(|s| get(s).map(|(v, _, at)| format!(" v{v} · {} ago", format::ago(s.now - at))).unwrap_or_default())}</span>
                </h3>
                <pre class="json" data-testid=testid>{move || shown.with(|s| get(s).map_or_else(|| "none yet".into(), |d| d.1))}</pre>
            </div>
        }
    };
    view! {
        <section class="shadow" data-testid="device-shadow" data-device=move || id.get() aria-label=move || format!("shadow of {}", id.get())>
            <header class="shadow-head">
                <h2>{move || id.get()}</h2>
                <span class=move || format!("badge {}", shown.with(|s| s.sync_label)) data-testid="shadow-sync" data-sync=move || shown.with(|s| s.sync_label)>
                    {move || shown.with(|s| s.sync_text.clone())}
                </span>
                <span class="muted small" data-testid="shadow-counts">{move || shown.with(|s| {
                    let mut parts = vec![format!("{} unanswered", s.pending)];
                    if s.dropped > 0 { parts.push(format!("{} dropped unanswered", s.dropped)); }
                    if s.ignored > 0 { parts.push(format!("{} stale ignored", s.ignored)); }
                    if let Some(ms) = s.converged { parts.push(format!("in sync after {}", format::ago(ms))); }
                    parts.join(" · ")
                })}</span>
                <span class="spacer"></span>
                {on_close.map(|f| view! { <button class="btn" data-testid="shadow-close" on:click=move |_| f.run(())>"Close"</button> })}
            </header>
            <div class="shadow-cols">
                {column("Reported", "shadow-reported", |s| s.reported.clone())}
                {column("Desired", "shadow-desired", |s| s.desired.clone())}
                <div class="shadow-col">
                    <h3>"Delta"</h3>
                    <pre class="json" data-testid="shadow-delta">{move || shown.with(|s| if s.delta.is_empty() { "none".to_string() } else { s.delta.clone() })}</pre>
                </div>
            </div>
            <div class="shadow-forms">
                <form on:submit=submit class="desired-form">
                    <label>"Desired state (JSON, the whole state)"
                        <textarea data-testid="desired-editor" rows="5" spellcheck="false" prop:value=move || text.get()
                            on:input=move |ev| { text.set(event_target_value(&ev)); outcome.set(None); }></textarea>
                    </label>
                    <div class="row">
                        <button class="btn primary" type="submit" data-testid="set-desired" disabled=move || check.with(Option::is_some)>"Set desired"</button>
                        <span class=move || match (check.get(), outcome.get()) { (Some(_), _) | (_, Some(Err(_))) => "error small", _ => "muted small" } data-testid="desired-status">
                            {move || check.get().or_else(|| outcome.get().map(|r| r.unwrap_or_else(|e| e)))}
                        </span>
                    </div>
                </form>
                <form on:submit=send class="command-form">
                    <label>"Command"
                        <input data-testid="command-input" placeholder="reboot" prop:value=move || command.get() on:input=move |ev| command.set(event_target_value(&ev)) />
                    </label>
                    <button class="btn" type="submit">"Send"</button>
                </form>
            </div>
            <h3>"History"</h3>
            <ol class="history" data-testid="shadow-history">
                {move || shown.with(|s| s.history.iter().map(|(at, text)| {
                    let ago = format::ago(s.now - at);
                    view! { <li><span class="muted small">{ago}</span>" "{text.clone()}</li> }
                }).collect_view())}
            </ol>
        </section>
    }
}

/// A row of the rollout list.
#[derive(Clone, PartialEq)]
struct RolloutRow {
    id: u32,
    label: String,
    waves: usize,
    p: Progress,
}

/// Rollouts: set a desired change on a share of the devices matching a search, then the rest;
/// each rollout's convergence.
#[component]
pub fn Rollouts() -> impl IntoView {
    let mqtt = use_mqtt();
    let patch = RwSignal::new("{\"firmware\": \"1.4.0\"}".to_string());
    let filter = RwSignal::new(String::new());
    let share = RwSignal::new(10.0_f64);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let candidates = move || {
        mqtt.with(|m| {
            let all = m.devices.all();
            m.devices
                .select(&filter.get_untracked(), DeviceSort::Id, m.now_ms)
                .into_iter()
                .map(|i| all[i].id.clone())
                .collect::<Vec<String>>()
        })
        .unwrap_or_default()
    };
    let matching = Memo::new(move |_| {
        mqtt.devices_v.track();
        let q = filter.get();
        mqtt.with(|m| m.devices.select(&q, DeviceSort::Id, m.now_ms).len())
            .unwrap_or(0)
    });
    let check = Memo::new(move |_| read_desired(&patch.get()).err());
    let start = move |patch: String, share_pct: f64| {
        let r = mqtt.rollout(&patch, &candidates(), share_pct / 100.0);
        outcome.set(Some(r.map(|(id, n)| {
            format!("rollout {id}: desired state set on {n} devices")
        })));
    };
    let rows = Memo::new(move |_| {
        mqtt.shadows_v.track();
        mqtt.with(|m| {
            m.rollouts
                .list()
                .iter()
                .rev()
                .map(|r| RolloutRow {
                    id: r.id,
                    label: r.label.clone(),
                    waves: r.waves.len(),
                    p: m.rollouts.progress(&m.shadows, r.id),
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    });
    let bar = |n: usize, total: usize, class: &'static str| {
        let pct = if total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / total as f64
        };
        view! { <span class=format!("seg {class}") style:width=format!("{pct:.2}%") title=format!("{n} {class}")></span> }
    };
    view! {
        <section class="panel rollouts" data-testid="rollouts" aria-label="rollouts">
            <h2>"Rollouts"</h2>
            <form class="rollout-form" on:submit=move |ev| { ev.prevent_default(); start(patch.get_untracked(), share.get_untracked()); }>
                <label>"Desired change (JSON)"
                    <input data-testid="rollout-patch" spellcheck="false" prop:value=move || patch.get() on:input=move |ev| patch.set(event_target_value(&ev)) />
                </label>
                <label>"Devices matching"
                    <input type="search" data-testid="rollout-filter" placeholder="all; or id, model, room" prop:value=move || filter.get() on:input=move |ev| filter.set(event_target_value(&ev)) />
                </label>
                <label>"Share (%)"
                    <input type="number" min="1" max="100" step="1" data-testid="rollout-share" prop:value=move || share.get().to_string()
                        on:input=move |ev| share.set(event_target_value(&ev).parse().unwrap_or(10.0)) />
                </label>
                <button class="btn primary" type="submit" data-testid="rollout-start" disabled=move || check.with(Option::is_some) || matching.get() == 0>
                    {move || format!("Set on {}% of {} devices", share.get(), matching.get())}
                </button>
                <span class=move || match (check.get(), outcome.get()) { (Some(_), _) | (_, Some(Err(_))) => "error small", _ => "muted small" } data-testid="rollout-status">
                    {move || check.get().or_else(|| outcome.get().map(|r| r.unwrap_or_else(|e| e)))}
                </span>
            </form>
            <div class="rollout-list">
                {move || rows.get().into_iter().map(|r| {
                        let p = r.p.clone();
                        let again = r.label.clone();
                        let took = match (p.took_p50_ms, p.took_max_ms) {
                            (Some(a), Some(b)) => format!("in sync after {} (median), {} (longest)", format::ago(a), format::ago(b)),
                            _ => "none in sync yet".into(),
                        };
                        view! {
                            <div class="rollout" data-testid="rollout" data-rollout=r.id
                                data-total=p.total data-in-sync=p.in_sync data-pending=p.pending data-upgrading=p.upgrading data-rejected=p.rejected data-failed=p.failed data-superseded=p.superseded>
                                <div class="rollout-head">
                                    <b>{format!("#{} ", r.id)}</b><code>{r.label.clone()}</code>
                                    <span class="muted small">{format!(" · {} wave{} · {} devices", r.waves, if r.waves == 1 { "" } else { "s" }, p.total)}</span>
                                    <span class="spacer"></span>
                                    <button class="btn" data-testid="rollout-rest" on:click=move |_| start(again.clone(), 100.0)>"Set on the rest"</button>
                                </div>
                                <div class="stack" aria-hidden="true">
                                    {bar(p.in_sync, p.total, "in-sync")}{bar(p.upgrading, p.total, "upgrading")}{bar(p.pending, p.total, "pending")}{bar(p.rejected, p.total, "rejected")}{bar(p.failed, p.total, "failed")}{bar(p.superseded, p.total, "superseded")}
                                </div>
                                <div class="small">
                                    <span class="stat in-sync">{format!("{} in sync", p.in_sync)}</span>" · "
                                    <span class="stat upgrading">{format!("{} upgrading", p.upgrading)}</span>" · "
                                    <span class="stat pending">{format!("{} pending", p.pending)}</span>" · "
                                    <span class="stat rejected">{format!("{} rejected", p.rejected)}</span>" · "
                                    <span class="stat failed">{format!("{} failed", p.failed)}</span>
                                    {(p.superseded > 0).then(|| view! { <span class="muted" title="given another desired state since, without this change">{format!(" · {} superseded", p.superseded)}</span> })}
                                    <span class="muted">{format!(" · {took}")}</span>
                                </div>
                            </div>
                        }
                    }).collect_view()}
            </div>
        </section>
    }
}
