//! Who is acting: an API token or a session secret → an [`Identity`], the
//! refusals ([`AuthError`]) and the [`Accounts`] state of an instance
//! (session settings, throttles). Failed checks are throttled in memory per
//! client IP, with backoff, before any database round trip; sign-in
//! (`sign_in.rs`) is throttled per account and per IP. Never logs a secret
//! or an IP.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use sqlx::PgPool;

use super::{
    Role, User, UserError, secrets, sessions_store, store,
    throttle::{Policy, Throttle, ip_key},
};
use crate::config::Settings;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "lanterne_session";

/// Longest token or session secret looked up (ours are 47 characters).
pub(super) const MAX_SECRET: usize = 128;

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

/// The accounts part of the application state: session settings and the
/// failure throttles of this instance.
#[derive(Debug)]
pub struct Accounts {
    pub(super) idle: Duration,
    pub(super) absolute: Duration,
    pub(super) secure_cookie: bool,
    failed_auth: Throttle<IpAddr>,
    pub(super) sign_in_ip: Throttle<IpAddr>,
    pub(super) sign_in_account: Throttle<String>,
    /// A hash of a random password with the parameters of real ones,
    /// verified when the e-mail is unknown (so that it takes as long).
    pub(super) dummy_hash: String,
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
            // One Argon2 hash per start (tens of milliseconds).
            dummy_hash: secrets::hash_password(&secrets::generate_password())
                .expect("hashing a generated password"),
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

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
