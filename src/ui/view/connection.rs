//! The connection: a status bar (state, reconnect countdown, last error in words) and the form
//! with saved profiles.

use leptos::prelude::*;

use super::super::model::settings::{profiles_from_json, profiles_to_json};
use super::super::model::{format, ConnState, Settings};
use super::super::provider::use_mqtt;
use crate::web::page;

const PROFILES_KEY: &str = "wasmqtt.profiles";

/// Profiles saved in localStorage.
pub fn load_profiles() -> Vec<Settings> {
    page::stored(PROFILES_KEY)
        .map(|t| profiles_from_json(&t))
        .unwrap_or_default()
}

fn save_profiles(p: &[Settings]) -> Result<(), String> {
    page::store(PROFILES_KEY, &profiles_to_json(p))
        .map_err(|e| format!("cannot save the profile: {e}"))
}

/// The state of the connection, the countdown to the next attempt, the last error, and the
/// buttons to connect, disconnect or retry now.
#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let mqtt = use_mqtt();
    let state = move || {
        mqtt.conn_v.track();
        mqtt.health_v.track();
        mqtt.with(|m| {
            let (class, text) = match &m.conn {
                ConnState::Idle => ("idle", "not connected".to_string()),
                ConnState::Connecting { attempt, .. } if *attempt == 0 => {
                    ("connecting", "connecting…".to_string())
                }
                ConnState::Connecting { attempt, .. } => (
                    "connecting",
                    format!("connecting (attempt {})…", attempt + 1),
                ),
                ConnState::Connected {
                    session_present, ..
                } => (
                    "connected",
                    if *session_present {
                        "connected · session resumed".to_string()
                    } else {
                        "connected".to_string()
                    },
                ),
                ConnState::Waiting {
                    retry_at_ms: Some(at),
                } => (
                    "waiting",
                    format!("reconnecting in {}", format::ago((at - m.now_ms).max(0.0))),
                ),
                ConnState::Waiting { retry_at_ms: None } => {
                    ("waiting", "offline: waiting for the network".to_string())
                }
                ConnState::Stopped => ("stopped", "stopped".to_string()),
                ConnState::Disconnected => ("idle", "disconnected".to_string()),
            };
            (
                class,
                text,
                m.last_error.clone(),
                matches!(m.conn, ConnState::Waiting { .. } | ConnState::Stopped),
            )
        })
        .unwrap_or(("idle", String::new(), None, false))
    };
    // The node in use (or tried) when the settings list several, else the one URL.
    let url = move || {
        let listed = mqtt.settings.get().url;
        mqtt.conn_v.track();
        mqtt.with(|m| m.conn_stats.current_url().map(str::to_string))
            .flatten()
            .unwrap_or(listed)
    };
    let title = move || format!("broker; the failover list: {}", mqtt.settings.get().url);
    view! {
        <div class="conn-status" role="status" aria-live="polite">
            <span class=move || format!("pill {}", state().0) data-testid="conn-state">{move || state().1}</span>
            <span class="conn-url" title=title data-testid="conn-url">{url}</span>
            <Show when=move || state().2.is_some()>
                <span class="conn-error" data-testid="conn-error">{move || state().2.unwrap_or_default()}</span>
            </Show>
            <span class="spacer"></span>
            <Show when=move || state().3>
                <button class="btn" on:click=move |_| mqtt.reconnect_now()>"Retry now"</button>
            </Show>
            <Show
                when=move || { mqtt.conn_v.track(); mqtt.has_client() }
                fallback=move || view! {
                    <button class="btn primary" on:click=move |_| mqtt.connect(mqtt.settings.get_untracked())>"Connect"</button>
                }
            >
                <button class="btn" on:click=move |_| mqtt.disconnect()>"Disconnect"</button>
            </Show>
        </div>
    }
}

/// The connection form and saved profiles.
#[component]
pub fn ConnectionForm() -> impl IntoView {
    let mqtt = use_mqtt();
    let form = RwSignal::new(mqtt.settings.get_untracked());
    // When the settings in use change (a profile connected elsewhere), show them.
    Effect::new(move |_| form.set(mqtt.settings.get()));
    let profiles = RwSignal::new(load_profiles());
    let message = RwSignal::new(String::new());

    let text = move |get: fn(&Settings) -> String, set: fn(&mut Settings, String)| {
        (
            move || get(&form.get()),
            move |ev: leptos::ev::Event| form.update(|f| set(f, event_target_value(&ev))),
        )
    };
    let (url, set_url) = text(|s| s.url.clone(), |s, v| s.url = v);
    let (client_id, set_client_id) = text(|s| s.client_id.clone(), |s, v| s.client_id = v);
    let (username, set_username) = text(|s| s.username.clone(), |s, v| s.username = v);
    let (password, set_password) = text(|s| s.password.clone(), |s, v| s.password = v);
    let (name, set_name) = text(|s| s.name.clone(), |s, v| s.name = v);
    let (will_topic, set_will_topic) = text(|s| s.will_topic.clone(), |s, v| s.will_topic = v);
    let (will_payload, set_will_payload) =
        text(|s| s.will_payload.clone(), |s, v| s.will_payload = v);
    let number = |v: String| v.trim().parse::<u32>().ok();

    let save = move |_| {
        let f = form.get_untracked();
        let mut list = profiles.get_untracked();
        list.retain(|p| p.name != f.name);
        list.push(f.clone());
        list.sort_by(|a, b| a.name.cmp(&b.name));
        match save_profiles(&list) {
            Ok(()) => {
                message.set(format!(
                    "saved {:?}{}",
                    f.name,
                    if f.save_password || f.password.is_empty() {
                        ""
                    } else {
                        " (without the password)"
                    }
                ));
                profiles.set(list);
            }
            Err(e) => message.set(e),
        }
    };
    let delete = move |_| {
        let name = form.get_untracked().name;
        let mut list = profiles.get_untracked();
        list.retain(|p| p.name != name);
        match save_profiles(&list) {
            Ok(()) => {
                message.set(format!("deleted {name:?}"));
                profiles.set(list);
            }
            Err(e) => message.set(e),
        }
    };
    let pick = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if let Some(p) = profiles
            .get_untracked()
            .into_iter()
            .find(|p| p.name == name)
        {
            form.set(p);
            message.set(String::new());
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(String::new());
        mqtt.connect(form.get_untracked());
    };

    view! {
        <form class="conn-form" on:submit=submit aria-label="connection">
            <div class="row">
                <label class="grow">"Profile"
                    <select on:change=pick aria-label="saved profiles">
                        <option value="" selected>"— saved profiles —"</option>
                        <For each=move || profiles.get() key=|p| p.name.clone() let:p>
                            <option value=p.name.clone()>{p.name.clone()}</option>
                        </For>
                    </select>
                </label>
            </div>
            <label title="several URLs, separated by commas, make a failover list: the nodes of a cluster, tried in order">"Broker URL (a list: failover)"
                <input data-testid="broker-url" prop:value=url on:input=set_url placeholder="wss://broker.example/mqtt" required />
            </label>
            <div class="row">
                <label>"Protocol"
                    <select on:change=move |ev| form.update(|f| f.protocol = event_target_value(&ev).parse().unwrap_or(5))
                        prop:value=move || form.get().protocol.to_string()>
                        <option value="5">"MQTT 5.0"</option>
                        <option value="4">"MQTT 3.1.1"</option>
                    </select>
                </label>
                <label>"Keep-alive (s)"
                    <input type="number" min="0" max="65535" prop:value=move || form.get().keep_alive.to_string()
                        on:input=move |ev| form.update(|f| f.keep_alive = number(event_target_value(&ev)).unwrap_or(20).min(65535) as u16) />
                </label>
            </div>
            <label>"Client id" <input prop:value=client_id on:input=set_client_id placeholder="random" /></label>
            <div class="row">
                <label>"User name" <input prop:value=username on:input=set_username autocomplete="username" /></label>
                <label>"Password" <input type="password" prop:value=password on:input=set_password autocomplete="current-password" /></label>
            </div>
            <div class="row">
                <label class="check"><input type="checkbox" prop:checked=move || form.get().clean
                    on:change=move |ev| form.update(|f| f.clean = event_target_checked(&ev)) />" Clean start"</label>
                <label>"Session expiry (s)"
                    <input type="number" min="0" prop:value=move || form.get().session_expiry.to_string()
                        on:input=move |ev| form.update(|f| f.session_expiry = number(event_target_value(&ev)).unwrap_or(0)) />
                </label>
            </div>
            <details>
                <summary>"Will"</summary>
                <label>"Topic" <input prop:value=will_topic on:input=set_will_topic placeholder="none" /></label>
                <label>"Payload" <input prop:value=will_payload on:input=set_will_payload /></label>
                <div class="row">
                    <label>"QoS"
                        <select prop:value=move || form.get().will_qos.to_string()
                            on:change=move |ev| form.update(|f| f.will_qos = event_target_value(&ev).parse().unwrap_or(0))>
                            <option value="0">"0"</option><option value="1">"1"</option><option value="2">"2"</option>
                        </select>
                    </label>
                    <label class="check"><input type="checkbox" prop:checked=move || form.get().will_retain
                        on:change=move |ev| form.update(|f| f.will_retain = event_target_checked(&ev)) />" Retain"</label>
                </div>
            </details>
            <div class="row">
                <label class="grow">"Save as" <input prop:value=name on:input=set_name /></label>
                <label class="check"><input type="checkbox" prop:checked=move || form.get().save_password
                    on:change=move |ev| form.update(|f| f.save_password = event_target_checked(&ev)) />" with password"</label>
            </div>
            <div class="row buttons">
                <button type="submit" class="btn primary" data-testid="connect">"Connect"</button>
                <button type="button" class="btn" on:click=save>"Save profile"</button>
                <button type="button" class="btn subtle" on:click=delete>"Delete"</button>
            </div>
            <p class="form-message" role="status">{move || message.get()}</p>
        </form>
    }
}
