//! Slow and idle clients on real sockets: the header-read timeout (also the
//! idle keep-alive timeout), the connection cap, the bounded shutdown, and
//! the open-file limit raised at start.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    harness::{Options, TestApp, create_database, database_url},
    server_process::{ServerProcess, free_port, temp_spool},
};

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (true) or `wait` passes.
async fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0; 4096];
    let until = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(until, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends one whole request and reads its answer's status line.
async fn get(s: &mut TcpStream, path: &str) -> String {
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("answered")
            .unwrap();
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap()
        .to_owned()
}

fn with(tweak: impl FnOnce(&mut lanterne::config::Settings) + Send + 'static) -> Options {
    Options {
        tweak: Box::new(tweak),
        ..Options::default()
    }
}

#[tokio::test]
async fn half_sent_requests_and_idle_connections_are_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(with(|s| {
        s.server.header_read_timeout = Duration::from_secs(1);
    }))
    .await;
    let mut silent = connect(&app).await;
    let mut half = connect(&app).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.")
        .await
        .unwrap();
    let mut idle = connect(&app).await;
    assert_eq!(get(&mut idle, "/healthz").await, "HTTP/1.1 200 OK");
    let started = Instant::now();
    for (name, s) in [
        ("silent", &mut silent),
        ("half", &mut half),
        ("idle", &mut idle),
    ] {
        assert!(
            closed_within(s, Duration::from_secs(4)).await,
            "{name}: closed by the server"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // A client that keeps talking is served on the same connection.
    let mut busy = connect(&app).await;
    for _ in 0..3 {
        assert_eq!(get(&mut busy, "/healthz").await, "HTTP/1.1 200 OK");
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
}

#[tokio::test]
async fn beyond_the_connection_cap_new_connections_wait_and_served_ones_go_on() {
    let app = TestApp::spawn_with(with(|s| {
        s.server.max_connections = 4;
    }))
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = connect(&app).await;
        assert_eq!(get(&mut s, "/healthz").await, "HTTP/1.1 200 OK");
        held.push(s);
    }
    // The kernel completes the handshake; the server does not take it yet.
    let mut waiting = connect(&app).await;
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0; 256];
    assert!(
        tokio::time::timeout(Duration::from_millis(700), waiting.read(&mut buf))
            .await
            .is_err(),
        "the fifth connection is not served while four are open"
    );
    // The connections being served are not disturbed.
    for s in &mut held {
        assert_eq!(get(s, "/healthz").await, "HTTP/1.1 200 OK");
    }
    // One closes: the waiting one is taken and answered.
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(3), waiting.read(&mut buf))
        .await
        .expect("served once a connection closed")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn shutdown_ends_within_the_deadline_even_with_a_half_sent_request() {
    let app = TestApp::spawn_with(with(|s| {
        s.server.shutdown_deadline = Duration::from_secs(1);
        s.server.header_read_timeout = Duration::from_secs(60);
    }))
    .await;
    let mut half = connect(&app).await;
    half.write_all(b"POST /api/v1/links HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-le")
        .await
        .unwrap();
    let mut idle = connect(&app).await;
    assert_eq!(get(&mut idle, "/healthz").await, "HTTP/1.1 200 OK");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(5), app.stop()).await;
    assert!(stopped.is_ok(), "shutdown held by a client");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "within the 1 s deadline (plus spooling): {:?}",
        started.elapsed()
    );
    assert!(closed_within(&mut half, Duration::from_secs(1)).await);
}

#[tokio::test]
async fn the_open_file_soft_limit_is_raised_to_the_hard_limit_at_start() {
    let db = create_database().await;
    let spool = temp_spool();
    let server = ServerProcess::start(
        &database_url(&db),
        &spool,
        free_port(),
        "ulimit -Sn 256 &&",
        &[],
    )
    .await;
    let (soft, hard) = server.open_file_limits();
    assert_ne!(soft, "256", "raised");
    assert_eq!(soft, hard);
}
