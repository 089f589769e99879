//! Ranges and relations between settings that types cannot express.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{ConfigError, Settings};

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
        if self.stats.raw_budget < Duration::from_millis(1)
            || self.stats.raw_budget > Duration::from_secs(60)
        {
            return invalid("stats.raw_budget", "must be between 1ms and 60s");
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
