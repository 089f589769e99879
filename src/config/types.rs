//! The settings' types, one struct per section of `config/default.toml`.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use ipnet::IpNet;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

/// Every setting of Lanterne, one struct per concern.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP listener, domains and request limits.
    pub server: ServerSettings,
    /// PostgreSQL connection.
    pub database: DatabaseSettings,
    /// How redirects are answered.
    pub redirect: RedirectSettings,
    /// Slug generation and custom slug bounds.
    pub slugs: SlugSettings,
    /// In-memory link caches.
    pub cache: CacheSettings,
    /// The click pipeline: queue, batches, buffer, spool.
    pub clicks: ClickSettings,
    /// Logging.
    pub log: LogSettings,
    /// First-start admin.
    pub bootstrap: BootstrapSettings,
    /// Classification, geography, privacy.
    pub attribution: AttributionSettings,
    /// Sign-in sessions.
    pub sessions: SessionSettings,
    /// The Prometheus endpoint.
    pub metrics: MetricsSettings,
    /// The dashboard's reads.
    pub stats: StatsSettings,
}

/// `[stats]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsSettings {
    /// How long a count from raw clicks (a filtered view) may run before the
    /// view does without it.
    #[serde(with = "humantime_serde")]
    pub raw_budget: Duration,
}

/// `[metrics]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Address of a separate listener for `/metrics`; empty to serve it on
    /// `server.bind`.
    pub bind: String,
}

impl MetricsSettings {
    /// The separate listener's address, if one is set (validated).
    pub fn address(&self) -> Option<SocketAddr> {
        self.bind.trim().parse().ok()
    }
}

/// `[sessions]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// A session unused for this long ends.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however much it is used.
    #[serde(with = "humantime_serde")]
    pub absolute_timeout: Duration,
}

/// `[attribution]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributionSettings {
    /// Window after a preview in which a referrer-less click counts as shared there.
    #[serde(with = "humantime_serde")]
    pub preview_window: Duration,
    /// `.mmdb` path; empty for none.
    pub geo_database: PathBuf,
    /// ASN `.mmdb` path (GeoLite2-ASN, DB-IP ASN Lite); empty for none.
    pub asn_database: PathBuf,
    /// How often the `.mmdb` files are checked for changes.
    #[serde(with = "humantime_serde")]
    pub geo_reload_interval: Duration,
    /// Retention of the bot/prefetch ledger.
    #[serde(with = "humantime_serde")]
    pub filtered_retention: Duration,
    /// Store the Referer whole; by default its query and fragment are cut
    /// off before it is stored or spooled (classification sees it whole).
    pub keep_referrer_query: bool,
    /// A visitor (keyed hash of IP and User-Agent) opening `burst_links`
    /// distinct links of one campaign within this window is a scanner.
    #[serde(with = "humantime_serde")]
    pub burst_window: Duration,
    /// Distinct links of one campaign that make a burst (0: no burst rule).
    pub burst_links: usize,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub bind: SocketAddr,
    /// Base URL of the default domain.
    pub public_base_url: Url,
    /// Extra branded domains.
    pub domains: Vec<String>,
    /// Per-request timeout.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Largest API body in bytes.
    pub max_body_bytes: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Graceful shutdown deadline.
    #[serde(with = "humantime_serde")]
    pub shutdown_deadline: Duration,
    /// Longest wait for a complete request head, a keep-alive connection's
    /// idle time included.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Connection string (kept secret: it may hold a password).
    pub url: SecretString,
    /// Pool size.
    pub max_connections: u32,
    /// Pool acquire timeout.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
}

/// `[redirect]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectSettings {
    /// 301, 302, 307 or 308.
    pub status: u16,
    /// Cache lifetime sent with a permanent redirect.
    #[serde(with = "humantime_serde")]
    pub permanent_max_age: Duration,
    /// Longest short-URL query string passed through.
    pub max_passthrough_query: usize,
}

/// `[slugs]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlugSettings {
    /// Generated slug length.
    pub length: usize,
    /// Generated slug alphabet.
    pub alphabet: String,
    /// Shortest custom slug.
    pub min_custom_length: usize,
    /// Longest custom slug.
    pub max_custom_length: usize,
}

/// `[cache]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Positive cache capacity.
    pub links_capacity: usize,
    /// Negative cache capacity.
    pub negative_capacity: usize,
    /// Negative cache entry lifetime.
    #[serde(with = "humantime_serde")]
    pub negative_ttl: Duration,
    /// Longest database read on a cache miss (503 beyond).
    #[serde(with = "humantime_serde")]
    pub miss_timeout: Duration,
}

/// `[clicks]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickSettings {
    /// Bounded queue between redirects and the writer.
    pub queue_capacity: usize,
    /// Rows per write.
    pub batch_size: usize,
    /// Longest wait before a batch is written.
    #[serde(with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Events kept in memory during an outage before spooling.
    pub memory_buffer: usize,
    /// A write that has not succeeded for this long (failed, or still
    /// hanging) starts an outage: what is held is spooled, and new clicks
    /// too, until a write succeeds.
    #[serde(with = "humantime_serde")]
    pub spool_after: Duration,
    /// Spool directory.
    pub spool_dir: PathBuf,
    /// When a click reaches the disk (see [`ClickDurability`]).
    pub durability: ClickDurability,
    /// First retry delay.
    #[serde(with = "humantime_serde")]
    pub retry_min: Duration,
    /// Longest retry delay.
    #[serde(with = "humantime_serde")]
    pub retry_max: Duration,
    /// Raw click retention; zero keeps forever.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Monthly partitions created ahead.
    pub partitions_ahead: u32,
    /// How long the ids of written batches are remembered (replay dedupe).
    #[serde(with = "humantime_serde")]
    pub ledger_retention: Duration,
}

/// `clicks.durability`: what a crash (kill -9, power loss) may lose.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClickDurability {
    /// Clicks are held in memory until their batch is committed (spooled
    /// during an outage): a crash loses what was not yet written.
    Batch,
    /// Every drain of events (at most every 10 ms) is also appended to a
    /// journal in the spool directory with one fsync, before its batch is
    /// sent: a crash loses at most the last drain.
    Spool,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// Default tracing filter.
    pub level: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[bootstrap]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSettings {
    /// E-mail of the admin created on first start.
    pub admin_email: String,
}
