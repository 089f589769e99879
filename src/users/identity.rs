//! Who is acting: an API token or a session secret → an [`Identity`], and
//! sign-in (e-mail and password → a new session) and sign-out. Failed
//! attempts are throttled in memory per client IP and, for sign-in, per
//! account, with backoff, before any database round trip. Every refusal is
//! an [`AuthError`]; sign-in gives the same error whatever the cause, so it
//! never reveals whether an e-mail exists. Never logs a secret or an IP.

use std::{
    net::IpAddr,
    sync::OnceLock,
    time::{Duration, Instant},
};

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    Role, User, UserError, secrets, sessions_store, store,
    throttle::{Policy, Throttle, ip_key},
};
use crate::config::Settings;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "lanterne_session";

/// Longest token or session secret looked up (ours are 47 characters).
const MAX_SECRET: usize = 128;

/// Failed token or session checks per client IP: 20 free, then 1 s doubling
/// to 5 min.
const FAILED_AUTH: Policy = Policy {
    free: 20,
    base: Duration::from_secs(1),
    max: Duration::from_secs(300),
    forget: Duration::from_secs(600),
};
/// Failed sign-ins per account: 5 free, then 1 s doubling to 15 min.
const SIGN_IN_ACCOUNT: Policy = Policy {
    free: 5,
    base: Duration::from_secs(1),
    max: Duration::from_secs(900),
    forget: Duration::from_secs(900),
};
/// Failed sign-ins per client IP (any accounts): 10 free, then 1 s doubling to 15 min.
const SIGN_IN_IP: Policy = Policy {
    free: 10,
    base: Duration::from_secs(1),
    max: Duration::from_secs(900),
    forget: Duration::from_secs(900),
};

/// What a request presented.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// An API token (`Authorization: Bearer`).
    Token(&'a str),
    /// A session secret (the `lanterne_session` cookie).
    Session(&'a str),
}

/// How an identity was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An API token, by id.
    Token(i64),
    /// A session, by id.
    Session(i64),
}

/// An authenticated, active user and how it authenticated.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user (never disabled).
    pub user: User,
    /// Token or session.
    pub via: Via,
}

impl Identity {
    /// `Forbidden` unless the user has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AuthError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(AuthError::Forbidden {
                needed: role,
                has: self.user.role,
            })
        }
    }
}

/// Why a request is not allowed to act.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential at all.
    #[error("sign in, or send Authorization: Bearer <token>")]
    Missing,
    /// Unknown, revoked or expired token or session; or, at sign-in, a wrong
    /// e-mail or password or a disabled account (one error for all).
    #[error("the credentials are unknown, revoked or expired")]
    Invalid,
    /// A valid credential of a disabled account.
    #[error("this account is disabled")]
    Disabled,
    /// Authenticated, but the role is too low.
    #[error("this needs the {needed} role; you have {has}")]
    Forbidden {
        /// The role needed.
        needed: Role,
        /// The user's role.
        has: Role,
    },
    /// Too many failures from this client or for this account.
    #[error("too many failed attempts; retry in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long until the next attempt may succeed.
        retry_after: Duration,
    },
    /// The database (or hashing) failed.
    #[error(transparent)]
    Store(#[from] UserError),
}

/// A session just created by [`Accounts::sign_in`].
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie value (shown to this response only).
    pub secret: String,
    /// Session id.
    pub id: i64,
    /// The signed-in user.
    pub user: User,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
}

/// The accounts part of the application state: session settings and the
/// failure throttles of this instance.
#[derive(Debug)]
pub struct Accounts {
    idle: Duration,
    absolute: Duration,
    secure_cookie: bool,
    failed_auth: Throttle<IpAddr>,
    sign_in_ip: Throttle<IpAddr>,
    sign_in_account: Throttle<String>,
    dummy_hash: OnceLock<String>,
}

impl Accounts {
    /// From the validated settings.
    pub fn new(settings: &Settings) -> Accounts {
        Accounts {
            idle: settings.sessions.idle_timeout,
            absolute: settings.sessions.absolute_timeout,
            secure_cookie: settings.server.public_base_url.scheme() == "https",
            failed_auth: Throttle::new(FAILED_AUTH),
            sign_in_ip: Throttle::new(SIGN_IN_IP),
            sign_in_account: Throttle::new(SIGN_IN_ACCOUNT),
            dummy_hash: OnceLock::new(),
        }
    }

    /// The active user behind a credential. A client IP with too many recent
    /// failures is refused before the database is asked.
    pub async fn identify(
        &self,
        pool: &PgPool,
        credential: Credential<'_>,
        ip: IpAddr,
    ) -> Result<Identity, AuthError> {
        let key = ip_key(ip);
        self.failed_auth
            .check(&key, Instant::now())
            .map_err(|retry_after| AuthError::RateLimited { retry_after })?;
        let found = match credential {
            Credential::Token(t) | Credential::Session(t)
                if t.is_empty() || t.len() > MAX_SECRET =>
            {
                None
            }
            Credential::Token(t) => store::authenticate(pool, &secrets::token_hash(t))
                .await?
                .map(|(u, id)| (u, Via::Token(id))),
            Credential::Session(s) => {
                sessions_store::find(pool, &secrets::token_hash(s), self.idle)
                    .await?
                    .map(|(u, id)| (u, Via::Session(id)))
            }
        };
        let Some((user, via)) = found else {
            self.failed_auth.fail(key, Instant::now());
            return Err(AuthError::Invalid);
        };
        if !user.is_active() {
            return Err(AuthError::Disabled);
        }
        Ok(Identity { user, via })
    }

    /// Signs in with e-mail and password: a new session (always a new id).
    /// Unknown e-mails cost the same Argon2 work as known ones; disabled
    /// accounts and accounts without a password are refused alike.
    pub async fn sign_in(
        &self,
        pool: &PgPool,
        email: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<NewSession, AuthError> {
        let (ip, account) = (ip_key(ip), email.trim().to_lowercase());
        let now = Instant::now();
        let locked = [
            self.sign_in_ip.check(&ip, now),
            self.sign_in_account.check(&account, now),
        ];
        if let Some(retry_after) = locked.into_iter().filter_map(Result::err).max() {
            return Err(AuthError::RateLimited { retry_after });
        }
        let found = store::credentials(pool, &account).await?;
        let (user, phc) = match found {
            Some((user, Some(phc))) => (Some(user), phc),
            Some((_, None)) | None => (None, self.dummy_hash()?.to_owned()),
        };
        let given = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || secrets::verify_password(&given, &phc))
            .await
            .map_err(|e| UserError::Hash(e.to_string()))?;
        let Some(user) = user.filter(|u| matches && u.is_active()) else {
            let now = Instant::now();
            self.sign_in_ip.fail(ip, now);
            self.sign_in_account.fail(account, now);
            return Err(AuthError::Invalid);
        };
        self.sign_in_account.clear(&account);
        let secret = secrets::new_session_secret();
        let row = sessions_store::insert(
            pool,
            user.id,
            &secrets::token_hash(&secret),
            self.idle,
            self.absolute,
        )
        .await?;
        Ok(NewSession {
            secret,
            id: row.id,
            user,
            expires_at: row.expires_at,
        })
    }

    /// Signs out: the session with this secret ends on every instance.
    pub async fn sign_out(&self, pool: &PgPool, secret: &str) -> Result<(), AuthError> {
        if !secret.is_empty() && secret.len() <= MAX_SECRET {
            sessions_store::delete(pool, &secrets::token_hash(secret)).await?;
        }
        Ok(())
    }

    /// The `Set-Cookie` value that carries a new session: `HttpOnly`,
    /// `SameSite=Lax`, `Path=/`, `Secure` when the public base URL is https,
    /// kept by the browser until the absolute expiry.
    pub fn session_cookie(&self, secret: &str) -> String {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        format!(
            "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
            self.absolute.as_secs()
        )
    }

    /// The `Set-Cookie` value that removes the session cookie (sign-out).
    pub fn clear_session_cookie(&self) -> String {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}")
    }

    /// A hash of a random password with the same parameters as real ones,
    /// verified when the e-mail is unknown (computed once per instance).
    fn dummy_hash(&self) -> Result<&str, UserError> {
        if let Some(h) = self.dummy_hash.get() {
            return Ok(h);
        }
        let h = secrets::hash_password(&secrets::generate_password())?;
        Ok(self.dummy_hash.get_or_init(|| h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(base_url: &str) -> Accounts {
        let mut s = crate::config::load_from(&[]).unwrap();
        s.server.public_base_url = base_url.parse().unwrap();
        Accounts::new(&s)
    }

    #[test]
    fn the_session_cookie_is_http_only_lax_and_secure_only_over_https() {
        let plain = accounts("http://localhost:8080").session_cookie("lns_x");
        assert_eq!(
            plain,
            "lanterne_session=lns_x; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000"
        );
        let tls = accounts("https://go.example.com").session_cookie("lns_x");
        assert!(tls.ends_with("; Secure"), "{tls}");
        let cleared = accounts("https://go.example.com").clear_session_cookie();
        assert!(
            cleared.contains("Max-Age=0") && cleared.ends_with("; Secure"),
            "{cleared}"
        );
    }

    #[test]
    fn roles_below_the_needed_one_are_forbidden() {
        let user = User {
            id: 1,
            email: "v@example.com".into(),
            role: Role::Editor,
            language: None,
            disabled_at: None,
            has_password: false,
            created_at: OffsetDateTime::now_utc(),
        };
        let id = Identity {
            user,
            via: Via::Token(1),
        };
        assert!(id.require(Role::Viewer).is_ok());
        assert!(id.require(Role::Editor).is_ok());
        assert!(matches!(
            id.require(Role::Admin),
            Err(AuthError::Forbidden {
                needed: Role::Admin,
                has: Role::Editor
            })
        ));
    }
}
