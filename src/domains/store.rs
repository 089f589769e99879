//! SQL of the `domains` table.

use sqlx::PgPool;

use super::Domain;

/// Inserts the configured hosts that are new and returns all of them with ids.
#[tracing::instrument(skip_all, fields(domains.count = hosts.len()))]
pub async fn upsert(pool: &PgPool, hosts: &[String]) -> Result<Vec<Domain>, sqlx::Error> {
    sqlx::query(
        "insert into domains (host) select unnest($1::text[]) on conflict (host) do nothing",
    )
    .bind(hosts)
    .execute(pool)
    .await?;
    let rows: Vec<(i32, String)> =
        sqlx::query_as("select id, host from domains where host = any($1)")
            .bind(hosts)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, host)| Domain { id, host })
        .collect())
}
