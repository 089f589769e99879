//! Synthetic traffic for benchmarks and checks (`lanterne seed-clicks`):
//! N requests for a link (or shared by several links, interleaved in time as
//! real traffic is) spread evenly over the last D days, in a realistic
//! mix — mostly human clicks across channels, sources, countries and
//! devices, plus bots, prefetches and preview share events — written as
//! batches through [`store::write_batch`], the writer's own storage path
//! (clicks, share events, ledgers and rollups exactly as real traffic).
//! Deterministic for a given seed. Never used by the server.

use std::{sync::Arc, time::Instant};

use rand::{Rng, SeedableRng, rngs::StdRng};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Batch, CapturedHeaders, ClickRecord, StoredAttribution, Text, store, visitor};

/// Events per batch (the writer's default `clicks.batch_size`).
const BATCH: usize = 5_000;

/// (weight, kind, channel, source, referrer host, deciding evidence) of the mix.
type Profile = (
    u32,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

/// The mix, by weight out of 1,000 (dark social and direct as the seeds'
/// articles describe them: most private shares arrive without a Referer).
const PROFILES: [Profile; 18] = [
    (
        140,
        "human",
        Some("dark_social"),
        Some("whatsapp"),
        None,
        "recent_preview:whatsapp",
    ),
    (
        70,
        "human",
        Some("dark_social"),
        Some("instagram"),
        None,
        "inapp_ua:instagram",
    ),
    (
        50,
        "human",
        Some("dark_social"),
        Some("facebook_messenger"),
        None,
        "inapp_ua:facebook_messenger",
    ),
    (
        30,
        "human",
        Some("dark_social"),
        Some("telegram"),
        None,
        "recent_preview:telegram",
    ),
    (
        30,
        "human",
        Some("dark_social"),
        Some("sms"),
        None,
        "declared_channel:sms",
    ),
    (
        30,
        "human",
        Some("dark_social"),
        None,
        None,
        "sec_fetch_site_none+generated_slug",
    ),
    (180, "human", Some("direct"), None, None, "no_referer"),
    (
        60,
        "human",
        Some("social"),
        Some("facebook"),
        Some("l.facebook.com"),
        "referer:social:facebook",
    ),
    (
        40,
        "human",
        Some("social"),
        Some("linkedin"),
        Some("www.linkedin.com"),
        "referer:social:linkedin",
    ),
    (
        30,
        "human",
        Some("social"),
        Some("x"),
        Some("t.co"),
        "referer:social:x",
    ),
    (
        110,
        "human",
        Some("search"),
        Some("google"),
        Some("www.google.com"),
        "referer:search:google",
    ),
    (
        20,
        "human",
        Some("search"),
        Some("bing"),
        Some("www.bing.com"),
        "referer:search:bing",
    ),
    (
        40,
        "human",
        Some("email"),
        Some("gmail"),
        Some("mail.google.com"),
        "referer:email:gmail",
    ),
    (
        50,
        "human",
        Some("referral"),
        None,
        Some("blog.example.net"),
        "referer:referral",
    ),
    (20, "human", Some("qr"), None, None, "declared_channel:qr"),
    (50, "bot", None, Some("googlebot"), None, "bot_ua:googlebot"),
    (20, "prefetch", None, None, None, "purpose:prefetch"),
    (
        30,
        "preview",
        None,
        Some("whatsapp"),
        None,
        "preview_ua:whatsapp",
    ),
];

const COUNTRIES: [(u32, &str); 8] = [
    (45, "FR"),
    (12, "BE"),
    (10, "CH"),
    (10, "CA"),
    (8, "DE"),
    (7, "US"),
    (5, "GB"),
    (3, "ES"),
];
const DEVICES: [(u32, &str, &str, &str); 4] = [
    (45, "mobile", "Mobile Safari", "iOS"),
    (25, "mobile", "Chrome Mobile", "Android"),
    (25, "desktop", "Chrome", "Windows"),
    (5, "tablet", "Mobile Safari", "iPadOS"),
];

/// What a seed run did.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    /// Requests written (all kinds).
    pub requests: u64,
    /// Wall time of the writes, in seconds.
    pub seconds: f64,
}

/// Writes `count` synthetic requests over the `days` before now, shared
/// evenly by `links` (each an id and the UTM fields its clicks carry): the
/// i-th request goes to link i mod n, so several links' clicks are
/// interleaved in time and in each batch, as the writer sees real traffic.
///
/// The work is split into [`LANES`] lanes by UTC day (day number modulo the
/// lanes), each with its own maker thread and its own connection, writing its
/// batches one after the other. Two batches in flight then never share a UTC
/// day, so they touch no common row: no hourly or daily rollup row (per link
/// or workspace), no `visitor_days` key, no daily count. They cannot wait for
/// each other's locks or deadlock, PostgreSQL uses a core per lane, and each
/// visitor's first click of a day is still found in time order (a day's
/// batches are written in order by its lane), as a rebuild counts it.
pub async fn seed(
    pool: &PgPool,
    links: &[(i64, [Option<Text>; 3])],
    (count, days, seed): (u64, u32, u64),
) -> Result<Seeded, sqlx::Error> {
    let end = OffsetDateTime::now_utc();
    let span = Duration::days(i64::from(days.max(1)));
    let plan = Plan {
        count,
        start: end - span,
        step: span / count.max(1) as f64,
        // About three clicks per visitor on each link.
        visitors: (count / links.len().max(1) as u64 / 3).max(1),
        links: Arc::new(
            links
                .iter()
                .map(|(id, utm)| (*id, Texts::new(utm)))
                .collect(),
        ),
    };
    let began = Instant::now();
    let lanes: Vec<_> = (0..LANES)
        .map(|lane| tokio::spawn(write_lane(pool.clone(), plan.clone(), lane, seed)))
        .collect();
    let mut written = 0;
    for lane in lanes {
        written += lane
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??;
    }
    Ok(Seeded {
        requests: written,
        seconds: began.elapsed().as_secs_f64(),
    })
}

/// Batches written at once (see [`seed`]): one per core of a small server.
const LANES: u64 = 2;

/// What every lane needs to make its part of the requests.
#[derive(Clone)]
struct Plan {
    count: u64,
    start: OffsetDateTime,
    step: Duration,
    /// Visitors per link.
    visitors: u64,
    /// Each link and the texts of its clicks.
    links: Arc<Vec<(i64, Texts)>>,
}

/// Makes and writes the requests of the UTC days of `lane`; returns how
/// many it wrote.
async fn write_lane(pool: PgPool, plan: Plan, lane: u64, seed: u64) -> Result<u64, sqlx::Error> {
    // The batches are made on a thread of their own, a couple ahead of the
    // writes (as the writer goes on receiving and enriching while a write
    // is in flight): the write of one batch overlaps the making of the next.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(2);
    let maker = tokio::task::spawn_blocking(move || {
        // A random stream per lane, fixed by the seed.
        let mut rng = StdRng::seed_from_u64(seed ^ lane.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut records = Vec::with_capacity(BATCH);
        for i in 0..plan.count {
            let at = plan.start + plan.step * i as f64;
            if at
                .unix_timestamp()
                .div_euclid(86_400)
                .rem_euclid(LANES as i64)
                != lane as i64
            {
                continue;
            }
            let (link_id, texts) = &plan.links[(i % plan.links.len() as u64) as usize];
            records.push(texts.record(&mut rng, *link_id, at, plan.visitors));
            if records.len() == BATCH || i + 1 == plan.count {
                let full = std::mem::replace(&mut records, Vec::with_capacity(BATCH));
                if tx.blocking_send(Batch::new(full)).is_err() {
                    return;
                }
            }
        }
        if !records.is_empty() {
            let _ = tx.blocking_send(Batch::new(records));
        }
    });
    let mut written = 0;
    while let Some(batch) = rx.recv().await {
        store::write_batch(&pool, &batch, |_| {
            Err(std::io::Error::other(
                "the database refused synthetic clicks",
            ))
        })
        .await?;
        written += batch.records.len() as u64;
    }
    maker
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?;
    Ok(written)
}

/// The shared texts of the mix, made once (clicks share them, as the
/// writer's do).
struct Texts {
    profiles: Vec<(u32, StoredAttribution)>,
    countries: Vec<(u32, Text)>,
    devices: Vec<(u32, [Text; 3])>,
    get: Text,
    user_agent: Text,
}

impl Texts {
    fn new(utm: &[Option<Text>; 3]) -> Texts {
        let t = |s: Option<&str>| s.map(Text::from);
        Texts {
            profiles: PROFILES
                .iter()
                .map(|&(w, kind, channel, source, host, evidence)| {
                    (
                        w,
                        StoredAttribution {
                            kind: kind.into(),
                            channel: t(channel),
                            source: t(source),
                            evidence: Arc::from([Text::from(evidence)]),
                            referrer_host: t(host),
                            utm_source: utm[0].clone(),
                            utm_medium: utm[1].clone(),
                            utm_campaign: utm[2].clone(),
                            ..StoredAttribution::default()
                        },
                    )
                })
                .collect(),
            countries: COUNTRIES.iter().map(|&(w, c)| (w, Text::from(c))).collect(),
            devices: DEVICES
                .iter()
                .map(|&(w, d, b, o)| (w, [d.into(), b.into(), o.into()]))
                .collect(),
            get: "GET".into(),
            user_agent: "Mozilla/5.0 (synthetic; lanterne seed-clicks)".into(),
        }
    }

    fn record(
        &self,
        rng: &mut StdRng,
        link_id: i64,
        at: OffsetDateTime,
        visitors: u64,
    ) -> ClickRecord {
        let mut a = pick(rng, &self.profiles).clone();
        if &*a.kind == "human" {
            let [device, browser, os] = pick(rng, &self.devices).clone();
            a.country = Some(pick(rng, &self.countries).clone());
            (a.device, a.browser, a.os) = (Some(device), Some(browser), Some(os));
            // Like the real hash, it covers the visitor, the link and the
            // day (the salt changes daily).
            let visitor: u64 = rng.random_range(0..visitors);
            let day = at.unix_timestamp().div_euclid(86_400);
            let digest = Sha256::new()
                .chain_update(link_id.to_le_bytes())
                .chain_update(visitor.to_le_bytes())
                .chain_update(day.to_le_bytes())
                .finalize();
            let mut hash = [0u8; visitor::HASH_BYTES];
            hash.copy_from_slice(&digest[..visitor::HASH_BYTES]);
            a.visitor_hash = Some(hash);
        }
        let micros = at
            .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
            .unwrap_or(at);
        ClickRecord {
            id: Uuid::now_v7(),
            occurred_at: micros,
            link_id,
            method: self.get.clone(),
            headers: CapturedHeaders {
                user_agent: Some(self.user_agent.clone()),
                ..CapturedHeaders::default()
            },
            attribution: a,
        }
    }
}

/// A weighted choice.
fn pick<'a, T>(rng: &mut StdRng, choices: &'a [(u32, T)]) -> &'a T {
    let total: u32 = choices.iter().map(|(w, _)| w).sum();
    let mut n = rng.random_range(0..total);
    for (w, v) in choices {
        if n < *w {
            return v;
        }
        n -= w;
    }
    &choices[choices.len() - 1].1
}
