//! Settings: the built-in `config/default.toml`, then the file named by
//! `LANTERNE_CONFIG`, then `LANTERNE_*` variables, then `DATABASE_URL`.
//! `load()` parses and validates before anything starts; nothing else in the
//! crate reads the environment.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// The built-in defaults, compiled in so that a bare binary starts.
const DEFAULTS: &str = include_str!("../config/default.toml");

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

/// Why the configuration was refused; always names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or parsed (names the key when the parser knows it).
    #[error("configuration: {0}")]
    Parse(#[from] config::ConfigError),
    /// A value parsed but is outside its allowed range.
    #[error("configuration: `{key}` {message}")]
    Invalid {
        /// Dotted key, e.g. `clicks.batch_size`.
        key: &'static str,
        /// What is allowed.
        message: String,
    },
}

/// Environment variables that are not settings, though they carry the prefix.
const NOT_SETTINGS: &[&str] = &["LANTERNE_CONFIG"];

/// Loads settings from the process environment (see the module docs).
pub fn load() -> Result<Settings, ConfigError> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    load_from(&vars)
}

/// Loads settings from the given environment variables (the testable core of `load`).
pub fn load_from(vars: &[(String, String)]) -> Result<Settings, ConfigError> {
    use config::{Config, Environment, File, FileFormat};
    let get = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());

    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
    if let Some(path) = get("LANTERNE_CONFIG") {
        builder = builder.add_source(File::new(&path, FileFormat::Toml).required(true));
    }
    let prefixed = vars
        .iter()
        .filter(|(k, _)| k.starts_with("LANTERNE_") && !NOT_SETTINGS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    builder = builder.add_source(
        Environment::with_prefix("LANTERNE")
            .prefix_separator("_")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("server.domains")
            .with_list_parse_key("server.trusted_proxies")
            .try_parsing(true)
            .source(Some(prefixed)),
    );
    if let Some(url) = get("DATABASE_URL") {
        builder = builder.set_override("database.url", url)?;
    }
    let settings: Settings = builder.build()?.try_deserialize()?;
    settings.validate()?;
    Ok(settings)
}

impl Settings {
    /// Checks ranges and relations that types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.to_owned(),
            })
        };
        let base = &self.server.public_base_url;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return invalid(
                "server.public_base_url",
                "must be an absolute http(s) URL with a host",
            );
        }
        if self.server.domains.iter().any(|d| !is_plain_host(d)) {
            return invalid(
                "server.domains",
                "must list bare host names (no scheme, port or path)",
            );
        }
        if !self.metrics.bind.trim().is_empty() && self.metrics.address().is_none() {
            return invalid(
                "metrics.bind",
                "must be empty or an address like 127.0.0.1:9090",
            );
        }
        if self.server.header_read_timeout < Duration::from_secs(1) {
            return invalid("server.header_read_timeout", "must be at least 1s");
        }
        if self.server.max_connections == 0 {
            return invalid("server.max_connections", "must be positive");
        }
        if self.server.max_body_bytes < 1024 {
            return invalid("server.max_body_bytes", "must be at least 1024");
        }
        if !matches!(self.redirect.status, 301 | 302 | 307 | 308) {
            return invalid("redirect.status", "must be 301, 302, 307 or 308");
        }
        let s = &self.slugs;
        if !(4..=32).contains(&s.length) {
            return invalid("slugs.length", "must be between 4 and 32");
        }
        let alphabet: Vec<char> = s.alphabet.chars().collect();
        if alphabet.len() < 16
            || alphabet
                .iter()
                .any(|c| !(c.is_ascii_digit() || c.is_ascii_lowercase() || *c == '-' || *c == '_'))
        {
            return invalid(
                "slugs.alphabet",
                "must have at least 16 characters among a-z, 0-9, '-' and '_' (slugs match case-insensitively)",
            );
        }
        if s.min_custom_length == 0
            || s.min_custom_length > s.max_custom_length
            || s.max_custom_length > 128
        {
            return invalid(
                "slugs.min_custom_length",
                "must satisfy 1 <= min_custom_length <= max_custom_length <= 128",
            );
        }
        if self.cache.links_capacity == 0 || self.cache.negative_capacity == 0 {
            return invalid(
                "cache.links_capacity",
                "and cache.negative_capacity must be positive",
            );
        }
        if self.cache.miss_timeout.is_zero() {
            return invalid("cache.miss_timeout", "must be positive");
        }
        let c = &self.clicks;
        if c.queue_capacity == 0 {
            return invalid("clicks.queue_capacity", "must be positive");
        }
        if c.batch_size == 0 || c.batch_size > 10_000 {
            return invalid("clicks.batch_size", "must be between 1 and 10000");
        }
        if c.flush_interval.is_zero() {
            return invalid("clicks.flush_interval", "must be positive");
        }
        if c.spool_after.is_zero() {
            return invalid("clicks.spool_after", "must be positive");
        }
        if c.memory_buffer < c.batch_size {
            return invalid("clicks.memory_buffer", "must be at least clicks.batch_size");
        }
        if c.retry_min.is_zero() || c.retry_min > c.retry_max {
            return invalid(
                "clicks.retry_min",
                "must be positive and at most clicks.retry_max",
            );
        }
        if !c.retention.is_zero() && c.retention < Duration::from_secs(31 * 86_400) {
            return invalid("clicks.retention", "must be 0s (keep) or at least 31 days");
        }
        if c.ledger_retention < Duration::from_secs(86_400) {
            return invalid("clicks.ledger_retention", "must be at least 1 day");
        }
        if !(1..=24).contains(&c.partitions_ahead) {
            return invalid("clicks.partitions_ahead", "must be between 1 and 24");
        }
        let a = &self.attribution;
        if a.preview_window.is_zero() || a.preview_window > Duration::from_secs(86_400) {
            return invalid("attribution.preview_window", "must be between 1s and 24h");
        }
        if a.geo_reload_interval < Duration::from_secs(1) {
            return invalid("attribution.geo_reload_interval", "must be at least 1s");
        }
        if a.filtered_retention < Duration::from_secs(86_400) {
            return invalid("attribution.filtered_retention", "must be at least 1 day");
        }
        if a.burst_window.is_zero() || a.burst_window > Duration::from_secs(60) {
            return invalid("attribution.burst_window", "must be between 1s and 60s");
        }
        if a.burst_links == 1 || a.burst_links > 100 {
            return invalid(
                "attribution.burst_links",
                "must be 0 (off) or between 2 and 100",
            );
        }
        let sessions = &self.sessions;
        if sessions.idle_timeout < Duration::from_secs(60) {
            return invalid("sessions.idle_timeout", "must be at least 1m");
        }
        if sessions.absolute_timeout < sessions.idle_timeout
            || sessions.absolute_timeout > Duration::from_secs(366 * 86_400)
        {
            return invalid(
                "sessions.absolute_timeout",
                "must be at least sessions.idle_timeout and at most 366d",
            );
        }
        if !self.bootstrap.admin_email.contains('@') {
            return invalid("bootstrap.admin_email", "must be an e-mail address");
        }
        if !self.database.url.expose_secret().starts_with("postgres") {
            return invalid("database.url", "must be a postgres:// or postgresql:// URL");
        }
        Ok(())
    }
}

/// A bare host name: letters, digits, dots and dashes.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_validate() {
        let s = load_from(&[]).expect("defaults are valid");
        assert_eq!(s.redirect.status, 302);
        assert_eq!(s.slugs.length, 7);
    }

    #[test]
    fn environment_overrides_nested_keys_and_lists() {
        let s = load_from(&vars(&[
            ("LANTERNE_CLICKS__BATCH_SIZE", "250"),
            ("LANTERNE_SERVER__DOMAINS", "go.example.com,l.example.org"),
            ("LANTERNE_CONFIG_UNUSED", "x"),
            ("DATABASE_URL", "postgres://u@db/x"),
        ]));
        // An unknown LANTERNE_ variable is refused and named.
        let err = s.unwrap_err().to_string();
        assert!(err.contains("config_unused"), "{err}");

        let s = load_from(&vars(&[
            ("LANTERNE_CLICKS__BATCH_SIZE", "250"),
            ("LANTERNE_SERVER__DOMAINS", "go.example.com,l.example.org"),
            ("DATABASE_URL", "postgres://u@db/x"),
        ]))
        .unwrap();
        assert_eq!(s.clicks.batch_size, 250);
        assert_eq!(s.server.domains, vec!["go.example.com", "l.example.org"]);
        assert_eq!(s.database.url.expose_secret(), "postgres://u@db/x");
    }

    #[test]
    fn invalid_values_name_the_setting() {
        let cases = [
            ("LANTERNE_REDIRECT__STATUS", "303", "redirect.status"),
            ("LANTERNE_CLICKS__BATCH_SIZE", "0", "clicks.batch_size"),
            (
                "LANTERNE_SLUGS__ALPHABET",
                "ABCDEFGHIJKLMNOPQ",
                "slugs.alphabet",
            ),
            (
                "LANTERNE_SERVER__PUBLIC_BASE_URL",
                "ftp://x",
                "server.public_base_url",
            ),
            (
                "LANTERNE_SERVER__DOMAINS",
                "https://go.example.com",
                "server.domains",
            ),
            ("LANTERNE_CLICKS__FLUSH_INTERVAL", "soon", "flush_interval"),
            ("LANTERNE_SERVER__BIND", "nowhere", "bind"),
            (
                "LANTERNE_SESSIONS__IDLE_TIMEOUT",
                "10s",
                "sessions.idle_timeout",
            ),
            (
                "LANTERNE_SESSIONS__ABSOLUTE_TIMEOUT",
                "1h",
                "sessions.absolute_timeout",
            ),
        ];
        for (key, value, named) in cases {
            let err = load_from(&vars(&[(key, value)])).unwrap_err().to_string();
            assert!(
                err.contains(named),
                "{key}={value}: error {err:?} should name {named}"
            );
        }
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = load_from(&vars(&[("LANTERNE_CONFIG", "/nonexistent/lanterne.toml")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lanterne.toml"), "{err}");
    }
}
