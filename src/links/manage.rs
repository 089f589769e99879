//! `Links`: what people do to links — create, change, delete, find, list —
//! with every rule checked once, for the API and the pages alike. It parses
//! the input (all field errors at once), looks up the parent, calls the
//! store and keeps this instance's cache current (the store's trigger tells
//! the other instances). It never renders anything.

use std::sync::Arc;

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    InvalidLink, Link, Problem,
    cache::{self, LinkCache},
    input::{self, LinkInput, LinkPatchInput, Parent, Rules},
    paging::PageRequest,
    store::{self, ListFilter, StoreError},
};
use crate::{config::SlugSettings, domains::Domains};

/// The link desk of one instance: cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Links(Arc<Inner>);

struct Inner {
    pool: PgPool,
    cache: Arc<LinkCache>,
    domains: Domains,
    served_hosts: Vec<String>,
    slugs: SlugSettings,
}

/// Why a link action failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Fields were refused; nothing was written.
    #[error(transparent)]
    Invalid(#[from] InvalidLink),
    /// No live link with this id.
    #[error("link not found")]
    NotFound,
    /// Generated slugs kept colliding.
    #[error("no free slug found; increase slugs.length")]
    SlugSpaceExhausted,
    /// The database.
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<StoreError> for LinkError {
    fn from(e: StoreError) -> LinkError {
        match e {
            StoreError::SlugTaken => InvalidLink::one("slug", Problem::SlugTaken).into(),
            StoreError::NotFound => LinkError::NotFound,
            StoreError::SlugSpaceExhausted => LinkError::SlugSpaceExhausted,
            StoreError::Database(db) => LinkError::Database(db),
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct LinkPage {
    /// The links, newest first.
    pub links: Vec<Link>,
    /// Cursor of the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

impl Links {
    /// The desk over a pool, this instance's cache and the served domains.
    pub fn new(
        pool: PgPool,
        cache: Arc<LinkCache>,
        domains: Domains,
        slugs: SlugSettings,
    ) -> Links {
        Links(Arc::new(Inner {
            served_hosts: domains.hosts(),
            pool,
            cache,
            domains,
            slugs,
        }))
    }

    /// The pool (for the desk's other files: variants, share kit).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.0.pool
    }

    /// The served domains.
    pub fn domains(&self) -> &Domains {
        &self.0.domains
    }

    /// The public short URL of a link.
    pub fn short_url(&self, link: &Link) -> String {
        self.0.domains.short_url(&link.domain, &link.slug)
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            domains: &self.0.domains,
            served_hosts: &self.0.served_hosts,
            slugs: &self.0.slugs,
            now: OffsetDateTime::now_utc(),
        }
    }

    /// Creates a link (a variant when `parent_id` is set).
    pub async fn create(&self, input: LinkInput, by: Option<i64>) -> Result<Link, LinkError> {
        let parent = self.parent(input.parent_id).await?;
        let new = input::parse_new(input, self.rules(), parent.as_parent(), by)?;
        let link = store::create(&self.0.pool, &new, &self.0.slugs).await?;
        self.0.cache.put(&link);
        Ok(link)
    }

    /// Changes a link; its variants follow where they inherited.
    pub async fn update(&self, id: i64, input: LinkPatchInput) -> Result<Link, LinkError> {
        let parent = self.parent(input.parent_id.flatten()).await?;
        let patch = input::parse_patch(input, id, self.rules(), parent.as_parent())?;
        let done = store::update(&self.0.pool, id, &patch).await?;
        let cache = &self.0.cache;
        let (domain_id, old_slug) = &done.old_key;
        cache.invalidate(&cache::key(*domain_id, old_slug));
        for (domain_id, slug) in &done.variants {
            cache.invalidate(&cache::key(*domain_id, slug));
        }
        cache.put(&done.link);
        Ok(done.link)
    }

    /// Deletes a link: it stops redirecting and its slug is free again.
    pub async fn delete(&self, id: i64) -> Result<(), LinkError> {
        let link = store::find(&self.0.pool, id).await?;
        store::delete(&self.0.pool, link.id).await?;
        self.0
            .cache
            .invalidate(&cache::key(link.domain_id, &link.slug));
        Ok(())
    }

    /// A live link.
    pub async fn find(&self, id: i64) -> Result<Link, LinkError> {
        Ok(store::find(&self.0.pool, id).await?)
    }

    /// A page of live links matching `filter` (its paging fields are set from `page`).
    pub async fn list(
        &self,
        mut filter: ListFilter,
        page: PageRequest,
    ) -> Result<LinkPage, LinkError> {
        filter.limit = page.limit;
        filter.before = page.before;
        let links = store::list(&self.0.pool, &filter).await?;
        Ok(LinkPage {
            next_cursor: page.next_cursor(&links),
            links,
        })
    }

    /// The refused fields of an input, without writing anything (a form
    /// that refused a field of its own still shows every other problem).
    pub fn check_new(&self, input: LinkInput) -> Option<InvalidLink> {
        input::parse_new(input, self.rules(), Parent::None, None).err()
    }

    /// Whether a custom slug could be taken on a domain now (the live check
    /// of the form; the create itself checks again).
    pub async fn slug_available(
        &self,
        domain: Option<&str>,
        slug: &str,
    ) -> Result<Result<(), Problem>, LinkError> {
        let Some(domain) = self.0.domains.by_name(domain) else {
            return Ok(Err(Problem::UnknownDomain));
        };
        let slug = match super::Slug::parse(slug.trim(), &self.0.slugs) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e.into())),
        };
        let taken = store::find_by_slug(&self.0.pool, domain.id, &slug.key())
            .await?
            .is_some();
        Ok(if taken {
            Err(Problem::SlugTaken)
        } else {
            Ok(())
        })
    }

    async fn parent(&self, id: Option<i64>) -> Result<Lookup, LinkError> {
        let Some(id) = id else {
            return Ok(Lookup::None);
        };
        match store::find(&self.0.pool, id).await {
            Ok(link) => Ok(Lookup::Found(Box::new(link))),
            Err(StoreError::NotFound) => Ok(Lookup::Missing),
            Err(e) => Err(e.into()),
        }
    }
}

/// An owned parent lookup (borrowed as [`Parent`] by the parse).
enum Lookup {
    None,
    Missing,
    Found(Box<Link>),
}

impl Lookup {
    fn as_parent(&self) -> Parent<'_> {
        match self {
            Lookup::None => Parent::None,
            Lookup::Missing => Parent::Missing,
            Lookup::Found(l) => Parent::Found(l),
        }
    }
}
