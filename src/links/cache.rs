//! LinkCache: the in-memory map the redirect serves from. A bounded positive
//! cache of links, a bounded negative cache of unknown slugs (so that slug
//! scans cannot hammer the database), and their invalidation from PostgreSQL
//! `LISTEN/NOTIFY` so that every instance drops a changed link at once.
//! quick_cache is used (S3-FIFO, scan-resistant, ~80 ns reads, no background
//! threads); it has no TTL, so negative entries carry their own deadline.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use quick_cache::sync::Cache;
use sqlx::{PgPool, postgres::PgListener};
use time::OffsetDateTime;

use super::{Destination, Link, SlugKind, store};
use crate::config::CacheSettings;

/// The NOTIFY channel the `links_notify` trigger writes to.
pub const NOTIFY_CHANNEL: &str = "lanterne_links";

/// What the redirect needs of a link, with the target URL built once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedLink {
    /// Link id (clicks refer to it).
    pub id: i64,
    /// Destination with the link's UTM fields merged in.
    pub target: String,
    /// Enabled flag.
    pub enabled: bool,
    /// Expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// Declared channel (attribution).
    pub channel: Option<String>,
    /// utm_source (attribution).
    pub utm_source: Option<String>,
    /// utm_medium (attribution).
    pub utm_medium: Option<String>,
    /// Generated or custom slug (attribution).
    pub slug_kind: SlugKind,
}

impl CachedLink {
    /// Builds the cached form of a stored link.
    pub fn from_link(link: &Link) -> CachedLink {
        let target = Destination::from_stored(&link.destination)
            .map(|d| d.with_utm(&link.utm()))
            .unwrap_or_else(|| link.destination.clone());
        CachedLink {
            id: link.id,
            target,
            enabled: link.enabled,
            expires_at: link.expires_at,
            channel: link.channel.clone(),
            utm_source: link.utm_source.clone(),
            utm_medium: link.utm_medium.clone(),
            slug_kind: link.slug_kind(),
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

/// The positive and negative caches.
pub struct LinkCache {
    positive: Cache<String, Arc<CachedLink>>,
    negative: Cache<String, Instant>,
    negative_ttl: Duration,
    // Bumped by every invalidation: a load that started before one does not
    // insert what it read, since it may predate the change.
    generation: AtomicU64,
}

/// Cache key of a slug on a domain; the same text as the NOTIFY payload.
pub fn key(domain_id: i32, slug_key: &str) -> String {
    format!("{domain_id}:{slug_key}")
}

impl LinkCache {
    /// Empty caches sized from the settings.
    pub fn new(s: &CacheSettings) -> LinkCache {
        LinkCache {
            positive: Cache::new(s.links_capacity),
            negative: Cache::new(s.negative_capacity),
            negative_ttl: s.negative_ttl,
            generation: AtomicU64::new(0),
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

    /// Reads a key from the database and remembers the answer either way.
    pub async fn load(
        &self,
        pool: &PgPool,
        domain_id: i32,
        slug_key: &str,
    ) -> Result<Option<Arc<CachedLink>>, store::StoreError> {
        let generation = self.generation.load(Ordering::Acquire);
        let found = store::find_by_slug(pool, domain_id, slug_key)
            .await?
            .map(|l| Arc::new(CachedLink::from_link(&l)));
        if self.generation.load(Ordering::Acquire) == generation {
            let k = key(domain_id, slug_key);
            match &found {
                Some(link) => self.positive.insert(k, link.clone()),
                None => self.negative.insert(k, Instant::now() + self.negative_ttl),
            }
        }
        Ok(found)
    }

    /// Puts a link in memory (start-up warming, or right after a write).
    pub fn put(&self, link: &Link) {
        let k = key(link.domain_id, &link.slug.to_ascii_lowercase());
        self.negative.remove(&k);
        self.positive
            .insert(k, Arc::new(CachedLink::from_link(link)));
    }

    /// Forgets one key (a NOTIFY payload or a local write).
    pub fn invalidate(&self, key: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.positive.remove(key);
        self.negative.remove(key);
    }

    /// Forgets everything (notifications may have been missed).
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.positive.clear();
        self.negative.clear();
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

/// Listens for link changes until the process ends. When the connection drops,
/// notifications may be lost, so after reconnecting the whole cache is
/// dropped; while disconnected the cache keeps serving (the database may be down).
pub async fn listen(cache: Arc<LinkCache>, pool: PgPool) {
    let mut delay = Duration::from_millis(100);
    while !pool.is_closed() {
        let mut listener = match connect(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "link change listener cannot connect; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        delay = Duration::from_millis(100);
        cache.invalidate_all();
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => cache.invalidate(n.payload()),
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "link change listener lost its connection");
                    break;
                }
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Do not let PgListener reconnect silently: we must know, to clear the cache.
    listener.eager_reconnect(false);
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(listener)
}
