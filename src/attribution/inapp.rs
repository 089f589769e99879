//! In-app browsers (`data/inapp.tsv`) and app package ids (`data/android_apps.tsv`):
//! which app's embedded browser made a request. Never decides the channel.

use std::collections::HashMap;

use super::rules::{Pick, Scan, ScannerBuilder, TableId, rows, table};

/// The compiled in-app browser tokens and the Android package table.
pub(crate) struct InApp {
    table: TableId,
    apps: Vec<&'static str>,
    packages: HashMap<&'static str, &'static str>,
}

impl InApp {
    /// Loads `data/inapp.tsv` (into the shared scanner) and `data/android_apps.tsv`.
    pub(crate) fn new(scanner: &mut ScannerBuilder) -> Self {
        let inapp = table(include_str!("data/inapp.tsv"), Pick::Leftmost, |app| app);
        let packages = rows(include_str!("data/android_apps.tsv"))
            .map(|row| (row[0], row[1]))
            .collect();
        InApp {
            table: scanner.add(&inapp),
            apps: inapp.values,
            packages,
        }
    }

    /// The app whose in-app browser the scanned User-Agent is.
    pub(crate) fn app_of_ua(&self, ua: &Scan) -> Option<&'static str> {
        ua.row(self.table).map(|row| self.apps[row])
    }

    /// The app of an Android package id (`X-Requested-With`, `android-app://` referrers).
    pub(crate) fn app_of_package(&self, package: &str) -> Option<&'static str> {
        let package = package.trim();
        if package.bytes().any(|b| b.is_ascii_uppercase()) {
            return self
                .packages
                .get(package.to_ascii_lowercase().as_str())
                .copied();
        }
        self.packages.get(package).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::super::signals::LowerUa;
    use super::*;

    fn inapp() -> (InApp, impl Fn(&InApp, &str) -> Option<&'static str>) {
        let mut builder = ScannerBuilder::default();
        let inapp = InApp::new(&mut builder);
        let scanner = builder.build();
        (inapp, move |inapp: &InApp, ua: &str| {
            inapp.app_of_ua(&scanner.scan(LowerUa::new(ua).bytes()))
        })
    }

    /// Real in-app browser User-Agents, at least one per named app.
    const CASES: &[(&str, &str)] = &[
        // ua-parser/uap-core tests/test_ua.yaml, family "Facebook"
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15G77 [FBAN/FBIOS;FBAV/194.0.0.38.99;FBBV/127868476;FBDV/iPhone7,2;FBMD/iPhone;FBSN/iOS;FBSV/11.4.1;FBSS/2;FBCR/OrangeBotswana;FBID/phone;FBLC/en_GB;FBOP/5;FBRV/128807018]",
            "facebook",
        ),
        (
            "Mozilla/5.0 (Linux; U; Android 4.2.2; de-de; 706_v92_jbla_fhd Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30 [FB_IAB/FB4A;FBAV/24.0.0.30.15;]",
            "facebook",
        ),
        // ua-parser/uap-core tests/test_ua.yaml, family "Facebook Messenger"
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 10_2_1 like Mac OS X) AppleWebKit/602.4.6 (KHTML, like Gecko) Mobile/14D27 [FBAN/MessengerForiOS;FBAV/124.0.0.50.70;FBBV/63293619;FBDV/iPhone7,1;FBMD/iPhone;FBSN/iOS;FBSV/10.2.1;FBSS/3;FBCR/Viettel;FBID/phone;FBLC/vi_VN;FBOP/5;FBRV/0]",
            "messenger",
        ),
        (
            "Mozilla/5.0 (Linux; Android 6.0.1; SM-A910F Build/MMB29M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/58.0.3029.83 Mobile Safari/537.36 [FB_IAB/MESSENGER;FBAV/120.0.0.14.84;]",
            "messenger",
        ),
        // ua-parser/uap-core tests/test_ua.yaml, family "Instagram"
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_5 like Mac OS X) AppleWebKit/604.5.6 (KHTML, like Gecko) Mobile/15D60 Instagram 33.0.0.11.96 (iPhone9,3; iOS 11_2_5; en_AU; en-AU; scale=2.00; gamut=wide; 750x1334)",
            "instagram",
        ),
        (
            "Mozilla/5.0 (Linux; Android 7.0; LG-TP260 Build/NRD90U; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/64.0.3282.137 Mobile Safari/537.36 Instagram 33.0.0.11.92 Android (24/7.0; 320dpi; 720x1193; LGE/lge; LG-TP260; lv517; lv517; en_US; 93117667)",
            "instagram",
        ),
        // inapp-spy src/regexAppName.ts (Threads = "Barcelona")
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Barcelona 306.0.0.13.109 (iPhone15,3; iOS 17_1; en_US; en; scale=3.00; 1290x2796; 547497785)",
            "threads",
        ),
        // detect-inapp lib/inapp.js and ua-parser/uap-core regexes.yaml (WeChat)
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN",
            "wechat",
        ),
        // ua-parser/uap-core tests/test_ua.yaml, family "LINE"
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_0 like Mac OS X) AppleWebKit/604.1.38 (KHTML, like Gecko) Mobile/15A372 Safari Line/7.12.0",
            "line",
        ),
        (
            "Mozilla/5.0 (Linux; Android 5.1; FTJ152B Build/LMY47D; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.81 Mobile Safari/537.36 Line/6.4.1",
            "line",
        ),
        // Telegram Android in-app browser (https://github.com/DrKLO/Telegram, BrowserHelper)
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240105.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 Telegram-Android/10.6.2 (Google Pixel 8; Android 14; SDK 34; HIGH)",
            "telegram",
        ),
        // detect-inapp lib/inapp.js (KakaoTalk)
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.2.5",
            "kakaotalk",
        ),
        // ua-parser/uap-core tests/test_ua.yaml, family "Snapchat"
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_6 like Mac OS X) AppleWebKit/604.5.6 (KHTML, like Gecko) Snapchat/10.38.0.25 (iPhone8,1; iOS 11.2.6; gzip)",
            "snapchat",
        ),
        // inapp-spy src/regexAppName.ts (TikTok: musical_ly, Bytedance)
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_30.9.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US",
            "tiktok",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.0.0 Mobile Safari/537.36 trill_310203 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/trill app_version/31.2.3 ByteLocale/en BytedanceWebview/d8a21c6",
            "tiktok",
        ),
        // inapp-spy src/regexAppName.ts (LinkedInApp)
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.27.6251",
            "linkedin",
        ),
        // ua-parser/uap-core tests/test_ua.yaml, family "Pinterest"
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 6_1_4 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Mobile/10B350 [Pinterest/iOS]",
            "pinterest",
        ),
        // ua-parser/uap-core tests/test_ua.yaml, family "Twitter"
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_1 like Mac OS X) AppleWebKit/604.4.7 (KHTML, like Gecko) Mobile/15C153 Twitter for iPhone/7.19",
            "twitter",
        ),
        (
            "Mozilla/5.0 (Linux; Android 9; Nokia 2.1 Build/PKQ1.181105.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/74.0.3729.157 Mobile Safari/537.36 TwitterAndroid",
            "twitter",
        ),
        // ua-parser/uap-core tests/test_ua.yaml, family "Google" (Google app, GSA)
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_0_2 like Mac OS X) AppleWebKit/604.1.34 (KHTML, like Gecko) GSA/36.0.169645775 Mobile/15A421 Safari/604.1",
            "google",
        ),
        // inapp-spy src/regexAppName.ts (WhatsApp WAiOS, Reddit)
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 WAiOS/2.23.20.72",
            "whatsapp",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Reddit/Version 2023.40.0/Build 1180470/iOS Version 17.0",
            "reddit",
        ),
        // ua-parser/uap-core tests/test_ua.yaml, family "Flipboard"
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_6 like Mac OS X) AppleWebKit/604.5.6 (KHTML, like Gecko) Mobile/15D100 Flipboard/4.2.2",
            "flipboard",
        ),
    ];

    #[test]
    fn in_app_browsers_of_every_named_app_are_recognised() {
        let (inapp, app_of) = inapp();
        for (ua, app) in CASES {
            assert_eq!(app_of(&inapp, ua), Some(*app), "{ua}");
        }
    }

    #[test]
    fn ordinary_browsers_are_not_in_app() {
        let (inapp, app_of) = inapp();
        // npm user-agents 2.1 dist/user-agents.json (intoli, BSD-2-Clause)
        let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6.1 Mobile/15E148 Safari/604.1";
        assert_eq!(app_of(&inapp, ua), None);
    }

    #[test]
    fn android_packages_name_their_app_whatever_the_case() {
        let (inapp, _) = inapp();
        assert_eq!(
            inapp.app_of_package("com.facebook.katana"),
            Some("facebook")
        );
        assert_eq!(
            inapp.app_of_package("Com.Instagram.Android"),
            Some("instagram")
        );
        assert_eq!(inapp.app_of_package("com.example.unknown"), None);
    }
}
