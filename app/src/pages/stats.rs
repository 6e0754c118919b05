//! The Stats page: what the console holds and what it dropped to stay within its bounds
//! (`GET /api/stats`), refreshed every few seconds. Under a flood from the LAN or too many
//! viewers, an operator sees the numbers rise here instead of a console that quietly forgets.
//!
//! The page shows the endpoint's JSON as it is, flattened into labelled rows per section, so a
//! counter the server adds appears without a change here; sizes are shown in KiB/MiB and a
//! "dropped", "refused" or "evicted" count above zero is marked.

use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::Value;

/// How often the page asks again while it is shown.
#[cfg(feature = "hydrate")]
const REFRESH: std::time::Duration = std::time::Duration::from_secs(3);

/// One row: a dotted name within its section, the value as shown, whether it marks a loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `tombstones_dropped`, `dropped.txt_too_large`.
    pub name: String,
    /// `12`, `3.5 MiB`.
    pub value: String,
    /// Something was dropped, refused or evicted.
    pub loss: bool,
}

/// The sections of a stats answer (`console`, `mdns`, `dnssd`, and `process` for top-level
/// numbers), each with its rows in the server's order.
pub fn sections(stats: &Value) -> Vec<(String, Vec<Row>)> {
    let Some(top) = stats.as_object() else {
        return Vec::new();
    };
    let mut process = Vec::new();
    let mut out = Vec::new();
    for (name, value) in top {
        match value {
            Value::Object(_) => {
                let mut rows = Vec::new();
                flatten("", value, &mut rows);
                out.push((name.clone(), rows));
            }
            Value::Null => {}
            other => flatten(name, other, &mut process),
        }
    }
    if !process.is_empty() {
        out.push(("process".to_string(), process));
    }
    out
}

fn flatten(prefix: &str, value: &Value, rows: &mut Vec<Row>) {
    match value {
        Value::Object(fields) => {
            for (name, value) in fields {
                let name = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                flatten(&name, value, rows);
            }
        }
        Value::Null => {}
        Value::Number(number) => {
            let count = number.as_u64().unwrap_or(0);
            let value = if prefix.ends_with("bytes") {
                size(count)
            } else {
                number.to_string()
            };
            let lossy = ["dropped", "refused", "evicted", "resynced", "restarts"];
            rows.push(Row {
                name: prefix.to_string(),
                value,
                loss: count > 0 && lossy.iter().any(|word| prefix.contains(word)),
            });
        }
        other => rows.push(Row {
            name: prefix.to_string(),
            value: other.to_string(),
            loss: false,
        }),
    }
}

/// `bytes` for a person: `512 B`, `3.5 KiB`, `12.0 MiB`.
fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let value = bytes as f64;
    if value < KIB {
        format!("{bytes} B")
    } else if value < KIB * KIB {
        format!("{:.1} KiB", value / KIB)
    } else {
        format!("{:.1} MiB", value / KIB / KIB)
    }
}

/// The page.
#[component]
pub fn StatsPage() -> impl IntoView {
    let stats: RwSignal<Option<Result<Value, String>>> = RwSignal::new(None);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let alive = std::rc::Rc::new(std::cell::Cell::new(true));
            let running = alive.clone();
            leptos::task::spawn_local(async move {
                while running.get() {
                    let answer = crate::browser::get_json::<Value>("/api/stats").await;
                    if running.get() {
                        stats.set(Some(answer));
                    }
                    crate::browser::sleep(REFRESH).await;
                }
            });
            let alive = send_wrapper::SendWrapper::new(alive);
            on_cleanup(move || alive.set(false));
        }
    });
    view! {
        <Title text="Stats · Muster" />
        <h1>"Stats"</h1>
        <p class="muted">
            "What the console holds now and what it dropped to stay within its bounds \
             (from /api/stats, refreshed every few seconds)."
        </p>
        {move || match stats.get() {
            None => view! { <p class="empty">"Loading…"</p> }.into_any(),
            Some(Err(error)) => {
                view! { <p class="error" role="alert">{format!("Stats unavailable: {error}")}</p> }
                    .into_any()
            }
            Some(Ok(value)) => {
                sections(&value)
                    .into_iter()
                    .map(|(section, rows)| {
                        let testid = format!("stats-{section}");
                        view! {
                            <section class="stats" data-testid=testid>
                                <h2>{section}</h2>
                                <table>
                                    <tbody>
                                        {rows
                                            .into_iter()
                                            .map(|row| {
                                                let stat = row.name.clone();
                                                view! {
                                                    <tr class:loss=row.loss data-stat=stat>
                                                        <th scope="row">{row.name}</th>
                                                        <td>{row.value}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        }
                    })
                    .collect_view()
                    .into_any()
            }
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_flatten_nested_counters_and_mark_losses() {
        let stats = serde_json::json!({
            "console": {"watchers": 2, "watchers_refused": 1, "tombstone_bytes": 3_670_016},
            "mdns": null,
            "dnssd": {"records": 10, "max_records": 20000, "restarts": 0},
            "rss_bytes": 52_428_800u64,
        });
        let sections = sections(&stats);
        let names: Vec<&str> = sections.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["console", "dnssd", "process"]);
        let row = |section: usize, name: &str| {
            sections[section]
                .1
                .iter()
                .find(|row| row.name == name)
                .cloned()
                .unwrap()
        };
        assert!(row(0, "watchers_refused").loss);
        assert!(!row(0, "watchers").loss);
        assert_eq!(row(0, "tombstone_bytes").value, "3.5 MiB");
        assert!(!row(1, "restarts").loss, "no restart is no loss");
        assert_eq!(row(2, "rss_bytes").value, "50.0 MiB");

        let nested = serde_json::json!({"mdns": {"dropped": {"txt_too_large": 4}}});
        let rows = &self::sections(&nested)[0].1;
        assert_eq!(rows[0].name, "dropped.txt_too_large");
        assert!(rows[0].loss);
    }
}
