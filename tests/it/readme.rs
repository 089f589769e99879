//! Every `curl` example of the README, run against a real server.
//!
//! The convention, for whoever adds an example to README.md:
//! - a block opened with exactly ```` ```sh ```` that contains `curl` is run;
//!   every other block (```` ```text ````, ```` ```toml ````, ```` ```sql ````, and
//!   ```` ```sh ```` blocks without curl, such as `scripts/run.sh`) is not;
//! - the blocks run in README order in ONE bash process (`set -euo pipefail`),
//!   so a later block can use a shell variable set by an earlier one (read
//!   values with `sed` or `grep -o`: jq is not installed);
//! - `http://localhost:8080` and `http://127.0.0.1:8080` are replaced by the
//!   test server's address; `TOKEN` holds an admin token; the server is
//!   configured as out of the box (`public_base_url` on `localhost`) plus the
//!   branded domain `go.example.com` (reach it with `-H 'Host: go.example.com'`);
//! - `curl` is a function that adds `--fail-with-body -sS`: any 4xx or 5xx
//!   answer fails the test, so an example must succeed as written.

use std::{path::Path, process::Command};

use crate::harness::{Options, TestApp};

/// The runnable blocks of `markdown`: (line of the opening fence, code).
fn curl_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    let mut in_other = false;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_end();
        match (&mut open, in_other) {
            (None, false) if fence == "```sh" => open = Some((i + 1, String::new())),
            (None, false) if fence.starts_with("```") => in_other = true,
            (None, true) if fence == "```" => in_other = false,
            (Some(_), _) if fence == "```" => {
                let (at, code) = open.take().expect("a block is open");
                if code.contains("curl") {
                    blocks.push((at, code));
                }
            }
            (Some((_, code)), _) => {
                code.push_str(line);
                code.push('\n');
            }
            _ => {}
        }
    }
    assert!(
        open.is_none() && !in_other,
        "README.md has an unclosed block"
    );
    blocks
}

/// The blocks as one bash script against `address`.
fn script(blocks: &[(usize, String)], address: &str) -> String {
    let mut script = String::from(
        "set -euo pipefail\n\
         curl() { command curl --fail-with-body -sS --max-time 10 \"$@\"; }\n",
    );
    for (line, code) in blocks {
        let code = code
            .replace("http://localhost:8080", address)
            .replace("http://127.0.0.1:8080", address);
        script.push_str(&format!(
            "echo '=== README.md line {line}' >&2\n{code}\necho\n"
        ));
    }
    script
}

#[test]
fn only_sh_blocks_that_call_curl_are_picked() {
    let md = "```sh\nscripts/run.sh\n```\n```text\ncurl no\n```\n```sh\ncurl yes\n```\n```\nplain\n```\n";
    let blocks = curl_blocks(md);
    assert_eq!(blocks, vec![(7, "curl yes\n".to_owned())]);
}

#[tokio::test]
async fn every_curl_example_of_the_readme_succeeds_against_a_real_server() {
    let app = TestApp::spawn_with(Options {
        tweak: Box::new(|s| {
            let port = s.server.public_base_url.port().expect("the test port");
            s.server.public_base_url = format!("http://localhost:{port}").parse().unwrap();
            s.server.domains = vec!["go.example.com".into()];
        }),
        ..Options::default()
    })
    .await;
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable");
    let blocks = curl_blocks(&readme);
    assert!(
        blocks.len() >= 5,
        "the README's examples were found: {blocks:?}"
    );
    let script = script(&blocks, &app.address);
    let token = app.token.clone();
    // bash blocks its thread; the server goes on answering on the runtime.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .args(["--noprofile", "--norc", "-c", &script])
            .env("TOKEN", token)
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_lowercase();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a README example failed ({}).\nstderr (the last marker is the failing block):\n{stderr}\nstdout:\n{stdout}",
        out.status
    );
    for expected in [
        // Your first link, and its redirect.
        "\"short_url\":\"http://localhost:",
        "location: https://example.com/summer-sale?utm_source=newsletter&utm_medium=email&utm_campaign=summer",
        // The metrics counted those redirects.
        "lanterne_redirects_total{status=\"302\"}",
        // The branded domain answered through its Host header.
        "location: https://shop.example/summer",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in:\n{stdout}");
    }
    let links: i64 = sqlx::query_scalar("select count(*) from links")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(links >= 4, "the examples made their links: {links}");
}
