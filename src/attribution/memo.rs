//! A bounded memo of the classifier: the same inputs give the same
//! classification (it is a pure function), and real traffic repeats them —
//! a campaign's clicks come from a few dozen browser builds — so the writer
//! classifies each distinct request shape once instead of scanning the
//! User-Agent every time (about 1.4 µs saved per repeated request, see
//! `cargo bench --bench classify`). It keeps each answer in the form its
//! user needs: the click writer keeps the stored fields themselves, as
//! shared strings, so a repeated shape costs no allocation at all.
//!
//! Requests with recent previews on their link bypass it (the previews'
//! ages change from one request to the next). When full it is emptied and
//! refilled: a flood of distinct User-Agents costs a classification each,
//! as it would without the memo, and never more memory.

use std::collections::HashMap;

use super::{Attribution, Classifier, LinkFacts, RecentPreview, Signals, SlugKind};

/// Distinct request shapes kept.
const CAPACITY: usize = 4096;

/// Classifications of recently seen inputs, each kept in the form its
/// user needs (`V`, built once per distinct input by `make`).
pub struct Memo<V> {
    seen: HashMap<Vec<u8>, V, foldhash::fast::RandomState>,
    key: Vec<u8>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            seen: HashMap::with_capacity_and_hasher(CAPACITY, Default::default()),
            key: Vec::with_capacity(512),
        }
    }
}

impl<V: Clone> Memo<V> {
    /// `make(classifier.classify(..))`, from memory when these inputs were seen.
    pub fn classify(
        &mut self,
        classifier: &Classifier,
        signals: &Signals<'_>,
        link: &LinkFacts<'_>,
        recent_previews: &[RecentPreview],
        make: impl FnOnce(Attribution) -> V,
    ) -> V {
        if !recent_previews.is_empty() {
            return make(classifier.classify(signals, link, recent_previews));
        }
        self.key.clear();
        write_key(&mut self.key, signals, link);
        if let Some(hit) = self.seen.get(&self.key) {
            return hit.clone();
        }
        let v = make(classifier.classify(signals, link, recent_previews));
        if self.seen.len() >= CAPACITY {
            self.seen.clear();
        }
        self.seen.insert(self.key.clone(), v.clone());
        v
    }
}

/// Every input, each length-prefixed so that no two inputs share a key.
fn write_key(key: &mut Vec<u8>, s: &Signals<'_>, link: &LinkFacts<'_>) {
    let mut field = |v: Option<&str>| match v {
        None => key.push(0),
        Some(v) => {
            key.push(1);
            key.extend_from_slice(&(v.len() as u32).to_le_bytes());
            key.extend_from_slice(v.as_bytes());
        }
    };
    for v in [
        Some(s.method),
        s.user_agent,
        s.referer,
        s.sec_fetch_site,
        s.sec_fetch_mode,
        s.sec_fetch_dest,
        s.sec_fetch_user,
        s.purpose,
        s.sec_ch_ua,
        s.sec_ch_ua_mobile,
        s.sec_ch_ua_platform,
        s.x_requested_with,
        link.declared_channel,
        link.utm_source,
        link.utm_medium,
    ] {
        field(v);
    }
    key.push(match link.slug_kind {
        SlugKind::Generated => 0,
        SlugKind::Custom => 1,
    });
    // Only whether Accept-Language was sent is read; the network by its id.
    key.push(u8::from(s.accept_language.is_some()) | u8::from(s.complete) << 1);
    let network = s.network.map(|n| n.id).unwrap_or_default();
    key.extend_from_slice(&(network.len() as u32).to_le_bytes());
    key.extend_from_slice(network.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const WHATSAPP_IN_APP: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 WhatsApp/2.24.10.85";

    #[test]
    fn remembered_answers_equal_fresh_ones_for_every_input_that_differs() {
        let classifier = Classifier::new(crate::attribution::ClassifierConfig::default());
        let mut memo = Memo::<Attribution>::default();
        let base = Signals {
            method: "GET",
            user_agent: Some(IPHONE),
            ..Signals::default()
        };
        let variants = [
            base,
            Signals {
                user_agent: Some(WHATSAPP_IN_APP),
                ..base
            },
            Signals {
                referer: Some("https://www.google.com/"),
                ..base
            },
            Signals {
                method: "HEAD",
                ..base
            },
            Signals {
                purpose: Some("prefetch"),
                ..base
            },
            Signals {
                user_agent: None,
                ..base
            },
            // Same bytes split differently across fields must not collide.
            Signals {
                user_agent: Some(""),
                referer: Some(IPHONE),
                ..base
            },
            // The network, completeness and Accept-Language's presence count.
            Signals {
                network: classifier.network(16509, None),
                ..base
            },
            Signals {
                network: classifier.network(1, Some("Proofpoint, Inc.")),
                ..base
            },
            Signals {
                user_agent: Some(CHROME),
                complete: true,
                ..base
            },
            Signals {
                user_agent: Some(CHROME),
                complete: true,
                accept_language: Some("fr"),
                ..base
            },
        ];
        let links = [
            LinkFacts::default(),
            LinkFacts {
                declared_channel: Some("whatsapp"),
                ..LinkFacts::default()
            },
            LinkFacts {
                slug_kind: SlugKind::Custom,
                ..LinkFacts::default()
            },
        ];
        for _ in 0..2 {
            for s in &variants {
                for l in &links {
                    assert_eq!(
                        memo.classify(&classifier, s, l, &[], |a| a),
                        classifier.classify(s, l, &[]),
                        "{s:?} {l:?}"
                    );
                }
            }
        }
        assert_eq!(memo.seen.len(), variants.len() * links.len());
        // Only Accept-Language's presence is read: another value is the same shape.
        let french = variants[variants.len() - 1];
        let german = Signals {
            accept_language: Some("de"),
            ..french
        };
        memo.classify(&classifier, &german, &links[0], &[], |a| a);
        assert_eq!(memo.seen.len(), variants.len() * links.len());
    }

    #[test]
    fn recent_previews_bypass_the_memo_and_a_full_memo_starts_over() {
        let classifier = Classifier::new(crate::attribution::ClassifierConfig::default());
        let mut memo = Memo::<Attribution>::default();
        let s = Signals {
            method: "GET",
            user_agent: Some(IPHONE),
            ..Signals::default()
        };
        let recent = [RecentPreview {
            app: "whatsapp".into(),
            age: Duration::from_secs(5),
        }];
        let l = LinkFacts::default();
        assert_eq!(
            memo.classify(&classifier, &s, &l, &recent, |a| a),
            classifier.classify(&s, &l, &recent)
        );
        assert!(memo.seen.is_empty());
        let uas: Vec<String> = (0..=CAPACITY).map(|i| format!("{IPHONE} {i}")).collect();
        for ua in &uas {
            let s = Signals {
                user_agent: Some(ua),
                ..s
            };
            memo.classify(&classifier, &s, &l, &[], |a| a);
        }
        assert_eq!(memo.seen.len(), 1, "emptied when full, then refilled");
    }
}
