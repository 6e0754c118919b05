//! Request/response schemas as collapsible typed trees, and example JSON made from them.

use leptos::prelude::*;
use muster_registry::Value;
use serde_json::{Map, Value as Json};

/// Deepest level the tree renders; deeper schemas end in a note. Children are rendered only
/// when their parent is opened, so even a large schema costs nothing until it is explored.
pub const MAX_TREE_DEPTH: usize = 32;

/// A schema as a tree of `<details>`: each field shows its name and Go type.
#[component]
pub fn SchemaTree(value: Value) -> impl IntoView {
    view! {
        <ul class="schema" role="tree">
            <SchemaNode value depth=1 />
        </ul>
    }
}

#[component]
fn SchemaNode(value: Value, depth: usize) -> AnyView {
    let label = view! {
        <span class="field">{value.name.clone()}</span>
        " "
        <span class="type">{value.r#type.clone()}</span>
    };
    if value.values.is_empty() {
        return view! { <li role="treeitem">{label}</li> }.into_any();
    }
    if depth >= MAX_TREE_DEPTH {
        return view! {
            <li role="treeitem">{label} <span class="muted">" (nested too deep to show)"</span></li>
        }
        .into_any();
    }
    let (open, set_open) = signal(false);
    let children = value.values.clone();
    view! {
        <li role="treeitem">
            <details on:toggle=move |event| {
                set_open.set(event_target::<web_sys::HtmlDetailsElement>(&event).open())
            }>
                <summary>{label}" "<span class="muted">{format!("{{{}}}", children.len())}</span></summary>
                <Show when=move || open.get()>
                    <ul role="group">
                        {children
                            .iter()
                            .cloned()
                            .map(|child| view! { <SchemaNode value=child depth=depth + 1 /> })
                            .collect_view()}
                    </ul>
                </Show>
            </details>
        </li>
    }
    .into_any()
}

/// An example JSON document for a schema: struct fields by name, Go scalars as zero values,
/// slices as one-element lists, maps as empty objects.
pub fn example_json(value: &Value) -> Json {
    example_at(value, 1)
}

fn example_at(value: &Value, depth: usize) -> Json {
    let go_type = value.r#type.trim_start_matches('*');
    if let Some(element) = go_type.strip_prefix("[]") {
        if element == "byte" || element == "uint8" {
            return Json::String(String::new());
        }
        let item = Value {
            r#type: element.to_string(),
            ..value.clone()
        };
        return Json::Array(vec![example_at(&item, depth)]);
    }
    if go_type.starts_with("map[") {
        return Json::Object(Map::new());
    }
    if !value.values.is_empty() {
        if depth >= MAX_TREE_DEPTH {
            return Json::Null;
        }
        let fields = value
            .values
            .iter()
            .map(|field| (field.name.clone(), example_at(field, depth + 1)))
            .collect();
        return Json::Object(fields);
    }
    match go_type {
        "string" => Json::String(String::new()),
        "bool" => Json::Bool(false),
        "int" | "int8" | "int16" | "int32" | "int64" | "uint" | "uint8" | "uint16" | "uint32"
        | "uint64" | "float32" | "float64" | "byte" | "rune" => Json::from(0),
        _ => Json::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, go_type: &str, values: Vec<Value>) -> Value {
        Value {
            name: name.into(),
            r#type: go_type.into(),
            values,
        }
    }

    #[test]
    fn example_follows_the_schema() {
        let schema = field(
            "Request",
            "Request",
            vec![
                field("name", "string", vec![]),
                field("count", "int64", vec![]),
                field("tags", "[]string", vec![]),
                field("meta", "map[string]string", vec![]),
                field("inner", "*Inner", vec![field("ok", "bool", vec![])]),
            ],
        );
        assert_eq!(
            example_json(&schema).to_string(),
            r#"{"count":0,"inner":{"ok":false},"meta":{},"name":"","tags":[""]}"#
        );
    }

    #[test]
    fn deep_schemas_stop_at_the_limit() {
        let mut schema = field("leaf", "string", vec![]);
        for level in 0..100 {
            schema = field(&format!("l{level}"), "T", vec![schema]);
        }
        let json = example_json(&schema).to_string();
        assert!(json.contains("null"));
    }
}
