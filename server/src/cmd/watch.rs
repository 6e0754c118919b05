//! `muster watch [NAME]`: registry changes as they happen, until interrupted.

use muster_registry::{Error, Event, WatchOptions};

use app::escape::escape_controls as shown;

use super::clock::Clock;
use super::{print_json_line, Result};
use crate::backend::Backend;

/// Prints one line per event: JSON (go-micro's event, epoch milliseconds) or `time action name
/// version id address`, the time in RFC 3339 on `clock`.
pub async fn run(backend: &Backend, name: Option<&str>, json: bool, clock: &Clock) -> Result {
    let options = WatchOptions {
        service: name.map(str::to_string),
    };
    let mut watcher = backend.registry().watch(options).await?;
    let signal = crate::shutdown::signal();
    tokio::pin!(signal);
    loop {
        let next = tokio::select! {
            () = &mut signal => break,
            next = watcher.next() => next,
        };
        match next {
            Ok(event) if json => print_json_line(&event)?,
            Ok(event) => println!("{}", line(&event, clock)),
            Err(Error::Lagged { missed }) => eprintln!("muster: {missed} events missed"),
            Err(Error::WatcherStopped) => break,
            Err(error) => return Err(error.into()),
        }
    }
    watcher.stop();
    Ok(())
}

/// One event in a line.
fn line(event: &Event, clock: &Clock) -> String {
    let address = event
        .service
        .nodes
        .first()
        .map_or("", |node| node.address.as_str());
    format!(
        "{} {:6} {} {} {} {}",
        clock.format(event.timestamp_ms),
        event.action,
        shown(&event.service.name),
        shown(&event.service.version),
        shown(&event.id),
        shown(address)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_registry::{Action, Node, Service};

    #[test]
    fn a_line_starts_with_the_time_in_rfc3339() {
        let event = Event {
            id: "greeter-1".into(),
            action: Action::Create,
            timestamp_ms: 1_796_166_806_850,
            service: Service {
                name: "greeter".into(),
                version: "1.0.0".into(),
                nodes: vec![Node {
                    id: "greeter-1".into(),
                    address: "10.0.0.1:9000".into(),
                    ..Node::default()
                }],
                ..Service::default()
            },
            lifetime: Default::default(),
        };
        assert_eq!(
            line(&event, &Clock::Utc),
            "2026-12-01T23:13:26.850Z create greeter 1.0.0 greeter-1 10.0.0.1:9000"
        );
    }
}
