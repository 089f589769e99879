//! The accept loop: HTTP/1.1 connections served by hyper with a timer, so
//! that a connection waiting for a request head — a new one, one that sent
//! half a request, or an idle keep-alive one — is closed after
//! `server.header_read_timeout`; at most `server.max_connections` open at
//! once (beyond it, new connections wait in the kernel's accept queue and
//! the ones being served are not disturbed); and a shutdown that lets
//! in-flight requests finish for at most `server.shutdown_deadline`, then
//! closes whatever is still open.

use std::{future::Future, sync::Arc, time::Duration};

use axum::body::Body;
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore, task::JoinSet, time::Instant};
use tower::ServiceExt;

use super::front::MakeFront;

/// Limits of the listener (from `[server]`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for a complete request head, idle time included.
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

/// How serving ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Served {
    /// Connections still open at the deadline, closed without their answer.
    pub cut: usize,
}

/// Serves `listener` until `shutdown` resolves, then drains connections
/// until `deadline` after the signal (see the module docs).
pub async fn serve(
    listener: TcpListener,
    make: MakeFront,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
    deadline: Duration,
) -> (Served, Instant) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A permit first: beyond the cap nothing is accepted.
        let permit = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and the like: the connections being served go on.
                    tracing::warn!(error = %e, "accept failed; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let front = make
            .front(peer)
            .map_request(|req: axum::http::Request<Incoming>| req.map(Body::new));
        let service = TowerToHyperService::new(front);
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        connections.spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
    let signalled = Instant::now();
    drop(listener);
    let until = signalled + deadline;
    let mut served = Served::default();
    if tokio::time::timeout_at(until, graceful.shutdown())
        .await
        .is_err()
    {
        served.cut = connections.len();
        tracing::warn!(
            connections = served.cut,
            "connections still open at the shutdown deadline; closing them"
        );
        connections.abort_all();
    }
    while connections.join_next().await.is_some() {}
    (served, signalled)
}

/// Raises the soft limit of open files to the hard limit and logs both;
/// returns the soft limit in force.
pub fn raise_open_files_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => {
            let hard = rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(_, hard)| hard)
                .unwrap_or(soft);
            tracing::info!(
                nofile.soft = soft,
                nofile.hard = hard,
                "open-file limit raised to the hard limit"
            );
            Some(soft)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            None
        }
    }
}

/// The connection cap in force: the configured one, lowered if the
/// open-file limit could not hold it (files kept for the database pool,
/// the spool and the listeners).
pub fn effective_max_connections(configured: usize, nofile: Option<u64>) -> usize {
    const RESERVED: u64 = 128;
    match nofile {
        Some(limit) if limit <= RESERVED + 16 => 16.min(configured),
        Some(limit) => configured.min((limit - RESERVED) as usize),
        None => configured,
    }
}
