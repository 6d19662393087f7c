//! Subscriptions: add (with QoS and the MQTT 5 options) and remove; per subscription its colour,
//! state, message count, rate and last message.

use leptos::prelude::*;

use super::super::model::{format, SubState};
use super::super::provider::use_mqtt;
use super::common::{breakable, rate};

#[derive(Clone, PartialEq)]
struct Row {
    filter: String,
    color: u8,
    qos: u8,
    options: String,
    state: (String, String),
    count: u64,
    rate: f64,
    last: Option<(String, String, String)>,
}

/// The list and its add form.
#[component]
pub fn SubscriptionList() -> impl IntoView {
    let mqtt = use_mqtt();
    let filter = RwSignal::new(String::new());
    let qos = RwSignal::new(0u8);
    let nl = RwSignal::new(false);
    let rap = RwSignal::new(false);
    let rh = RwSignal::new(0u8);
    let v5 = move || mqtt.settings.get().protocol == 5;
    let rows = Memo::new(move |_| {
        mqtt.subs_v.track();
        mqtt.with(|m| {
            m.subs
                .iter()
                .map(|s| Row {
                    filter: s.filter.clone(),
                    color: s.color,
                    qos: s.qos as u8,
                    options: [
                        s.no_local.then_some("no local"),
                        s.retain_as_published.then_some("retain as published"),
                        match s.retain_handling {
                            1 => Some("retained if new"),
                            2 => Some("no retained"),
                            _ => None,
                        },
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
                    state: match &s.state {
                        SubState::Pending => ("pending".into(), "waiting for SUBACK".into()),
                        SubState::Active(q) => {
                            ("active".into(), format!("granted QoS {}", *q as u8))
                        }
                        SubState::Failed(e) => ("failed".into(), e.clone()),
                    },
                    count: s.count,
                    rate: s.rate,
                    last: s.last.clone().map(|(t, p)| {
                        (
                            t,
                            p,
                            s.last_at
                                .map(|at| format::ago(m.now_ms - at))
                                .unwrap_or_default(),
                        )
                    }),
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    });
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let f = filter.get_untracked();
        if f.trim().is_empty() {
            return;
        }
        mqtt.subscribe(
            &f,
            qos.get_untracked(),
            nl.get_untracked(),
            rap.get_untracked(),
            rh.get_untracked(),
        );
        filter.set(String::new());
    };
    view! {
        <section class="panel subs" aria-label="subscriptions">
            <h2>"Subscriptions"</h2>
            <form class="sub-form" on:submit=add>
                <input class="grow" data-testid="sub-filter" placeholder="topic filter, e.g. devices/+/status"
                    aria-label="topic filter" prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev)) />
                <select aria-label="QoS" on:change=move |ev| qos.set(event_target_value(&ev).parse().unwrap_or(0))>
                    <option value="0">"QoS 0"</option><option value="1">"QoS 1"</option><option value="2">"QoS 2"</option>
                </select>
                <button class="btn primary" type="submit" data-testid="sub-add">"Subscribe"</button>
                <Show when=v5>
                    <div class="sub-options">
                        <label class="check"><input type="checkbox" prop:checked=move || nl.get() on:change=move |ev| nl.set(event_target_checked(&ev)) />" No local"</label>
                        <label class="check"><input type="checkbox" prop:checked=move || rap.get() on:change=move |ev| rap.set(event_target_checked(&ev)) />" Retain as published"</label>
                        <label>"Retained: "
                            <select on:change=move |ev| rh.set(event_target_value(&ev).parse().unwrap_or(0))>
                                <option value="0">"send"</option><option value="1">"if new"</option><option value="2">"don't send"</option>
                            </select>
                        </label>
                    </div>
                </Show>
            </form>
            <ul class="sub-list">
                // Keyed by filter, so the unsubscribe button stays put while counts change.
                <For each=move || rows.with(|rs| rs.iter().map(|r| r.filter.clone()).collect::<Vec<_>>()) key=|f| f.clone() let:filter>
                    {
                        let f = filter.clone();
                        let row = Memo::new(move |_| rows.with(|rs| rs.iter().find(|r| r.filter == f).cloned()));
                        let get = move |g: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(g).unwrap_or_default());
                        let unsubscribe = filter.clone();
                        view! {
                            <li class="sub" data-testid="sub-row">
                                <span class=move || format!("swatch c{}", row.with(|r| r.as_ref().map_or(0, |r| r.color))) aria-hidden="true"></span>
                                <div class="sub-main">
                                    <div class="sub-head">
                                        <code class="sub-filter">{breakable(&filter)}</code>
                                        <span class=get(|r| format!("badge {}", r.state.0)) title=get(|r| r.state.1.clone())>{get(|r| r.state.0.clone())}</span>
                                        <span class="muted">{get(|r| format!("QoS {}", r.qos))}</span>
                                    </div>
                                    <div class="sub-stats">
                                        <span data-testid="sub-count">{get(|r| format!("{} msgs", r.count))}</span>
                                        <span>{get(|r| rate(r.rate))}</span>
                                        <span class="muted">{get(|r| r.options.clone())}</span>
                                    </div>
                                    <Show when=move || row.with(|r| r.as_ref().is_some_and(|r| r.state.0 == "failed"))>
                                        <div class="sub-error">{get(|r| r.state.1.clone())}</div>
                                    </Show>
                                    <Show when=move || row.with(|r| r.as_ref().is_some_and(|r| r.last.is_some()))>
                                        <div class="sub-last" title=get(|r| r.last.as_ref().map(|l| l.0.clone()).unwrap_or_default())>
                                            <code>{get(|r| r.last.as_ref().map(|l| l.0.clone()).unwrap_or_default())}</code>" "
                                            <span>{get(|r| r.last.as_ref().map(|l| l.1.clone()).unwrap_or_default())}</span>" "
                                            <span class="muted">{get(|r| r.last.as_ref().map(|l| l.2.clone()).unwrap_or_default())}</span>
                                        </div>
                                    </Show>
                                </div>
                                <button class="btn icon" title="unsubscribe" aria-label=format!("unsubscribe from {filter}")
                                    on:click=move |_| mqtt.unsubscribe(&unsubscribe)>"✕"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}
