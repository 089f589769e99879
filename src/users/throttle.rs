//! In-memory failure throttles with exponential backoff, per key (a client
//! IP, an account). After `free` failures within `forget` of each other,
//! each further failure locks the key for `base`, then twice as long, up to
//! `max`; a success or `forget` without failure clears it. Checking a locked
//! key costs no database round trip. The state is per instance (several
//! instances each allow their own budget), which bounds guessing well enough
//! and survives no restart; it never stores anything on disk.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How a throttle backs off.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before the first lock.
    pub free: u32,
    /// First lock.
    pub base: Duration,
    /// Longest lock.
    pub max: Duration,
    /// Failures older than this are forgotten.
    pub forget: Duration,
}

/// Most keys remembered; beyond, stale keys are dropped first, and a new
/// key is not tracked while the table is full of live ones.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// A failure throttle keyed by `K`.
#[derive(Debug)]
pub struct Throttle<K> {
    policy: Policy,
    entries: Mutex<HashMap<K, Entry>>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    /// An empty throttle.
    pub fn new(policy: Policy) -> Throttle<K> {
        Throttle {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` while the key is locked.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a failure; returns the lock it starts, if any.
    pub fn fail(&self, key: K, now: Instant) -> Option<Duration> {
        let p = self.policy;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_KEYS && !entries.contains_key(&key) {
            entries.retain(|_, e| now.duration_since(e.last) < p.forget);
            if entries.len() >= MAX_KEYS {
                return None;
            }
        }
        let e = entries.entry(key).or_insert(Entry {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(e.last) >= p.forget {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last = now;
        let over = e.failures.checked_sub(p.free + 1)?;
        let lock = p.base.saturating_mul(1 << over.min(20)).min(p.max);
        e.locked_until = Some(now + lock);
        Some(lock)
    }

    /// Forgets the key's failures (after a success).
    pub fn clear(&self, key: &K) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(key);
    }
}

/// The throttle key of a client: its IPv4 address, or the /64 of an IPv6
/// one (a single host usually holds a whole /64).
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        free: 3,
        base: Duration::from_secs(1),
        max: Duration::from_secs(8),
        forget: Duration::from_secs(60),
    };

    #[test]
    fn locks_after_the_free_failures_and_doubles_up_to_the_maximum() {
        let t = Throttle::new(POLICY);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.fail("ip", now), None, "free failures lock nothing");
        }
        assert!(t.check(&"ip", now).is_ok());
        let locks: Vec<_> = (0..6)
            .map(|_| t.fail("ip", now).unwrap().as_secs())
            .collect();
        assert_eq!(locks, [1, 2, 4, 8, 8, 8], "doubling, capped");
        assert_eq!(t.check(&"ip", now), Err(Duration::from_secs(8)));
        assert!(t.check(&"other", now).is_ok(), "keys are independent");
        assert!(
            t.check(&"ip", now + Duration::from_secs(9)).is_ok(),
            "locks end"
        );
    }

    #[test]
    fn success_and_time_forget_failures() {
        let t = Throttle::new(POLICY);
        let now = Instant::now();
        for _ in 0..4 {
            t.fail("a", now);
        }
        assert!(t.check(&"a", now).is_err());
        t.clear(&"a");
        assert!(t.check(&"a", now).is_ok());
        for _ in 0..3 {
            t.fail("b", now);
        }
        let later = now + Duration::from_secs(61);
        assert_eq!(t.fail("b", later), None, "old failures were forgotten");
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let v4: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(ip_key(v4).to_string(), "203.0.113.7");
    }
}
