//! `<FleetStats/>`: the fleet's distributions (firmware, model, battery, signal), live; picking
//! a bar filters the device board (through the provider's `pick`), picking it again clears it.

use leptos::prelude::*;

use super::super::model::fleet::{default_facets, distributions, Distribution};
use super::super::provider::use_mqtt;

/// The distributions, as bar lists.
#[component]
pub fn FleetStats() -> impl IntoView {
    let mqtt = use_mqtt();
    let facets = StoredValue::new(default_facets());
    // Once a second (the tick) and when devices appear: counting 10,000 devices per frame would
    // cost more than the figures are worth.
    let known = Memo::new(move |_| {
        mqtt.devices_v.track();
        mqtt.with(|m| m.devices.all().len()).unwrap_or(0)
    });
    let dists = Memo::new(move |_| {
        let _devices = known.get();
        mqtt.health_v.track();
        facets
            .with_value(|f| mqtt.with(|m| distributions(&m.devices, &m.shadows, f)))
            .unwrap_or_default()
    });
    let one = move |d: Distribution| {
        let max = d.bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
        let facet = d.title.clone();
        view! {
            <div class="dist" data-testid="fleet-dist" data-facet=facet>
                <h3>{d.title}{(d.missing > 0).then(|| view! { <span class="muted small">{format!(" · {} without", d.missing)}</span> })}</h3>
                {d.bars.into_iter().map(|b| {
                    let pick = b.pick.clone();
                    let picked = Memo::new({
                        let pick = pick.clone();
                        move |_| mqtt.pick.with(|p| p.as_ref() == Some(&pick))
                    });
                    let pct = b.count as f64 * 100.0 / max as f64;
                    view! {
                        <button class="bar-row" data-testid="fleet-bar" data-label=b.label.clone() data-count=b.count
                            aria-pressed=move || picked.get().to_string() class:picked=move || picked.get()
                            title=format!("{}: {} devices; show only them on the board", b.label, b.count)
                            on:click=move |_| {
                                let p = pick.clone();
                                mqtt.pick.update(|cur| *cur = if cur.as_ref() == Some(&p) { None } else { Some(p) });
                            }>
                            <span class="bar-label">{b.label.clone()}</span>
                            <span class="bar-track"><span class="bar-fill" style:width=format!("{pct:.1}%")></span></span>
                            <span class="bar-count">{b.count}</span>
                        </button>
                    }
                }).collect_view()}
            </div>
        }
    };
    view! {
        <details class="panel fleet-stats" data-testid="fleet-stats" open>
            <summary><h2>"Fleet"</h2></summary>
            <div class="dists">
                {move || dists.get().into_iter().map(one).collect_view()}
            </div>
        </details>
    }
}
