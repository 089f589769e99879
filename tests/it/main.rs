//! The one integration-test binary: every test talks to a real PostgreSQL
//! (`DATABASE_URL`, a role that may create databases) through a real server
//! bound on 127.0.0.1. Each test gets its own database. `TEST_LOG=1` shows logs.

mod accounts;
mod api_edges;
mod api_links;
mod api_presets;
mod api_tokens;
mod api_users;
mod attribution_accuracy;
mod attribution_storage;
mod browser;
mod bursts;
mod cache_invalidation;
mod chaos;
mod cli;
mod clicks_load;
mod clicks_outage;
mod connections;
mod crash_durability;
mod exports;
mod filtered_views;
mod harness;
mod link_edits;
mod loopback;
mod openapi;
mod ops;
mod pages_admin;
mod pages_dashboard;
mod pages_links;
mod pages_workspace;
mod preview_cards;
mod qr;
mod readme;
mod recent_clicks;
mod redirect;
mod referrer_privacy;
mod rollups;
mod scanners;
mod scenarios;
mod seed_cli;
mod server_process;
mod share;
mod spool_replay;
mod stats_api;
