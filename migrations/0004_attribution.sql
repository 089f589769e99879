-- Attribution: each human click carries its classification; previews become
-- share events; bots and prefetches are counted per link and day.

-- What the dashboards group by, computed once when the click arrives.
alter table clicks
    add column channel       text,      -- dark_social, direct, social, search, email, referral, qr, internal
    add column source        text,      -- the app or site (whatsapp, google, ...)
    add column inapp         text,      -- in-app browser that made the request
    add column evidence      text[] not null default '{}',  -- signals behind it, strongest first
    add column browser       text,
    add column os            text,
    add column device        text,      -- desktop, mobile, tablet, other
    add column country       text,      -- ISO 3166-1 alpha-2, from the IP (never stored)
    add column region        text,
    add column city          text,
    add column referrer_host text,
    -- SHA-256 of (daily salt, IP, User-Agent, link), truncated; null under DNT/GPC.
    add column visitor_hash  bytea,
    -- The link's UTM fields at the time of the click (links can be edited later).
    add column utm_source    text,
    add column utm_medium    text,
    add column utm_campaign  text;

-- A preview (unfurl) by a messaging or social app: the link was just pasted
-- there. Not a click. Idempotent on the event id, like clicks.
create table share_events (
    id          uuid primary key,
    occurred_at timestamptz not null,
    link_id     bigint not null,
    app         text not null,
    evidence    text[] not null default '{}'
);
create index share_events_link_time_idx on share_events (link_id, occurred_at);

-- Bots and prefetches: one narrow row each, kept briefly as the ledger that
-- makes the daily counts exactly-once (a replayed event is skipped here, so it
-- is not counted twice), then pruned.
create table filtered_requests (
    id          uuid primary key,
    occurred_at timestamptz not null,
    link_id     bigint not null,
    kind        text not null check (kind in ('bot', 'prefetch')),
    source      text
);
create index filtered_requests_time_idx on filtered_requests (occurred_at);

-- Bots and prefetches per link and day (UTC); outlives the ledger above.
create table link_daily_counts (
    link_id  bigint not null,
    day      date not null,
    kind     text not null check (kind in ('bot', 'prefetch')),
    requests bigint not null,
    constraint link_daily_counts_pkey primary key (link_id, day, kind)
);

-- The salt of the visitor hash, one per UTC day, shared by all instances and
-- deleted once the day is over, so that no hash can be recomputed later.
create table visitor_salts (
    day  date primary key,
    salt bytea not null check (length(salt) = 32)
);
