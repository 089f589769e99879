//! Reading the layered sources into [`Settings`].

use super::Settings;

/// The built-in defaults, compiled in so that a bare binary starts.
const DEFAULTS: &str = include_str!("../../config/default.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or parsed (names the key when the parser knows it).
    #[error("configuration: {0}")]
    Parse(#[from] config::ConfigError),
    /// A value parsed but is outside its allowed range.
    #[error("configuration: `{key}` {message}")]
    Invalid {
        /// Dotted key, e.g. `clicks.batch_size`.
        key: &'static str,
        /// What is allowed.
        message: String,
    },
}

/// Environment variables that are not settings, though they carry the prefix.
const NOT_SETTINGS: &[&str] = &["LANTERNE_CONFIG"];

/// Loads settings from the process environment (see the module docs).
pub fn load() -> Result<Settings, ConfigError> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    load_from(&vars)
}

/// Loads settings from the given environment variables (the testable core of `load`).
pub fn load_from(vars: &[(String, String)]) -> Result<Settings, ConfigError> {
    use config::{Config, Environment, File, FileFormat};
    let get = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());

    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
    if let Some(path) = get("LANTERNE_CONFIG") {
        builder = builder.add_source(File::new(&path, FileFormat::Toml).required(true));
    }
    let prefixed = vars
        .iter()
        .filter(|(k, _)| k.starts_with("LANTERNE_") && !NOT_SETTINGS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    builder = builder.add_source(
        Environment::with_prefix("LANTERNE")
            .prefix_separator("_")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("server.domains")
            .with_list_parse_key("server.trusted_proxies")
            .try_parsing(true)
            .source(Some(prefixed)),
    );
    if let Some(url) = get("DATABASE_URL") {
        builder = builder.set_override("database.url", url)?;
    }
    let settings: Settings = builder.build()?.try_deserialize()?;
    settings.validate()?;
    Ok(settings)
}
