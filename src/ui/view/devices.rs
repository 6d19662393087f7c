//! The device presence board: online / stale / offline counts, search, sort, and per device its
//! state, last seen, latest values and a sparkline; virtualised for fleets of thousands.

use leptos::prelude::*;

use super::super::model::devices::spark_points;
use super::super::model::{format, DeviceSort, PresenceConfig, ShadowConfig, Shown};
use super::super::provider::use_mqtt;
use super::common::{visible_range, Viewport};
use super::shadow::DeviceShadow;

const ROW_H: f64 = 48.0;
const SPARK_W: f32 = 120.0;
const SPARK_H: f32 = 28.0;

#[derive(Clone, PartialEq)]
struct Row {
    index: usize,
    id: String,
    shown: Shown,
    since: String,
    last_seen: String,
    meta: String,
    fields: String,
    spark: String,
    spark_last: String,
    drops: u32,
    sync: (&'static str, String),
}

/// The board.
#[component]
pub fn DeviceGrid() -> impl IntoView {
    let mqtt = use_mqtt();
    let vp = Viewport::new(520.0);
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new(DeviceSort::Id);
    let show_settings = RwSignal::new(false);
    // The device whose shadow is open (a click on its row).
    let open = RwSignal::new(None::<String>);

    // The selection (search + sort) is recomputed when devices change or the query does; at
    // most once per frame.
    // The selection (search + sort) is not recomputed per frame: by id it changes only when a
    // device appears; by state, last seen or drops it is refreshed once a second. The figures in
    // the rows still update every frame. (Sorting 10,000 devices per frame cost half a core.)
    let known = Memo::new(move |_| {
        mqtt.devices_v.track();
        mqtt.with(|m| m.devices.all().len()).unwrap_or(0)
    });
    let selection = Memo::new(move |_| {
        let _devices = known.get();
        let (q, s) = (search.get(), sort.get());
        let pick = mqtt.pick.get();
        if s != DeviceSort::Id || !q.is_empty() || pick.is_some() {
            // Meta text (searched) and the orders other than by id move with time.
            mqtt.health_v.track();
        }
        mqtt.with(|m| match &pick {
            None => m.devices.select(&q, s, m.now_ms),
            Some(p) => m
                .devices
                .select_where(&q, s, m.now_ms, |d| p.matches(d, &m.shadows)),
        })
        .unwrap_or_default()
    });
    let census = move || {
        mqtt.devices_v.track();
        mqtt.with(|m| {
            (
                m.devices.census(m.now_ms),
                m.devices.all().len(),
                m.devices.refused(),
                m.devices.config.spark_field.clone(),
            )
        })
        .unwrap_or_default()
    };
    let win = Memo::new(move |_| {
        mqtt.devices_v.track();
        mqtt.shadows_v.track();
        let sel = selection.get();
        let (first, n) = visible_range(vp.scroll.get(), vp.height.get(), ROW_H, sel.len());
        let rows = mqtt
            .with(|m| {
                let cfg = &m.devices.config;
                sel[first..first + n]
                    .iter()
                    .filter_map(|&i| {
                        let d = m.devices.all().get(i)?;
                        Some(Row {
                            index: i,
                            id: d.id.clone(),
                            shown: d.shown(m.now_ms, cfg),
                            since: format::ago(m.now_ms - d.since_ms),
                            last_seen: format::ago(m.now_ms - d.last_seen_ms),
                            meta: d.meta.clone().unwrap_or_default(),
                            fields: d
                                .fields
                                .iter()
                                .take(4)
                                .map(|(k, v)| format!("{k} {v}"))
                                .collect::<Vec<_>>()
                                .join("  ·  "),
                            spark: spark_points(&d.spark, SPARK_W, SPARK_H),
                            spark_last: d
                                .spark
                                .last()
                                .map(|v| format!("{v:.1}"))
                                .unwrap_or_default(),
                            drops: d.drops,
                            sync: {
                                let s = m.shadows.sync(&d.id);
                                (s.label(), s.describe())
                            },
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        (first, rows)
    });

    view! {
        <section class="panel devices" aria-label="devices">
            <div class="toolbar">
                <div class="census" role="status" data-testid="census">
                    {move || {
                        let (c, total, refused, _) = census();
                        view! {
                            <span class="stat"><b>{total}</b>" devices"</span>
                            <span class="stat online"><i class="dot online"></i><b data-testid="census-online">{c.online}</b>" online"</span>
                            <span class="stat stale"><i class="dot stale"></i><b>{c.stale}</b>" stale"</span>
                            <span class="stat offline"><i class="dot offline"></i><b data-testid="census-offline">{c.offline}</b>" offline"</span>
                            {(c.unknown > 0).then(|| view! { <span class="stat"><i class="dot unknown"></i><b>{c.unknown}</b>" unknown"</span> })}
                            {(refused > 0).then(|| view! { <span class="stat warn">{format!("{refused} messages from devices beyond the limit")}</span> })}
                        }
                    }}
                </div>
                <span class="spacer"></span>
                {move || mqtt.pick.get().map(|p| view! {
                    <button class="chip" data-testid="board-pick" title="show every device" on:click=move |_| mqtt.pick.set(None)>
                        {format!("{} · {} shown ✕", p.describe(), selection.with(Vec::len))}
                    </button>
                })}
                <input type="search" data-testid="device-search" aria-label="search devices" placeholder="search id, model, room"
                    prop:value=move || search.get() on:input=move |ev| { search.set(event_target_value(&ev)); vp.scroll_to_top(); } />
                <label class="inline">"Sort "
                    <select on:change=move |ev| {
                        let v = event_target_value(&ev);
                        sort.set(DeviceSort::ALL.into_iter().find(|s| s.label() == v).unwrap_or_default());
                    }>
                        {DeviceSort::ALL.into_iter().map(|s| view! { <option value=s.label()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <button class="btn" aria-expanded=move || show_settings.get().to_string() on:click=move |_| show_settings.update(|s| *s = !*s)>"Patterns"</button>
            </div>
            <Show when=move || show_settings.get()>
                <PresenceSettings/>
            </Show>
            {move || open.get().map(|id| view! {
                <DeviceShadow id=id on_close=Callback::new(move |_| open.set(None))/>
            })}
            <div class="dev-head" aria-hidden="true">
                <span>"device"</span><span>"state"</span><span>"latest values"</span>
                <span>{move || format!("{} (last 60)", census().3)}</span><span>"drops"</span>
            </div>
            <div class="vlist dev-list" node_ref=vp.node on:scroll=move |ev| vp.on_scroll(&ev) role="list" aria-label="devices">
                <div class="vlist-spacer" style:height=move || format!("{}px", selection.get().len() as f64 * ROW_H)>
                  <div class="vlist-rows" style:top=move || format!("{}px", win.with(|w| w.0) as f64 * ROW_H)>
                    // Keyed by device: rows keep their elements while the figures in them
                    // change every frame.
                    <For each=move || win.with(|w| w.1.iter().map(|r| r.index).collect::<Vec<_>>()) key=|i| *i let:index>
                        {
                            let row = Memo::new(move |_| win.with(|w| w.1.iter().find(|r| r.index == index).cloned()));
                            let get = move |f: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
                            let state = move || row.with(|r| r.as_ref().map_or("unknown", |r| r.shown.label()));
                            view! {
                                <div class=move || format!("dev-row {}", state()) role="listitem" data-testid="device-row"
                                    data-device=get(|r| r.id.clone()) data-state=state data-index=index.to_string()
                                    on:click=move |_| open.set(row.with(|r| r.as_ref().map(|r| r.id.clone())))>
                                    <div class="dev-id">
                                        <i class=move || format!("dot {}", state()) aria-hidden="true"></i>
                                        <div>
                                            <button class="name linklike" data-testid="open-device" title="open its shadow">{get(|r| r.id.clone())}</button>
                                            <div class="muted small">{get(|r| r.meta.clone())}</div>
                                        </div>
                                    </div>
                                    <div class="dev-state">
                                        <span class=move || format!("badge {}", state()) data-testid="device-state">{state}</span>
                                        {move || row.with(|r| r.as_ref().filter(|r| r.sync.0 != "none").map(|r| {
                                            let (class, text) = r.sync.clone();
                                            view! { <span class=format!("badge sync {class}") data-testid="device-sync" data-sync=class>{text}</span> }
                                        }))}
                                        <div class="muted small">{get(|r| format!("for {} · seen {} ago", r.since, r.last_seen))}</div>
                                    </div>
                                    <div class="dev-fields small">{get(|r| r.fields.clone())}</div>
                                    <div class="dev-spark">
                                        <svg viewBox=format!("0 0 {SPARK_W} {SPARK_H}") width=SPARK_W height=SPARK_H aria-hidden="true">
                                            <polyline points=get(|r| r.spark.clone()) fill="none" stroke="currentColor" stroke-width="1.5" />
                                        </svg>
                                        <span class="small">{get(|r| r.spark_last.clone())}</span>
                                    </div>
                                    <div class="dev-drops">{get(|r| r.drops.to_string())}</div>
                                </div>
                            }
                        }
                    </For>
                  </div>
                </div>
            </div>
        </section>
    }
}

/// The patterns devices are found by; changing them rebuilds the board from what was seen.
#[component]
fn PresenceSettings() -> impl IntoView {
    let mqtt = use_mqtt();
    let cfg = RwSignal::new(mqtt.with(|m| m.devices.config.clone()).unwrap_or_default());
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c = cfg.get_untracked();
        mqtt.update(move |m| m.set_presence(c));
    };
    let field = move |get: fn(&PresenceConfig) -> String, set: fn(&mut PresenceConfig, String)| {
        (
            move || get(&cfg.get()),
            move |ev: leptos::ev::Event| cfg.update(|c| set(c, event_target_value(&ev))),
        )
    };
    let (status, set_status) = field(|c| c.status.clone(), |c, v| c.status = v);
    let (telemetry, set_telemetry) = field(|c| c.telemetry.clone(), |c, v| c.telemetry = v);
    let (spark, set_spark) = field(|c| c.spark_field.clone(), |c, v| c.spark_field = v);
    let (stale, set_stale) = field(
        |c| c.stale_factor.to_string(),
        |c, v| c.stale_factor = v.parse().unwrap_or(3.0),
    );
    view! {
        <form class="presence-settings" on:submit=apply>
            <label>"Status topic" <input prop:value=status on:input=set_status /></label>
            <label>"Telemetry topic" <input prop:value=telemetry on:input=set_telemetry /></label>
            <label>"Sparkline field" <input prop:value=spark on:input=set_spark /></label>
            <label>"Stale after (× interval)" <input type="number" min="1" step="0.5" prop:value=stale on:input=set_stale /></label>
            <button class="btn primary" type="submit">"Apply"</button>
            <p class="muted small">"{id} stands for one topic level; + matches any level. Status payloads online/offline (or JSON {\"state\": ...}). Changes rebuild the board from the last value of every topic seen."</p>
        </form>
        <ShadowSettings/>
    }
}

/// The shadows' topic convention; changing it rebuilds the shadows from the retained values seen.
#[component]
fn ShadowSettings() -> impl IntoView {
    let mqtt = use_mqtt();
    let cfg = RwSignal::new(
        mqtt.with(|m| m.shadows.config().clone())
            .unwrap_or_default(),
    );
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c = cfg.get_untracked();
        mqtt.update(move |m| m.set_shadow_config(c));
    };
    let field = move |label: &'static str,
                      testid: &'static str,
                      get: fn(&ShadowConfig) -> String,
                      set: fn(&mut ShadowConfig, String)| {
        view! {
            <label>{label}
                <input data-testid=testid prop:value=move || get(&cfg.get())
                    on:input=move |ev| cfg.update(|c| set(c, event_target_value(&ev))) />
            </label>
        }
    };
    view! {
        <form class="presence-settings" on:submit=apply data-testid="shadow-settings">
            {field("Shadow reported", "shadow-reported-topic", |c| c.reported.clone(), |c, v| c.reported = v)}
            {field("Shadow desired", "shadow-desired-topic", |c| c.desired.clone(), |c, v| c.desired = v)}
            {field("Accepted", "shadow-accepted-topic", |c| c.accepted.clone(), |c, v| c.accepted = v)}
            {field("Rejected", "shadow-rejected-topic", |c| c.rejected.clone(), |c, v| c.rejected = v)}
            <button class="btn primary" type="submit">"Apply"</button>
        </form>
    }
}
