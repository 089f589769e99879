-- Domains and links: what the redirect serves.

-- Served domains come from the configuration and are upserted at start-up;
-- links refer to them by id so that a domain can be renamed in one place.
create table domains (
    id         integer generated always as identity primary key,
    -- Lowercase host name without port, e.g. 'go.example.com'.
    host       text not null,
    created_at timestamptz not null default now(),
    constraint domains_host_key unique (host)
);

create table links (
    id           bigint generated always as identity primary key,
    domain_id    integer not null references domains (id),
    -- The slug as the user wrote it (shown back as is) ...
    slug         text not null,
    -- ... and the key it is matched by: slugs are case-insensitive, so that a
    -- vanity slug read aloud or printed works however it is typed.
    slug_key     text generated always as (lower(slug)) stored,
    -- 'generated' slugs nobody types; 'custom' ones may be typed from memory,
    -- which matters to attribution (Sec-Fetch-Site: none means less for them).
    slug_kind    text not null check (slug_kind in ('generated', 'custom')),
    destination  text not null check (length(destination) <= 4096),
    utm_source   text,
    utm_medium   text,
    utm_campaign text,
    utm_term     text,
    utm_content  text,
    -- Few tags per link, filtered with @>: an array with a GIN index is simpler
    -- and faster than a join table at this size.
    tags         text[] not null default '{}',
    title        text,
    -- Declared channel of this link or variant (whatsapp, sms, email, qr...).
    channel      text,
    -- A per-channel variant points at the link it was made from.
    parent_id    bigint references links (id),
    expires_at   timestamptz,
    enabled      boolean not null default true,
    created_by   bigint references users (id) on delete set null,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    -- Deleting a link keeps the row (its clicks keep their meaning) and frees the slug.
    deleted_at   timestamptz
);

-- One live link per (domain, slug); the name is mapped to a 409 slug_taken.
create unique index links_domain_slug_key on links (domain_id, slug_key) where deleted_at is null;
-- Listing: newest first, keyset pagination on (created_at, id).
create index links_created_idx on links (created_at desc, id desc) where deleted_at is null;
create index links_tags_idx on links using gin (tags);
create index links_parent_idx on links (parent_id) where parent_id is not null;

-- Every change to a link tells all Lanterne instances to drop their cached
-- copy. The payload is '<domain_id>:<slug_key>:<version>' (old and new key
-- when the slug changes), the version being the change's time in
-- microseconds: an instance that already holds that version (it made the
-- change itself) keeps its entry.
create function links_notify() returns trigger language plpgsql as $$
declare
    version text := (extract(epoch from now()) * 1000000)::bigint::text;
begin
    if tg_op in ('UPDATE', 'DELETE') then
        perform pg_notify('lanterne_links', old.domain_id || ':' || old.slug_key || ':' || version);
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform pg_notify('lanterne_links', new.domain_id || ':' || new.slug_key || ':' || version);
    end if;
    return null;
end;
$$;

create trigger links_notify after insert or update or delete on links
    for each row execute function links_notify();
