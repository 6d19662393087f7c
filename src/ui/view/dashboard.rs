//! The dashboard page: the components in one layout, with tabs, a theme switch, and the broker
//! taken from `?broker=` (else the last profile used, else the dev tool's local broker).

use leptos::prelude::*;

use super::super::model::Settings;
use super::super::provider::MqttProvider;
use super::alerts::{AlertBadge, Alerts};
use super::charts::TimeSeries;
use super::common::Later;
use super::connection::{load_profiles, ConnectionForm, ConnectionStatus};
use super::devices::DeviceGrid;
use super::fleet::FleetStats;
use super::health::{HealthPanel, Notices};
use super::messages::{MessageLog, PublishForm};
use super::shadow::Rollouts;
use super::subscriptions::SubscriptionList;
use super::tree::TopicTree;

const THEME_KEY: &str = "wasmqtt.theme";
const TABS: [(&str, &str); 6] = [
    ("devices", "Devices"),
    ("fleet", "Fleet"),
    ("charts", "Charts"),
    ("messages", "Messages"),
    ("topics", "Topics"),
    ("health", "Health"),
];

use crate::web::page::{self, query};

/// Settings for the first connection: `?broker=` wins, then the first saved profile, then the
/// default (the dev tool's broker).
pub fn initial_settings() -> Settings {
    let mut s = load_profiles().into_iter().next().unwrap_or_default();
    if let Some(url) = query("broker").filter(|u| !u.trim().is_empty()) {
        s = Settings {
            url: url.trim().to_string(),
            name: "from the address bar".into(),
            ..Settings::default()
        };
    }
    if let Some(v) = query("protocol").and_then(|p| p.parse().ok()) {
        s.protocol = v;
    }
    s
}

fn set_theme(theme: &str) {
    page::set_root_attribute("data-theme", theme);
    // A theme that cannot be remembered still applies to this page.
    let _ = page::store(THEME_KEY, theme);
}

/// The view the address names, if it names one.
fn tab_in_address() -> Option<usize> {
    let fragment = page::fragment();
    TABS.iter().position(|(id, _)| fragment == *id)
}

/// The whole dashboard.
#[component]
pub fn Dashboard() -> impl IntoView {
    view! {
        <MqttProvider settings=initial_settings()>
            <DashboardLayout/>
        </MqttProvider>
    }
}

#[component]
fn DashboardLayout() -> impl IntoView {
    let tab = RwSignal::new(tab_in_address().unwrap_or(0));
    // The address leads: a link, a typed fragment, back and forward all switch the view (a
    // click sets the fragment, which comes back here).
    let follow = window_event_listener(leptos::ev::hashchange, move |_| {
        // A click already set it (the fragment it sets comes back here): set once.
        if let Some(i) = tab_in_address().filter(|i| *i != tab.get_untracked()) {
            tab.set(i);
        }
    });
    on_cleanup(move || follow.remove());
    let theme = RwSignal::new(page::stored(THEME_KEY).unwrap_or_else(|| "auto".into()));
    Effect::new(move |_| set_theme(&theme.get()));
    let select = move |i: usize| {
        tab.set(i);
        page::set_fragment(TABS[i].0);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = TABS.len();
        match ev.key().as_str() {
            "ArrowRight" => select((tab.get_untracked() + 1) % n),
            "ArrowLeft" => select((tab.get_untracked() + n - 1) % n),
            _ => return,
        }
        ev.prevent_default();
        // Keep the focus on the selected tab, as a tablist should.
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            if let Ok(Some(el)) =
                doc.query_selector(&format!("#tab-{}", TABS[tab.get_untracked()].0))
            {
                use wasm_bindgen::JsCast;
                if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    };
    view! {
        <div class="app">
            <header class="topbar">
                <h1 class="brand"><span class="logo" aria-hidden="true">"◆"</span>" wasmqtt"</h1>
                <Later frame=1><ConnectionStatus/><AlertBadge/></Later>
                <button class="btn icon theme" title="theme: auto, light, dark" aria-label=move || format!("theme: {}", theme.get())
                    on:click=move |_| theme.update(|t| *t = match t.as_str() { "auto" => "light".into(), "light" => "dark".into(), _ => "auto".into() })>
                    {move || match theme.get().as_str() { "light" => "☀", "dark" => "☾", _ => "◐" }}
                </button>
            </header>
            <Later frame=1><Notices/></Later>
            <div class="layout">
                // The first frame holds the page's frame; the status, the view, then each form come
                // one frame after another (see `Later`).
                <aside class="sidebar">
                    <Later frame=3><SubscriptionList/></Later>
                    <Later frame=4><PublishForm/></Later>
                    <Later frame=5>
                        <details class="panel connection">
                            <summary><h2>"Connection"</h2></summary>
                            <ConnectionForm/>
                        </details>
                    </Later>
                </aside>
                <main class="main">
                    <div class="tabs" role="tablist" aria-label="views" on:keydown=on_key>
                        {TABS.iter().enumerate().map(|(i, (id, label))| view! {
                            <button role="tab" id=format!("tab-{id}") data-testid=format!("tab-{id}")
                                aria-selected=move || (tab.get() == i).to_string()
                                tabindex=move || if tab.get() == i { "0" } else { "-1" }
                                class:active=move || tab.get() == i
                                on:click=move |_| select(i)>{*label}</button>
                        }).collect_view()}
                    </div>
                    <div class="tabpanel" role="tabpanel" aria-labelledby=move || format!("tab-{}", TABS[tab.get()].0)>
                        <Later frame=2>
                            {move || match tab.get() {
                                // The distributions a few frames after the board: the first
                                // visit's longest task held both (BENCHMARKS.md, start-up).
                                0 => view! { <Later frame=4><FleetStats/></Later><DeviceGrid/> }.into_any(),
                                1 => view! { <Alerts/><Rollouts/> }.into_any(),
                                2 => view! { <TimeSeries/> }.into_any(),
                                3 => view! { <MessageLog/> }.into_any(),
                                4 => view! { <TopicTree/> }.into_any(),
                                _ => view! { <HealthPanel/> }.into_any(),
                            }}
                        </Later>
                    </div>
                </main>
            </div>
        </div>
    }
}
