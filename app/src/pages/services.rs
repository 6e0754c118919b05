//! The services page: every service the registry knows, searchable.

use leptos::prelude::*;

use crate::api::{list_services, ServiceSummary};

/// Lists services with their versions and node counts; the search box filters as you type.
#[component]
pub fn ServicesPage() -> impl IntoView {
    let services = Resource::new(|| (), |_| list_services());
    let (query, set_query) = signal(String::new());

    view! {
        <section class="services">
            <div class="toolbar">
                <label for="service-search">"Search"</label>
                <input
                    id="service-search"
                    type="search"
                    placeholder="service name"
                    prop:value=query
                    on:input=move |event| set_query.set(event_target_value(&event))
                />
            </div>
            <Suspense fallback=|| view! { <p class="empty">"Loading services…"</p> }>
                {move || {
                    services
                        .get()
                        .map(|result| match result {
                            Ok(list) => view! { <ServiceTable services=list query /> }.into_any(),
                            Err(error) => {
                                view! { <p class="error">{error.to_string()}</p> }.into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The table of services whose name contains the query.
#[component]
fn ServiceTable(services: Vec<ServiceSummary>, query: ReadSignal<String>) -> impl IntoView {
    let total = services.len();
    let visible = Memo::new(move |_| {
        let needle = query.get().to_lowercase();
        services
            .iter()
            .filter(|service| service.name.to_lowercase().contains(&needle))
            .cloned()
            .collect::<Vec<_>>()
    });
    view! {
        <p class="count" data-testid="service-count">
            {move || {
                let shown = format!("{} of {} services", visible.with(Vec::len), total);
                match query.get().trim() {
                    "" => shown,
                    needle => format!("{shown} matching “{needle}”"),
                }
            }}
        </p>
        <table>
            <thead>
                <tr>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Versions"</th>
                    <th scope="col">"Nodes"</th>
                    <th scope="col">"Endpoints"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || visible.get() key=|service| service.name.clone() let:service>
                    <tr>
                        <td class="name">{service.name}</td>
                        <td>{service.versions.join(", ")}</td>
                        <td>{service.nodes}</td>
                        <td>{service.endpoints}</td>
                    </tr>
                </For>
            </tbody>
        </table>
    }
}
