//! Saved UTM presets: named sets of UTM fields ("Newsletter":
//! source=newsletter, medium=email) shared by the whole workspace. Editors
//! save and delete them, everyone sees them; the API and the link form go
//! through [`UtmPresets`] alike. A preset's values obey the link's UTM rules
//! (`fields::parse_utm`); its name is 1 to [`MAX_PRESET_NAME`] characters and
//! unique ignoring case; a preset sets at least one field.

use serde::Deserialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    Utm,
    fields::{self, Collect, InvalidLink, Problem, check_text},
};

/// Longest preset name (characters).
pub const MAX_PRESET_NAME: usize = 60;

/// A preset as submitted (every field untrusted).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresetInput {
    /// Its name, shown in the form's menu.
    pub name: Option<String>,
    /// The UTM fields it sets.
    #[serde(default)]
    pub utm: Utm,
}

/// A saved preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtmPreset {
    /// Database id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The fields it sets (the others are left as they are when applied).
    pub utm: Utm,
    /// Who saved it.
    pub created_by: Option<i64>,
    /// When.
    pub created_at: OffsetDateTime,
}

/// Why a preset action failed.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// Fields were refused; nothing was written.
    #[error(transparent)]
    Invalid(#[from] InvalidLink),
    /// No preset with this id.
    #[error("preset not found")]
    NotFound,
    /// The database.
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for PresetError {
    fn from(e: sqlx::Error) -> PresetError {
        match &e {
            sqlx::Error::Database(db) if db.constraint() == Some("utm_presets_name_key") => {
                InvalidLink::one("name", Problem::NameTaken).into()
            }
            _ => PresetError::Database(e),
        }
    }
}

/// Checks a preset: every refused field at once.
pub fn parse(input: PresetInput) -> Result<(String, Utm), InvalidLink> {
    let mut errors = Collect::default();
    let name = input
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let name = match name {
        None => {
            errors.push("name", Problem::NameRequired);
            None
        }
        Some(n) => errors
            .take("name", check_text(&n, MAX_PRESET_NAME))
            .map(|()| n),
    };
    let utm = fields::parse_utm(input.utm, &mut errors);
    if utm.pairs().is_empty() && errors.is_empty() {
        errors.push("utm", Problem::PresetEmpty);
    }
    errors.finish()?;
    Ok((name.unwrap_or_default(), utm))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_term: Option<String>,
    utm_content: Option<String>,
    created_by: Option<i64>,
    created_at: OffsetDateTime,
}

impl From<Row> for UtmPreset {
    fn from(r: Row) -> UtmPreset {
        UtmPreset {
            id: r.id,
            name: r.name,
            utm: Utm {
                source: r.utm_source,
                medium: r.utm_medium,
                campaign: r.utm_campaign,
                term: r.utm_term,
                content: r.utm_content,
            },
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, name, utm_source, utm_medium, utm_campaign, utm_term, utm_content, \
         created_by, created_at"
    };
}

/// The workspace's presets (cheap to clone: a pool handle).
#[derive(Clone)]
pub struct UtmPresets {
    pool: PgPool,
}

impl UtmPresets {
    /// The presets stored in `pool`'s database.
    pub fn new(pool: PgPool) -> UtmPresets {
        UtmPresets { pool }
    }

    /// Every preset, by name.
    pub async fn list(&self) -> Result<Vec<UtmPreset>, PresetError> {
        let rows: Vec<Row> = sqlx::query_as(concat!(
            "select ",
            columns!(),
            " from utm_presets order by lower(name), id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(UtmPreset::from).collect())
    }

    /// One preset.
    pub async fn find(&self, id: i64) -> Result<UtmPreset, PresetError> {
        let row: Option<Row> = sqlx::query_as(concat!(
            "select ",
            columns!(),
            " from utm_presets where id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(UtmPreset::from).ok_or(PresetError::NotFound)
    }

    /// Saves a preset; a name in use (ignoring case) is refused.
    pub async fn create(
        &self,
        input: PresetInput,
        by: Option<i64>,
    ) -> Result<UtmPreset, PresetError> {
        let (name, utm) = parse(input)?;
        let [s, m, c, t, n] = utm.into_array();
        let row: Row = sqlx::query_as(concat!(
            "insert into utm_presets (name, utm_source, utm_medium, utm_campaign, utm_term, \
             utm_content, created_by) values ($1, $2, $3, $4, $5, $6, $7) returning ",
            columns!()
        ))
        .bind(name)
        .bind(s)
        .bind(m)
        .bind(c)
        .bind(t)
        .bind(n)
        .bind(by)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    /// Deletes a preset (links made with it keep their values).
    pub async fn delete(&self, id: i64) -> Result<UtmPreset, PresetError> {
        let row: Option<Row> = sqlx::query_as(concat!(
            "delete from utm_presets where id = $1 returning ",
            columns!()
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(UtmPreset::from).ok_or(PresetError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, source: Option<&str>) -> PresetInput {
        PresetInput {
            name: Some(name.into()),
            utm: Utm {
                source: source.map(Into::into),
                ..Utm::default()
            },
        }
    }

    #[test]
    fn a_preset_needs_a_bounded_name_and_one_field_and_every_problem_is_named() {
        let (name, utm) = parse(input("  Newsletter ", Some(" newsletter "))).unwrap();
        assert_eq!(name, "Newsletter");
        assert_eq!(utm.source.as_deref(), Some("newsletter"));

        let err = parse(input(" ", Some("a\nb"))).unwrap_err();
        assert_eq!(err.of("name"), Some(&Problem::NameRequired));
        assert_eq!(err.of("utm.source"), Some(&Problem::ControlCharacter));

        let long = "é".repeat(MAX_PRESET_NAME + 1);
        let err = parse(input(&long, None)).unwrap_err();
        assert_eq!(err.of("name"), Some(&Problem::TooLong(MAX_PRESET_NAME)));
        assert_eq!(err.of("utm"), None, "an empty block is not noted twice");
        assert!(parse(input(&"é".repeat(MAX_PRESET_NAME), Some("x"))).is_ok());

        let err = parse(input("Empty", Some("  "))).unwrap_err();
        assert_eq!(err.of("utm"), Some(&Problem::PresetEmpty));
    }
}
