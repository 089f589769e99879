-- People who use Lanterne (marketers, analysts, admins) and their API tokens.

create table users (
    id            bigint generated always as identity primary key,
    -- E-mail as typed; uniqueness ignores case (see users_email_key below).
    email         text not null check (length(email) between 3 and 254),
    -- admin: everything; editor: create and change links; viewer: read only.
    role          text not null check (role in ('admin', 'editor', 'viewer')),
    -- Argon2id PHC string; null for an account that cannot log in with a password.
    password_hash text,
    created_at    timestamptz not null default now()
);
-- Named so that a duplicate maps to a clear "email_taken" error.
create unique index users_email_key on users (lower(email));

create table api_tokens (
    id           bigint generated always as identity primary key,
    user_id      bigint not null references users (id) on delete cascade,
    name         text not null default '',
    -- SHA-256 of the token. Tokens are 256-bit random values, so a fast hash is
    -- enough (no dictionary to guess from); the token itself is shown once.
    token_hash   bytea not null,
    -- First characters of the token, so that people can tell tokens apart.
    prefix       text not null,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    -- Revoked tokens stay for the audit trail; they no longer authenticate.
    revoked_at   timestamptz,
    constraint api_tokens_token_hash_key unique (token_hash)
);
create index api_tokens_user_idx on api_tokens (user_id);
