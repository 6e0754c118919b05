//! Replies in the style of go-micro v5/v6 (the `mucp` server of the go-micro.dev module),
//! written by this peer rather than captured: success bodies in protojson's camelCase field
//! names, errors as `errors.Error` JSON with empty fields left out (`omitempty`), and no Debug
//! handler (removed in v4.8), so `Debug.Health` is the router's "can't find service".

/// The whole reply (head and body) to `endpoint`, echoing `micro_id`; `close` adds
/// `Connection: close` (v5's server honours it and closes after the reply).
pub fn reply(endpoint: &str, micro_id: &str, close: bool) -> Vec<u8> {
    let connection = if close { "Connection: close\r\n" } else { "" };
    match endpoint {
        "Greeter.Hello" => {
            let body = "{\"msg\":\"Hello x\",\"servedBy\":\"v5\"}\n";
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{connection}Content-Type: application/json\r\nMicro-Id: {micro_id}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        }
        "Greeter.Fail" => error(
            r#"{"id":"greeter","code":500,"detail":"boom"}"#,
            micro_id,
            connection,
        ),
        _ => {
            let service = endpoint.split('.').next().unwrap_or(endpoint);
            error(
                &format!(
                    r#"{{"id":"go.micro.server","code":500,"detail":"rpc: can't find service {service}"}}"#
                ),
                micro_id,
                connection,
            )
        }
    }
}

fn error(json: &str, micro_id: &str, connection: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\n{connection}Micro-Error: {json}\r\nMicro-Id: {micro_id}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}
