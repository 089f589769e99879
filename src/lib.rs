//! Lanterne: a self-hosted link shortener that tells dark social from direct.
//! The module list is the map of the crate.

/// Start-up, background tasks and graceful shutdown.
pub mod app;
/// Country, region and city from a MaxMind-format database, in memory.
pub mod asn;
/// The pure classifier: kind, channel, source, evidence of a request.
pub mod attribution;
/// The command line.
pub mod cli;
/// Click capture: events, the queue, the writer, the spool.
pub mod clicks;
/// Settings and their validation.
pub mod config;
/// Whether the database answers: the API's 503 gate.
pub mod db_health;
/// Served domains and short URLs.
pub mod domains;
pub mod geo;
/// Routes, handlers and middleware.
pub mod http;
/// The UI's languages and string catalogues.
pub mod i18n;
/// Links: slugs, destinations, the store and the cache.
pub mod links;
/// Embedded schema migrations.
pub mod migrate;
/// A MaxMind-format file in memory, hot-swapped on change (geo, asn).
pub mod mmdb;
/// Following PostgreSQL LISTEN channels through lost connections.
pub mod notify;
/// The shared application state.
pub mod state;
/// Statistics read side: rollups and clicks into the dashboard's figures.
pub mod stats;
/// Logs and metrics.
pub mod telemetry;
/// Server-rendered pages.
pub mod templates;
/// Users, roles and API tokens.
pub mod users;
