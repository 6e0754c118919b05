//! The Call panel of one endpoint: a JSON editor prefilled with the example request (schema
//! field order), a node picker, timeout and metadata rows; Send (or Ctrl+Enter) posts to
//! `POST /api/services/{name}/call` and shows the reply with its status, node and duration,
//! go-micro errors as such. Copy as a link, as curl, or as `micro call`.
//!
//! The draft and the last reply of each endpoint live outside the component ([`Drafts`]):
//! the page re-renders its versions as the registry changes, and the panel must come back
//! with the operator's text, not the example. The draft is also kept in local storage, so the
//! last request per endpoint survives a reload; a link (`?call=ENDPOINT&request=JSON`) opens
//! the panel with that request.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::json_text::{compact, ordered_example, pretty};
use crate::commands::shell_quote;
use crate::rpc::{CallFailure, CallReply, DEFAULT_TIMEOUT_MS};

/// What the operator wrote for one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Draft {
    request: String,
    node: String,
    timeout_ms: String,
    metadata: Vec<(String, String)>,
}

/// What the last Send showed.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Sending,
    Reply(u16, CallReplyText),
    Failure(u16, String, Option<String>),
}

/// The parts of a 200 the panel shows.
#[derive(Debug, Clone, PartialEq)]
struct CallReplyText {
    node: String,
    duration_ms: f64,
    response: String,
}

/// One endpoint's panel state, kept across re-renders.
#[derive(Debug, Clone, Default)]
struct Kept {
    draft: Option<Draft>,
    outcome: Option<Outcome>,
    open: bool,
}

thread_local! {
    /// Every panel's state by `service\nendpoint`, for this page's life. The browser is
    /// single-threaded; on the server nothing is kept (it renders each page once).
    static DRAFTS: RefCell<HashMap<String, Kept>> = RefCell::new(HashMap::new());
}

/// Access to [`DRAFTS`].
struct Drafts;

impl Drafts {
    fn get(key: &str) -> Kept {
        DRAFTS.with(|drafts| drafts.borrow().get(key).cloned().unwrap_or_default())
    }

    fn update(key: &str, change: impl FnOnce(&mut Kept)) {
        DRAFTS.with(|drafts| change(drafts.borrow_mut().entry(key.to_string()).or_default()));
    }
}

fn storage_key(service: &str, endpoint: &str) -> String {
    format!("muster.call:{service}:{endpoint}")
}

fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The Call panel.
#[component]
pub fn CallPanel(
    /// The service name.
    service: String,
    /// `Handler.Method`.
    endpoint: String,
    /// The request schema, for the example.
    request: Option<muster_registry::Value>,
    /// Ids of the live nodes, for the picker (kept current: the panel itself is not re-made
    /// when the service changes, so that what was typed stays).
    #[prop(into)]
    nodes: Signal<Vec<String>>,
) -> impl IntoView {
    let key = format!("{service}\n{endpoint}");
    let example = request
        .as_ref()
        .map_or("{}".to_string(), |value| pretty(&ordered_example(value)));
    let initial = Draft {
        request: example.clone(),
        node: String::new(),
        timeout_ms: DEFAULT_TIMEOUT_MS.to_string(),
        metadata: Vec::new(),
    };
    let draft = RwSignal::new(initial.clone());
    let outcome = RwSignal::new(None::<Outcome>);
    let open = RwSignal::new(false);
    let copied = RwSignal::new(None::<&'static str>);

    // After hydration (the server renders the example): what this page kept, else the link's
    // request, else local storage.
    {
        let (key, service, endpoint) = (key.clone(), service.clone(), endpoint.clone());
        Effect::new(move |_| {
            let kept = Drafts::get(&key);
            let linked = linked_request(&endpoint);
            let stored = || {
                local_storage()
                    .and_then(|storage| {
                        storage
                            .get_item(&storage_key(&service, &endpoint))
                            .ok()
                            .flatten()
                    })
                    .and_then(|text| serde_json::from_str::<Draft>(&text).ok())
            };
            outcome.set(kept.outcome);
            open.set(kept.open);
            if let Some(kept_draft) = kept.draft {
                draft.set(kept_draft);
            } else if let Some(request) = linked {
                draft.update(|draft| draft.request = request);
                open.set(true);
            } else if let Some(stored) = stored() {
                draft.set(stored);
            }
        });
    }
    let remember = {
        let (key, service, endpoint) = (key.clone(), service.clone(), endpoint.clone());
        move || {
            let current = draft.get_untracked();
            Drafts::update(&key, |kept| kept.draft = Some(current.clone()));
            if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(&current)) {
                let _ = storage.set_item(&storage_key(&service, &endpoint), &text);
            }
        }
    };
    let edit = {
        let remember = remember.clone();
        move |change: Box<dyn FnOnce(&mut Draft)>| {
            draft.update(|draft| change(draft));
            remember();
        }
    };
    let set_outcome = {
        let key = key.clone();
        move |value: Option<Outcome>| {
            Drafts::update(&key, |kept| kept.outcome = value.clone());
            outcome.set(value);
        }
    };
    let send = {
        let (service, endpoint) = (service.clone(), endpoint.clone());
        let set_outcome = set_outcome.clone();
        move || {
            if outcome.get_untracked() == Some(Outcome::Sending) {
                return;
            }
            let body = match call_body(&endpoint, &draft.get_untracked()) {
                Ok(body) => body,
                Err(message) => {
                    set_outcome(Some(Outcome::Failure(0, message, None)));
                    return;
                }
            };
            set_outcome(Some(Outcome::Sending));
            let (service, set_outcome) = (service.clone(), set_outcome.clone());
            leptos::task::spawn_local(async move {
                let url = format!("/api/services/{}/call", encode(&service));
                set_outcome(Some(match crate::browser::post_json(&url, &body).await {
                    Ok((status, text)) => read_outcome(status, &text),
                    Err(error) => {
                        Outcome::Failure(0, format!("the console did not answer: {error}"), None)
                    }
                }));
            });
        }
    };
    let copy = {
        let (service, endpoint) = (service.clone(), endpoint.clone());
        move |what: &'static str| {
            let current = draft.get_untracked();
            let origin = window().location().origin().unwrap_or_default();
            let text = match what {
                "link" => format!(
                    "{origin}/services/{}?call={}&request={}",
                    encode(&service),
                    encode(&endpoint),
                    encode(&current.request)
                ),
                "curl" => curl_command(
                    &format!("{origin}/api/services/{}/call", encode(&service)),
                    &endpoint,
                    &current,
                ),
                _ => micro_call_command(&service, &endpoint, &current),
            };
            let _ = window().navigator().clipboard().write_text(&text);
            copied.set(Some(what));
        }
    };
    let toggle_key = key.clone();
    view! {
        <details
            class="call-panel"
            prop:open=move || open.get()
            on:toggle=move |event| {
                let now_open = event_target::<web_sys::HtmlDetailsElement>(&event).open();
                open.set(now_open);
                Drafts::update(&toggle_key, |kept| kept.open = now_open);
            }
        >
            <summary>"Call"</summary>
            <label>
                "Request JSON"
                <textarea
                    class="call-request"
                    rows="8"
                    spellcheck="false"
                    prop:value=move || draft.get().request
                    on:input={
                        let edit = edit.clone();
                        move |event| {
                            let text = event_target_value(&event);
                            edit(Box::new(move |draft| draft.request = text));
                        }
                    }
                    on:keydown={
                        let send = send.clone();
                        move |event: web_sys::KeyboardEvent| {
                            if event.key() == "Enter" && (event.ctrl_key() || event.meta_key()) {
                                event.prevent_default();
                                send();
                            }
                        }
                    }
                ></textarea>
            </label>
            <div class="call-options">
                <label>
                    "Node "
                    <select
                        class="call-node"
                        prop:value=move || draft.get().node
                        on:change={
                            let edit = edit.clone();
                            move |event| {
                                let node = event_target_value(&event);
                                edit(Box::new(move |draft| draft.node = node));
                            }
                        }
                    >
                        <option value="">"any (round robin)"</option>
                        <For
                            each=move || nodes.get()
                            key=Clone::clone
                            children=|id| view! { <option value=id.clone()>{id.clone()}</option> }
                        />
                    </select>
                </label>
                <label>
                    "Timeout (ms) "
                    <input
                        class="call-timeout"
                        type="number"
                        min="1"
                        max="60000"
                        prop:value=move || draft.get().timeout_ms
                        on:input={
                            let edit = edit.clone();
                            move |event| {
                                let text = event_target_value(&event);
                                edit(Box::new(move |draft| draft.timeout_ms = text));
                            }
                        }
                    />
                </label>
            </div>
            <MetadataRows draft edit=edit.clone() />
            <div class="call-actions">
                <button
                    type="button"
                    class="primary call-send"
                    on:click={
                        let send = send.clone();
                        move |_| send()
                    }
                    disabled=move || outcome.get() == Some(Outcome::Sending)
                >
                    "Send"
                </button>
                <span class="muted">" Ctrl+Enter "</span>
                {["link", "curl", "micro call"]
                    .into_iter()
                    .map(|what| {
                        let copy = copy.clone();
                        view! {
                            <button type="button" on:click=move |_| copy(what)>
                                {move || if copied.get() == Some(what) {
                                    "Copied".to_string()
                                } else {
                                    format!("Copy as {what}")
                                }}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            {move || outcome.get().map(|outcome| view! { <OutcomeView outcome /> })}
        </details>
    }
}

/// The metadata rows: key and value inputs, add and remove.
#[component]
fn MetadataRows(
    draft: RwSignal<Draft>,
    edit: impl Fn(Box<dyn FnOnce(&mut Draft)>) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let count = move || draft.with(|draft| draft.metadata.len());
    let add = edit.clone();
    view! {
        <fieldset class="call-metadata">
            <legend>"Metadata (sent as headers)"</legend>
            {move || {
                (0..count())
                    .map(|row| {
                        let (edit_key, edit_value, remove) = (edit.clone(), edit.clone(), edit.clone());
                        view! {
                            <div class="call-metadata-row">
                                <input
                                    placeholder="key"
                                    aria-label="metadata key"
                                    prop:value=move || draft.with(|d| d.metadata.get(row).map(|p| p.0.clone()).unwrap_or_default())
                                    on:input=move |event| {
                                        let text = event_target_value(&event);
                                        edit_key(Box::new(move |d| if let Some(pair) = d.metadata.get_mut(row) { pair.0 = text }));
                                    }
                                />
                                <input
                                    placeholder="value"
                                    aria-label="metadata value"
                                    prop:value=move || draft.with(|d| d.metadata.get(row).map(|p| p.1.clone()).unwrap_or_default())
                                    on:input=move |event| {
                                        let text = event_target_value(&event);
                                        edit_value(Box::new(move |d| if let Some(pair) = d.metadata.get_mut(row) { pair.1 = text }));
                                    }
                                />
                                <button
                                    type="button"
                                    aria-label="remove metadata row"
                                    on:click=move |_| remove(Box::new(move |d| { if row < d.metadata.len() { d.metadata.remove(row); } }))
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
                    .collect_view()
            }}
            <button type="button" on:click=move |_| add(Box::new(|d| d.metadata.push(Default::default())))>
                "Add metadata"
            </button>
        </fieldset>
    }
}

/// The last Send's outcome.
#[component]
fn OutcomeView(outcome: Outcome) -> impl IntoView {
    match outcome {
        Outcome::Sending => {
            view! { <p class="muted call-status" role="status">"Calling…"</p> }.into_any()
        }
        Outcome::Reply(status, reply) => view! {
            <div class="call-reply" role="status">
                <p class="done call-status">
                    {format!("{status} from {} in {:.1} ms", reply.node, reply.duration_ms)}
                </p>
                <pre class="call-response">{reply.response}</pre>
            </div>
        }
        .into_any(),
        Outcome::Failure(status, error, remote) => view! {
            <div class="call-reply call-failed" role="alert">
                <p class="error call-status">
                    {if status == 0 { error.clone() } else { format!("{status}: {error}") }}
                </p>
                {remote.map(|remote| view! {
                    <p class="muted">"go-micro error, as the node sent it:"</p>
                    <pre class="call-remote">{remote}</pre>
                })}
            </div>
        }
        .into_any(),
    }
}

/// The API request for `draft`, or why it cannot be sent. Written as text around the typed
/// request, so its keys keep the order the operator gave them.
fn call_body(endpoint: &str, draft: &Draft) -> Result<String, String> {
    serde_json::from_str::<serde::de::IgnoredAny>(&draft.request)
        .map_err(|error| format!("the request is not JSON: {error}"))?;
    let timeout_ms: u64 = draft
        .timeout_ms
        .trim()
        .parse()
        .map_err(|_| "the timeout must be a whole number of milliseconds".to_string())?;
    let metadata: serde_json::Map<String, serde_json::Value> = metadata_pairs(draft)
        .map(|(key, value)| {
            (
                key.to_string(),
                serde_json::Value::String(value.to_string()),
            )
        })
        .collect();
    let node = if draft.node.is_empty() {
        String::new()
    } else {
        format!(
            ",\"node\":{}",
            serde_json::Value::String(draft.node.clone())
        )
    };
    Ok(format!(
        "{{\"endpoint\":{},\"request\":{},\"timeout_ms\":{timeout_ms},\"metadata\":{}{node}}}",
        serde_json::Value::String(endpoint.to_string()),
        compact(&draft.request),
        serde_json::Value::Object(metadata),
    ))
}

/// The metadata rows that are sent: keys trimmed, rows without a key dropped.
fn metadata_pairs(draft: &Draft) -> impl Iterator<Item = (&str, &str)> {
    draft
        .metadata
        .iter()
        .map(|(key, value)| (key.trim(), value.as_str()))
        .filter(|(key, _)| !key.is_empty())
}

/// `curl` posting the panel's call to the console at `url` (its `/api/…/call`): the API
/// body, metadata included.
fn curl_command(url: &str, endpoint: &str, draft: &Draft) -> String {
    format!(
        "curl -X POST {} -H 'Content-Type: application/json' -d {}",
        shell_quote(url),
        shell_quote(&call_body(endpoint, draft).unwrap_or_default())
    )
}

/// The same call with go-micro's CLI: `micro call [--metadata k=v]… SERVICE ENDPOINT REQUEST`
/// (its flags come before the arguments; it splits each pair at the first `=`).
fn micro_call_command(service: &str, endpoint: &str, draft: &Draft) -> String {
    let mut command = String::from("micro call");
    for (key, value) in metadata_pairs(draft) {
        command.push_str(" --metadata ");
        command.push_str(&shell_quote(&format!("{key}={value}")));
    }
    format!(
        "{command} {} {} {}",
        shell_quote(service),
        shell_quote(endpoint),
        shell_quote(&compact(&draft.request))
    )
}

/// What the API answered, for the panel.
fn read_outcome(status: u16, text: &str) -> Outcome {
    if status == 200 {
        if let Ok(reply) = serde_json::from_str::<CallReply>(text) {
            return Outcome::Reply(
                status,
                CallReplyText {
                    node: reply.node,
                    duration_ms: reply.duration_ms,
                    response: pretty(reply.response.get()),
                },
            );
        }
    }
    if let Ok(failure) = serde_json::from_str::<CallFailure>(text) {
        let remote = failure
            .remote
            .map(|remote| pretty(&serde_json::to_string(&remote).unwrap_or_default()));
        return Outcome::Failure(status, failure.error, remote);
    }
    let error = serde_json::from_str::<crate::wire::ApiError>(text)
        .map(|error| error.error)
        .unwrap_or_else(|_| text.to_string());
    Outcome::Failure(status, error, None)
}

/// The request of a shared link (`?call=ENDPOINT&request=JSON`) for `endpoint`.
fn linked_request(endpoint: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    (params.get("call")? == endpoint)
        .then(|| params.get("request"))
        .flatten()
}

fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_body_keeps_the_typed_request_and_skips_empty_rows() {
        let draft = Draft {
            request: "{\n  \"z\": 1,\n  \"a\": \"x y\"\n}".into(),
            node: "n1".into(),
            timeout_ms: "500".into(),
            metadata: vec![
                ("X-User".into(), "alice".into()),
                (" ".into(), "dropped".into()),
            ],
        };
        let body: serde_json::Value =
            serde_json::from_str(&call_body("G.H", &draft).unwrap()).unwrap();
        assert_eq!(body["endpoint"], "G.H");
        assert_eq!(body["node"], "n1");
        assert_eq!(body["timeout_ms"], 500);
        assert_eq!(body["metadata"], serde_json::json!({"X-User": "alice"}));
        assert!(call_body("G.H", &draft)
            .unwrap()
            .contains(r#""request":{"z":1,"a":"x y"}"#));
        let bad = Draft {
            request: "{".into(),
            ..draft.clone()
        };
        assert!(call_body("G.H", &bad).is_err());
    }

    #[test]
    fn go_micro_errors_are_read_as_such() {
        let outcome = read_outcome(
            502,
            r#"{"error":"boom","remote":{"id":"greeter","code":500,"detail":"boom","status":"Internal Server Error"},"node":"n","address":"a"}"#,
        );
        assert!(
            matches!(outcome, Outcome::Failure(502, _, Some(remote)) if remote.contains("\"detail\": \"boom\""))
        );
        assert!(
            matches!(read_outcome(400, r#"{"error":"bad"}"#), Outcome::Failure(400, error, None) if error == "bad")
        );
    }

    #[test]
    fn both_copied_commands_carry_the_metadata_rows() {
        let draft = Draft {
            request: "{\n  \"name\": \"x\"\n}".into(),
            node: String::new(),
            timeout_ms: "1000".into(),
            metadata: vec![
                (" X-User ".into(), "alice".into()),
                ("Trace".into(), "a=b c".into()),
                ("".into(), "dropped".into()),
            ],
        };
        assert_eq!(
            micro_call_command("go.micro.srv.greeter", "Greeter.Hello", &draft),
            "micro call --metadata 'X-User=alice' --metadata 'Trace=a=b c' \
             'go.micro.srv.greeter' 'Greeter.Hello' '{\"name\":\"x\"}'"
        );
        let curl = curl_command("http://h/api/services/s/call", "Greeter.Hello", &draft);
        assert!(curl.starts_with("curl -X POST 'http://h/api/services/s/call' "));
        let body = curl.split_once(" -d ").unwrap().1;
        let body: serde_json::Value = serde_json::from_str(body.trim_matches('\'')).unwrap();
        assert_eq!(
            body["metadata"],
            serde_json::json!({"X-User": "alice", "Trace": "a=b c"})
        );
        let bare = Draft {
            metadata: Vec::new(),
            ..draft
        };
        assert_eq!(
            micro_call_command("s", "E.m", &bare),
            "micro call 's' 'E.m' '{\"name\":\"x\"}'"
        );
    }

    #[test]
    fn shell_quoting_survives_single_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
