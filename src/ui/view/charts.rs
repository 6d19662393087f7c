//! `<TimeSeries/>`: line charts of numeric fields of chosen topics (or filters), over 5 minutes
//! to an hour: axes with round ticks, a band from minimum to maximum per bucket, a legend with the
//! latest values, values under the pointer; colours from the theme (light and dark).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::super::model::series::{ticks, WINDOWS_MS};
use super::super::model::Changed;
use super::super::provider::use_mqtt;
use super::common::clock;

const W: f64 = 800.0;
const H: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

/// What one frame draws: per series its colour, name, last value, mean path and band.
#[derive(Clone, Default, PartialEq)]
struct Drawn {
    lines: Vec<(u8, String, Option<f64>, String, String)>,
    y_ticks: Vec<(f64, String)>,
    x_ticks: Vec<(f64, String)>,
    /// Per series: (t, mean) of its points, for the pointer's read-out.
    values: Vec<Vec<(f64, f64)>>,
    from: f64,
    to: f64,
}

fn number(v: f64) -> String {
    if v.abs() >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The charts, with their form and legend.
#[component]
pub fn TimeSeries() -> impl IntoView {
    let mqtt = use_mqtt();
    let topic = RwSignal::new("devices/dev-0001/telemetry".to_string());
    let path = RwSignal::new("temp".to_string());
    let error = RwSignal::new(None::<String>);
    let hover = RwSignal::new(None::<f64>);
    let drawn = Memo::new(move |_| {
        mqtt.charts_v.track();
        mqtt.with(|m| {
            let c = &m.charts;
            let to = m.now_ms;
            let from = to - c.window_ms();
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for s in c.series() {
                for p in s.points().filter(|p| p.t >= from - c.bucket_ms()) {
                    lo = lo.min(p.min);
                    hi = hi.max(p.max);
                }
            }
            if !lo.is_finite() {
                (lo, hi) = (0.0, 1.0);
            }
            let pad = ((hi - lo) * 0.08).max(0.5);
            let (lo, hi) = (lo - pad, hi + pad);
            let x = |t: f64| LEFT + (t - from) / (to - from).max(1.0) * (W - LEFT - RIGHT);
            let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM);
            let half = c.bucket_ms() / 2.0;
            let mut d = Drawn {
                from,
                to,
                ..Default::default()
            };
            for s in c.series() {
                let pts: Vec<_> = s.points().filter(|p| p.t + half >= from).collect();
                let mut line = String::new();
                let mut upper = String::new();
                let mut lower = Vec::new();
                for (i, p) in pts.iter().enumerate() {
                    let px = x(p.t + half);
                    line.push_str(&format!(
                        "{}{px:.1},{:.1}",
                        if i == 0 { "M" } else { " L" },
                        y(p.mean)
                    ));
                    upper.push_str(&format!(
                        "{}{px:.1},{:.1}",
                        if i == 0 { "M" } else { " L" },
                        y(p.max)
                    ));
                    lower.push(format!(" L{px:.1},{:.1}", y(p.min)));
                }
                lower.reverse();
                let band = if pts.is_empty() {
                    String::new()
                } else {
                    format!("{upper}{} Z", lower.concat())
                };
                d.lines.push((s.color, s.name(), s.last(), line, band));
                d.values
                    .push(pts.iter().map(|p| (p.t + half, p.mean)).collect());
            }
            d.y_ticks = ticks(lo, hi)
                .into_iter()
                .map(|v| (y(v), number(v)))
                .collect();
            let step = c.window_ms() / 5.0;
            d.x_ticks = (0..=5)
                .map(|i| {
                    let t = from + step * f64::from(i);
                    (x(t), clock(t)[..8].to_string())
                })
                .collect();
            d
        })
        .unwrap_or_default()
    });
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, p) = (topic.get_untracked(), path.get_untracked());
        let mut result = Ok(());
        mqtt.update(|m| {
            result = m.charts.add(&t, &p);
            Changed(Changed::CHARTS)
        });
        error.set(result.err());
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let rect = el.get_bounding_client_rect();
        let px = (f64::from(ev.client_x()) - rect.left()) / rect.width().max(1.0) * W;
        if px < LEFT {
            return hover.set(None);
        }
        drawn.with_untracked(|d| {
            let t = d.from + (px - LEFT) / (W - LEFT - RIGHT) * (d.to - d.from);
            hover.set(Some(t));
        });
    };
    let readout = move || {
        let t = hover.get()?;
        Some(drawn.with(|d| {
            let x = LEFT + (t - d.from) / (d.to - d.from).max(1.0) * (W - LEFT - RIGHT);
            let values: Vec<(u8, String, Option<f64>)> = d
                .lines
                .iter()
                .zip(&d.values)
                .map(|((color, name, ..), pts)| {
                    let near = pts
                        .iter()
                        .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
                        .filter(|p| (p.0 - t).abs() <= (d.to - d.from) / 100.0)
                        .map(|p| p.1);
                    (*color, name.clone(), near)
                })
                .collect();
            (x, clock(t)[..8].to_string(), values)
        }))
    };
    view! {
        <section class="panel charts" data-testid="charts" aria-label="charts">
            <form class="chart-form" on:submit=add>
                <label>"Topic or filter" <input data-testid="chart-topic" prop:value=move || topic.get() on:input=move |ev| topic.set(event_target_value(&ev)) /></label>
                <label>"Field (JSON path)" <input data-testid="chart-path" placeholder="temp, or sensors.0.value" prop:value=move || path.get() on:input=move |ev| path.set(event_target_value(&ev)) /></label>
                <button class="btn primary" type="submit" data-testid="chart-add">"Chart it"</button>
                <label>"Window "
                    <select data-testid="chart-window" on:change=move |ev| {
                        let ms = event_target_value(&ev).parse().unwrap_or(WINDOWS_MS[0]);
                        mqtt.update(|m| { let now = m.now_ms; m.charts.set_window(ms, now); Changed(Changed::CHARTS) });
                    }>
                        {WINDOWS_MS.into_iter().map(|ms| view! { <option value=ms.to_string()>{format!("{} min", ms / 60_000.0)}</option> }).collect_view()}
                    </select>
                </label>
                <span class="error small" data-testid="chart-error">{move || error.get()}</span>
            </form>
            <ul class="chart-legend-list" data-testid="chart-legend">
                {move || drawn.with(|d| d.lines.iter().enumerate().map(|(i, (color, name, last, ..))| view! {
                    <li data-testid="chart-series">
                        <span class=format!("swatch c{color}") aria-hidden="true"></span>
                        <span>{name.clone()}</span>
                        <b class="mono" data-testid="chart-last">{last.map(number).unwrap_or_else(|| "no data yet".into())}</b>
                        <button class="btn icon small" aria-label=format!("stop charting {name}")
                            on:click=move |_| mqtt.update(move |m| { m.charts.remove(i); Changed(Changed::CHARTS) })>"✕"</button>
                    </li>
                }).collect_view())}
            </ul>
            <div class="chart-box">
                <svg viewBox=format!("0 0 {W} {H}") class="timeseries" data-testid="chart-svg" role="img"
                    aria-label="time series" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)>
                    {move || drawn.with(|d| view! {
                        <g class="axis">
                            {d.y_ticks.iter().map(|(y, label)| view! {
                                <line x1=LEFT x2=W - RIGHT y1=*y y2=*y class="grid" />
                                <text x=LEFT - 6.0 y=*y + 4.0 text-anchor="end">{label.clone()}</text>
                            }).collect_view()}
                            {d.x_ticks.iter().enumerate().map(|(i, (x, label))| {
                                // The end labels stay inside the plot.
                                let anchor = match i { 0 => "start", 5 => "end", _ => "middle" };
                                view! { <text x=*x y=H - 6.0 text-anchor=anchor>{label.clone()}</text> }
                            }).collect_view()}
                            <line x1=LEFT x2=LEFT y1=TOP y2=H - BOTTOM class="edge" />
                            <line x1=LEFT x2=W - RIGHT y1=H - BOTTOM y2=H - BOTTOM class="edge" />
                        </g>
                        {d.lines.iter().map(|(color, _, _, line, band)| view! {
                            <path d=band.clone() class=format!("band s{color}") />
                            <path d=line.clone() class=format!("line s{color}") fill="none" />
                        }).collect_view()}
                    })}
                    {move || readout().map(|(x, _, _)| view! { <line x1=x x2=x y1=TOP y2=H - BOTTOM class="cursor" /> })}
                </svg>
                {move || readout().map(|(_, at, values)| view! {
                    <div class="chart-hover" data-testid="chart-hover">
                        <div class="muted small">{at}</div>
                        {values.into_iter().map(|(color, name, v)| view! {
                            <div><span class=format!("swatch c{color}")></span>{format!(" {name}: {}", v.map(number).unwrap_or_else(|| "—".into()))}</div>
                        }).collect_view()}
                    </div>
                })}
            </div>
        </section>
    }
}
