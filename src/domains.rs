//! Served domains: the default one (from `public_base_url`) and the branded
//! ones of the configuration. The `Host` of a request selects one; short URLs
//! are built here. Loaded once at start-up (ids come from the database).
//!
//! When the default host is a loopback name (`localhost`, `127.0.0.1`,
//! `[::1]`), the other loopback names are aliases of it: one domain, reached
//! by any name of the local machine, so a quick start works whichever address
//! is typed. Aliases are not rows of `domains`; they are keys of the same
//! lookup table, so the redirect pays nothing for them.

pub mod store;

use std::collections::HashMap;

use url::Url;

/// One served domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Database id.
    pub id: i32,
    /// Lowercase host, no port.
    pub host: String,
}

/// All served domains, looked up by host.
#[derive(Debug, Clone)]
pub struct Domains {
    // foldhash: every redirect hashes its Host here; the keys are ours and
    // fixed, so a visitor cannot grow the map or choose its collisions.
    by_host: HashMap<String, i32, foldhash::fast::RandomState>,
    default: Domain,
    base_url: Url,
}

/// The names of the local machine (as a `Host` header carries them).
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl Domains {
    /// The hosts to serve, default first, lowercased and deduplicated.
    pub fn hosts_from_config(base_url: &Url, extra: &[String]) -> Vec<String> {
        let mut hosts = vec![normalize_host(base_url.host_str().unwrap_or("localhost"))];
        for h in extra {
            let h = normalize_host(h);
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        hosts
    }

    /// Every host a configuration serves, loopback aliases included, without
    /// the database (for `lanterne classify`): what `hosts()` would return.
    pub fn own_hosts_from_config(base_url: &Url, extra: &[String]) -> Vec<String> {
        let mut hosts = Domains::hosts_from_config(base_url, extra);
        if LOOPBACK_NAMES.contains(&hosts[0].as_str()) {
            for name in LOOPBACK_NAMES {
                if !hosts.iter().any(|h| h == name) {
                    hosts.push(name.to_owned());
                }
            }
        }
        hosts
    }

    /// Builds the lookup table; `rows` holds the id of every configured host.
    /// A loopback default host gets the other loopback names as aliases,
    /// unless one of them is a configured domain of its own.
    pub fn new(base_url: Url, rows: Vec<Domain>) -> Domains {
        let default_host = normalize_host(base_url.host_str().unwrap_or("localhost"));
        let default = rows
            .iter()
            .find(|d| d.host == default_host)
            .cloned()
            .expect("the default domain is upserted at start-up");
        let mut by_host: HashMap<_, _, _> = rows.into_iter().map(|d| (d.host, d.id)).collect();
        if LOOPBACK_NAMES.contains(&default.host.as_str()) {
            for name in LOOPBACK_NAMES {
                by_host.entry(name.to_owned()).or_insert(default.id);
            }
        }
        Domains {
            by_host,
            default,
            base_url,
        }
    }

    /// The domain a request's `Host` header names, if we serve it.
    pub fn for_host_header(&self, host: &str) -> Option<i32> {
        let host = strip_port(host.trim()).trim_end_matches('.');
        // Hosts nearly always arrive lowercase: look them up without a copy.
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            self.by_host.get(&host.to_ascii_lowercase()).copied()
        } else {
            self.by_host.get(host).copied()
        }
    }

    /// The domain named in an API request (`None`: the default domain).
    pub fn by_name(&self, name: Option<&str>) -> Option<Domain> {
        match name {
            None => Some(self.default.clone()),
            Some(n) => {
                let host = normalize_host(n);
                match self.by_host.get(&host) {
                    // An alias names the default domain.
                    Some(&id) if id == self.default.id => Some(self.default.clone()),
                    Some(&id) => Some(Domain { id, host }),
                    None => None,
                }
            }
        }
    }

    /// The domains a link can be made on (no aliases), the default first:
    /// the domain menu of the link form.
    pub fn choices(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self
            .by_host
            .iter()
            .filter(|(h, id)| **id != self.default.id || **h == self.default.host)
            .map(|(h, _)| h.clone())
            .collect();
        hosts.sort_by(|a, b| self.rank(a).cmp(&self.rank(b)).then_with(|| a.cmp(b)));
        hosts
    }

    /// Every served host, aliases included (destinations may not point at
    /// them), sorted: the default domain's first.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.by_host.keys().cloned().collect();
        hosts.sort_by(|a, b| self.rank(a).cmp(&self.rank(b)).then_with(|| a.cmp(b)));
        hosts
    }

    /// 0: the default host, 1: its aliases, 2: the other domains.
    fn rank(&self, host: &str) -> u8 {
        match self.by_host.get(host) {
            _ if host == self.default.host => 0,
            Some(&id) if id == self.default.id => 1,
            _ => 2,
        }
    }

    /// The public short URL of a slug on a domain: the base URL's scheme and,
    /// on the default domain, its port.
    pub fn short_url(&self, host: &str, slug: &str) -> String {
        let scheme = self.base_url.scheme();
        if host == self.default.host {
            let mut base = self.base_url.clone();
            base.set_path(slug);
            base.set_query(None);
            base.set_fragment(None);
            base.to_string()
        } else {
            format!("{scheme}://{host}/{slug}")
        }
    }
}

/// Lowercase, without a trailing dot.
fn normalize_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `host:port` → `host`, leaving bracketed IPv6 literals intact.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map(|(h, _)| &host[..=h.len()])
            .unwrap_or(host);
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> Domains {
        let base = Url::parse("http://localhost:8080").unwrap();
        Domains::new(
            base,
            vec![
                Domain {
                    id: 1,
                    host: "localhost".into(),
                },
                Domain {
                    id: 2,
                    host: "go.example.com".into(),
                },
            ],
        )
    }

    #[test]
    fn host_header_selects_the_domain() {
        let d = domains();
        assert_eq!(d.for_host_header("localhost:8080"), Some(1));
        assert_eq!(d.for_host_header("GO.Example.com."), Some(2));
        assert_eq!(d.for_host_header("go.example.com:443"), Some(2));
        assert_eq!(d.for_host_header("evil.example"), None);
    }

    #[test]
    fn other_loopback_names_are_aliases_of_a_loopback_default_domain() {
        let d = domains();
        for host in ["127.0.0.1:8080", "[::1]:8080", "LOCALHOST", "127.0.0.1"] {
            assert_eq!(d.for_host_header(host), Some(1), "{host}");
        }
        assert_eq!(d.by_name(Some("127.0.0.1")).unwrap().host, "localhost");
        assert_eq!(d.by_name(Some("[::1]")).unwrap().id, 1);
        assert_eq!(
            d.hosts(),
            vec!["localhost", "127.0.0.1", "[::1]", "go.example.com"],
            "aliases are own hosts, after the default"
        );
    }

    #[test]
    fn loopback_names_are_not_served_when_the_default_domain_is_public() {
        let base = Url::parse("https://go.example.com").unwrap();
        let d = Domains::new(
            base,
            vec![Domain {
                id: 7,
                host: "go.example.com".into(),
            }],
        );
        for host in ["localhost:8080", "127.0.0.1", "[::1]:8080"] {
            assert_eq!(d.for_host_header(host), None, "{host}");
        }
        assert_eq!(d.hosts(), vec!["go.example.com"]);
    }

    #[test]
    fn a_loopback_name_configured_as_a_domain_keeps_its_own_id() {
        let base = Url::parse("http://127.0.0.1:8080").unwrap();
        let d = Domains::new(
            base,
            vec![
                Domain {
                    id: 1,
                    host: "127.0.0.1".into(),
                },
                Domain {
                    id: 2,
                    host: "localhost".into(),
                },
            ],
        );
        assert_eq!(d.for_host_header("localhost"), Some(2));
        assert_eq!(d.for_host_header("[::1]:8080"), Some(1));
    }

    #[test]
    fn short_urls_use_the_base_url_on_the_default_domain() {
        let d = domains();
        assert_eq!(d.short_url("localhost", "abc"), "http://localhost:8080/abc");
        assert_eq!(
            d.short_url("go.example.com", "Sale"),
            "http://go.example.com/Sale"
        );
    }

    #[test]
    fn hosts_from_config_put_the_default_first() {
        let base = Url::parse("https://Go.Example.com").unwrap();
        let hosts =
            Domains::hosts_from_config(&base, &["l.example.org".into(), "go.example.com".into()]);
        assert_eq!(hosts, vec!["go.example.com", "l.example.org"]);
        assert_eq!(
            Domains::own_hosts_from_config(&base, &[]),
            vec!["go.example.com"]
        );
        let local = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            Domains::own_hosts_from_config(&local, &[]),
            vec!["127.0.0.1", "localhost", "[::1]"]
        );
    }
}
