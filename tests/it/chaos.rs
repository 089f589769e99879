//! A TCP proxy owned by a test, between the app and PostgreSQL, that can cut
//! every connection and refuse new ones (crates.io's ChaosProxy idea), or
//! stall them: connections stay open and nothing goes through, as when a
//! network partition swallows packets.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// The proxy.
pub struct ChaosProxy {
    addr: SocketAddr,
    broken: Arc<AtomicBool>,
    // Bumped by every cut; each connection ends when it changes.
    cuts: watch::Sender<u64>,
    stalled: watch::Sender<bool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl ChaosProxy {
    /// Starts a proxy to `upstream` (host:port).
    pub async fn start(upstream: String) -> ChaosProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let broken = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (stalled, _) = watch::channel(false);
        let (cuts, _) = watch::channel(0u64);
        let (b, c, s, k) = (
            broken.clone(),
            connections.clone(),
            stalled.clone(),
            cuts.clone(),
        );
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                // Subscribed before the check: a cut that lands after the
                // check still reaches this connection (no window in which a
                // connection escapes a cut).
                let mut cut = k.subscribe();
                if b.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let upstream = upstream.clone();
                let mut stall = s.subscribe();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
                            _ = cut.changed() => return,
                            _ = stall.wait_for(|s| *s) => {}
                        }
                        // Stalled: hold both ends open, pass nothing.
                        std::future::pending::<()>().await;
                        drop((client, server));
                    }
                });
                c.lock().unwrap().push(task);
            }
        });
        ChaosProxy {
            addr,
            broken,
            cuts,
            stalled,
            connections,
            accept,
        }
    }

    /// `DATABASE_URL` through the proxy, for database `db`.
    pub fn url(&self, db: &str) -> String {
        let base = crate::harness::database_url(db);
        let (scheme_user, rest) = base.split_once('@').expect("URL with user@host");
        let (_, path) = rest.split_once('/').expect("URL with a database");
        format!("{scheme_user}@{}/{path}", self.addr)
    }

    /// Cuts every connection and refuses new ones: the database is "down".
    pub fn cut(&self) {
        self.broken.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Stops all traffic while keeping every connection open (a write
    /// then neither succeeds nor fails; it waits).
    pub fn stall(&self) {
        self.stalled.send_replace(true);
    }

    /// Lets new connections through again (after a stall, cut first: stalled
    /// connections stay stalled).
    pub fn restore(&self) {
        self.stalled.send_replace(false);
        self.broken.store(false, Ordering::SeqCst);
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// host:port of `DATABASE_URL`.
pub fn upstream() -> String {
    let base = crate::harness::base_database_url();
    let after_at = base.split_once('@').map(|(_, r)| r).unwrap_or(&base);
    after_at.split('/').next().unwrap().to_owned()
}
