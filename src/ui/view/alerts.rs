//! `<Alerts/>`: the alerts raised by the rules, dismissible, with counts per rule and a form to
//! add threshold rules; `<AlertBadge/>`: how many are shown, for a header.

use leptos::prelude::*;

use super::super::model::alerts::{parse_threshold, Condition};
use super::super::model::{format, Changed};
use super::super::provider::use_mqtt;

/// Alerts shown at most in the list (the counts cover all).
const LIST: usize = 200;

/// The alert list.
#[component]
pub fn Alerts() -> impl IntoView {
    let mqtt = use_mqtt();
    let data = Memo::new(move |_| {
        mqtt.alerts_v.track();
        mqtt.health_v.track(); // ages
        mqtt.with(|m| {
            let names: std::collections::HashMap<u32, String> = m
                .alerts
                .rules()
                .iter()
                .map(|r| (r.id, r.name.clone()))
                .collect();
            let list: Vec<(u32, String, String, String, String)> = m
                .alerts
                .shown()
                .take(LIST)
                .map(|a| {
                    (
                        a.rule,
                        names.get(&a.rule).cloned().unwrap_or_default(),
                        a.device.clone(),
                        a.detail.clone(),
                        format::ago(m.now_ms - a.since_ms),
                    )
                })
                .collect();
            (
                m.alerts.counts(),
                list,
                m.alerts.shown_count(),
                m.alerts.overflow,
            )
        })
        .unwrap_or_default()
    });
    let rule = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = rule.get_untracked();
        let r = parse_threshold(&text).and_then(|c| {
            let mut out = Err(String::new());
            mqtt.update(|m| {
                out = m.alerts.add(text.trim(), c);
                Changed(Changed::ALERTS)
            });
            out
        });
        match r {
            Ok(_) => {
                rule.set(String::new());
                error.set(None);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let update = move |f: Box<dyn FnOnce(&mut super::super::model::Alerts)>| {
        mqtt.update(move |m| {
            f(&mut m.alerts);
            Changed(Changed::ALERTS)
        })
    };
    view! {
        <section class="panel alerts" data-testid="alerts" aria-label="alerts">
            <div class="toolbar">
                <h2>"Alerts"</h2>
                <span class="muted small" data-testid="alerts-count">{move || data.with(|d| {
                    let mut s = format!("{} shown", d.2);
                    if d.3 > 0 { s.push_str(&format!(" · {} more not kept", d.3)); }
                    s
                })}</span>
                <span class="spacer"></span>
                <button class="btn" data-testid="alerts-dismiss-all" on:click=move |_| update(Box::new(|a| a.dismiss_all()))>"Dismiss all"</button>
            </div>
            <div class="rule-counts">
                {move || data.with(|d| d.0.iter().map(|(r, c)| {
                    let id = r.id;
                    let what = match &r.condition {
                        Condition::Below { field, value } => format!("{field} < {value}"),
                        Condition::Above { field, value } => format!("{field} > {value}"),
                        Condition::Silent { intervals } => format!("silent > {intervals} intervals"),
                        Condition::RolloutFailed => "rollout failed or refused".into(),
                    };
                    view! {
                        <span class="rule" data-testid="alert-rule" data-rule=r.name.clone() data-active=c.active data-raised=c.raised title=what>
                            <b>{r.name.clone()}</b>" "<span class="badge failed">{c.active}</span>
                            <span class="muted small">{format!(" {} raised", c.raised)}</span>
                            <button class="btn icon small" title="remove this rule" aria-label=format!("remove rule {}", r.name)
                                on:click=move |_| update(Box::new(move |a| a.remove(id)))>"✕"</button>
                        </span>
                    }
                }).collect_view())}
            </div>
            <form class="rule-form" on:submit=add>
                <input data-testid="alert-rule-input" placeholder="new rule: rssi < -85, temp > 30, silent > 5" prop:value=move || rule.get()
                    on:input=move |ev| rule.set(event_target_value(&ev)) />
                <button class="btn" type="submit">"Add rule"</button>
                <span class="error small" data-testid="alert-rule-error">{move || error.get()}</span>
            </form>
            <ul class="alert-list">
                {move || data.with(|d| d.1.iter().map(|(rule, name, device, detail, ago)| {
                    let (rule, device_key) = (*rule, device.clone());
                    view! {
                        <li data-testid="alert" data-rule=name.clone() data-device=device.clone()>
                            <span class="dot offline" aria-hidden="true"></span>
                            <b class="mono">{device.clone()}</b>
                            <span>{format!(" {name}: {detail}")}</span>
                            <span class="muted small">{format!(" · for {ago}")}</span>
                            <span class="spacer"></span>
                            <button class="btn icon small" data-testid="alert-dismiss" aria-label=format!("dismiss {name} for {device}")
                                on:click=move |_| { let d = device_key.clone(); update(Box::new(move |a| a.dismiss(rule, &d))) }>"✕"</button>
                        </li>
                    }
                }).collect_view())}
            </ul>
        </section>
    }
}

/// How many alerts are shown, as a link to the fleet view (nothing when none).
#[component]
pub fn AlertBadge() -> impl IntoView {
    let mqtt = use_mqtt();
    let n = Memo::new(move |_| {
        mqtt.alerts_v.track();
        mqtt.with(|m| m.alerts.shown_count()).unwrap_or(0)
    });
    move || {
        (n.get() > 0).then(|| {
            view! {
                <a class="chip alert-badge" href="#fleet" data-testid="alert-badge">
                    {format!("{} alert{}", n.get(), if n.get() == 1 { "" } else { "s" })}
                </a>
            }
        })
    }
}
