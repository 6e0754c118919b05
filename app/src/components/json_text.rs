//! JSON text for people, in the order it was written: an example request in the schema's field
//! order, and replies re-indented as the node sent them (a `serde_json::Value` would sort
//! object keys).

use muster_registry::Value;

use super::schema::{example_json, map_types, MAX_TREE_DEPTH};

/// The example request of `value`, compact, fields in schema order.
pub fn ordered_example(value: &Value) -> String {
    ordered_at(value, 1)
}

fn ordered_at(value: &Value, depth: usize) -> String {
    let go_type = value.r#type.trim_start_matches('*');
    if depth >= MAX_TREE_DEPTH || value.values.is_empty() {
        return example_json(value).to_string();
    }
    if let Some((key, element)) = map_types(go_type) {
        let item = Value {
            r#type: element.to_string(),
            ..value.clone()
        };
        let key = serde_json::Value::String(format!("<{key}>"));
        return format!("{{{key}:{}}}", ordered_at(&item, depth));
    }
    if let Some(element) = go_type.strip_prefix("[]") {
        let item = Value {
            r#type: element.to_string(),
            ..value.clone()
        };
        return format!("[{}]", ordered_at(&item, depth));
    }
    let fields: Vec<String> = value
        .values
        .iter()
        .map(|field| {
            format!(
                "{}:{}",
                serde_json::Value::String(field.name.clone()),
                ordered_at(field, depth + 1)
            )
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// `json` re-indented by two spaces per level, keys in their order; text that is not JSON
/// comes back as it was.
pub fn pretty(json: &str) -> String {
    reformat(json, true)
}

/// `json` without whitespace between tokens, keys in their order; text that is not JSON
/// comes back as it was.
pub fn compact(json: &str) -> String {
    reformat(json, false)
}

/// Re-lays out the tokens of `json` (strings untouched): one per line, indented, or packed.
fn reformat(json: &str, indent: bool) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(json).is_err() {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let newline = |out: &mut String, depth: usize| {
        if indent {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
    };
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let closing = if c == '{' { '}' } else { ']' };
                while chars.peek().is_some_and(|next| next.is_whitespace()) {
                    chars.next();
                }
                if chars.peek() == Some(&closing) {
                    out.push(closing);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(if indent { ": " } else { ":" }),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_keeps_the_schemas_field_order() {
        let schema: Value = serde_json::from_value(serde_json::json!({
            "name": "Request", "type": "Request", "values": [
                {"name": "name", "type": "string"},
                {"name": "count", "type": "int64"},
                {"name": "items", "type": "[]Item", "values": [
                    {"name": "z", "type": "bool"},
                    {"name": "a", "type": "string"},
                ]},
                {"name": "meta", "type": "map[string]string"},
                {"name": "byId", "type": "map[int64]*Item", "values": [
                    {"name": "z", "type": "bool"},
                    {"name": "a", "type": "[]byte"},
                ]},
            ],
        }))
        .unwrap();
        assert_eq!(
            ordered_example(&schema),
            r#"{"name":"","count":0,"items":[{"z":false,"a":""}],"meta":{"<string>":""},"byId":{"<int64>":{"z":false,"a":""}}}"#
        );
    }

    #[test]
    fn pretty_keeps_order_and_strings_intact() {
        assert_eq!(
            pretty(r#"{"z":1,"a":[1,{}],"s":"x, {y}: \"q\"","e":[]}"#),
            "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    {}\n  ],\n  \"s\": \"x, {y}: \\\"q\\\"\",\n  \"e\": []\n}"
        );
        assert_eq!(pretty("not json {"), "not json {");
        assert_eq!(
            compact("{\n  \"z\": [1, 2],\n  \"a\": \"x\\\": y\"\n}"),
            r#"{"z":[1,2],"a":"x\": y"}"#
        );
    }
}
