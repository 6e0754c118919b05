//! The admin-token attempt limit, per client and in all.
//!
//! Every request that offers a token (the login form, `Authorization: Bearer`) takes one
//! attempt from its client's bucket and from the global one before the token is compared; a
//! right token gives it back, so scripts with the right token are never slowed. The per-client
//! bucket stops one address; the global one bounds a guesser spread over many addresses.
//! IPv6 clients are counted by /64, the block one host usually holds.
//!
//! Token buckets are a few lines; a rate-limiting crate would still need the take-then-refund
//! that keeps right tokens free, so this is written out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One client: 10 attempts at once, then one every 3 s.
const PER_CLIENT: Rate = Rate {
    burst: 10.0,
    per_second: 1.0 / 3.0,
};

/// Everyone together: 60 attempts at once, then 10 a second.
const GLOBAL: Rate = Rate {
    burst: 60.0,
    per_second: 10.0,
};

/// Client buckets kept before the full ones (clients that have not tried for a while) are
/// dropped; the global rate bounds how fast new ones appear.
const PRUNE_ABOVE: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Rate {
    burst: f64,
    per_second: f64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: Rate, now: Instant) -> Self {
        Bucket {
            tokens: rate.burst,
            at: now,
        }
    }

    /// Whether the bucket has refilled completely by `now` (its client has been quiet).
    fn is_full(&self, rate: Rate, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + elapsed * rate.per_second >= rate.burst
    }

    /// Refills for the time since the last use, then takes one attempt, or says how long
    /// until one is there.
    fn take(&mut self, rate: Rate, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second).min(rate.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / rate.per_second,
            ))
        }
    }

    fn give_back(&mut self, rate: Rate) {
        self.tokens = (self.tokens + 1.0).min(rate.burst);
    }
}

/// The buckets.
#[derive(Debug)]
pub struct Throttle {
    clients: Mutex<HashMap<IpAddr, Bucket>>,
    global: Mutex<Bucket>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            clients: Mutex::new(HashMap::new()),
            global: Mutex::new(Bucket::full(GLOBAL, Instant::now())),
        }
    }
}

impl Throttle {
    /// Takes an attempt for `client`, or says how long to wait (the larger of its own wait and
    /// the global one).
    pub fn take(&self, client: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let key = key(client);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() > PRUNE_ABOVE {
            clients.retain(|_, bucket| !bucket.is_full(PER_CLIENT, now));
        }
        let bucket = clients
            .entry(key)
            .or_insert_with(|| Bucket::full(PER_CLIENT, now));
        bucket.take(PER_CLIENT, now)?;
        let mut global = self.global.lock().unwrap_or_else(|e| e.into_inner());
        global
            .take(GLOBAL, now)
            .inspect_err(|_| bucket.give_back(PER_CLIENT))
    }

    /// Gives back the attempt of a right token.
    pub fn give_back(&self, client: IpAddr) {
        if let Some(bucket) = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&key(client))
        {
            bucket.give_back(PER_CLIENT);
        }
        self.global
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .give_back(GLOBAL);
    }
}

/// IPv4 addresses as they are; IPv6 by their /64.
fn key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_runs_out_and_right_tokens_are_free() {
        let throttle = Throttle::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..100 {
            throttle.take(a).unwrap();
            throttle.give_back(a);
        }
        for _ in 0..10 {
            throttle.take(a).unwrap();
        }
        let wait = throttle.take(a).unwrap_err();
        assert!(
            wait > Duration::from_secs(2) && wait <= Duration::from_secs(3),
            "{wait:?}"
        );
        assert!(
            throttle.take("192.0.2.2".parse().unwrap()).is_ok(),
            "others go on"
        );
    }

    #[test]
    fn ipv6_counts_by_64_and_the_global_bucket_binds() {
        let throttle = Throttle::default();
        for host in 0..10 {
            throttle
                .take(format!("2001:db8::{host:x}").parse().unwrap())
                .unwrap();
        }
        assert!(throttle.take("2001:db8::ff".parse().unwrap()).is_err());
        let mut refused = 0;
        for client in 0..100u8 {
            if throttle.take(IpAddr::from([198, 51, 100, client])).is_err() {
                refused += 1;
            }
        }
        assert!(refused >= 49, "the global burst is 60: {refused} refused");
    }
}
