//! Connection caps: in all, and per client address.
//!
//! Slowloris holds connections open by sending headers slowly; the header read timeout bounds
//! how long each one lasts, these caps bound how many exist at once. The per-client cap keeps
//! one address from taking the whole budget, so others are still served while it attacks.
//! Trusted proxies carry many users' connections and are counted in the total only.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The caps and the connections counted against them.
#[derive(Debug)]
pub struct Limits {
    total: usize,
    per_client: usize,
    exempt: Vec<IpAddr>,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The console holds its maximum number of connections.
    Total,
    /// This client address holds its maximum.
    Client,
}

/// One admitted connection; dropping it gives the slot back.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<Limits>,
    client: Option<IpAddr>,
}

impl Limits {
    /// At most `total` connections, `per_client` from one address (`exempt` addresses: no
    /// per-client cap).
    pub fn new(total: usize, per_client: usize, exempt: Vec<IpAddr>) -> Arc<Self> {
        Arc::new(Limits {
            total,
            per_client,
            exempt,
            open: Mutex::new(Open::default()),
        })
    }

    /// A slot for a new connection from `client`, or why there is none.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Slot, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.total {
            return Err(Refusal::Total);
        }
        let counted = (!self.exempt.contains(&client)).then_some(client);
        if let Some(client) = counted {
            let held = open.by_client.entry(client).or_default();
            if *held >= self.per_client {
                return Err(Refusal::Client);
            }
            *held += 1;
        }
        open.total += 1;
        Ok(Slot {
            limits: self.clone(),
            client: counted,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(client) = self.client {
            if let Some(held) = open.by_client.get_mut(&client) {
                *held -= 1;
                if *held == 0 {
                    open.by_client.remove(&client);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_client_and_in_all() {
        let proxy: IpAddr = "10.0.0.9".parse().unwrap();
        let limits = Limits::new(3, 2, vec![proxy]);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let first = limits.admit(a).unwrap();
        let _second = limits.admit(a).unwrap();
        assert_eq!(limits.admit(a).unwrap_err(), Refusal::Client);
        let _proxied = limits.admit(proxy).unwrap();
        assert_eq!(
            limits.admit("10.0.0.2".parse().unwrap()).unwrap_err(),
            Refusal::Total
        );
        drop(first);
        assert!(limits.admit(a).is_ok(), "a dropped slot is given back");
    }
}
