-- Preview cards: what a chat app shows when a link is pasted into it.

-- A link may carry a card; Lanterne answers a preview fetcher (WhatsApp,
-- Telegram, Slack, iMessage...) with these as Open Graph tags. A card is
-- any of the three set; all null means none (the link redirects every
-- request, as before). The rules (lengths, no control characters, https
-- only) live in src/links/fields.rs; the checks here are a last guard.
alter table links
    -- og:title; the link's title stands in when null.
    add column preview_title       text,
    -- og:description.
    add column preview_description text,
    -- og:image: an https URL of the image the app shows.
    add column preview_image_url   text,
    -- Bounds a little above the application's, so only a bug trips them.
    add constraint links_preview_title_len check (char_length(preview_title) <= 300),
    add constraint links_preview_description_len check (char_length(preview_description) <= 1000),
    add constraint links_preview_image_url_https check (preview_image_url like 'https://%');
