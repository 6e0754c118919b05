//! Errors of server-function calls in words an operator can act on.

use leptos::prelude::ServerFnError;

/// What a failed call means for the person who made it. A network failure (the browser's
/// "TypeError: Failed to fetch") says the console did not answer and nothing changed; the
/// console's own refusals are shown as it wrote them, without the framework's prefix.
pub fn plain_error(error: &ServerFnError) -> String {
    match error {
        ServerFnError::Request(_) => "The console did not answer (it may be down or \
             restarting), so nothing was changed. Try again once the badge says live."
            .to_string(),
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_failures_read_as_the_console_not_answering() {
        let failed = ServerFnError::Request("TypeError: Failed to fetch".into());
        let text = plain_error(&failed);
        assert!(text.contains("did not answer"), "{text}");
        assert!(!text.contains("TypeError"), "{text}");
        let refused = ServerFnError::new("node x is not registered by this console");
        assert_eq!(
            plain_error(&refused),
            "node x is not registered by this console"
        );
    }
}
