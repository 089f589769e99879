//! The command-line contract: exit codes, stdout and stderr.

use std::process::{Command, Output};

use sha2::{Digest, Sha256};

use crate::harness::{create_database, database_url};

fn lanterne(db: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lanterne"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LANTERNE_")) {
        cmd.env_remove(k);
    }
    cmd.env("DATABASE_URL", database_url(db))
        .env("RUST_LOG", "warn")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn users_and_tokens_are_managed_from_the_command_line() {
    let db = create_database().await;
    let out = lanterne(&db, &["migrate"], &[]);
    assert!(out.status.success(), "migrate: {}", text(&out.stderr));

    let out = lanterne(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ana@example.com",
            "--role",
            "editor",
            "--password",
            "correct horse",
        ],
        &[],
    );
    assert!(out.status.success(), "user add: {}", text(&out.stderr));

    let out = lanterne(
        &db,
        &[
            "token",
            "create",
            "--email",
            "ANA@example.com",
            "--name",
            "ci",
        ],
        &[],
    );
    assert!(out.status.success(), "token create: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the token alone on stdout: {stdout:?}");
    let token = lines[0];
    assert!(token.starts_with("lnt_"));

    let pool = sqlx::PgPool::connect(&database_url(&db)).await.unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from api_tokens where name = 'ci'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        stored,
        Sha256::digest(token.as_bytes()).to_vec(),
        "only the hash is stored"
    );

    let listed = text(&lanterne(&db, &["token", "list", "--email", "ana@example.com"], &[]).stdout);
    assert!(
        listed.contains("active") && !listed.contains(token),
        "{listed}"
    );
    let id = listed.split('\t').next().unwrap().trim().to_owned();
    assert!(
        lanterne(&db, &["token", "revoke", "--id", &id], &[])
            .status
            .success()
    );
    let revoked: bool =
        sqlx::query_scalar("select revoked_at is not null from api_tokens where name = 'ci'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(revoked);
}

#[tokio::test]
async fn bad_input_exits_non_zero_with_a_message_on_stderr() {
    let db = create_database().await;
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                "user",
                "add",
                "--email",
                "bo@example.com",
                "--role",
                "root",
                "--password",
                "correct horse",
            ],
            vec![],
            "unknown role",
        ),
        (
            vec![
                "user",
                "add",
                "--email",
                "not-an-email",
                "--role",
                "viewer",
                "--password",
                "correct horse",
            ],
            vec![],
            "not an e-mail address",
        ),
        (
            vec![
                "user",
                "add",
                "--email",
                "bo@example.com",
                "--role",
                "viewer",
                "--password",
                "short",
            ],
            vec![],
            "at least 10 characters",
        ),
        (
            vec!["token", "create", "--email", "nobody@example.com"],
            vec![],
            "no user with e-mail",
        ),
        (
            vec!["migrate"],
            vec![("LANTERNE_REDIRECT__STATUS", "303")],
            "redirect.status",
        ),
        (
            vec!["migrate"],
            vec![("LANTERNE_SERVER__BIND", "nowhere")],
            "bind",
        ),
        (
            vec!["migrate"],
            vec![("LANTERNE_CONFIG", "/nonexistent/l.toml")],
            "l.toml",
        ),
    ];
    for (args, env, message) in cases {
        let out = lanterne(&db, &args, &env);
        assert!(!out.status.success(), "{args:?} {env:?} should fail");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(message),
            "{args:?} {env:?}: stderr {stderr:?} should contain {message:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

#[test]
fn classify_answers_each_line_in_order_without_a_database() {
    use std::io::Write;
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geo-test.mmdb");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lanterne"))
        .args(["classify", "--geo-db", fixture.to_str().unwrap()])
        // A database that does not exist: classify must not need one.
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("RUST_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = [
        r#"{"headers": {"User-Agent": "WhatsApp/2.23.20.0 A"}}"#,
        r#"{"headers": {"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Referer": "https://www.google.com/"}, "ip": "203.0.113.7"}"#,
        "not json",
        r#"{"headers": {"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"}, "link": {"slug_kind": "custom"}, "recent_previews": [{"app": "telegram", "seconds_ago": 30}]}"#,
    ];
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    assert_eq!(lines.len(), 4, "one answer per input line");
    assert_eq!(lines[0]["kind"], "preview");
    assert_eq!(lines[0]["source"], "whatsapp");
    assert_eq!(lines[1]["kind"], "human");
    assert_eq!(lines[1]["channel"], "search");
    assert_eq!(lines[1]["source"], "google");
    assert_eq!(lines[1]["country"], "FR");
    assert!(
        lines[2]["error"].is_string(),
        "a malformed line gets an error: {}",
        lines[2]
    );
    assert_eq!(lines[3]["channel"], "dark_social");
    assert_eq!(lines[3]["source"], "telegram");
}

/// Runs `lanterne` with `stdin` piped in.
fn lanterne_with_stdin(db: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lanterne"))
        .env("DATABASE_URL", database_url(db))
        .env("RUST_LOG", "warn")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn password_hash_of(db: &str, email: &str) -> Option<String> {
    let pool = sqlx::PgPool::connect(&database_url(db)).await.unwrap();
    sqlx::query_scalar("select password_hash from users where email = $1")
        .bind(email)
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin() {
    let db = create_database().await;
    let args = [
        "user",
        "add",
        "--email",
        "cy@example.com",
        "--role",
        "viewer",
        "--password-stdin",
    ];
    let out = lanterne_with_stdin(&db, &args, "piped horse battery\nignored line\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hash = password_hash_of(&db, "cy@example.com")
        .await
        .expect("a password");
    assert!(lanterne::users::verify_password(
        "piped horse battery",
        &hash
    ));
    assert!(!hash.contains("piped"), "only the Argon2 hash is stored");

    let short = [
        "user",
        "add",
        "--email",
        "dee@example.com",
        "--role",
        "viewer",
        "--password-stdin",
    ];
    let out = lanterne_with_stdin(&db, &short, "short\n");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("at least 10 characters"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn user_add_without_a_password_and_without_a_terminal_says_how_to_give_one() {
    let db = create_database().await;
    let out = lanterne_with_stdin(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ed@example.com",
            "--role",
            "viewer",
        ],
        "",
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--password-stdin"), "{stderr}");
}

#[tokio::test]
async fn the_first_start_prints_a_generated_admin_password_and_a_token_once() {
    use std::io::{BufRead, BufReader};
    let db = create_database().await;
    let spool =
        std::env::temp_dir().join(format!("lanterne-cli-{}", uuid::Uuid::new_v4().simple()));
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_lanterne"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url(&db))
            .env("LANTERNE_CLICKS__SPOOL_DIR", &spool)
            .env("LANTERNE_BOOTSTRAP__ADMIN_EMAIL", "boss@example.com")
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The server runs until killed: read stdout up to the token line, and
    // stderr up to the "serving" log line (printed after the bootstrap).
    let mut first = start();
    let stdout = BufReader::new(first.stdout.take().unwrap());
    let lines: Vec<String> = stdout
        .lines()
        .map(Result::unwrap)
        .take_while(|l| !l.contains("Sign in with them"))
        .collect();
    first.kill().unwrap();
    first.wait().unwrap();
    let value = |label: &str| {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("a {label} line in {lines:?}"))
    };
    let (password, token) = (value("password:"), value("API token:"));
    assert_eq!(password.chars().count(), 24);
    let hash = password_hash_of(&db, "boss@example.com")
        .await
        .expect("a password");
    assert!(
        lanterne::users::verify_password(&password, &hash),
        "the printed password signs in"
    );
    let pool = sqlx::PgPool::connect(&database_url(&db)).await.unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, Sha256::digest(token.as_bytes()).to_vec());

    let mut second = start();
    let stderr = BufReader::new(second.stderr.take().unwrap());
    let serving = stderr
        .lines()
        .map(Result::unwrap)
        .any(|l| l.contains("lanterne is serving"));
    second.kill().unwrap();
    let out = second.wait_with_output().unwrap();
    assert!(serving, "the second start serves");
    assert!(
        !text(&out.stdout).contains("password"),
        "nothing is printed again: {}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&spool);
}

#[tokio::test]
async fn commands_print_no_database_notice_and_no_colour_when_stderr_is_not_a_terminal() {
    let db = create_database().await;
    // The second run is the one PostgreSQL used to answer with the NOTICE
    // `relation "_sqlx_migrations" already exists, skipping`.
    for run in ["first", "second"] {
        let out = lanterne(&db, &["migrate"], &[("RUST_LOG", "debug")]);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{run} migrate: {stderr}");
        assert!(
            stderr.contains("DEBUG"),
            "{run}: the debug logs are there to be checked: {stderr}"
        );
        assert!(
            !stderr.contains("already exists"),
            "{run}: no NOTICE is logged: {stderr}"
        );
        assert!(
            !stderr.contains('\u{1b}'),
            "{run}: no ANSI escape in logs that go to a pipe: {stderr:?}"
        );
    }
}
