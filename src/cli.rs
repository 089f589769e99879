//! The command line: `serve`, `migrate`, `user add`, `token create|list|revoke`, `classify`,
//! `seed-clicks`, `rollups rebuild`.
//! Each command loads the settings, does its work and returns; `main` prints
//! any error to stderr and exits non-zero.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::{
    app::{self, App},
    attribution::{self, Classifier, ClassifierConfig},
    clicks, config,
    domains::Domains,
    geo::GeoDb,
    links, migrate, telemetry,
    users::{self, Role},
};

/// Lanterne: branded short links that tell dark social from direct traffic.
#[derive(Debug, Parser)]
#[command(name = "lanterne", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (applies migrations first).
    Serve {
        /// Listen address (overrides server.bind).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Classify requests: JSON Lines on stdin, one JSON line per input on
    /// stdout, in order. Needs no database.
    Classify {
        /// MaxMind-format database for `country` (default: attribution.geo_database).
        #[arg(long)]
        geo_db: Option<PathBuf>,
    },
    /// Write N synthetic requests for a link over the last D days (a
    /// realistic mix of clicks, bots, prefetches and previews) through the
    /// click writer's storage path, rollups included; prints requests/s.
    SeedClicks {
        /// The link; repeat it (or give a comma-separated list) to share the
        /// requests evenly by several links, interleaved in time.
        #[arg(long, required = true, value_delimiter = ',')]
        link_id: Vec<i64>,
        /// Requests to write (in all, when several links share them).
        #[arg(long)]
        count: u64,
        /// Days before now they are spread over.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Random seed (the same seed writes the same mix).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Manage the rollups the dashboard reads.
    Rollups {
        #[command(subcommand)]
        command: RollupsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum RollupsCommand {
    /// Recompute the rollups from raw clicks, share events and the bot and
    /// prefetch ledger (for upgrades and repair); aggregates older than the
    /// raw rows that remain are kept.
    Rebuild {
        /// First UTC day to recompute (YYYY-MM-DD; default: everything).
        #[arg(long)]
        from: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user.
    Add {
        /// E-mail address (the login).
        #[arg(long)]
        email: String,
        /// admin, editor or viewer.
        #[arg(long)]
        role: String,
        /// Password (at least 10 characters), for scripts: visible to other
        /// local users in the process list; prefer --password-stdin.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token; prints the token alone on stdout (shown once).
    Create {
        /// The user's e-mail.
        #[arg(long)]
        email: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List a user's tokens (ids, names, prefixes; never the secrets).
    List {
        /// The user's e-mail.
        #[arg(long)]
        email: String,
    },
    /// Revoke a token by id.
    Revoke {
        /// Token id (from `token list`).
        #[arg(long)]
        id: i64,
    },
}

impl Cli {
    /// Runs the parsed command.
    pub async fn run(self) -> anyhow::Result<()> {
        let mut settings = config::load()?;
        telemetry::init_tracing(&settings.log);
        match self.command {
            Command::Serve { bind } => {
                if let Some(bind) = bind {
                    settings.server.bind = bind;
                }
                serve(settings).await
            }
            Command::Migrate => {
                let pool = app::connect(&settings).await?;
                migrate::run(&pool)
                    .await
                    .context("cannot apply database migrations")?;
                eprintln!("migrations applied");
                Ok(())
            }
            Command::User { command } => user(settings, command).await,
            Command::Token { command } => token(settings, command).await,
            Command::Classify { geo_db } => classify(&settings, geo_db.as_deref()),
            Command::SeedClicks {
                link_id,
                count,
                days,
                seed,
            } => seed_clicks(&settings, &link_id, (count, days, seed)).await,
            Command::Rollups {
                command: RollupsCommand::Rebuild { from },
            } => rebuild_rollups(&settings, from.as_deref()).await,
        }
    }
}

async fn serve(settings: config::Settings) -> anyhow::Result<()> {
    let admin_email = settings.bootstrap.admin_email.clone();
    let app = App::build(settings).await?;
    bootstrap_admin(&app.state().pool, &admin_email).await?;
    tracing::info!(port = app.port(), "lanterne is serving");
    let report = app.run_until_stopped(app::shutdown_signal()).await?;
    if report.spooled > 0 {
        tracing::warn!(
            clicks.spooled = report.spooled,
            "clicks spooled to disk; they are replayed at the next start"
        );
    }
    Ok(())
}

/// On a first start with no users, creates an admin with a generated
/// password and an API token, and prints both once (on stdout).
async fn bootstrap_admin(pool: &sqlx::PgPool, email: &str) -> anyhow::Result<()> {
    if users::store::count(pool).await? > 0 {
        return Ok(());
    }
    let password = users::secrets::generate_password();
    let hash = users::accounts::hash_password(password.clone()).await?;
    let user = match users::store::create(pool, email, Role::Admin, Some(&hash)).await {
        // Another instance starting at the same moment made it first.
        Err(users::UserError::EmailTaken) => return Ok(()),
        created => created?,
    };
    let token = users::new_token();
    users::store::insert_token(pool, user.id, "bootstrap", &token).await?;
    println!("First start: created the admin {email}. Shown only this once:");
    println!("  password:  {password}");
    println!("  API token: {}", token.secret);
    println!(
        "Sign in with them, then change the password (PATCH /api/v1/me); add users with `lanterne user add`."
    );
    Ok(())
}

fn classify(settings: &config::Settings, geo_db: Option<&Path>) -> anyhow::Result<()> {
    let hosts =
        Domains::own_hosts_from_config(&settings.server.public_base_url, &settings.server.domains);
    let classifier = Classifier::new(ClassifierConfig {
        preview_window: settings.attribution.preview_window,
        own_hosts: hosts,
    });
    let geo = GeoDb::open(geo_db.or(app::geo_path(settings)));
    let stdout = std::io::stdout();
    attribution::jsonl::run(&classifier, std::io::stdin().lock(), stdout.lock(), &|ip| {
        geo.lookup(ip).country
    })
    .context("cannot read stdin or write stdout")
}

async fn user(settings: config::Settings, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        email,
        role,
        password,
        password_stdin,
    } = command;
    let email = users::parse_email(&email)?;
    let role: Role = role.parse()?;
    let password = match (password, password_stdin) {
        (Some(p), _) => p,
        (None, true) => read_password_line(std::io::stdin().lock())?,
        (None, false) => prompt_password()?,
    };
    let hash = users::hash_password(&password)?;
    let pool = app::connect(&settings).await?;
    migrate::run(&pool).await?;
    let user = users::store::create(&pool, &email, role, Some(&hash)).await?;
    eprintln!(
        "created user {} ({}) with id {}",
        user.email, user.role, user.id
    );
    Ok(())
}

/// The first line of `input`, without its line ending.
fn read_password_line(mut input: impl std::io::BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Asks twice on the terminal, without echo.
fn prompt_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no terminal to ask for the password: give --password-stdin or --password");
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
    anyhow::ensure!(first == again, "the two passwords differ");
    Ok(first)
}

async fn token(settings: config::Settings, command: TokenCommand) -> anyhow::Result<()> {
    let pool = app::connect(&settings).await?;
    migrate::run(&pool).await?;
    match command {
        TokenCommand::Create { email, name } => {
            let user = users::store::find_by_email(&pool, &email)
                .await
                .with_context(|| format!("no user with e-mail {email}"))?;
            let token = users::new_token();
            users::store::insert_token(&pool, user.id, &name, &token).await?;
            // The token alone on stdout, so that scripts can capture it.
            println!("{}", token.secret);
        }
        TokenCommand::List { email } => {
            let user = users::store::find_by_email(&pool, &email)
                .await
                .with_context(|| format!("no user with e-mail {email}"))?;
            for t in users::store::list_tokens(&pool, user.id).await? {
                let state = if t.revoked { "revoked" } else { "active" };
                println!("{}\t{}…\t{}\t{}", t.id, t.prefix, state, t.name);
            }
        }
        TokenCommand::Revoke { id } => {
            users::store::revoke_token(&pool, id, None)
                .await
                .context("no active token with this id")?;
            eprintln!("token {id} revoked");
        }
    }
    Ok(())
}

async fn seed_clicks(
    settings: &config::Settings,
    link_ids: &[i64],
    (count, days, seed): (u64, u32, u64),
) -> anyhow::Result<()> {
    anyhow::ensure!(days >= 1, "--days must be at least 1");
    let mut distinct = link_ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    anyhow::ensure!(
        distinct.len() == link_ids.len(),
        "--link-id: each link may be given once"
    );
    let pool = app::connect(settings).await?;
    migrate::run(&pool).await?;
    clicks::store::ensure_partitions(&pool, settings.clicks.partitions_ahead).await?;
    // Partitions back to the first day seeded (older ones land in the default one otherwise).
    clicks::store::ensure_partitions_from(&pool, days).await?;
    let mut links = Vec::with_capacity(link_ids.len());
    for &link_id in link_ids {
        let link = links::store::find(&pool, link_id)
            .await
            .with_context(|| format!("no link with id {link_id}"))?;
        let utm = [&link.utm_source, &link.utm_medium, &link.utm_campaign]
            .map(|v| v.as_deref().map(Into::into));
        links.push((link_id, utm));
    }
    let done = clicks::seed::seed(&pool, &links, (count, days, seed)).await?;
    let whom = match link_ids {
        [one] => format!("link {one}"),
        many => format!("{} links", many.len()),
    };
    eprintln!(
        "seeded {} requests for {whom} over {days} days in {:.2} s ({:.0} requests/s, rollups included)",
        done.requests,
        done.seconds,
        done.requests as f64 / done.seconds.max(1e-9)
    );
    Ok(())
}

async fn rebuild_rollups(settings: &config::Settings, from: Option<&str>) -> anyhow::Result<()> {
    let from = match from {
        Some(d) => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .context("--from must be a date, YYYY-MM-DD")?
            .midnight()
            .assume_utc(),
        None => time::OffsetDateTime::UNIX_EPOCH,
    };
    let pool = app::connect(settings).await?;
    migrate::run(&pool).await?;
    let done = clicks::store::rollups::rebuild(&pool, from).await?;
    eprintln!(
        "rollups rebuilt from {} ({} rows)",
        done.from.date(),
        done.rows
    );
    Ok(())
}
