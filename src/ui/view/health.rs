//! Health: round trip, message and byte rates in and out, in-flight, outbox, reconnects; and the
//! notices (errors in words).

use leptos::prelude::*;

use super::super::model::nodes::STATS_FILTER;
use super::super::model::{format, HISTORY};
use super::super::provider::{use_mqtt, use_subscription};
use super::common::{clock, rate};

/// An SVG path for a rate history, `w` x `h`, scaled to `max`.
fn chart(values: &[f32], max: f32, w: f32, h: f32) -> String {
    if values.is_empty() {
        return String::new();
    }
    let step = w / (HISTORY - 1) as f32;
    let x0 = w - step * (values.len() - 1) as f32;
    let mut d = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = x0 + step * i as f32;
        let y = h - (v / max.max(1.0)) * (h - 2.0) - 1.0;
        d.push_str(&format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" }));
    }
    d
}

/// The figures, as cards, with a chart of the rates.
#[component]
pub fn HealthPanel() -> impl IntoView {
    let mqtt = use_mqtt();
    let h = move || {
        mqtt.health_v.track();
        mqtt.with(|m| (m.health.clone(), m.connections))
            .unwrap_or_default()
    };
    let card = |label: &'static str,
                testid: &'static str,
                value: Box<dyn Fn() -> String + Send + Sync>| {
        view! {
            <div class="card" data-testid=testid>
                <div class="card-label">{label}</div>
                <div class="card-value">{value}</div>
            </div>
        }
    };
    let ms = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{v:.1} ms"));
    view! {
        <section class="panel health" aria-label="health">
            <div class="cards">
                {card("round trip", "health-rtt", Box::new(move || ms(h().0.rtt_ms)))}
                {card("smoothed RTT", "health-rtt-smoothed", Box::new(move || ms(h().0.rtt_smoothed_ms)))}
                {card("messages in", "health-in", Box::new(move || rate(h().0.rate_in)))}
                {card("messages out", "health-out", Box::new(move || rate(h().0.rate_out)))}
                {card("bytes in", "health-bytes-in", Box::new(move || format!("{}/s", format::bytes(h().0.bytes_rate_in as u64))))}
                {card("bytes out", "health-bytes-out", Box::new(move || format!("{}/s", format::bytes(h().0.bytes_rate_out as u64))))}
                {card("in flight", "health-inflight", Box::new(move || { let m = h().0.metrics; format!("{} out · {} in", m.inflight_out, m.inflight_in) }))}
                {card("outbox", "health-outbox", Box::new(move || { let m = h().0.metrics; format!("{} · {}", m.outbox_messages, format::bytes(m.outbox_bytes as u64)) }))}
                {card("reconnects", "health-reconnects", Box::new(move || h().0.metrics.reconnects.to_string()))}
                {card("connected for", "health-uptime", Box::new(move || h().0.connected_for_ms.map_or("—".into(), format::ago)))}
                {card("totals", "health-totals", Box::new(move || { let m = h().0.metrics; format!("{} in · {} out", m.messages_in, m.messages_out) }))}
                {card("next attempt", "health-next", Box::new(move || h().0.next_attempt_in_ms.map_or("—".into(), |t| format!("in {}", format::ago(t)))))}
            </div>
            <div class="chart" aria-label="messages per second, last two minutes">
                {move || {
                    let (hh, _) = h();
                    let max = hh.history_in.iter().chain(&hh.history_out).fold(1.0f32, |a, &b| a.max(b));
                    view! {
                        <div class="chart-legend"><span class="in">"● in"</span>" "<span class="out">"● out"</span><span class="muted">{format!(" · peak {}", rate(f64::from(max)))}</span></div>
                        <svg viewBox="0 0 600 120" preserveAspectRatio="none" aria-hidden="true">
                            <path class="in" d=chart(&hh.history_in, max, 600.0, 120.0) fill="none" stroke-width="2" />
                            <path class="out" d=chart(&hh.history_out, max, 600.0, 120.0) fill="none" stroke-width="2" />
                        </svg>
                    }
                }}
            </div>
            <ConnectionHistory/>
            <ClusterNodes/>
        </section>
    }
}

/// The connection over time: round-trip spread, attempts and success rate, time connected, the
/// brokers used and failovers, and why connections ended.
#[component]
pub fn ConnectionHistory() -> impl IntoView {
    let mqtt = use_mqtt();
    let s = move || {
        mqtt.health_v.track();
        mqtt.conn_v.track();
        mqtt.with(|m| (m.conn_stats.clone(), m.now_ms))
            .unwrap_or_default()
    };
    let pct = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0));
    view! {
        <div class="conn-history" data-testid="conn-history">
            <h3>"Connection over time"</h3>
            <div class="cards">
                <div class="card" data-testid="health-rtt-spread">
                    <div class="card-label">"round trip p50 / p90 / p99"</div>
                    <div class="card-value">{move || s().0.rtt().map_or("—".into(), |r| format!("{:.1} / {:.1} / {:.1} ms", r.p50, r.p90, r.p99))}</div>
                    <div class="muted small">{move || s().0.rtt().map_or("no pings answered yet".into(), |r| format!("last {} pings", r.samples))}</div>
                </div>
                <div class="card" data-testid="health-success">
                    <div class="card-label">"connection attempts"</div>
                    <div class="card-value">{move || { let (c, _) = s(); format!("{} of {} connected", c.successes, c.attempts) }}</div>
                    <div class="muted small">{move || format!("success rate {}", pct(s().0.success_rate()))}</div>
                </div>
                <div class="card" data-testid="health-connected-share">
                    <div class="card-label">"time connected"</div>
                    <div class="card-value">{move || { let (c, now) = s(); pct(c.connected_share(now)) }}</div>
                    <div class="muted small">{move || { let (c, now) = s(); format!("{} in all", format::ago(c.connected_ms(now))) }}</div>
                </div>
                <div class="card" data-testid="health-broker">
                    <div class="card-label">"broker"</div>
                    <div class="card-value small">{move || s().0.urls().1.map(str::to_string).unwrap_or_else(|| "not connected".into())}</div>
                    <div class="muted small">{move || { let (c, _) = s(); format!("{} failover{}, {} URL{} used", c.failovers, if c.failovers == 1 { "" } else { "s" }, c.urls().0.len(), if c.urls().0.len() == 1 { "" } else { "s" }) }}</div>
                </div>
            </div>
            <table class="causes" data-testid="health-causes">
                <thead><tr><th>"why connections ended"</th><th>"times"</th></tr></thead>
                <tbody>
                    {move || {
                        let causes = s().0.causes();
                        if causes.is_empty() {
                            view! { <tr><td class="muted" colspan="2">"none yet"</td></tr> }.into_any()
                        } else {
                            causes.into_iter().map(|(c, n)| view! { <tr data-testid="health-cause"><td>{c}</td><td>{n}</td></tr> }).collect_view().into_any()
                        }
                    }}
                </tbody>
            </table>
        </div>
    }
}

/// The newest notices (errors and information), most recent first.
#[component]
pub fn Notices() -> impl IntoView {
    let mqtt = use_mqtt();
    let list = move || {
        mqtt.notices_v.track();
        mqtt.with(|m| {
            m.notices
                .iter()
                .rev()
                .take(6)
                .cloned()
                .enumerate()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    view! {
        <ul class="notices" aria-live="polite" data-testid="notices">
            <For each=list key=|(_, n)| (n.at_ms.to_bits(), n.text.clone()) let:item>
                <li class:error=item.1.error>
                    <span class="muted">{clock(item.1.at_ms)}</span>" "{item.1.text.clone()}
                </li>
            </For>
        </ul>
    }
}

/// The broker's nodes and their own figures (connections, sessions, subscriptions, queued and
/// in-flight messages), where the broker publishes them on `$SYS/brokers/{node}/stats` (rmqtt's
/// `$SYS` plugin; the dev tool's broker and cluster have it). Subscribes while it is shown. A
/// node that stops reporting is marked silent: on a cluster, a node down.
#[component]
pub fn ClusterNodes() -> impl IntoView {
    let mqtt = use_mqtt();
    let _stats = use_subscription(STATS_FILTER, 0);
    let rows = move || {
        mqtt.health_v.track();
        mqtt.with(|m| (m.nodes.list().to_vec(), m.now_ms))
            .unwrap_or_default()
    };
    let n = |v: Option<u64>| v.map_or("—".to_string(), |v| v.to_string());
    view! {
        <div class="cluster-nodes" data-testid="cluster-nodes">
            <h3>"Broker nodes"</h3>
            {move || {
                let (list, now) = rows();
                if list.is_empty() {
                    return view! {
                        <p class="muted small">"No figures per node: the broker publishes nothing on " <code>{STATS_FILTER}</code> " (rmqtt's $SYS plugin does, every few seconds)."</p>
                    }.into_any();
                }
                let live = list.iter().filter(|r| !r.silent(now)).count();
                view! {
                    <p class="muted small">{format!("{live} of {} node{} reporting", list.len(), if list.len() == 1 { "" } else { "s" })}</p>
                    <table class="causes nodes">
                        <thead><tr><th>"node"</th><th>"state"</th><th>"connections"</th><th>"sessions"</th><th>"subscriptions"</th><th>"queued"</th><th>"in flight"</th><th>"last report"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|r| {
                                let silent = r.silent(now);
                                view! {
                                    <tr data-testid="cluster-node" data-node=r.node.clone() class:silent=silent>
                                        <td>{r.node.clone()}</td>
                                        <td data-testid="cluster-node-state">{if silent { "silent" } else { "reporting" }}</td>
                                        <td>{n(r.connections)}</td>
                                        <td>{n(r.sessions)}</td>
                                        <td>{n(r.subscriptions)}</td>
                                        <td>{n(r.queued)}</td>
                                        <td>{n(r.inflight)}</td>
                                        <td>{format!("{} ago", format::ago(now - r.at_ms))}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </div>
    }
}
