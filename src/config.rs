//! Settings: the built-in `config/default.toml`, then the file named by
//! `LANTERNE_CONFIG`, then `LANTERNE_*` variables, then `DATABASE_URL`.
//! `load()` parses and validates before anything starts; nothing else in the
//! crate reads the environment.

mod load;
mod types;
mod validate;

pub use load::{ConfigError, load, load_from};
pub use types::*;

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_validate() {
        let s = load_from(&[]).expect("defaults are valid");
        assert_eq!(s.redirect.status, 302);
        assert_eq!(s.slugs.length, 7);
        assert_eq!(s.clicks.durability, ClickDurability::Batch);
    }

    #[test]
    fn environment_overrides_nested_keys_and_lists() {
        let s = load_from(&vars(&[
            ("LANTERNE_CLICKS__BATCH_SIZE", "250"),
            ("LANTERNE_SERVER__DOMAINS", "go.example.com,l.example.org"),
            ("LANTERNE_CONFIG_UNUSED", "x"),
            ("DATABASE_URL", "postgres://u@db/x"),
        ]));
        // An unknown LANTERNE_ variable is refused and named.
        let err = s.unwrap_err().to_string();
        assert!(err.contains("config_unused"), "{err}");

        let s = load_from(&vars(&[
            ("LANTERNE_CLICKS__BATCH_SIZE", "250"),
            ("LANTERNE_SERVER__DOMAINS", "go.example.com,l.example.org"),
            ("DATABASE_URL", "postgres://u@db/x"),
        ]))
        .unwrap();
        assert_eq!(s.clicks.batch_size, 250);
        assert_eq!(s.server.domains, vec!["go.example.com", "l.example.org"]);
        assert_eq!(s.database.url.expose_secret(), "postgres://u@db/x");
    }

    #[test]
    fn invalid_values_name_the_setting() {
        let cases = [
            ("LANTERNE_REDIRECT__STATUS", "303", "redirect.status"),
            ("LANTERNE_CLICKS__BATCH_SIZE", "0", "clicks.batch_size"),
            ("LANTERNE_CLICKS__DURABILITY", "fsync", "clicks.durability"),
            (
                "LANTERNE_SLUGS__ALPHABET",
                "ABCDEFGHIJKLMNOPQ",
                "slugs.alphabet",
            ),
            (
                "LANTERNE_SERVER__PUBLIC_BASE_URL",
                "ftp://x",
                "server.public_base_url",
            ),
            (
                "LANTERNE_SERVER__DOMAINS",
                "https://go.example.com",
                "server.domains",
            ),
            ("LANTERNE_CLICKS__FLUSH_INTERVAL", "soon", "flush_interval"),
            ("LANTERNE_SERVER__BIND", "nowhere", "bind"),
            (
                "LANTERNE_SESSIONS__IDLE_TIMEOUT",
                "10s",
                "sessions.idle_timeout",
            ),
            (
                "LANTERNE_SESSIONS__ABSOLUTE_TIMEOUT",
                "1h",
                "sessions.absolute_timeout",
            ),
        ];
        for (key, value, named) in cases {
            let err = load_from(&vars(&[(key, value)])).unwrap_err().to_string();
            assert!(
                err.contains(named),
                "{key}={value}: error {err:?} should name {named}"
            );
        }
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = load_from(&vars(&[("LANTERNE_CONFIG", "/nonexistent/lanterne.toml")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lanterne.toml"), "{err}");
    }
}
