-- Accounts: users can be disabled and choose a UI language, and sign-in
-- sessions live here so that they survive restarts and are shared by instances.

-- Set when an admin disables the user: its tokens and sessions stop working
-- at once (every check joins users and requires this to be null).
alter table users add column disabled_at timestamptz;
-- UI language; null means "from the browser's Accept-Language".
alter table users add column language text
    constraint users_language_check check (language in ('en', 'fr'));

create table sessions (
    id              bigint generated always as identity primary key,
    -- SHA-256 of the cookie's secret (256 random bits, so a fast hash is
    -- enough, as for api_tokens); the secret itself is only in the cookie.
    secret_hash     bytea not null,
    -- Deleting a user deletes its sessions.
    user_id         bigint not null references users (id) on delete cascade,
    created_at      timestamptz not null default now(),
    -- Refreshed at most once a minute, so that a page view rarely writes.
    last_seen_at    timestamptz not null default now(),
    -- last_seen_at + sessions.idle_timeout, never beyond expires_at.
    idle_expires_at timestamptz not null,
    -- created_at + sessions.absolute_timeout: the session ends then, used or not.
    expires_at      timestamptz not null,
    -- Named so that a (vanishingly unlikely) duplicate maps to a clear error.
    constraint sessions_secret_hash_key unique (secret_hash),
    constraint sessions_expiry_check check (idle_expires_at <= expires_at)
);
-- A user's sessions are deleted together (disable, password change).
create index sessions_user_idx on sessions (user_id);
-- Expired sessions are purged by their absolute expiry.
create index sessions_expires_idx on sessions (expires_at);
