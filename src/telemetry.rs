//! Logs and metrics: the tracing subscriber (text or JSON) and the global
//! Prometheus recorder. These are the crate's only globals. Logging rules:
//! a message plus dotted fields; never IPs, tokens, e-mails or query strings.

use std::{io::IsTerminal, sync::OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogFormat, LogSettings};

/// Installs the tracing subscriber (`RUST_LOG` overrides `log.level`).
/// Text logs are coloured only when stderr is a terminal, so that logs
/// redirected to a file or a journal carry no ANSI escape codes.
/// A second call is a no-op, so tests may call it freely.
pub fn init_tracing(settings: &LogSettings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match settings.format {
        LogFormat::Json => registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
}

/// The Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("lanterne_http_request_duration_seconds".into()),
                    &[
                        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                        0.25, 0.5, 1.0, 2.5, 10.0,
                    ],
                )
                .expect("bucket list is not empty")
                .install_recorder()
                .expect("the metrics recorder is installed once")
        })
        .clone()
}

/// Handles to the redirect's metrics, registered once: incrementing a handle
/// is one atomic add, where the `counter!` macro would look the key up.
#[derive(Debug, Clone)]
pub struct RedirectMetrics {
    /// Answers by status: 301, 302, 307, 308, 404, 410, 503, other.
    by_status: [metrics::Counter; 8],
    /// Link found in memory.
    pub cache_hit: metrics::Counter,
    /// Slug known to be missing.
    pub cache_negative_hit: metrics::Counter,
    /// Database asked.
    pub cache_miss: metrics::Counter,
    /// Time to answer.
    latency: metrics::Histogram,
}

const STATUSES: [&str; 8] = ["301", "302", "307", "308", "404", "410", "503", "other"];

impl RedirectMetrics {
    /// Registers the handles with the global recorder.
    pub fn register() -> RedirectMetrics {
        let _ = metrics_handle();
        let cache = |result: &'static str| metrics::counter!("lanterne_link_cache_total", "result" => result);
        RedirectMetrics {
            by_status: STATUSES
                .map(|s| metrics::counter!("lanterne_redirects_total", "status" => s)),
            cache_hit: cache("hit"),
            cache_negative_hit: cache("negative_hit"),
            cache_miss: cache("miss"),
            latency: metrics::histogram!("lanterne_http_request_duration_seconds", "route" => "redirect"),
        }
    }

    /// Counts one answer of the redirect route and its latency.
    pub fn answered(&self, status: u16, took: std::time::Duration) {
        self.latency.record(took.as_secs_f64());
        let i = match status {
            301 => 0,
            302 => 1,
            307 => 2,
            308 => 3,
            404 => 4,
            410 => 5,
            503 => 6,
            _ => 7,
        };
        self.by_status[i].increment(1);
    }
}
