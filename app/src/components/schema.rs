//! Request/response schemas as typed treeviews (ARIA `tree`), and example JSON made from them.

use leptos::prelude::*;
use muster_registry::Value;
use serde_json::{Map, Value as Json};

/// Deepest level the tree renders; deeper schemas end in a note. Children are rendered only
/// when their parent is opened, so even a large schema costs nothing until it is explored.
pub const MAX_TREE_DEPTH: usize = 32;

/// A schema as an ARIA treeview: each field shows its name and type, in the schema's order;
/// the root shows its type once. Up/Down move between visible fields, Right opens (then
/// enters), Left closes (then goes to the parent), Home/End jump, Enter/Space toggle; one
/// field at a time is in the tab order (roving tabindex). "Expand all" and "Collapse all"
/// reach fields not yet rendered: each node follows the tree's last command when it appears.
#[component]
pub fn SchemaTree(value: Value, #[prop(into)] label: String) -> impl IntoView {
    let command = RwSignal::new(TreeCommand::default());
    let tools = (!value.values.is_empty()).then(|| {
        view! {
            <div class="tree-tools">
                <button
                    type="button"
                    class="expand-all"
                    on:click=move |_| command.update(|command| command.set(true))
                >
                    "Expand all"
                </button>
                <button
                    type="button"
                    class="collapse-all"
                    on:click=move |_| command.update(|command| command.set(false))
                >
                    "Collapse all"
                </button>
            </div>
        }
    });
    view! {
        {tools}
        <ul class="schema" role="tree" aria-label=label on:keydown=navigate>
            <SchemaNode value depth=1 command />
        </ul>
    }
}

/// The last "Expand all" / "Collapse all" of a tree: `generation` 0 until the first one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct TreeCommand {
    generation: u32,
    open: bool,
}

impl TreeCommand {
    fn set(&mut self, open: bool) {
        self.generation += 1;
        self.open = open;
    }
}

#[component]
fn SchemaNode(value: Value, depth: usize, command: RwSignal<TreeCommand>) -> AnyView {
    let root = depth == 1;
    let label = if root {
        view! { <span class="field type">{value.r#type.clone()}</span> }.into_any()
    } else {
        view! {
            <span class="field">{value.name.clone()}</span>
            " "
            <span class="type" title=value.r#type.clone()>{shown_type(&value.r#type)}</span>
        }
        .into_any()
    };
    let empty = is_empty_message(&value)
        .then(|| view! { <span class="empty-message">" (empty message)"</span> });
    // One tab stop per tree: the root's, until focus moves (see `rove`).
    let tabindex = if root { "0" } else { "-1" };
    if value.values.is_empty() || depth >= MAX_TREE_DEPTH {
        let deep = (!value.values.is_empty())
            .then(|| view! { <span class="muted">" (nested too deep to show)"</span> });
        return view! {
            <li
                role="treeitem"
                tabindex=tabindex
                on:focus=rove
            >
                <div class="tree-row">{label}{empty}{deep}</div>
            </li>
        }
        .into_any();
    }
    // Children are made when first opened (a large schema costs nothing until explored) and
    // kept, hidden, when closed, so what was opened below stays open.
    let toggle = Toggle {
        open: RwSignal::new(false),
        rendered: RwSignal::new(false),
    };
    let Toggle { open, rendered } = toggle;
    Effect::new(move |_| {
        let command = command.get();
        if command.generation > 0 {
            toggle.set(command.open);
        }
    });
    let children = value.values.clone();
    let count = format!("{{{}}}", children.len());
    view! {
        <li
            role="treeitem"
            aria-expanded=move || open.get().to_string()
            tabindex=tabindex
            on:focus=rove
        >
            <div class="tree-row" on:click=move |_| toggle.set(!open.get_untracked())>
                <span class="twisty" aria-hidden="true"></span>
                {label}
                " "
                <span class="muted">{count}</span>
            </div>
            <Show when=move || rendered.get()>
                <ul role="group" hidden=move || !open.get()>
                    {children
                        .iter()
                        .cloned()
                        .map(|child| view! { <SchemaNode value=child depth=depth + 1 command /> })
                        .collect_view()}
                </ul>
            </Show>
        </li>
    }
    .into_any()
}

/// An item's open state; its children are rendered from the first opening on.
#[derive(Clone, Copy)]
struct Toggle {
    open: RwSignal<bool>,
    rendered: RwSignal<bool>,
}

impl Toggle {
    fn set(self, open: bool) {
        if open {
            self.rendered.set(true);
        }
        self.open.set(open);
    }
}

/// A Go type as the JSON it stands for: `map[K]V` as `{"<K>": V}`, `[]byte` as the base64
/// string encoding/json makes of it; other types as Go writes them.
pub fn shown_type(go_type: &str) -> String {
    let bare = go_type.trim_start_matches('*');
    if let Some((key, element)) = map_types(bare) {
        return format!("{{\"<{key}>\": {}}}", shown_type(element));
    }
    if is_bytes(bare) {
        return "string (base64)".to_string();
    }
    go_type.to_string()
}

/// The key and element type of `map[K]V`.
pub fn map_types(go_type: &str) -> Option<(&str, &str)> {
    let rest = go_type.strip_prefix("map[")?;
    let mut depth = 1;
    for (at, c) in rest.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&rest[..at], &rest[at + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// `[]byte` (or `[]uint8`): JSON carries it as a base64 string.
fn is_bytes(go_type: &str) -> bool {
    matches!(go_type, "[]byte" | "[]uint8")
}

/// Go's scalar types (and the interface types, which hold any JSON).
fn is_scalar(go_type: &str) -> bool {
    matches!(
        go_type,
        "string"
            | "bool"
            | "int"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "uint"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
            | "uintptr"
            | "float32"
            | "float64"
            | "complex64"
            | "complex128"
            | "byte"
            | "rune"
            | "interface {}"
            | "interface{}"
            | "any"
    )
}

/// A message type without fields (`Empty`, `*Empty`, `[]Empty`): go-micro lists no values
/// for it, just as for a scalar, so the type says which it is.
fn is_empty_message(value: &Value) -> bool {
    let bare = value.r#type.trim_start_matches('*');
    let element = bare.trim_start_matches("[]").trim_start_matches('*');
    value.values.is_empty()
        && !bare.is_empty()
        && !is_bytes(bare)
        && map_types(bare).is_none()
        && !is_scalar(element)
}

/// The tree around a tree item.
fn tree_of(item: &web_sys::Element) -> Option<web_sys::Element> {
    item.closest("[role=tree]").ok().flatten()
}

/// The tree's items a reader sees, in order: those not inside a closed group.
fn visible_items(tree: &web_sys::Element) -> Vec<web_sys::Element> {
    let mut items = Vec::new();
    collect_items(tree, &mut items, true);
    items
}

/// Every tree item under `list` (a tree or group) in document order; with `visible_only`, not
/// those of hidden groups.
fn collect_items(list: &web_sys::Element, out: &mut Vec<web_sys::Element>, visible_only: bool) {
    let mut child = list.first_element_child();
    while let Some(item) = child {
        if item.get_attribute("role").as_deref() == Some("treeitem") {
            out.push(item.clone());
            let mut inner = item.first_element_child();
            while let Some(part) = inner {
                if part.get_attribute("role").as_deref() == Some("group")
                    && !(visible_only && part.has_attribute("hidden"))
                {
                    collect_items(&part, out, visible_only);
                }
                inner = part.next_element_sibling();
            }
        }
        child = item.next_element_sibling();
    }
}

/// Roving tabindex: the focused item becomes the tree's one tab stop.
fn rove(event: leptos::ev::FocusEvent) {
    let item = event_target::<web_sys::Element>(&event);
    let Some(tree) = tree_of(&item) else { return };
    let mut items = Vec::new();
    collect_items(&tree, &mut items, false);
    for other in items {
        let _ = other.set_attribute("tabindex", if other == item { "0" } else { "-1" });
    }
}

/// The treeview keys, for the whole tree (Leptos delegates keydown, so one handler reads the
/// focused item from the event's target and its state from `aria-expanded`; opening and
/// closing go through the item's row, as a click would).
fn navigate(event: leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    let Some(item) = event_target::<web_sys::Element>(&event)
        .closest("[role=treeitem]")
        .ok()
        .flatten()
    else {
        return;
    };
    let Some(tree) = tree_of(&item) else { return };
    let open = item
        .get_attribute("aria-expanded")
        .map(|open| open == "true");
    let as_html = |element: web_sys::Element| element.dyn_into::<web_sys::HtmlElement>().ok();
    let focus = |target: Option<web_sys::Element>| {
        if let Some(target) = target.and_then(as_html) {
            let _ = target.focus();
        }
    };
    let toggle = || {
        if let Some(row) = item.first_element_child().and_then(as_html) {
            row.click();
        }
    };
    let visible = visible_items(&tree);
    let at = visible.iter().position(|other| *other == item);
    let next = || at.and_then(|at| visible.get(at + 1).cloned());
    match (event.key().as_str(), open) {
        ("ArrowDown", _) => focus(next()),
        ("ArrowUp", _) => focus(
            at.and_then(|at| at.checked_sub(1))
                .and_then(|at| visible.get(at).cloned()),
        ),
        ("Home", _) => focus(visible.first().cloned()),
        ("End", _) => focus(visible.last().cloned()),
        ("ArrowRight", Some(false)) => toggle(),
        ("ArrowRight", Some(true)) => focus(next()),
        ("ArrowLeft", Some(true)) => toggle(),
        ("ArrowLeft", _) => focus(
            item.parent_element()
                .and_then(|group| group.closest("[role=treeitem]").ok().flatten()),
        ),
        ("Enter" | " ", Some(_)) => toggle(),
        _ => return,
    }
    // Handled: no page scroll.
    event.prevent_default();
}

/// An example JSON document for a schema: struct fields by name, Go scalars as zero values,
/// slices as one-element lists, maps as one `"<key type>"` entry, `[]byte` as a (base64)
/// string. Keys sorted: [`super::json_text::ordered_example`] keeps the schema's order.
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
    if let Some((key, element)) = map_types(go_type) {
        let item = Value {
            r#type: element.to_string(),
            ..value.clone()
        };
        let mut entry = Map::new();
        entry.insert(format!("<{key}>"), example_at(&item, depth));
        return Json::Object(entry);
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
            r#"{"count":0,"inner":{"ok":false},"meta":{"<string>":""},"name":"","tags":[""]}"#
        );
    }

    #[test]
    fn types_are_shown_as_their_json() {
        assert_eq!(shown_type("map[string]string"), r#"{"<string>": string}"#);
        assert_eq!(
            shown_type("map[string]map[int32]*Item"),
            r#"{"<string>": {"<int32>": *Item}}"#
        );
        assert_eq!(shown_type("[]byte"), "string (base64)");
        assert_eq!(shown_type("*Order"), "*Order");
        assert_eq!(map_types("map[[2]int]bool"), Some(("[2]int", "bool")));
    }

    #[test]
    fn empty_messages_are_told_from_scalars() {
        assert!(is_empty_message(&field("req", "*Empty", vec![])));
        assert!(is_empty_message(&field("all", "[]Empty", vec![])));
        for scalar in [
            "string",
            "[]string",
            "int64",
            "[]byte",
            "map[string]string",
            "interface {}",
        ] {
            assert!(!is_empty_message(&field("x", scalar, vec![])), "{scalar}");
        }
        assert!(!is_empty_message(&field(
            "o",
            "Order",
            vec![field("id", "string", vec![])]
        )));
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
