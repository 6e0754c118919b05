//! The register form: a service with nodes, metadata, endpoint schemas and a TTL.
//!
//! A form posting to the server function, so it submits before the page is hydrated too (as
//! Leptos's `ActionForm`, without its generic form-data decoder: see [`submit`]); the server
//! validates every field and each message appears next to the field at fault, all at once. After a success the
//! form is emptied and the created nodes are listed with links; submitting the same node again
//! refreshes it (the console keeps one node per service version and address).

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::{FormOutcome, RegisterService};
use crate::components::access::ActionGate;
use crate::components::errors::plain_error;
use crate::pages::url::urlencode;

const ENDPOINTS_PLACEHOLDER: &str = r#"[{"name": "Greeter.Hello",
  "request": {"name": "Request", "type": "Request", "values": [
    {"name": "name", "type": "string", "values": null}]},
  "response": {"name": "Response", "type": "Response", "values": [
    {"name": "msg", "type": "string", "values": null}]}}]"#;

/// Sends the hydrated form through the action instead of the browser, as `ActionForm` does.
/// Its fields are read by name: `ActionForm` decodes a form into the server function's
/// arguments with serde_qs, whose decoder alone is 40 KB of the bundle.
fn submit(
    event: &leptos::ev::SubmitEvent,
    form: NodeRef<leptos::html::Form>,
    register: ServerAction<RegisterService>,
) {
    if event.default_prevented() {
        return;
    }
    #[cfg(feature = "hydrate")]
    {
        use crate::api::RegisterForm;
        let Some(data) = form
            .get_untracked()
            .and_then(|form| web_sys::FormData::new_with_form(&form).ok())
        else {
            // The browser posts it, as before hydration.
            return;
        };
        event.prevent_default();
        let field = |name: &str| {
            data.get(&format!("form[{name}]"))
                .as_string()
                .unwrap_or_default()
        };
        register.dispatch(RegisterService {
            form: RegisterForm {
                name: field("name"),
                version: field("version"),
                metadata: field("metadata"),
                nodes: field("nodes"),
                endpoints: field("endpoints"),
                ttl: field("ttl"),
            },
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (event, form, register);
}

/// The page for `/register`.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let register = ServerAction::<RegisterService>::new();
    let outcome = move || -> FormOutcome {
        match register.value().get() {
            Some(Ok(outcome)) => outcome,
            Some(Err(error)) => FormOutcome {
                errors: vec![(String::new(), plain_error(&error))],
                ..FormOutcome::default()
            },
            None => FormOutcome::default(),
        }
    };
    let error_for = move |field: &'static str| {
        move || {
            outcome().error_for(field).map(|message| {
                view! { <p class="field-error" role="alert" id=format!("{field}-error")>{message}</p> }
            })
        }
    };
    let form = NodeRef::<leptos::html::Form>::new();
    // A success empties the form, so that submitting again is a deliberate act.
    Effect::new(move |_| {
        if register
            .value()
            .with(|value| matches!(value, Some(Ok(outcome)) if outcome.done.is_some()))
        {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    let gate = ActionGate::new();

    view! {
        <Title text="Register · Muster" />
        <section class="register">
            <h1>"Register a service"</h1>
            <p class="muted">
                "Nodes registered here belong to this console: it announces them, answers queries for them and keeps them alive (across its own restarts) until you deregister them."
            </p>
            <form
                action=RegisterService::url()
                method="post"
                node_ref=form
                class="register-form"
                on:submit=move |event| submit(&event, form, register)
            >
                <label for="reg-name">"Service name"</label>
                <input
                    id="reg-name"
                    name="form[name]"
                    required
                    placeholder="go.micro.srv.greeter"
                    autocomplete="off"
                />
                {error_for("name")}

                <label for="reg-version">"Version"</label>
                <input id="reg-version" name="form[version]" placeholder="latest" />
                {error_for("version")}

                <label for="reg-nodes">"Nodes (one per line: address, or id and address)"</label>
                <textarea
                    id="reg-nodes"
                    name="form[nodes]"
                    rows="3"
                    placeholder="10.0.0.5:8080"
                ></textarea>
                <p class="hint">"A node without an id gets name-<uuid>, as go-micro does."</p>
                {error_for("nodes")}

                <label for="reg-metadata">"Metadata (one key=value per line)"</label>
                <textarea
                    id="reg-metadata"
                    name="form[metadata]"
                    rows="3"
                    placeholder="team=payments"
                ></textarea>
                {error_for("metadata")}

                <label for="reg-endpoints">"Endpoints (JSON, go-micro's Endpoint shape)"</label>
                <textarea
                    id="reg-endpoints"
                    name="form[endpoints]"
                    rows="8"
                    class="code"
                    placeholder=ENDPOINTS_PLACEHOLDER
                ></textarea>
                {error_for("endpoints")}

                <label for="reg-ttl">"TTL (seconds)"</label>
                <input
                    id="reg-ttl"
                    name="form[ttl]"
                    type="number"
                    min="1"
                    placeholder="optional: how long it outlives this console; empty: until deregistered"
                />
                {error_for("ttl")}

                <button
                    type="submit"
                    title=move || gate.reason()
                    aria-describedby=move || gate.described_by()
                    disabled=move || gate.reason().is_some()
                >
                    "Register"
                </button>
            </form>
            {error_for("")}
            {move || {
                let FormOutcome { done, service, nodes, .. } = outcome();
                done.map(|message| {
                    let service_href = format!("/services/{}", urlencode(&service));
                    view! {
                        <div class="done" role="status">
                            <p>{message} " " <A href=service_href.clone()>"Open the service"</A></p>
                            <ul class="created">
                                {nodes
                                    .into_iter()
                                    .map(|id| {
                                        let href = format!("{service_href}#node-{}", urlencode(&id));
                                        view! {
                                            <li>
                                                <A href=href attr:class="name">{id}</A>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </div>
                    }
                })
            }}
        </section>
    }
}
