//! The burst rule for e-mail security scanners, run by the writer's
//! enrichment (never on the redirect path): a visitor opening
//! `attribution.burst_links` distinct links of one campaign within
//! `attribution.burst_window` is a scanner. Only a short window is kept, in
//! memory: a keyed hash of (IP, User-Agent) under a per-process random key
//! (never stored, so the hash cannot be recomputed elsewhere), the campaign,
//! the link, the click id and its time. The click that completes a burst,
//! and every later one of it, is a bot (`burst:campaign`); the earlier human
//! clicks of the burst are handed back so that the store can move them from
//! the clicks to the bots (see `store/corrections.rs`).

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, Hasher, RandomState},
    net::IpAddr,
    time::Duration,
};

use time::OffsetDateTime;
use uuid::Uuid;

use super::Text;

/// The evidence of a click judged (or corrected) by the burst rule.
pub const EVIDENCE: &str = "burst:campaign";

/// Visitors remembered at most; past that the window starts afresh (a
/// scanner's burst is seconds long, so little is missed).
const VISITORS: usize = 100_000;

/// One click in the window.
#[derive(Debug, Clone)]
struct Seen {
    link_id: i64,
    id: Uuid,
    at: OffsetDateTime,
    // Already judged or corrected as part of a burst.
    burst: bool,
}

/// The window of recent human clicks per (visitor, campaign).
pub struct Bursts {
    window: Duration,
    links: usize,
    key: RandomState,
    seen: HashMap<(u64, Text), Vec<Seen>, foldhash::fast::RandomState>,
}

impl Bursts {
    /// A window of `window`; `links` distinct links make a burst (0: never).
    pub fn new(window: Duration, links: usize) -> Bursts {
        Bursts {
            window,
            links,
            key: RandomState::new(),
            seen: HashMap::default(),
        }
    }

    /// No burst rule.
    pub fn off() -> Bursts {
        Bursts::new(Duration::ZERO, 0)
    }

    /// The keyed hash of a visitor: IP and User-Agent under this process's key.
    fn visitor(&self, ip: IpAddr, user_agent: &str) -> u64 {
        let mut h = self.key.build_hasher();
        ip.hash(&mut h);
        user_agent.hash(&mut h);
        h.finish()
    }

    /// Books a human click of `campaign`. `None`: not (yet) a burst, the click
    /// stays human. `Some(earlier)`: the click is part of a burst, and
    /// `earlier` are the ids of the clicks of the burst stored as human so far
    /// (each handed back once).
    pub fn observe(
        &mut self,
        ip: IpAddr,
        user_agent: &str,
        campaign: &Text,
        link_id: i64,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Option<Vec<Uuid>> {
        if self.links == 0 {
            return None;
        }
        if self.seen.len() >= VISITORS {
            self.seen.clear();
        }
        let visitor = self.visitor(ip, user_agent);
        let window = self.window;
        let seen = self.seen.entry((visitor, campaign.clone())).or_default();
        seen.retain(|s| within(at, s.at, window));
        seen.push(Seen {
            link_id,
            id,
            at,
            burst: false,
        });
        let mut links: Vec<i64> = seen.iter().map(|s| s.link_id).collect();
        links.sort_unstable();
        links.dedup();
        if links.len() < self.links {
            return None;
        }
        let mut earlier = Vec::new();
        for s in seen.iter_mut() {
            if !s.burst && s.id != id {
                earlier.push(s.id);
            }
            s.burst = true;
        }
        Some(earlier)
    }

    /// Forgets clicks older than the window (called on the writer's tick).
    pub fn prune(&mut self, now: OffsetDateTime) {
        let window = self.window;
        self.seen.retain(|_, seen| {
            seen.retain(|s| within(now, s.at, window));
            !seen.is_empty()
        });
    }
}

/// Whether `then` is within `window` before `now` (or after it: events may
/// reach the writer slightly out of order).
fn within(now: OffsetDateTime, then: OffsetDateTime, window: Duration) -> bool {
    (now - then).unsigned_abs() <= window
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

    struct T {
        b: Bursts,
        t0: OffsetDateTime,
        campaign: Text,
    }

    impl T {
        fn new() -> T {
            T {
                b: Bursts::new(Duration::from_secs(10), 3),
                t0: OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
                campaign: Text::from("spring"),
            }
        }
        fn click(&mut self, ip: &str, link: i64, ms: i64) -> (Uuid, Option<Vec<Uuid>>) {
            let id = Uuid::now_v7();
            let at = self.t0 + time::Duration::milliseconds(ms);
            let c = self.campaign.clone();
            (
                id,
                self.b.observe(ip.parse().unwrap(), UA, &c, link, id, at),
            )
        }
    }

    #[test]
    fn the_third_distinct_link_makes_a_burst_and_hands_back_the_first_two_once() {
        let mut t = T::new();
        let (a, ra) = t.click("198.51.100.7", 1, 0);
        let (b, rb) = t.click("198.51.100.7", 2, 300);
        assert_eq!((ra, rb), (None, None));
        let (_, rc) = t.click("198.51.100.7", 3, 600);
        assert_eq!(rc, Some(vec![a, b]));
        // A fourth link, and a link seen again: bots, nothing to correct twice.
        assert_eq!(t.click("198.51.100.7", 4, 900).1, Some(vec![]));
        assert_eq!(t.click("198.51.100.7", 1, 1200).1, Some(vec![]));
    }

    #[test]
    fn the_same_link_again_and_again_is_no_burst() {
        let mut t = T::new();
        for i in 0..10 {
            assert_eq!(t.click("198.51.100.7", 1, i * 100).1, None);
        }
        assert_eq!(t.click("198.51.100.7", 2, 1100).1, None);
    }

    #[test]
    fn clicks_further_apart_than_the_window_are_no_burst() {
        let mut t = T::new();
        assert_eq!(t.click("198.51.100.7", 1, 0).1, None);
        assert_eq!(t.click("198.51.100.7", 2, 60_000).1, None);
        assert_eq!(t.click("198.51.100.7", 3, 120_000).1, None);
        // Pruning forgets what is out of the window.
        t.b.prune(t.t0 + time::Duration::seconds(200));
        assert!(t.b.seen.is_empty());
    }

    #[test]
    fn other_visitors_user_agents_and_campaigns_do_not_add_up() {
        let mut t = T::new();
        assert_eq!(t.click("198.51.100.7", 1, 0).1, None);
        assert_eq!(t.click("198.51.100.8", 2, 100).1, None);
        let id = Uuid::now_v7();
        let other_ua = t.b.observe(
            "198.51.100.7".parse().unwrap(),
            "curl/8.5.0",
            &t.campaign.clone(),
            3,
            id,
            t.t0,
        );
        assert_eq!(other_ua, None);
        t.campaign = Text::from("autumn");
        assert_eq!(t.click("198.51.100.7", 3, 200).1, None);
    }

    #[test]
    fn links_zero_turns_the_rule_off() {
        let mut b = Bursts::off();
        let ip = "198.51.100.7".parse().unwrap();
        let c = Text::from("spring");
        for link in 0..5 {
            let now = OffsetDateTime::UNIX_EPOCH;
            assert_eq!(b.observe(ip, UA, &c, link, Uuid::now_v7(), now), None);
        }
    }

    #[test]
    fn the_visitor_key_is_per_process() {
        let ip = "198.51.100.7".parse().unwrap();
        let (a, b) = (Bursts::off(), Bursts::off());
        assert_eq!(a.visitor(ip, UA), a.visitor(ip, UA));
        assert_ne!(a.visitor(ip, UA), b.visitor(ip, UA), "a fresh random key");
    }
}
