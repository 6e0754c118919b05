//! Connection caps: in all, and per client address; idle connections make way.
//!
//! Slowloris holds connections open by sending headers slowly; the header read timeout bounds
//! how long each one lasts, these caps bound how many exist at once. The per-client cap keeps
//! one address from taking the whole budget. When a cap is reached, a new connection does not
//! wait for a slot: the oldest idle one (no request in progress: headers still arriving, or a
//! keep-alive between requests) is closed for it — of the same address at the per-client cap,
//! of any at the total — so attackers spread over many addresses cannot lock others out, and
//! one address's idle keep-alives cannot lock out its own next request (on a loopback console
//! the browser and every local script are one address). Only when every connection concerned
//! is busy is the newcomer refused.
//! Trusted proxies carry many users' connections and are counted in the total only.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

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
    /// Every connection, oldest first (ids grow).
    connections: BTreeMap<u64, Arc<Tracked>>,
    next_id: u64,
}

/// What the caps know of one connection.
#[derive(Debug, Default)]
struct Tracked {
    /// Requests between their head and the end of their answer.
    in_flight: AtomicUsize,
    /// Told to close (to make way); once told, it no longer counts.
    evict: Notify,
    /// The address it counts against (`None`: exempt, a trusted proxy).
    client: Option<IpAddr>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The console holds its maximum number of connections, all of them busy.
    Total,
    /// This client address holds its maximum.
    Client,
}

/// One admitted connection; dropping it gives the slot back.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<Limits>,
    id: u64,
    tracked: Arc<Tracked>,
}

/// Marks its connection busy while it lives (a request from its head to its answer's end).
#[derive(Debug)]
pub struct Busy(Arc<Tracked>);

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

    /// A slot for a new connection from `client` (closing the oldest idle connection of that
    /// address at its cap, of any address at the total), or why there is none.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Slot, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let counted = (!self.exempt.contains(&client)).then_some(client);
        // Connections told to make way still count against their address until they are gone,
        // so the address's count is what is open and not yet told.
        if let Some(client) = counted {
            let held = open
                .connections
                .values()
                .filter(|tracked| tracked.client == Some(client))
                .count();
            if held >= self.per_client {
                open.make_way(|tracked| tracked.client == Some(client))
                    .ok_or(Refusal::Client)?;
            }
        }
        if open.connections.len() >= self.total {
            open.make_way(|_| true).ok_or(Refusal::Total)?;
        }
        let id = open.next_id;
        open.next_id += 1;
        let tracked = Arc::new(Tracked {
            client: counted,
            ..Tracked::default()
        });
        open.connections.insert(id, tracked.clone());
        Ok(Slot {
            limits: self.clone(),
            id,
            tracked,
        })
    }
}

impl Open {
    /// Tells the oldest idle connection that `concerned` picks to close, and stops counting it.
    fn make_way(&mut self, concerned: impl Fn(&Tracked) -> bool) -> Option<()> {
        let idle = self
            .connections
            .iter()
            .find(|(_, tracked)| {
                concerned(tracked) && tracked.in_flight.load(Ordering::Acquire) == 0
            })
            .map(|(id, _)| *id)?;
        let tracked = self.connections.remove(&idle)?;
        tracked.evict.notify_one();
        Some(())
    }
}

impl Slot {
    /// Resolves when this connection is closed to make way for a new one.
    pub async fn evicted(&self) {
        self.tracked.evict.notified().await;
    }

    /// A mark that keeps this connection busy (not evictable) while it lives.
    pub fn busy(&self) -> Busy {
        self.tracked.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(self.tracked.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        open.connections.remove(&self.id);
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
        let second = limits.admit(a).unwrap();
        let _busy_a = [first.busy(), second.busy()];
        assert_eq!(
            limits.admit(a).unwrap_err(),
            Refusal::Client,
            "both of a's busy"
        );
        let proxied = limits.admit(proxy).unwrap();
        let _busy = proxied.busy();
        assert_eq!(
            limits.admit("10.0.0.2".parse().unwrap()).unwrap_err(),
            Refusal::Total,
            "all busy"
        );
        drop(_busy_a);
        drop(first);
        assert!(limits.admit(a).is_ok(), "a dropped slot is given back");
    }

    #[tokio::test]
    async fn at_its_cap_a_clients_own_oldest_idle_connection_makes_way() {
        let limits = Limits::new(100, 2, vec![]);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let others = limits.admit(b).unwrap();
        let oldest = limits.admit(a).unwrap();
        let _second = limits.admit(a).unwrap();
        let _third = limits.admit(a).expect("a's idle keep-alive makes way");
        tokio::time::timeout(std::time::Duration::from_secs(1), oldest.evicted())
            .await
            .expect("a's oldest idle connection is told to close");
        let busy = [_second.busy(), _third.busy()];
        assert_eq!(
            limits.admit(a).unwrap_err(),
            Refusal::Client,
            "a's are all busy"
        );
        drop(busy);
        tokio::time::timeout(std::time::Duration::from_millis(50), others.evicted())
            .await
            .expect_err("another address's connection is never taken for a");
    }

    #[tokio::test]
    async fn the_oldest_idle_connection_makes_way() {
        let limits = Limits::new(2, 10, vec![]);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let oldest = limits.admit(a).unwrap();
        let busy_one = limits.admit(a).unwrap();
        let _busy = busy_one.busy();
        let newcomer = limits.admit("10.0.0.2".parse().unwrap()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(1), oldest.evicted())
            .await
            .expect("the idle one is told to close");
        let _newcomer_busy = newcomer.busy();
        drop(oldest);
        assert_eq!(
            limits.admit("10.0.0.3".parse().unwrap()).unwrap_err(),
            Refusal::Total
        );
    }
}
