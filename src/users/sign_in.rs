//! Sign-in and sign-out: e-mail and password → a new session (a new id at
//! every sign-in), and the `Set-Cookie` values that carry it. Argon2 runs on
//! a blocking thread; an unknown e-mail costs the same verification as a
//! known one, and every refusal is the same `AuthError::Invalid`. Failures
//! are throttled per account and per client IP (see `identity.rs`).

use std::{net::IpAddr, time::Instant};

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    User, UserError,
    identity::{Accounts, AuthError, MAX_SECRET, SESSION_COOKIE},
    secrets, sessions_store, store,
    throttle::ip_key,
};

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

impl Accounts {
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
        // Charged before the slow check, cleared on success: parallel
        // guesses at one account cannot all slip past the lock.
        self.sign_in_account.fail(account.clone(), now);
        let found = store::credentials(pool, &account).await?;
        let (user, phc) = match found {
            Some((user, Some(phc))) => (Some(user), phc),
            Some((_, None)) | None => (None, self.dummy_hash.clone()),
        };
        let given = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || secrets::verify_password(&given, &phc))
            .await
            .map_err(|e| UserError::Hash(e.to_string()))?;
        let Some(user) = user.filter(|u| matches && u.is_active()) else {
            self.sign_in_ip.fail(ip, Instant::now());
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
}
