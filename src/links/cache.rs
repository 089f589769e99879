//! LinkCache: the in-memory map the redirect serves from. A bounded positive
//! cache of links, a bounded negative cache of unknown slugs (so that slug
//! scans cannot hammer the database), and their invalidation from PostgreSQL
//! `LISTEN/NOTIFY` so that every instance drops a changed link at once.
//! quick_cache is used (S3-FIFO, scan-resistant, ~80 ns reads, no background
//! threads); it has no TTL, so negative entries carry their own deadline.
//! Misses are single-flight: concurrent misses of one key share one database
//! read (a link that goes viral on an instance that has not cached it yet,
//! or a slow database, costs one query per key, not one per request).

use std::{
    cell::RefCell,
    collections::HashMap,
    ops::ControlFlow,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::http::HeaderValue;
use futures_util::{
    FutureExt,
    future::{BoxFuture, Shared},
};
use quick_cache::sync::Cache;
use sqlx::{PgPool, postgres::PgListener};
use time::OffsetDateTime;

use super::{Destination, Link, SlugKind, store};
use crate::{config::CacheSettings, notify};

/// The NOTIFY channel the `links_notify` trigger writes to.
pub const NOTIFY_CHANNEL: &str = "lanterne_links";

/// Links checked per query of a resync.
const RESYNC_CHUNK: usize = 5_000;

/// What the redirect needs of a link, with the target URL built once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedLink {
    /// Link id (clicks refer to it).
    pub id: i64,
    /// Destination with the link's UTM fields merged in.
    pub target: String,
    /// `target` as a ready `Location` header value (cloning it is a
    /// reference-count increment).
    pub location: Option<HeaderValue>,
    /// Enabled flag.
    pub enabled: bool,
    /// Expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// Declared channel (attribution).
    pub channel: Option<String>,
    // The UTM fields are shared text (`Arc<str>`, what a stored click holds
    // as `clicks::Text`): every click of the link clones them, copying nothing.
    // Named here as `Arc<str>` so that links never import the click pipeline.
    /// utm_source (attribution).
    pub utm_source: Option<Arc<str>>,
    /// utm_medium (attribution).
    pub utm_medium: Option<Arc<str>>,
    /// utm_campaign (stored with clicks).
    pub utm_campaign: Option<Arc<str>>,
    /// Generated or custom slug (attribution).
    pub slug_kind: SlugKind,
    /// `updated_at` in microseconds: notifications of this version or older
    /// leave the entry alone.
    pub version: i64,
    /// The preview card answered to preview fetchers; `None` (one word)
    /// for the links without one.
    pub card: Option<Box<Card>>,
}

/// What the answer to a preview fetcher shows (see `http/redirect.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// og:title: the card's, else the link's title, else the destination.
    pub title: String,
    /// og:description.
    pub description: Option<String>,
    /// og:image (https).
    pub image_url: Option<String>,
}

impl Card {
    /// The card of a link, if it has one.
    pub fn of(link: &Link) -> Option<Card> {
        let p = link.preview()?;
        Some(Card {
            title: p
                .title
                .or_else(|| link.title.clone())
                .unwrap_or_else(|| link.destination.clone()),
            description: p.description,
            image_url: p.image_url,
        })
    }
}

impl CachedLink {
    /// Builds the cached form of a stored link.
    pub fn from_link(link: &Link) -> CachedLink {
        let target = Destination::from_stored(&link.destination)
            .map(|d| d.with_utm(&link.utm()))
            .unwrap_or_else(|| link.destination.clone());
        CachedLink {
            id: link.id,
            location: HeaderValue::from_str(&target).ok(),
            target,
            enabled: link.enabled,
            expires_at: link.expires_at,
            channel: link.channel.clone(),
            utm_source: link.utm_source.as_deref().map(Into::into),
            utm_medium: link.utm_medium.as_deref().map(Into::into),
            utm_campaign: link.utm_campaign.as_deref().map(Into::into),
            slug_kind: link.slug_kind(),
            version: micros(link.updated_at),
            card: Card::of(link).map(Box::new),
        }
    }

    /// Whether the link redirects now (enabled and not expired).
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.enabled && self.expires_at.is_none_or(|t| t > now)
    }
}

/// Result of a cache lookup.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The link is in memory.
    Hit(Arc<CachedLink>),
    /// Recently looked up and not found.
    KnownMissing,
    /// Not in memory either way: ask the database.
    Miss,
}

/// Why a link could not be read on a cache miss.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    /// The database failed (shared by every request that waited on the read).
    #[error(transparent)]
    Store(Arc<store::StoreError>),
    /// The database did not answer within `cache.miss_timeout`.
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
    /// The task reading it panicked or was cancelled at shutdown.
    #[error("the link lookup task did not finish: {0}")]
    Task(String),
}

/// What a read of one key gives every request waiting on it.
type Loaded = Result<Option<Arc<CachedLink>>, LoadError>;

/// A database read in progress, with the generation it started in.
struct Flight {
    generation: u64,
    result: Shared<BoxFuture<'static, Loaded>>,
}

/// Forgets a flight when its read ends: requests that come after it find
/// the answer in memory (or, after a failure, start a new read).
struct Landed<'a> {
    cache: &'a LinkCache,
    key: &'a str,
    generation: u64,
}

impl Drop for Landed<'_> {
    fn drop(&mut self) {
        let mut flights = self.cache.flights.lock().unwrap_or_else(|e| e.into_inner());
        // A newer flight for this key (after an invalidation) stays.
        if flights
            .get(self.key)
            .is_some_and(|f| f.generation == self.generation)
        {
            flights.remove(self.key);
        }
    }
}

/// The positive and negative caches.
pub struct LinkCache {
    positive: Cache<String, Arc<CachedLink>>,
    negative: Cache<String, Instant>,
    negative_ttl: Duration,
    miss_timeout: Duration,
    // Bumped by every invalidation: a load that started before one does not
    // insert what it read, since it may predate the change.
    generation: AtomicU64,
    // Reads in progress, by key (single flight); touched on misses only.
    flights: Mutex<HashMap<String, Flight>>,
    // Database reads made on misses.
    loads: AtomicU64,
}

/// Cache key of a slug on a domain (lowercased: slugs match whatever their
/// case); the NOTIFY payload starts with it. One allocation.
pub fn key(domain_id: i32, slug: &str) -> String {
    let mut key = String::with_capacity(12 + slug.len());
    push_key(&mut key, domain_id, slug);
    key
}

/// Calls `f` with the cache key of a slug on a domain, built in a buffer the
/// thread keeps: the redirect looks links up without an allocation.
pub fn with_key<R>(domain_id: i32, slug: &str, f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static KEY: RefCell<String> = RefCell::new(String::with_capacity(64));
    }
    KEY.with_borrow_mut(|key| {
        key.clear();
        push_key(key, domain_id, slug);
        f(key)
    })
}

fn push_key(key: &mut String, domain_id: i32, slug: &str) {
    key.push_str(itoa::Buffer::new().format(domain_id));
    key.push(':');
    let start = key.len();
    key.push_str(slug);
    key[start..].make_ascii_lowercase();
}

/// The slug key part of a cache key.
pub fn slug_key(key: &str) -> &str {
    key.split_once(':').map(|(_, s)| s).unwrap_or(key)
}

fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

impl LinkCache {
    /// Empty caches sized from the settings.
    pub fn new(s: &CacheSettings) -> LinkCache {
        LinkCache {
            positive: Cache::new(s.links_capacity),
            negative: Cache::new(s.negative_capacity),
            negative_ttl: s.negative_ttl,
            miss_timeout: s.miss_timeout,
            generation: AtomicU64::new(0),
            flights: Mutex::default(),
            loads: AtomicU64::new(0),
        }
    }

    /// Looks a key up in memory only.
    pub fn get(&self, key: &str) -> Lookup {
        if let Some(link) = self.positive.get(key) {
            return Lookup::Hit(link);
        }
        match self.negative.get(key) {
            Some(deadline) if deadline > Instant::now() => Lookup::KnownMissing,
            _ => Lookup::Miss,
        }
    }

    /// The link of a cache key that memory does not hold, from the database,
    /// remembered either way. Concurrent calls for one key share one read,
    /// made by a task of its own, so that it ends (and gives its connection
    /// back) even if every request waiting on it is dropped. A read that
    /// started before an invalidation is not joined: the caller would get a
    /// version older than the change it may already have seen.
    pub async fn fetch(self: &Arc<Self>, pool: &PgPool, domain_id: i32, key: &str) -> Loaded {
        let flight = {
            let generation = self.generation.load(Ordering::Acquire);
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            match flights.get(key) {
                Some(f) if f.generation == generation => f.result.clone(),
                _ => {
                    // A read may have ended since the caller looked.
                    match self.get(key) {
                        Lookup::Hit(link) => return Ok(Some(link)),
                        Lookup::KnownMissing => return Ok(None),
                        Lookup::Miss => {}
                    }
                    let result = self.start_load(pool, domain_id, key, generation);
                    flights.insert(
                        key.to_owned(),
                        Flight {
                            generation,
                            result: result.clone(),
                        },
                    );
                    result
                }
            }
        };
        flight.await
    }

    /// Spawns the read of one key; it forgets its flight once the answer is
    /// in memory (a request arriving after that hits the cache).
    fn start_load(
        self: &Arc<Self>,
        pool: &PgPool,
        domain_id: i32,
        key: &str,
        generation: u64,
    ) -> Shared<BoxFuture<'static, Loaded>> {
        let (cache, pool, key) = (self.clone(), pool.clone(), key.to_owned());
        let task = tokio::spawn(async move {
            // Dropped after the read, even if it panics.
            let _landed = Landed {
                cache: &cache,
                key: &key,
                generation,
            };
            cache.load(&pool, domain_id, &key, generation).await
        });
        async move {
            task.await
                .unwrap_or_else(|e| Err(LoadError::Task(e.to_string())))
        }
        .boxed()
        .shared()
    }

    /// Reads a key from the database and remembers the answer either way,
    /// unless an invalidation came after `generation`. The read is bounded:
    /// a stalled database would otherwise hold every request for the key.
    async fn load(&self, pool: &PgPool, domain_id: i32, key: &str, generation: u64) -> Loaded {
        self.loads.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("lanterne_link_cache_loads_total").increment(1);
        let read = store::find_by_slug(pool, domain_id, slug_key(key));
        let found = tokio::time::timeout(self.miss_timeout, read)
            .await
            .map_err(|_| LoadError::TimedOut(self.miss_timeout))?
            .map_err(|e| LoadError::Store(Arc::new(e)))?
            .map(|l| Arc::new(CachedLink::from_link(&l)));
        if self.generation.load(Ordering::Acquire) == generation {
            match &found {
                Some(link) => self.positive.insert(key.to_owned(), link.clone()),
                None => self
                    .negative
                    .insert(key.to_owned(), Instant::now() + self.negative_ttl),
            }
        }
        Ok(found)
    }

    /// Database reads made on cache misses since start.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// Puts a link in memory (start-up warming, or right after a write).
    pub fn put(&self, link: &Link) {
        let k = key(link.domain_id, &link.slug);
        self.negative.remove(&k);
        self.positive
            .insert(k, Arc::new(CachedLink::from_link(link)));
    }

    /// Applies a NOTIFY payload `<key>:<version>`: drops the entry unless it
    /// already is that version (this instance made the change and cached it).
    pub fn notified(&self, payload: &str) {
        let (key, version) = match payload.rsplit_once(':').map(|(k, v)| (k, v.parse::<i64>())) {
            Some((k, Ok(v))) => (k, v),
            _ => (payload, i64::MAX),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.negative.remove(key);
        self.positive
            .remove_if(key, |cached| cached.version < version);
    }

    /// Forgets one key (a local write).
    pub fn invalidate(&self, key: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.positive.remove(key);
        self.negative.remove(key);
    }

    /// Catches up after notifications may have been missed (the listener
    /// lost its connection): slugs known to be missing are forgotten (one may
    /// have been created meanwhile), and every link in memory is checked
    /// against the database; those changed or deleted meanwhile are dropped
    /// (the next redirect reads them again), the others stay. Until it is
    /// done, and if the database cannot answer, the links in memory go on
    /// serving: a possibly stale redirect rather than an error page, and no
    /// stampede of cache misses on a database that just came back. Returns
    /// the links dropped.
    pub async fn resync(&self, pool: &PgPool) -> Result<usize, store::StoreError> {
        // Loads in flight may have read the database before the gap ended.
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.negative.clear();
        let held: Vec<(String, i64, i64)> = self
            .positive
            .iter()
            .map(|(key, link)| (key, link.id, link.version))
            .collect();
        let mut dropped = 0;
        for chunk in held.chunks(RESYNC_CHUNK) {
            let ids: Vec<i64> = chunk.iter().map(|(_, id, _)| *id).collect();
            let live: HashMap<i64, i64> = store::versions(pool, &ids)
                .await?
                .into_iter()
                .map(|(id, updated_at)| (id, micros(updated_at)))
                .collect();
            for (key, id, version) in chunk {
                // A notification or a load since the snapshot may have put a
                // newer version there already: only the one checked goes.
                if live.get(id) != Some(version)
                    && self
                        .positive
                        .remove_if(key.as_str(), |l| l.version == *version)
                        .is_some()
                {
                    dropped += 1;
                }
            }
        }
        Ok(dropped)
    }

    /// Links held in memory.
    pub fn len(&self) -> usize {
        self.positive.len()
    }

    /// Whether no link is held.
    pub fn is_empty(&self) -> bool {
        self.positive.is_empty()
    }
}

/// Loads the most recent links into memory so that redirects are served
/// without the database from the first request (and through an outage).
pub async fn warm(
    cache: &LinkCache,
    pool: &PgPool,
    limit: usize,
) -> Result<usize, store::StoreError> {
    let links = store::recent(pool, limit as i64).await?;
    for link in &links {
        cache.put(link);
    }
    Ok(links.len())
}

/// Subscribes to link changes. Call it before warming the cache, so that no
/// change made between the two is missed.
pub async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    notify::subscribe(pool, NOTIFY_CHANNEL).await
}

/// Applies link changes to the cache until the pool closes. While the
/// listener is disconnected the cache keeps serving (the database may be
/// down, and memory is all the redirect has); once it is back, notifications
/// may have been missed, so the cache is resynced (see [`LinkCache::resync`])
/// before listening on. A resync the database cannot finish is retried after
/// a pause, through a new subscription.
pub async fn listen(cache: Arc<LinkCache>, pool: PgPool, subscribed: PgListener) {
    let (cache, pool) = (&*cache, &pool);
    notify::follow(
        pool,
        "link changes",
        Some(subscribed),
        || reconnect(cache, pool),
        |payload| {
            cache.notified(&payload);
            std::future::ready(ControlFlow::Continue(()))
        },
    )
    .await;
}

/// Subscribes again, then resyncs the cache (subscribing first, so that no
/// change made during the resync is missed).
async fn reconnect(cache: &LinkCache, pool: &PgPool) -> anyhow::Result<PgListener> {
    let listener = subscribe(pool).await?;
    let dropped = cache.resync(pool).await?;
    metrics::counter!("lanterne_link_cache_resyncs_total").increment(1);
    tracing::info!(
        links.dropped = dropped,
        links.kept = cache.len(),
        "link change listener reconnected; cache resynced"
    );
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(updated_at: OffsetDateTime) -> Link {
        Link {
            id: 1,
            domain_id: 1,
            domain: "localhost".into(),
            slug: "Promo".into(),
            slug_kind: "custom".into(),
            destination: "https://shop.example/".into(),
            utm_source: None,
            utm_medium: Some("sms".into()),
            utm_campaign: None,
            utm_term: None,
            utm_content: None,
            tags: vec![],
            title: None,
            channel: None,
            parent_id: None,
            preview_title: None,
            preview_description: None,
            preview_image_url: None,
            expires_at: None,
            enabled: true,
            created_by: None,
            created_at: updated_at,
            updated_at,
        }
    }

    fn cache() -> LinkCache {
        LinkCache::new(&CacheSettings {
            links_capacity: 10,
            negative_capacity: 10,
            negative_ttl: Duration::from_secs(60),
            miss_timeout: Duration::from_secs(1),
        })
    }

    #[tokio::test]
    async fn misses_of_one_key_share_a_read_and_a_failed_read_is_not_kept() {
        let c = Arc::new(cache());
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(300))
            .connect_lazy("postgres://nobody@127.0.0.1:1/nowhere")
            .unwrap();
        let k = key(1, "promo");
        let (a, b) = tokio::join!(c.fetch(&pool, 1, &k), c.fetch(&pool, 1, &k));
        assert!(matches!(a, Err(LoadError::Store(_))), "{a:?}");
        assert!(matches!(b, Err(LoadError::Store(_))), "{b:?}");
        assert_eq!(c.loads(), 1, "the two misses shared one read");
        assert!(c.flights.lock().unwrap().is_empty(), "the flight landed");
        assert!(
            matches!(c.get(&k), Lookup::Miss),
            "a failure is not remembered as a missing slug"
        );
        assert!(c.fetch(&pool, 1, &k).await.is_err());
        assert_eq!(c.loads(), 2, "the next miss reads again");
    }

    #[test]
    fn a_notification_drops_older_versions_only() {
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let c = cache();
        c.put(&link(t));
        let k = key(1, "promo");
        let v = micros(t);
        c.notified(&format!("{k}:{v}"));
        assert!(
            matches!(c.get(&k), Lookup::Hit(_)),
            "our own change is kept"
        );
        c.notified(&format!("{k}:{}", v + 1));
        assert!(matches!(c.get(&k), Lookup::Miss), "a newer change drops it");
        c.put(&link(t));
        c.notified(&k);
        assert!(
            matches!(c.get(&k), Lookup::Miss),
            "a payload without version drops it"
        );
    }

    #[test]
    fn liveness_follows_enabled_and_expiry() {
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let mut l = link(t);
        assert!(CachedLink::from_link(&l).is_live(t));
        l.expires_at = Some(t);
        assert!(
            !CachedLink::from_link(&l).is_live(t),
            "expired at that instant"
        );
        l.expires_at = None;
        l.enabled = false;
        assert!(!CachedLink::from_link(&l).is_live(t));
    }
}
