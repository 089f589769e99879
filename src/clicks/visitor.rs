//! Unique visitors without tracking: a hash of (daily salt, IP, User-Agent,
//! link). The salt is random, one per UTC day, shared by the instances through
//! the `visitor_salts` table, and deleted when the day is over, so yesterday's
//! hashes can never be recomputed or linked to today's. No hash is made for a
//! request that sends `DNT: 1` or `Sec-GPC: 1`.

use std::{
    net::IpAddr,
    sync::{Arc, RwLock},
    time::Duration,
};

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Date, OffsetDateTime};

/// Bytes of the stored hash (128 bits: collisions are negligible per link and day).
pub const HASH_BYTES: usize = 16;

/// The current day's salt, shared between the salt task and the writer.
#[derive(Debug, Clone)]
pub struct Salts(Arc<RwLock<(Date, [u8; 32])>>);

impl Salts {
    /// A salt drawn locally for today (used until the database's is fetched).
    pub fn local() -> Salts {
        Salts(Arc::new(RwLock::new((today(), rand::random()))))
    }

    fn set(&self, day: Date, salt: [u8; 32]) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = (day, salt);
    }

    /// The visitor hash of a request, or `None` when the visitor opted out.
    pub fn visitor_hash(
        &self,
        ip: IpAddr,
        user_agent: &str,
        link_id: i64,
        opted_out: bool,
    ) -> Option<[u8; HASH_BYTES]> {
        if opted_out {
            return None;
        }
        let (_, salt) = *self.0.read().unwrap_or_else(|p| p.into_inner());
        let mut h = Sha256::new();
        h.update(salt);
        match ip.to_canonical() {
            IpAddr::V4(v4) => h.update(v4.octets()),
            IpAddr::V6(v6) => h.update(v6.octets()),
        }
        h.update([0]);
        h.update(user_agent.as_bytes());
        h.update([0]);
        h.update(link_id.to_le_bytes());
        let mut out = [0; HASH_BYTES];
        out.copy_from_slice(&h.finalize()[..HASH_BYTES]);
        Some(out)
    }
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Fetches (or creates) today's salt and deletes older ones.
#[tracing::instrument(skip_all)]
pub async fn refresh(pool: &PgPool, salts: &Salts) -> Result<(), sqlx::Error> {
    let day = today();
    let candidate: [u8; 32] = rand::random();
    sqlx::query(
        "insert into visitor_salts (day, salt) values ($1, $2) on conflict (day) do nothing",
    )
    .bind(day)
    .bind(&candidate[..])
    .execute(pool)
    .await?;
    let salt: Vec<u8> = sqlx::query_scalar("select salt from visitor_salts where day = $1")
        .bind(day)
        .fetch_one(pool)
        .await?;
    sqlx::query("delete from visitor_salts where day < $1")
        .bind(day)
        .execute(pool)
        .await?;
    if let Ok(salt) = <[u8; 32]>::try_from(salt.as_slice()) {
        salts.set(day, salt);
    }
    Ok(())
}

/// Keeps the salt current (checked every minute, so a new day's salt is in
/// use within a minute of midnight UTC).
pub async fn keep_fresh(pool: PgPool, salts: Salts) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        if let Err(e) = refresh(&pool, &salts).await {
            tracing::warn!(error = %e, "cannot refresh the visitor salt; keeping the current one");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_depend_on_salt_ip_agent_and_link_and_respect_opt_out() {
        let s = Salts::local();
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let a = s.visitor_hash(ip, "UA", 1, false).unwrap();
        assert_eq!(a.len(), HASH_BYTES);
        assert_eq!(
            Some(a),
            s.visitor_hash(ip, "UA", 1, false),
            "stable within the day"
        );
        assert_ne!(Some(a), s.visitor_hash(ip, "UA", 2, false), "per link");
        assert_ne!(Some(a), s.visitor_hash(ip, "UA2", 1, false));
        assert_ne!(
            Some(a),
            s.visitor_hash("203.0.113.10".parse().unwrap(), "UA", 1, false)
        );
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        assert_eq!(
            Some(a),
            s.visitor_hash(mapped, "UA", 1, false),
            "IPv4-mapped is the same client"
        );
        assert_ne!(
            Some(a),
            Salts::local().visitor_hash(ip, "UA", 1, false),
            "another salt, another hash"
        );
        assert_eq!(s.visitor_hash(ip, "UA", 1, true), None, "DNT/GPC: no hash");
    }
}
