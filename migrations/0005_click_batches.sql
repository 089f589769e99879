-- Exactly-once per batch instead of per row.
--
-- The click writer forms batches of events and never changes one afterwards:
-- a batch keeps its id through retries, the memory buffer, the spool and
-- replay. Writing a batch inserts its id here in the same transaction as its
-- rows, so a batch whose commit was not acknowledged (or a spool segment
-- replayed twice) is recognised here and skipped whole.
--
-- That makes the per-row primary key of `clicks` redundant. It cost a unique
-- index entry per click (about a fifth of PostgreSQL's work per stored click,
-- measured with bench/redirect.sh), so it goes. The event id stays in the row
-- (unindexed) for exports and cross-checks.

create table click_batches (
    id         uuid primary key,          -- UUIDv7, assigned when the batch is formed
    events     integer not null,          -- events in the batch (all kinds)
    written_at timestamptz not null default now()
);
-- The upkeep deletes ledger rows older than clicks.ledger_retention.
create index click_batches_written_at_idx on click_batches (written_at);

alter table clicks drop constraint clicks_pkey;
