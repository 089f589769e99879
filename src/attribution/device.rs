//! Browser, OS and device form factor from the User-Agent and client hints
//! (`data/browsers.tsv`, `data/os.tsv`, `data/form_factors.tsv`). A token scan, not a full
//! ua-parser: it names families only (no versions), which is what the dashboards group by.

use super::Device;
use super::rules::{Pick, Scan, ScannerBuilder, TableId, table};
use super::signals::present;

/// The compiled browser, OS and form-factor tokens.
pub(crate) struct DeviceRules {
    browsers: (TableId, Vec<&'static str>),
    os: (TableId, Vec<&'static str>),
    form: (TableId, Vec<Device>),
}

/// What the User-Agent and client hints say about the visitor's software and hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// Browser family.
    pub(crate) browser: Option<&'static str>,
    /// OS family.
    pub(crate) os: Option<&'static str>,
    /// Form factor.
    pub(crate) device: Device,
}

impl DeviceRules {
    /// Adds the three tables to the shared scanner.
    pub(crate) fn new(scanner: &mut ScannerBuilder) -> Self {
        let browsers = table(include_str!("data/browsers.tsv"), Pick::FirstRow, |v| v);
        let os = table(include_str!("data/os.tsv"), Pick::FirstRow, |v| v);
        let form = table(
            include_str!("data/form_factors.tsv"),
            Pick::FirstRow,
            |v| match v {
                "desktop" => Device::Desktop,
                "mobile" => Device::Mobile,
                "tablet" => Device::Tablet,
                "other" => Device::Other,
                other => panic!("form_factors.tsv: unknown device {other}"),
            },
        );
        DeviceRules {
            browsers: (scanner.add(&browsers), browsers.values),
            os: (scanner.add(&os), os.values),
            form: (scanner.add(&form), form.values),
        }
    }

    /// Combines the scans of the User-Agent and of the Sec-CH-UA / Sec-CH-UA-Platform
    /// hints (hints win when they name something) with Sec-CH-UA-Mobile.
    pub(crate) fn parse(
        &self,
        ua: &Scan,
        lower_ua: &[u8],
        ch_ua: Option<&Scan>,
        ch_platform: Option<&Scan>,
        ch_mobile: Option<&str>,
    ) -> Parsed {
        let pick = |(id, values): &(TableId, Vec<&'static str>), scan: &Scan| {
            scan.row(*id).map(|row| values[row])
        };
        let browser = ch_ua
            .and_then(|ch| pick(&self.browsers, ch))
            .or_else(|| pick(&self.browsers, ua));
        let os = ch_platform
            .and_then(|ch| pick(&self.os, ch))
            .or_else(|| pick(&self.os, ua));
        let browser = browser.or_else(|| ios_webview(lower_ua, os));
        let mut device = ua
            .row(self.form.0)
            .map_or(Device::Other, |row| self.form.1[row]);
        if present(ch_mobile) == Some("?1") && matches!(device, Device::Desktop | Device::Other) {
            device = Device::Mobile;
        }
        Parsed {
            browser,
            os,
            device,
        }
    }
}

/// iOS apps that embed WebKit without a `Safari/` token (most in-app browsers).
fn ios_webview(lower_ua: &[u8], os: Option<&str>) -> Option<&'static str> {
    let webkit = lower_ua.windows(11).any(|w| w == b"applewebkit");
    (os == Some("iOS") && webkit).then_some("iOS WebView")
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::rules::Scanner;
    use super::super::signals::LowerUa;

    fn rules() -> (DeviceRules, Scanner) {
        let mut builder = ScannerBuilder::default();
        let rules = DeviceRules::new(&mut builder);
        (rules, builder.build())
    }

    fn parse_with(
        ua: &str,
        ch_ua: Option<&str>,
        ch_platform: Option<&str>,
        ch_mobile: Option<&str>,
    ) -> Parsed {
        let (rules, scanner) = rules();
        let lower = LowerUa::new(ua);
        let scan = |v: &str| scanner.scan(LowerUa::new(v).bytes());
        let (ch_ua, ch_platform) = (ch_ua.map(scan), ch_platform.map(scan));
        rules.parse(
            &scanner.scan(lower.bytes()),
            lower.bytes(),
            ch_ua.as_ref(),
            ch_platform.as_ref(),
            ch_mobile,
        )
    }

    fn parse(ua: &str) -> Parsed {
        parse_with(ua, None, None, None)
    }

    #[test]
    fn common_browsers_are_named_with_their_os_and_form_factor() {
        // npm user-agents 2.1 dist/user-agents.json (intoli, BSD-2-Clause) and
        // ua-parser/uap-core tests/test_ua.yaml (Apache-2.0)
        let cases = [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6.1 Mobile/15E148 Safari/604.1",
                "Safari",
                "iOS",
                Device::Mobile,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
                "Edge",
                "Windows",
                Device::Desktop,
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
                "Chrome",
                "Android",
                Device::Mobile,
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
                "Samsung Internet",
                "Android",
                Device::Tablet,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
                "Firefox",
                "macOS",
                Device::Desktop,
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
                "Chrome",
                "iOS",
                Device::Tablet,
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                "Chrome",
                "Chrome OS",
                Device::Desktop,
            ),
            (
                "Mozilla/5.0 (Linux; Android 7.1.2; Nexus 5X Build/N2G47W; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/58.0.3029.83 Mobile Safari/537.36",
                "Android WebView",
                "Android",
                Device::Mobile,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 11_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15G77 [FBAN/FBIOS;FBAV/194.0.0.38.99;]",
                "iOS WebView",
                "iOS",
                Device::Mobile,
            ),
            (
                "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)",
                "Internet Explorer",
                "Windows Phone",
                Device::Mobile,
            ),
        ];
        for (ua, browser, os, device) in cases {
            let parsed = parse(ua);
            assert_eq!(
                parsed,
                Parsed {
                    browser: Some(browser),
                    os: Some(os),
                    device
                },
                "{ua}"
            );
        }
    }

    #[test]
    fn client_hints_override_the_frozen_user_agent() {
        let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let brands = r#""Not_A Brand";v="8", "Chromium";v="120", "Brave";v="120""#;
        let parsed = parse_with(ua, Some(brands), Some("\"Android\""), Some("?1"));
        assert_eq!(
            parsed,
            Parsed {
                browser: Some("Brave"),
                os: Some("Android"),
                device: Device::Mobile
            }
        );
    }
}
