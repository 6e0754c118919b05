//! Connection caps: in all, and per client address; idle connections make way.
//!
//! Slowloris holds connections open by sending headers slowly; the header read timeout bounds
//! how long each one lasts, these caps bound how many exist at once. The per-client cap keeps
//! one address from taking the whole budget. When the total is reached, a new connection does
//! not wait for a slot: the oldest idle one (no request in progress: headers still arriving, or
//! a keep-alive between requests) is closed for it, so attackers spread over many addresses
//! cannot lock others out; only when every connection is busy is the newcomer refused.
//! Trusted proxies carry many users' connections and are counted in the total only.

use std::collections::{BTreeMap, HashMap};
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
    by_client: HashMap<IpAddr, usize>,
}

/// What the caps know of one connection.
#[derive(Debug, Default)]
struct Tracked {
    /// Requests between their head and the end of their answer.
    in_flight: AtomicUsize,
    /// Told to close (to make way); once told, it no longer counts.
    evict: Notify,
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
    client: Option<IpAddr>,
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

    /// A slot for a new connection from `client` (closing the oldest idle connection when
    /// the total is reached), or why there is none.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Slot, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let counted = (!self.exempt.contains(&client)).then_some(client);
        if counted.is_some_and(|c| open.by_client.get(&c).copied().unwrap_or(0) >= self.per_client)
        {
            return Err(Refusal::Client);
        }
        if open.connections.len() >= self.total {
            let idle = open
                .connections
                .iter()
                .find(|(_, tracked)| tracked.in_flight.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id)
                .ok_or(Refusal::Total)?;
            if let Some(tracked) = open.connections.remove(&idle) {
                tracked.evict.notify_one();
            }
        }
        if let Some(client) = counted {
            *open.by_client.entry(client).or_default() += 1;
        }
        let id = open.next_id;
        open.next_id += 1;
        let tracked = Arc::new(Tracked::default());
        open.connections.insert(id, tracked.clone());
        Ok(Slot {
            limits: self.clone(),
            id,
            client: counted,
            tracked,
        })
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
        let second = limits.admit(a).unwrap();
        assert_eq!(limits.admit(a).unwrap_err(), Refusal::Client);
        let proxied = limits.admit(proxy).unwrap();
        let _busy = [first.busy(), second.busy(), proxied.busy()];
        assert_eq!(
            limits.admit("10.0.0.2".parse().unwrap()).unwrap_err(),
            Refusal::Total,
            "all busy"
        );
        drop(first);
        assert!(limits.admit(a).is_ok(), "a dropped slot is given back");
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
