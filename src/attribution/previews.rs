//! Link-preview fetchers (`data/previews.tsv`): which app's unfurler sent a request. A
//! preview is a share event of that app, never a click. Owns no other rule.

use std::sync::LazyLock;

use super::rules::{Pick, Scan, Scanner, ScannerBuilder, TableId, table};
use super::signals::{LowerUa, UA_MAX_HUMAN_BYTES};

/// The compiled preview-fetcher tokens.
pub(crate) struct Previews {
    table: TableId,
    apps: Vec<&'static str>,
}

impl Previews {
    /// Loads `data/previews.tsv` into the shared scanner.
    pub(crate) fn new(scanner: &mut ScannerBuilder) -> Self {
        let previews = table(include_str!("data/previews.tsv"), Pick::FirstRow, |app| app);
        Previews {
            table: scanner.add(&previews),
            apps: previews.values,
        }
    }

    /// The app whose preview fetcher the scanned User-Agent is.
    pub(crate) fn app(&self, ua: &Scan) -> Option<&'static str> {
        ua.row(self.table).map(|row| self.apps[row])
    }
}

/// The preview table alone, compiled on first use (the redirect asks only
/// for links that carry a preview card).
static ALONE: LazyLock<(Scanner, Previews)> = LazyLock::new(|| {
    let mut builder = ScannerBuilder::default();
    let previews = Previews::new(&mut builder);
    (builder.build(), previews)
});

/// The app whose link-preview fetcher sent `user_agent`, if one did: the
/// classifier's own preview rule (same table, and an oversized User-Agent
/// is no preview), for a caller that must answer before classifying.
pub fn preview_app(user_agent: &str) -> Option<&'static str> {
    let ua = user_agent.trim();
    if ua.is_empty() || ua.len() > UA_MAX_HUMAN_BYTES {
        return None;
    }
    let (scanner, previews) = &*ALONE;
    previews.app(&scanner.scan(LowerUa::new(ua).bytes()))
}

#[cfg(test)]
mod tests {
    use super::super::signals::LowerUa;
    use super::*;

    fn previews() -> impl Fn(&str) -> Option<&'static str> {
        let mut builder = ScannerBuilder::default();
        let previews = Previews::new(&mut builder);
        let scanner = builder.build();
        move |ua| previews.app(&scanner.scan(LowerUa::new(ua).bytes()))
    }

    /// Real preview-fetcher User-Agents, one or more per app.
    const CASES: &[(&str, &str)] = &[
        // https://github.com/monperrus/crawler-user-agents (crawler-user-agents.json, "WhatsApp")
        ("WhatsApp/2.19.330 A", "whatsapp"),
        ("WhatsApp/2.12.15/i", "whatsapp"),
        // crawler-user-agents.json and CrawlerDetect tests/fixtures/user_agent/crawlers.txt list
        // the bare "WhatsApp" as WhatsApp's (Signal-Desktop sends it too; issue 14: a bug to
        // name it another app)
        ("WhatsApp", "whatsapp"),
        // CrawlerDetect crawlers.txt (MIT): Odnoklassniki, VK, Yahoo Mail, Quora
        ("OdklBot/1.0 (klass@odnoklassniki.ru)", "odnoklassniki"),
        (
            "Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)",
            "vk",
        ),
        (
            "Mozilla/5.0 (compatible; Yahoo Link Preview; https://help.yahoo.com/kb/mail/yahoo-link-preview-SLN23615.html)",
            "yahoo",
        ),
        ("Quora Link Preview/1.0 (http://www.quora.com)", "quora"),
        // crawler-user-agents.json "GroupMeBot"
        ("GroupMeBot/1.0", "groupme"),
        // TikTok's fetcher (https://www.tiktok.com/robots.txt names TikTokSpider)
        (
            "Mozilla/5.0 (compatible; TikTokSpider; ttspider-feedback@tiktok.com)",
            "tiktok",
        ),
        // Steam chat link lookups (Valve's HTTP client token)
        ("Valve/Steam HTTP Client 1.0 (SteamChatURLLookup)", "steam"),
        // Flipboard's proxy (crawler-user-agents "FlipboardProxy")
        (
            "Mozilla/5.0 (compatible; FlipboardProxy/1.1; +http://flipboard.com/browserproxy)",
            "flipboard",
        ),
        // crawler-user-agents.json "TelegramBot"
        ("TelegramBot (like TwitterBot)", "telegram"),
        // https://api.slack.com/robots
        (
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "slack",
        ),
        ("Slack-ImgProxy (+https://api.slack.com/robots)", "slack"),
        // crawler-user-agents.json "Discordbot"
        (
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "discord",
        ),
        // https://developers.facebook.com/docs/sharing/webmasters/web-crawlers
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "facebook",
        ),
        ("Facebot/1.0", "facebook"),
        // crawler-user-agents.json "MetaIAB Facebook"
        (
            "Mozilla/5.0 (Linux; Android 16; Pixel 10 Pro XL Build/CP1A.260305.018; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/146.0.7680.174 Mobile Safari/537.36 MetaIAB Facebook",
            "facebook",
        ),
        // crawler-user-agents.json "Twitterbot"
        ("Twitterbot/1.0", "twitter"),
        // ua-parser/uap-core tests/test_ua.yaml (LinkedInBot)
        (
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Jakarta Commons-HttpClient/3.1 +http://www.linkedin.com)",
            "linkedin",
        ),
        // https://developer.apple.com/library/archive/technotes/tn2444/ (Messages link presentation)
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
            "imessage",
        ),
        // crawler-user-agents.json "SkypeUriPreview"
        (
            "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
            "skype",
        ),
        // crawler-user-agents.json "MicrosoftPreview\/"
        (
            "MicrosoftPreview/2.0; +https://aka.ms/MicrosoftPreview",
            "teams",
        ),
        // crawler-user-agents.json "Viber"
        ("Viber", "viber"),
        // crawler-user-agents.json "Snap URL Preview Service", "SnapURLPreview\/"
        (
            "Snap URL Preview Service; bot; snapchat; https://developers.snap.com/robots",
            "snapchat",
        ),
        (
            "Mozilla/5.0 (compatible; SnapURLPreview/1.0; +https://www.snapchat.com)",
            "snapchat",
        ),
        // https://developers.line.biz/en/faq/ (LINE URL preview)
        ("facebookexternalhit/1.1;line-poker/1.0", "line"),
        // https://devtalk.kakao.com/ (KakaoTalk scrap bot)
        (
            "facebookexternalhit/1.1; kakaotalk-scrap/1.0; +https://devtalk.kakao.com/",
            "kakaotalk",
        ),
        // ua-parser/uap-core tests/test_ua.yaml (Pinterestbot)
        (
            "Mozilla/5.0 (compatible; Pinterestbot/1.0; +https://www.pinterest.com/bot.html)",
            "pinterest",
        ),
        (
            "Pinterest/0.2 (+https://www.pinterest.com/bot.html)",
            "pinterest",
        ),
        // crawler-user-agents.json "Mastodon"
        (
            "http.rb/2.2.2 (Mastodon/1.5.1; +https://example-masto-instance.org/)",
            "mastodon",
        ),
        // crawler-user-agents.json "Bluesky\/", "BlueskyPreviewBot"; bluesky-social cardyb
        (
            "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
            "bluesky",
        ),
        ("Bluesky/", "bluesky"),
        ("BlueskyPreviewBot/1.0", "bluesky"),
        // https://opengraphplus.com/consumers/googlechat (Google Chat fetcher "Google-Chat/1.0")
        ("Google-Chat/1.0", "googlechat"),
        // https://developers.google.com/search/docs/crawling-indexing/google-user-triggered-fetchers
        ("GoogleMessages", "sms"),
        // crawler-user-agents.json "Synapse", "Mattermost-Bot\/", "Chatwork LinkPreview"
        (
            "Synapse (bot; +https://github.com/matrix-org/synapse)",
            "matrix",
        ),
        ("Mattermost-Bot/1.1", "mattermost"),
        ("Chatwork LinkPreview v1", "chatwork"),
        // crawler-user-agents.json "redditbot", "Embedly", "Iframely"
        (
            "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
            "reddit",
        ),
        ("Embedly +support@embed.ly", "embedly"),
        (
            "Iframely/1.3.1 (+https://iframely.com/docs/about) Atlassian",
            "iframely",
        ),
    ];

    #[test]
    fn the_standalone_check_agrees_with_the_table() {
        for (ua, app) in CASES {
            assert_eq!(preview_app(ua), Some(*app), "{ua}");
        }
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(preview_app(iphone), None);
        assert_eq!(preview_app(""), None);
    }

    #[test]
    fn preview_fetchers_of_every_named_app_are_recognised() {
        let app_of = previews();
        for (ua, app) in CASES {
            assert_eq!(app_of(ua), Some(*app), "{ua}");
        }
    }

    #[test]
    fn browsers_and_in_app_browsers_are_not_previews() {
        let app_of = previews();
        // ua-parser/uap-core tests/test_ua.yaml (Facebook in-app, LINE)
        for ua in [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15G77 [FBAN/FBIOS;FBAV/194.0.0.38.99;FBBV/127868476;FBDV/iPhone7,2;FBMD/iPhone;FBSN/iOS;FBSV/11.4.1;FBSS/2;FBCR/OrangeBotswana;FBID/phone;FBLC/en_GB;FBOP/5;FBRV/128807018]",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_0 like Mac OS X) AppleWebKit/604.1.38 (KHTML, like Gecko) Mobile/15A372 Safari Line/7.12.0",
        ] {
            assert_eq!(app_of(ua), None, "{ua}");
        }
    }
}
