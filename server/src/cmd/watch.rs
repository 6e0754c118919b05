//! `muster watch [NAME]`: registry changes as they happen, until interrupted.

use muster_registry::{Error, Event, WatchOptions};

use app::escape::escape_controls as shown;

use super::{print_json_line, Result};
use crate::backend::Backend;

/// Prints one line per event: JSON (go-micro's event) or `time action name version id address`.
pub async fn run(backend: &Backend, name: Option<&str>, json: bool) -> Result {
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
            Ok(event) => println!("{}", line(&event)),
            Err(Error::Lagged { missed }) => eprintln!("muster: {missed} events missed"),
            Err(Error::WatcherStopped) => break,
            Err(error) => return Err(error.into()),
        }
    }
    watcher.stop();
    Ok(())
}

/// One event in a line.
fn line(event: &Event) -> String {
    let address = event
        .service
        .nodes
        .first()
        .map_or("", |node| node.address.as_str());
    format!(
        "{} {:6} {} {} {} {}",
        event.timestamp_ms,
        event.action,
        shown(&event.service.name),
        shown(&event.service.version),
        shown(&event.id),
        shown(address)
    )
}
