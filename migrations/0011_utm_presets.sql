-- Saved UTM presets: named sets of UTM fields ("Newsletter":
-- source=newsletter, medium=email) that a marketer applies to a link's UTM
-- builder. Workspace-wide: editors and admins create and delete them,
-- everyone sees them. The rules (name 1-60 characters, unique ignoring
-- case, UTM values as on links, at least one field) live in
-- src/links/presets.rs; the checks here are a last guard.
create table utm_presets (
    id           bigint generated always as identity primary key,
    name         text not null check (char_length(name) between 1 and 60),
    utm_source   text,
    utm_medium   text,
    utm_campaign text,
    utm_term     text,
    utm_content  text,
    -- Who saved it; kept when that user is deleted.
    created_by   bigint references users (id) on delete set null,
    created_at   timestamptz not null default now(),
    constraint utm_presets_not_empty check (num_nonnulls(utm_source, utm_medium,
        utm_campaign, utm_term, utm_content) > 0)
);
-- Named so that a duplicate maps to a clear "name_taken" error.
create unique index utm_presets_name_key on utm_presets (lower(name));
