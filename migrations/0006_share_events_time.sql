-- Instances load the previews of the last preview window from share_events
-- when they start and after their listener reconnects (see
-- src/clicks/previews.rs): a time range over all links, which the
-- (link_id, occurred_at) index cannot serve.
create index share_events_time_idx on share_events (occurred_at);
