//! `fake-go-micro ADDRESS [v1.18|v1.18-no-debug|v5|mute]`: the tests' fake go-micro peer as a
//! process, for the browser tests (which register it with the console they drive). Prints
//! `listening ADDRESS` once it accepts connections; runs until killed.

use muster_rpc::fake_peer::{Flavour, Peer};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: fake-go-micro ADDRESS [v1.18|v1.18-no-debug|v5|mute]";
    let address = args
        .next()
        .ok_or(usage)?
        .parse()
        .map_err(|error| format!("{usage}: {error}"))?;
    let flavour = match args.next().as_deref() {
        None | Some("v1.18") => Flavour::V1_18,
        Some("v1.18-no-debug") => Flavour::V1_18NoDebug,
        Some("v5") => Flavour::V5,
        Some("mute") => Flavour::Mute,
        Some(other) => return Err(format!("{usage}: unknown flavour {other}")),
    };
    let peer = Peer::start_on(address, flavour).await;
    println!("listening {}", peer.address());
    std::future::pending::<()>().await;
    Ok(())
}
