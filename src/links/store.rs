//! LinkStore: every SQL statement about links. Each function is one statement
//! (or a retry loop of one statement) and maps named constraints to errors.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{Link, LinkPatch, NewLink, Slug, SlugKind};
use crate::config::SlugSettings;

/// Columns of a `Link` (alias `l`) with its domain's host (alias `d`).
macro_rules! link_columns {
    () => {
        "select l.id, l.domain_id, d.host as domain, l.slug, l.slug_kind, l.destination, \
         l.utm_source, l.utm_medium, l.utm_campaign, l.utm_term, l.utm_content, l.tags, l.title, \
         l.channel, l.parent_id, l.preview_title, l.preview_description, l.preview_image_url, l.expires_at, l.enabled, l.created_by, l.created_at, l.updated_at "
    };
}

/// A `Link` read from the table.
macro_rules! link_select {
    () => {
        concat!(
            link_columns!(),
            "from links l join domains d on d.id = l.domain_id "
        )
    };
}

/// The conditions of a listing's filter ($1 tag, $2 text pattern, $6
/// campaign, $7 parent, $8 top level only), shared by both orders.
macro_rules! list_where {
    () => {
        "where l.deleted_at is null \
         and ($1::text is null or l.tags @> array[$1]) \
         and ($2::text is null or l.slug ilike $2 or l.title ilike $2 or l.destination ilike $2) \
         and ($6::text is null or l.utm_campaign = $6) \
         and ($7::bigint is null or l.parent_id = $7) \
         and (not $8 or l.parent_id is null) "
    };
}

/// A `Link` read from a data-modifying CTE named `l` (the table itself would
/// not show the statement's own change).
macro_rules! link_returning {
    () => {
        concat!(
            link_columns!(),
            "from l join domains d on d.id = l.domain_id"
        )
    };
}

/// How many generated slugs are tried before giving up (a collision is rare:
/// 32^7 slugs; several in a row mean the slug space is nearly full).
const GENERATE_ATTEMPTS: usize = 8;

/// Why a link statement failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `links_domain_slug_key`: the slug is in use on this domain.
    #[error("this slug is already used on this domain")]
    SlugTaken,
    /// No live link with this id.
    #[error("link not found")]
    NotFound,
    /// Generated slugs kept colliding.
    #[error("no free slug found; increase slugs.length")]
    SlugSpaceExhausted,
    /// Anything else from the database.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Maps the unique violation on (domain, slug) to `SlugTaken`.
fn map_unique(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("links_domain_slug_key") => {
            StoreError::SlugTaken
        }
        _ => StoreError::Database(e),
    }
}

/// Filters of a link listing.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only links with this tag.
    pub tag: Option<String>,
    /// Only links with this utm_campaign.
    pub campaign: Option<String>,
    /// Text in slug, title or destination (case-insensitive).
    pub text: Option<String>,
    /// Only the variants of this link.
    pub parent_id: Option<i64>,
    /// Leave the variants out (the workspace's list shows them on their parent's page).
    pub top_level: bool,
    /// Keyset cursor: strictly older than (created_at, id).
    pub before: Option<(OffsetDateTime, i64)>,
    /// Page size.
    pub limit: i64,
    /// The order: newest first (the default) or by human clicks.
    pub order: ListOrder,
}

/// The order of a link listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListOrder {
    /// Newest first; paged by `ListFilter::before`.
    #[default]
    Newest,
    /// Most human clicks since `since` (a UTC day, from the daily rollups;
    /// `stats::link_clicks` reads the same figure), then newest id first.
    Clicks {
        /// First UTC day counted.
        since: time::Date,
        /// Keyset cursor: after (clicks, id) of the previous page's last link.
        after: Option<(i64, i64)>,
    },
}

/// Inserts a link, generating a slug (and retrying on collision) when none was chosen.
#[tracing::instrument(skip_all, fields(domain.id = new.domain_id))]
pub async fn create(
    pool: &PgPool,
    new: &NewLink,
    rules: &SlugSettings,
) -> Result<Link, StoreError> {
    for _ in 0..GENERATE_ATTEMPTS {
        let (slug, kind) = match &new.slug {
            Some(s) => (s.clone(), SlugKind::Custom),
            None => (Slug::generate(rules), SlugKind::Generated),
        };
        match insert(pool, new, &slug, kind).await {
            Err(StoreError::SlugTaken) if kind == SlugKind::Generated => continue,
            other => return other,
        }
    }
    Err(StoreError::SlugSpaceExhausted)
}

async fn insert(
    pool: &PgPool,
    new: &NewLink,
    slug: &Slug,
    kind: SlugKind,
) -> Result<Link, StoreError> {
    sqlx::query_as(concat!(
        "with l as (insert into links (domain_id, slug, slug_kind, destination, utm_source, utm_medium, \
         utm_campaign, utm_term, utm_content, tags, title, channel, parent_id, expires_at, enabled, created_by, \
         preview_title, preview_description, preview_image_url) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
         returning *) ",
        link_returning!()
    ))
    .bind(new.domain_id)
    .bind(slug.as_str())
    .bind(kind.as_str())
    .bind(new.destination.as_str())
    .bind(&new.utm.source)
    .bind(&new.utm.medium)
    .bind(&new.utm.campaign)
    .bind(&new.utm.term)
    .bind(&new.utm.content)
    .bind(&new.tags)
    .bind(&new.title)
    .bind(&new.channel)
    .bind(new.parent_id)
    .bind(new.expires_at)
    .bind(new.enabled)
    .bind(new.created_by)
    .bind(&new.preview.title)
    .bind(&new.preview.description)
    .bind(&new.preview.image_url)
    .fetch_one(pool)
    .await
    .map_err(map_unique)
}

/// A live link by id.
#[tracing::instrument(skip_all, fields(link.id = id))]
pub async fn find(pool: &PgPool, id: i64) -> Result<Link, StoreError> {
    sqlx::query_as(concat!(
        link_select!(),
        "where l.id = $1 and l.deleted_at is null"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A live link by domain and slug key (the cache loader).
#[tracing::instrument(skip_all, fields(domain.id = domain_id))]
pub async fn find_by_slug(
    pool: &PgPool,
    domain_id: i32,
    slug_key: &str,
) -> Result<Option<Link>, StoreError> {
    Ok(sqlx::query_as(concat!(
        link_select!(),
        "where l.domain_id = $1 and l.slug_key = $2 and l.deleted_at is null"
    ))
    .bind(domain_id)
    .bind(slug_key)
    .fetch_optional(pool)
    .await?)
}

/// The version (`updated_at`) of each live link among `ids`; a link deleted
/// or gone is absent (the cache's resync after a lost listener).
#[tracing::instrument(skip_all, fields(links.count = ids.len()))]
pub async fn versions(
    pool: &PgPool,
    ids: &[i64],
) -> Result<Vec<(i64, OffsetDateTime)>, StoreError> {
    Ok(
        sqlx::query_as(
            "select id, updated_at from links where id = any($1) and deleted_at is null",
        )
        .bind(ids)
        .fetch_all(pool)
        .await?,
    )
}

/// The most recently created live links, to warm the cache at start-up.
#[tracing::instrument(skip_all)]
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<Link>, StoreError> {
    Ok(sqlx::query_as(concat!(
        link_select!(),
        "where l.deleted_at is null order by l.created_at desc, l.id desc limit $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// A page of live links, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(pool: &PgPool, f: &ListFilter) -> Result<Vec<Link>, StoreError> {
    let pattern = f.text.as_ref().map(|t| format!("%{}%", escape_like(t)));
    let (before_at, before_id) = f.before.unzip();
    let query = match f.order {
        ListOrder::Newest => sqlx::query_as(concat!(
            link_select!(),
            list_where!(),
            "and ($3::timestamptz is null or (l.created_at, l.id) < ($3, $4)) \
             order by l.created_at desc, l.id desc limit $5"
        )),
        // Human clicks per link over whole UTC days of the daily rollups:
        // one grouped read of the window, joined to the page's candidates.
        ListOrder::Clicks { .. } => sqlx::query_as(concat!(
            link_columns!(),
            "from links l join domains d on d.id = l.domain_id \
             left join (select link_id, sum(events)::bigint as clicks from click_rollups_daily \
                        where dimension = 'all' and kind = 'human' and day >= $9 \
                        group by link_id) c on c.link_id = l.id ",
            list_where!(),
            "and ($10::bigint is null or (coalesce(c.clicks, 0), l.id) < ($10, $11)) \
             order by coalesce(c.clicks, 0) desc, l.id desc limit $5"
        )),
    };
    let (since, after) = match f.order {
        ListOrder::Newest => (None, None),
        ListOrder::Clicks { since, after } => (Some(since), after),
    };
    let (after_clicks, after_id) = after.unzip();
    let query = query
        .bind(&f.tag)
        .bind(pattern)
        .bind(before_at)
        .bind(before_id)
        .bind(f.limit)
        .bind(&f.campaign)
        .bind(f.parent_id)
        .bind(f.top_level);
    let query = match f.order {
        ListOrder::Newest => query,
        ListOrder::Clicks { .. } => query.bind(since).bind(after_clicks).bind(after_id),
    };
    Ok(query.fetch_all(pool).await?)
}

/// The live variants of a link, oldest first.
#[tracing::instrument(skip_all, fields(link.id = parent_id))]
pub async fn variants(pool: &PgPool, parent_id: i64) -> Result<Vec<Link>, StoreError> {
    Ok(sqlx::query_as(concat!(
        link_select!(),
        "where l.parent_id = $1 and l.deleted_at is null order by l.id"
    ))
    .bind(parent_id)
    .fetch_all(pool)
    .await?)
}

/// What an update changed, for the caches.
#[derive(Debug, Clone)]
pub struct Updated {
    /// The link as it is now.
    pub link: Link,
    /// Its `(domain_id, slug_key)` before the change.
    pub old_key: (i32, String),
    /// `(domain_id, slug_key)` of the variants that followed the change.
    pub variants: Vec<(i32, String)>,
}

/// Applies a partial update to a live link, in one transaction. Its
/// variants follow a change of destination or UTM field wherever they still
/// had the link's old value (they inherited it), and keep their own values
/// elsewhere.
#[tracing::instrument(skip_all, fields(link.id = id))]
pub async fn update(pool: &PgPool, id: i64, p: &LinkPatch) -> Result<Updated, StoreError> {
    let mut tx = pool.begin().await?;
    let old: Link = sqlx::query_as(concat!(
        link_select!(),
        "where l.id = $1 and l.deleted_at is null for update of l"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let link = update_row(&mut tx, id, p).await?;
    let variants = if link.destination != old.destination
        || link.utm() != old.utm()
        || link.preview_fields() != old.preview_fields()
    {
        follow_parent(&mut tx, &old, &link).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok(Updated {
        old_key: (old.domain_id, old.slug.to_ascii_lowercase()),
        link,
        variants,
    })
}

async fn update_row(
    tx: &mut sqlx::PgConnection,
    id: i64,
    p: &LinkPatch,
) -> Result<Link, StoreError> {
    let [source, medium, campaign, term, content] = p.utm.clone().into_array().map(|c| split(&c));
    let (title_set, title) = split(&p.title);
    let (channel_set, channel) = split(&p.channel);
    let (parent_set, parent) = split(&p.parent_id);
    let (expiry_set, expiry) = split(&p.expires_at);
    let (card_title_set, card_title) = split(&p.preview.title);
    let (card_text_set, card_text) = split(&p.preview.description);
    let (card_image_set, card_image) = split(&p.preview.image_url);
    sqlx::query_as(concat!(
        "with l as (update links set \
           slug = coalesce($2, slug), \
           slug_kind = case when $2 is null then slug_kind else 'custom' end, \
           destination = coalesce($3, destination), \
           utm_source = case when $4 then $5 else utm_source end, \
           utm_medium = case when $6 then $7 else utm_medium end, \
           utm_campaign = case when $8 then $9 else utm_campaign end, \
           utm_term = case when $10 then $11 else utm_term end, \
           utm_content = case when $12 then $13 else utm_content end, \
           tags = coalesce($14, tags), \
           title = case when $15 then $16 else title end, \
           channel = case when $17 then $18 else channel end, \
           parent_id = case when $19 then $20 else parent_id end, \
           expires_at = case when $21 then $22 else expires_at end, \
           enabled = coalesce($23, enabled), \
           preview_title = case when $24 then $25 else preview_title end, \
           preview_description = case when $26 then $27 else preview_description end, \
           preview_image_url = case when $28 then $29 else preview_image_url end, \
           updated_at = now() \
         where id = $1 and deleted_at is null returning *) ",
        link_returning!()
    ))
    .bind(id)
    .bind(p.slug.as_ref().map(Slug::as_str))
    .bind(p.destination.as_ref().map(|d| d.as_str()))
    .bind(source.0)
    .bind(source.1)
    .bind(medium.0)
    .bind(medium.1)
    .bind(campaign.0)
    .bind(campaign.1)
    .bind(term.0)
    .bind(term.1)
    .bind(content.0)
    .bind(content.1)
    .bind(&p.tags)
    .bind(title_set)
    .bind(title)
    .bind(channel_set)
    .bind(channel)
    .bind(parent_set)
    .bind(parent)
    .bind(expiry_set)
    .bind(expiry)
    .bind(p.enabled)
    .bind(card_title_set)
    .bind(card_title)
    .bind(card_text_set)
    .bind(card_text)
    .bind(card_image_set)
    .bind(card_image)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_unique)?
    .ok_or(StoreError::NotFound)
}

/// Moves the variants of `old` that still carry its old destination, UTM or
/// preview card values to the new ones; returns the keys of those that changed.
async fn follow_parent(
    tx: &mut sqlx::PgConnection,
    old: &Link,
    new: &Link,
) -> Result<Vec<(i32, String)>, StoreError> {
    Ok(sqlx::query_as(
        "with v as (update links set \
           destination = case when destination = $2 then $3 else destination end, \
           utm_source = case when utm_source is not distinct from $4 then $5 else utm_source end, \
           utm_medium = case when utm_medium is not distinct from $6 then $7 else utm_medium end, \
           utm_campaign = case when utm_campaign is not distinct from $8 then $9 else utm_campaign end, \
           utm_term = case when utm_term is not distinct from $10 then $11 else utm_term end, \
           utm_content = case when utm_content is not distinct from $12 then $13 else utm_content end, \
           preview_title = case when preview_title is not distinct from $14 then $15 else preview_title end, \
           preview_description = case when preview_description is not distinct from $16 then $17 \
             else preview_description end, \
           preview_image_url = case when preview_image_url is not distinct from $18 then $19 \
             else preview_image_url end, \
           updated_at = now() \
         where parent_id = $1 and deleted_at is null \
           and (destination = $2 or utm_source is not distinct from $4 \
                or utm_medium is not distinct from $6 or utm_campaign is not distinct from $8 \
                or utm_term is not distinct from $10 or utm_content is not distinct from $12 \
                or preview_title is not distinct from $14 \
                or preview_description is not distinct from $16 \
                or preview_image_url is not distinct from $18) \
         returning domain_id, slug_key) select domain_id, slug_key from v",
    )
    .bind(old.id)
    .bind(&old.destination)
    .bind(&new.destination)
    .bind(&old.utm_source)
    .bind(&new.utm_source)
    .bind(&old.utm_medium)
    .bind(&new.utm_medium)
    .bind(&old.utm_campaign)
    .bind(&new.utm_campaign)
    .bind(&old.utm_term)
    .bind(&new.utm_term)
    .bind(&old.utm_content)
    .bind(&new.utm_content)
    .bind(&old.preview_title)
    .bind(&new.preview_title)
    .bind(&old.preview_description)
    .bind(&new.preview_description)
    .bind(&old.preview_image_url)
    .bind(&new.preview_image_url)
    .fetch_all(&mut *tx)
    .await?)
}

/// Soft-deletes a live link: it stops redirecting, its slug is freed, its clicks stay.
#[tracing::instrument(skip_all, fields(link.id = id))]
pub async fn delete(pool: &PgPool, id: i64) -> Result<(), StoreError> {
    let done = sqlx::query("update links set deleted_at = now(), updated_at = now() where id = $1 and deleted_at is null")
        .bind(id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// `(was given, new value)` of a clearable patch field.
fn split<T: Clone>(field: &Option<Option<T>>) -> (bool, Option<T>) {
    (field.is_some(), field.clone().flatten())
}

/// Escapes LIKE wildcards so that user text matches literally.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
