//! The topic tree: levels with message counts, retained flags and last values; expand and
//! collapse; virtualised like the log.

use leptos::prelude::*;

use super::super::model::{format, Changed, PayloadFormat};
use super::super::provider::use_mqtt;
use super::common::{visible_range, Viewport};

const ROW_H: f64 = 28.0;

#[derive(Clone, PartialEq)]
struct Row {
    id: usize,
    depth: u16,
    name: String,
    has_children: bool,
    expanded: bool,
    messages: u64,
    total: u64,
    retained: bool,
    last: Option<String>,
}

/// The tree.
#[component]
pub fn TopicTree() -> impl IntoView {
    let mqtt = use_mqtt();
    let vp = Viewport::new(480.0);
    let selected = RwSignal::new(None::<usize>);
    let len = move || {
        mqtt.tree_v.track();
        // rows() needs &mut (it caches the flattening), hence `update` with nothing changed.
        let mut n = 0;
        mqtt.update(|m| {
            n = m.tree.rows().len();
            Changed::default()
        });
        n
    };
    let win = Memo::new(move |_| {
        mqtt.tree_v.track();
        let (scroll, height) = (vp.scroll.get(), vp.height.get());
        let mut out = Vec::new();
        let mut start = 0;
        mqtt.update(|m| {
            let rows = m.tree.rows().to_vec();
            let (first, n) = visible_range(scroll, height, ROW_H, rows.len());
            start = first;
            for &id in rows.iter().skip(first).take(n) {
                if let Some(node) = m.tree.node(id) {
                    out.push(Row {
                        id,
                        depth: node.depth,
                        name: if node.name.is_empty() {
                            "(empty)".into()
                        } else {
                            node.name.clone()
                        },
                        has_children: !node.children.is_empty(),
                        expanded: node.expanded,
                        messages: node.messages,
                        total: node.total,
                        retained: node.retained,
                        last: node.last.as_ref().map(|b| format::preview(b, 80)),
                    });
                }
            }
            Changed::default()
        });
        (start, out)
    });
    let toggle = move |id: usize, expanded: bool| {
        mqtt.update(|m| {
            m.tree.set_expanded(id, expanded);
            Changed(Changed::TREE)
        })
    };
    let detail = move || {
        mqtt.tree_v.track();
        let id = selected.get()?;
        mqtt.with(|m| {
            let n = m.tree.node(id)?;
            Some((
                m.tree.topic_of(id),
                n.messages,
                n.total,
                n.retained,
                n.last
                    .as_ref()
                    .map(|b| format::render(b, PayloadFormat::Json, 4096)),
                n.last_len,
                (n.last_at > 0.0).then(|| format::ago(m.now_ms - n.last_at)),
            ))
        })
        .flatten()
    };
    let summary = move || {
        mqtt.tree_v.track();
        mqtt.with(|m| {
            let mut s = format!(
                "{} topic levels · {} messages",
                m.tree.len() - 1,
                m.tree.total()
            );
            if m.tree.overflow() > 0 {
                s.push_str(&format!(
                    " · {} messages on topics beyond the {}-node limit",
                    m.tree.overflow(),
                    m.limits().tree_nodes
                ));
            }
            s
        })
        .unwrap_or_default()
    };
    view! {
        <section class="panel tree" aria-label="topic tree">
            <div class="toolbar">
                <span class="muted grow">{summary}</span>
                <button class="btn" on:click=move |_| mqtt.update(|m| { m.tree.set_expanded_all(true); Changed(Changed::TREE) })>"Expand all"</button>
                <button class="btn" on:click=move |_| mqtt.update(|m| { m.tree.set_expanded_all(false); Changed(Changed::TREE) })>"Collapse all"</button>
            </div>
            <div class="tree-body">
                <div class="vlist tree-list" node_ref=vp.node on:scroll=move |ev| vp.on_scroll(&ev) role="tree" aria-label="topics">
                    <div class="vlist-spacer" style:height=move || format!("{}px", len() as f64 * ROW_H)>
                      <div class="vlist-rows" style:top=move || format!("{}px", win.with(|w| w.0) as f64 * ROW_H)>
                        // Keyed by node: a row stays the same element while its figures change
                        // (so a click is never lost to a redraw), its figures are read per frame.
                        <For each=move || win.with(|w| w.1.iter().map(|r| r.id).collect::<Vec<_>>()) key=|id| *id let:id>
                            {
                                let row = Memo::new(move |_| win.with(|w| w.1.iter().find(|r| r.id == id).cloned()));
                                let get = move |f: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
                                let expanded = move || row.with(|r| r.as_ref().is_some_and(|r| r.expanded));
                                let has_children = move || row.with(|r| r.as_ref().is_some_and(|r| r.has_children));
                                view! {
                                    <div class="tree-row" role="treeitem" data-testid="tree-row"
                                        aria-expanded=move || has_children().then(|| expanded().to_string())
                                        class:selected=move || selected.get() == Some(id)
                                        style:padding-left=move || format!("{}px", 8 + row.with(|r| r.as_ref().map_or(0, |r| r.depth)) as usize * 18)>
                                        <button class="twisty" class:leaf=move || !has_children() disabled=move || !has_children()
                                            aria-label=move || if expanded() { "collapse" } else { "expand" }
                                            on:click=move |_| toggle(id, !expanded())>
                                            {move || if !has_children() { "" } else if expanded() { "▾" } else { "▸" }}
                                        </button>
                                        <button class="tree-name" on:click=move |_| selected.set(Some(id))>{get(|r| r.name.clone())}</button>
                                        <span class="count" title="messages here / below">{get(|r| format!("{} / {}", r.messages, r.total))}</span>
                                        <Show when=move || row.with(|r| r.as_ref().is_some_and(|r| r.retained))>
                                            <span class="flag" title="retained">"R"</span>
                                        </Show>
                                        <span class="tree-last">{get(|r| r.last.clone().unwrap_or_default())}</span>
                                    </div>
                                }
                            }
                        </For>
                      </div>
                    </div>
                </div>
                <Show when=move || detail().is_some()>
                    <div class="detail" data-testid="tree-detail">
                        {move || detail().map(|(topic, messages, total, retained, last, last_len, ago)| {
                            let filter_topic = topic.clone();
                            view! {
                                <div class="detail-head"><code class="detail-topic">{topic}</code></div>
                                <div class="muted">
                                    {format!("{messages} messages here, {total} with everything below")}
                                    {retained.then_some(" · retained")}
                                    {ago.map(|a| format!(" · last {a} ago"))}
                                    {(last_len > 0).then(|| format!(" · {}", format::bytes(last_len as u64)))}
                                </div>
                                <pre class="payload">{last.unwrap_or_else(|| "(no message on this exact topic)".into())}</pre>
                                <button class="btn" on:click=move |_| {
                                    let t = filter_topic.clone();
                                    mqtt.update(|m| {
                                        m.log.set_filter_text(&t);
                                        Changed(Changed::LOG)
                                    });
                                }>"Filter the log to this topic"</button>
                            }
                        })}
                    </div>
                </Show>
            </div>
        </section>
    }
}
