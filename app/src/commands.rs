//! Shell commands an operator pastes to reach one node without the console: go-micro's own
//! CLI and plain curl. Quoted for a POSIX shell; each names the node by its address, so it
//! asks that node and no other (the registry would pick any node of the service).

/// `text` in single quotes for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// go-micro's CLI asking the node at `address` for its health: `micro call --address`
/// pins the node, and `Debug.Health` is the handler `micro health` asks (go-micro before
/// v4.8 registers it on every rpc server).
pub fn micro_health(service: &str, address: &str) -> String {
    format!(
        "micro call --address {} {} Debug.Health '{{}}'",
        shell_quote(address),
        shell_quote(service)
    )
}

/// The same question as one HTTP request, the way go-micro's rpc client sends it
/// (mucp over HTTP: `POST /` with the service and endpoint in headers, the request as JSON).
pub fn curl_health(service: &str, address: &str) -> String {
    format!(
        "curl -X POST {} -H 'Content-Type: application/json' -H {} \
         -H 'Micro-Endpoint: Debug.Health' -H 'Micro-Method: Debug.Health' -d '{{}}'",
        shell_quote(&format!("http://{address}/")),
        shell_quote(&format!("Micro-Service: {service}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_name_the_node_by_address_and_quote_for_the_shell() {
        assert_eq!(
            micro_health("go.micro.srv.order", "10.0.0.7:8080"),
            "micro call --address '10.0.0.7:8080' 'go.micro.srv.order' Debug.Health '{}'"
        );
        assert_eq!(
            curl_health("go.micro.srv.order", "10.0.0.7:8080"),
            "curl -X POST 'http://10.0.0.7:8080/' -H 'Content-Type: application/json' \
             -H 'Micro-Service: go.micro.srv.order' -H 'Micro-Endpoint: Debug.Health' \
             -H 'Micro-Method: Debug.Health' -d '{}'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
