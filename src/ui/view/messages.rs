//! The live message log (virtualised: only the rows in view exist in the DOM, so 100,000 entries
//! cost nothing to scroll) and the publish form. Topics and payloads are text nodes, never HTML.

use leptos::prelude::*;

use super::super::model::{format, PayloadFormat};
use super::super::provider::use_mqtt;
use super::common::{clock, visible_range, Viewport};

/// Height of a log row, px (the CSS says the same).
pub const ROW_H: f64 = 28.0;

#[derive(Clone, PartialEq)]
struct Row {
    seq: u64,
    time: String,
    topic: String,
    preview: String,
    qos: u8,
    retain: bool,
    dup: bool,
    outgoing: bool,
    color: Option<u8>,
}

/// The log with its filter, pause, format and detail pane.
#[component]
pub fn MessageLog() -> impl IntoView {
    let mqtt = use_mqtt();
    let vp = Viewport::new(480.0);
    let format_sel = RwSignal::new(PayloadFormat::Text);
    let selected = RwSignal::new(None::<u64>);
    let filter_text = move || {
        mqtt.log_v.track();
        mqtt.with(|m| m.log.filter_text().to_string())
            .unwrap_or_default()
    };

    let len = move || {
        mqtt.log_v.track();
        mqtt.with(|m| m.log.visible_len()).unwrap_or(0)
    };
    // The rows in view and where they start: one block positioned at the first row, the rows
    // in normal flow inside it, keyed by seq (a new message inserts one row and drops one).
    let win = Memo::new(move |_| {
        mqtt.log_v.track();
        let (scroll, height) = (vp.scroll.get(), vp.height.get());
        mqtt.with(|m| {
            let (first, n) = visible_range(scroll, height, ROW_H, m.log.visible_len());
            let rows = (first..first + n)
                .filter_map(|i| m.log.visible(i))
                .map(|e| Row {
                    seq: e.seq,
                    time: clock(e.at_ms),
                    topic: e.topic.to_string(),
                    preview: format::preview(&e.payload, 160),
                    qos: e.qos as u8,
                    retain: e.retain,
                    dup: e.dup,
                    outgoing: e.outgoing,
                    color: e.color,
                })
                .collect::<Vec<_>>();
            (first, rows)
        })
        .unwrap_or_default()
    });
    let paused = move || {
        mqtt.log_v.track();
        mqtt.with(|m| (m.log.paused(), m.log.arrived_while_paused()))
            .unwrap_or((false, 0))
    };
    let totals = move || {
        mqtt.log_v.track();
        mqtt.with(|m| {
            let (max, _) = m.log.limits();
            format!(
                "{} shown · {} kept of {} max · {} total",
                m.log.visible_len(),
                m.log.len(),
                max,
                m.log.total()
            )
        })
        .unwrap_or_default()
    };
    let set_paused = move |p: bool| {
        mqtt.update(|m| {
            m.log.set_paused(p);
            super::super::model::Changed(super::super::model::Changed::LOG)
        });
        if !p {
            vp.scroll_to_top();
        }
    };
    // Scrolling away from the newest messages pauses, so what is read does not move.
    let on_scroll = move |ev: leptos::ev::Event| {
        vp.on_scroll(&ev);
        if vp.scroll.get_untracked() > ROW_H && !paused().0 {
            set_paused(true);
        }
    };
    let detail = move || {
        mqtt.log_v.track();
        let seq = selected.get()?;
        let fmt = format_sel.get();
        mqtt.with(|m| {
            m.log.get(seq).map(|e| {
                (
                    e.topic.to_string(),
                    format!(
                        "{} · QoS {}{}{}{} · {}",
                        clock(e.at_ms),
                        e.qos as u8,
                        if e.retain { " · retained" } else { "" },
                        if e.dup { " · dup" } else { "" },
                        if e.outgoing {
                            " · sent by this page"
                        } else {
                            ""
                        },
                        format::bytes(e.payload.len() as u64)
                    ),
                    e.properties.clone(),
                    format::render(&e.payload, fmt, 64 * 1024),
                )
            })
        })
        .flatten()
    };

    view! {
        <section class="panel log" aria-label="messages">
            <div class="toolbar">
                <input class="grow" type="search" data-testid="log-filter" aria-label="filter by topic"
                    placeholder="filter: text, or a topic filter like devices/+/status"
                    prop:value=filter_text
                    on:input=move |ev| {
                        let t = event_target_value(&ev);
                        mqtt.update(|m| {
                            m.log.set_filter_text(&t);
                            super::super::model::Changed(super::super::model::Changed::LOG)
                        });
                        vp.scroll_to_top();
                    } />
                <select aria-label="payload format" on:change=move |ev| format_sel.set(PayloadFormat::from_label(&event_target_value(&ev)))>
                    {PayloadFormat::ALL.into_iter().map(|f| view! { <option value=f.label()>{f.label()}</option> }).collect_view()}
                </select>
                <button class="btn" data-testid="log-pause" aria-pressed=move || paused().0.to_string()
                    on:click=move |_| set_paused(!paused().0)>
                    {move || match paused() {
                        (false, _) => "Pause".to_string(),
                        (true, 0) => "Resume".to_string(),
                        (true, n) => format!("Resume ({n} new)"),
                    }}
                </button>
                <button class="btn subtle" on:click=move |_| mqtt.update(|m| {
                    m.log.clear();
                    super::super::model::Changed(super::super::model::Changed::LOG)
                })>"Clear"</button>
            </div>
            <div class="log-head" aria-hidden="true">
                <span class="c-time">"time"</span><span class="c-flags">"flags"</span><span class="c-topic">"topic"</span><span class="c-payload">"payload"</span>
            </div>
            <div class="vlist log-list" node_ref=vp.node on:scroll=on_scroll tabindex="0" role="list" aria-label="message log, newest first">
                <div class="vlist-spacer" style:height=move || format!("{}px", len() as f64 * ROW_H)>
                  <div class="vlist-rows" style:top=move || format!("{}px", win.with(|w| w.0) as f64 * ROW_H)>
                    <For each=move || win.get().1 key=|r| r.seq let:r>
                        {
                            let seq = r.seq;
                            view! {
                                <div class="log-row" role="listitem" data-testid="log-row"
                                    class:selected=move || selected.get() == Some(seq)
                                    class:outgoing=r.outgoing
                                    on:click=move |_| selected.set(Some(seq))>
                                    <span class="c-time">{r.time}</span>
                                    <span class="c-flags">
                                        {r.color.map(|c| view! { <span class=format!("swatch small c{c}")></span> })}
                                        <span class="qos">{format!("Q{}", r.qos)}</span>
                                        {r.retain.then(|| view! { <span class="flag" title="retained">"R"</span> })}
                                        {r.dup.then(|| view! { <span class="flag" title="duplicate">"D"</span> })}
                                        {r.outgoing.then(|| view! { <span class="flag out" title="sent by this page">"↑"</span> })}
                                    </span>
                                    <span class="c-topic" data-testid="log-topic">{r.topic}</span>
                                    <span class="c-payload" data-testid="log-payload">{r.preview}</span>
                                </div>
                            }
                        }
                    </For>
                  </div>
                </div>
            </div>
            <div class="log-foot muted">{totals}</div>
            <Show when=move || detail().is_some()>
                <div class="detail" data-testid="log-detail">
                    {move || detail().map(|(topic, meta, props, body)| view! {
                        <div class="detail-head">
                            <code class="detail-topic">{topic}</code>
                            <span class="muted">{meta}</span>
                            <button class="btn icon" aria-label="close" on:click=move |_| selected.set(None)>"✕"</button>
                        </div>
                        {props.map(|p| view! { <div class="muted">{p}</div> })}
                        <pre class="payload" data-testid="log-detail-payload">{body}</pre>
                    })}
                </div>
            </Show>
        </section>
    }
}

/// Publish a message: topic, payload, QoS, retain, and MQTT 5 content type and user properties.
#[component]
pub fn PublishForm() -> impl IntoView {
    let mqtt = use_mqtt();
    let topic = RwSignal::new("devices/dev-0001/cmd".to_string());
    let payload = RwSignal::new("{\"interval_ms\": 1000}".to_string());
    let qos = RwSignal::new(1u8);
    let retain = RwSignal::new(false);
    let content_type = RwSignal::new(String::new());
    let user_props = RwSignal::new(String::new());
    let message = RwSignal::new((false, String::new()));
    let v5 = move || mqtt.settings.get().protocol == 5;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let r = mqtt.publish(
            &topic.get_untracked(),
            &payload.get_untracked(),
            qos.get_untracked(),
            retain.get_untracked(),
            &content_type.get_untracked(),
            &user_props.get_untracked(),
        );
        message.set(match r {
            Ok(()) => (false, format!("published to {}", topic.get_untracked())),
            Err(e) => (true, e),
        });
    };
    view! {
        <form class="panel publish" on:submit=submit aria-label="publish">
            <h2>"Publish"</h2>
            <label>"Topic" <input data-testid="pub-topic" prop:value=move || topic.get() on:input=move |ev| topic.set(event_target_value(&ev)) /></label>
            <label>"Payload" <textarea data-testid="pub-payload" rows="3" prop:value=move || payload.get() on:input=move |ev| payload.set(event_target_value(&ev))></textarea></label>
            <div class="row">
                <label>"QoS"
                    <select data-testid="pub-qos" prop:value=move || qos.get().to_string() on:change=move |ev| qos.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
                    </select>
                </label>
                <label class="check"><input type="checkbox" prop:checked=move || retain.get() on:change=move |ev| retain.set(event_target_checked(&ev)) />" Retain"</label>
                <button class="btn primary" type="submit" data-testid="pub-send">"Publish"</button>
            </div>
            <Show when=v5>
                <div class="row">
                    <label>"Content type" <input prop:value=move || content_type.get() on:input=move |ev| content_type.set(event_target_value(&ev)) placeholder="application/json" /></label>
                    <label class="grow">"User properties" <input prop:value=move || user_props.get() on:input=move |ev| user_props.set(event_target_value(&ev)) placeholder="name=value, name=value" /></label>
                </div>
            </Show>
            <p class=move || if message.get().0 { "form-message error" } else { "form-message" } role="status" data-testid="pub-message">{move || message.get().1}</p>
        </form>
    }
}
