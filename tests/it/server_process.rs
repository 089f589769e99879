//! A real `lanterne serve` process for tests that need one (open-file
//! limits): started on a free port with its own spool directory,
//! ready once `/healthz` answers.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A running server process.
pub struct ServerProcess {
    /// The child.
    pub child: Child,
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ServerProcess {
    /// Starts `lanterne serve` on `database_url`, through `sh -c` with
    /// `shell_prefix` run before it (e.g. `ulimit -Sn 256`).
    pub async fn start(
        database_url: &str,
        spool_dir: &Path,
        port: u16,
        shell_prefix: &str,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        let script = format!("{shell_prefix} exec \"$0\" serve");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script, env!("CARGO_BIN_EXE_lanterne")])
            .env("DATABASE_URL", database_url)
            .env("LANTERNE_SERVER__BIND", format!("127.0.0.1:{port}"))
            .env(
                "LANTERNE_SERVER__PUBLIC_BASE_URL",
                format!("http://127.0.0.1:{port}"),
            )
            .env("LANTERNE_CLICKS__SPOOL_DIR", spool_dir)
            .env("LANTERNE_CLICKS__FLUSH_INTERVAL", "50ms")
            .env("LANTERNE_CLICKS__RETRY_MIN", "50ms")
            .env("LANTERNE_CLICKS__RETRY_MAX", "300ms")
            .env(
                "RUST_LOG",
                std::env::var("SERVER_LOG").unwrap_or("warn".into()),
            )
            .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Owned at once: dropping it kills and waits for the child.
        let server = ServerProcess {
            child: cmd.spawn().expect("lanterne starts"),
        };
        let address = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(res) = client.get(format!("{address}/healthz")).send().await
                && res.status() == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("lanterne did not answer /healthz within 15 s");
    }

    /// The soft and hard `Max open files` of the process.
    pub fn open_file_limits(&self) -> (String, String) {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id())).unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap();
        let mut parts = line["Max open files".len()..].split_whitespace();
        (
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
        )
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new temporary spool directory.
pub fn temp_spool() -> PathBuf {
    std::env::temp_dir().join(format!("lanterne-it-{}", uuid::Uuid::now_v7().simple()))
}
