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
    collections::{HashMap, VecDeque},
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

/// Clicks of one (visitor, campaign) remembered at most for a later
/// correction: a burst is a handful of links, so a key with more clicks in
/// its window than this (one client hammering one link) keeps only the latest,
/// and each click costs the same however many it sends.
const PENDING: usize = 64;

/// The window of one (visitor, campaign): bounded, whatever the traffic.
#[derive(Debug, Default)]
struct Window {
    // Distinct links, with when each was last opened: at most the burst
    // size, the latest opened (those that keep a burst going longest).
    links: Vec<(i64, OffsetDateTime)>,
    // The clicks stored as human so far (at most `PENDING`, the latest).
    pending: VecDeque<(Uuid, OffsetDateTime)>,
}

impl Window {
    fn retain(&mut self, now: OffsetDateTime, window: Duration) {
        self.links.retain(|(_, at)| within(now, *at, window));
        self.pending.retain(|(_, at)| within(now, *at, window));
    }
}

/// The window of recent human clicks per (visitor, campaign).
pub struct Bursts {
    window: Duration,
    links: usize,
    key: RandomState,
    seen: HashMap<(u64, Text), Window, foldhash::fast::RandomState>,
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
        seen.retain(at, window);
        if let Some((_, last)) = seen.links.iter_mut().find(|(link, _)| *link == link_id) {
            *last = (*last).max(at);
        } else if seen.links.len() < self.links {
            seen.links.push((link_id, at));
        } else if let Some(oldest) = seen.links.iter_mut().min_by_key(|(_, at)| *at) {
            // Already a burst: the new link takes the place of the oldest.
            *oldest = (link_id, at);
        }
        if seen.links.len() < self.links {
            if seen.pending.len() >= PENDING {
                seen.pending.pop_front();
            }
            seen.pending.push_back((id, at));
            return None;
        }
        // A burst: this click and every later one within the window is a
        // bot, and the earlier ones are handed back once.
        Some(seen.pending.drain(..).map(|(id, _)| id).collect())
    }

    /// Forgets clicks older than the window (called on the writer's tick).
    pub fn prune(&mut self, now: OffsetDateTime) {
        let window = self.window;
        self.seen.retain(|_, seen| {
            seen.retain(now, window);
            !seen.links.is_empty()
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
    fn one_client_hammering_a_link_keeps_a_bounded_window() {
        let mut t = T::new();
        let mut ids = Vec::new();
        for i in 0..10_000 {
            let (id, r) = t.click("198.51.100.7", 1, i / 10);
            assert_eq!(r, None);
            ids.push(id);
        }
        let w = t.b.seen.values().next().unwrap();
        assert_eq!((w.links.len(), w.pending.len()), (1, PENDING));
        assert_eq!(t.click("198.51.100.7", 2, 1_000).1, None);
        // The burst hands back the latest clicks of the first link it kept,
        // and the second link's.
        let (_, r) = t.click("198.51.100.7", 3, 1_001);
        let r = r.unwrap();
        assert_eq!(r.len(), PENDING);
        assert_eq!(&r[..PENDING - 1], &ids[ids.len() - (PENDING - 1)..]);
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
