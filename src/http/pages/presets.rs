//! The UTM presets of the link form: the built-in ones, the workspace's
//! saved ones (`links::presets::UtmPresets`), and the form's three preset
//! actions, which work without JavaScript — each is a submit button of the
//! link form, so the page comes back with every typed value kept:
//! **apply** fills the UTM fields the chosen preset sets, **save** stores
//! the current UTM fields under a name, **delete** removes the chosen saved
//! preset. Nothing else is written. (With JavaScript, choosing a preset
//! fills the fields in place; `assets/app.js`.)

use super::form::LinkForm;
use crate::{
    i18n::Tr,
    links::{
        InvalidLink, Utm,
        presets::{PresetError, PresetInput, UtmPreset, UtmPresets},
    },
};

/// A built-in UTM preset of the form's menu.
#[derive(Debug, Clone)]
pub struct Preset {
    /// Catalogue key of its name.
    pub name: &'static str,
    /// utm_source
    pub source: &'static str,
    /// utm_medium
    pub medium: &'static str,
}

/// The presets every workspace has (Google Analytics' channel grouping
/// reads these mediums: email, social, sms, referral, print).
pub const BUILT_IN: &[Preset] = &[
    Preset {
        name: "preset.newsletter",
        source: "newsletter",
        medium: "email",
    },
    Preset {
        name: "preset.whatsapp",
        source: "whatsapp",
        medium: "social",
    },
    Preset {
        name: "preset.sms",
        source: "sms",
        medium: "sms",
    },
    Preset {
        name: "preset.linkedin",
        source: "linkedin",
        medium: "social",
    },
    Preset {
        name: "preset.print",
        source: "print",
        medium: "qr",
    },
];

/// One entry of the form's preset menu.
#[derive(Debug, Clone)]
pub struct PresetChoice {
    /// The `<option>` value: `b<index>` (built-in) or `s<id>` (saved).
    pub value: String,
    /// Its name, in the page's language for the built-in ones.
    pub name: String,
    /// The fields it sets, in the canonical order (`source=newsletter`…).
    pub utm: Utm,
    /// Whether it is a saved one (it can be deleted).
    pub saved: bool,
}

impl PresetChoice {
    /// `source=newsletter, medium=email`, as the menu shows it.
    pub fn summary(&self) -> String {
        self.utm
            .pairs()
            .iter()
            .map(|(k, v)| format!("{}={v}", k.trim_start_matches("utm_")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `(source, newsletter)`… of the fields it sets (the menu's `data-*`).
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        self.utm
            .pairs()
            .into_iter()
            .map(|(k, v)| (k.trim_start_matches("utm_"), v))
            .collect()
    }
}

/// The menu: built-in presets first, then the saved ones by name.
pub fn choices(t: Tr, saved: &[UtmPreset]) -> (Vec<PresetChoice>, Vec<PresetChoice>) {
    let built_in = BUILT_IN
        .iter()
        .enumerate()
        .map(|(i, p)| PresetChoice {
            value: format!("b{i}"),
            name: t.get(p.name).to_owned(),
            utm: Utm {
                source: Some(p.source.into()),
                medium: Some(p.medium.into()),
                ..Utm::default()
            },
            saved: false,
        })
        .collect();
    let saved = saved
        .iter()
        .map(|p| PresetChoice {
            value: format!("s{}", p.id),
            name: p.name.clone(),
            utm: p.utm.clone(),
            saved: true,
        })
        .collect();
    (built_in, saved)
}

/// What a preset button asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Fill the UTM fields from the chosen preset.
    Apply,
    /// Save the UTM fields as a new preset.
    Save,
    /// Delete the chosen saved preset.
    Delete,
}

impl Action {
    /// The action of a posted form, if a preset button sent it.
    pub fn of(form: &LinkForm) -> Option<Action> {
        match form.preset_action.as_str() {
            "apply" => Some(Action::Apply),
            "save" => Some(Action::Save),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// The outcome of a preset action, for the form shown again.
#[derive(Debug)]
pub struct Outcome {
    /// The form's values after the action.
    pub values: LinkForm,
    /// Fields refused by the action (`preset`, `preset_name`, `utm_*`).
    pub invalid: Option<InvalidLink>,
    /// A message of the form's own (`(field id, text)`), e.g. no preset chosen.
    pub error: Option<(&'static str, String)>,
    /// What happened, in the page's language.
    pub notice: Option<String>,
}

/// Performs a preset action; only **save** and **delete** write (a preset).
pub async fn act(
    presets: &UtmPresets,
    t: Tr,
    action: Action,
    mut values: LinkForm,
    by: i64,
) -> Result<Outcome, PresetError> {
    values.preset_action.clear();
    let mut out = Outcome {
        values,
        invalid: None,
        error: None,
        notice: None,
    };
    match action {
        Action::Apply => match chosen(presets, t, &out.values.preset).await? {
            Some(choice) => {
                apply(&mut out.values, &choice.utm);
                out.notice = Some(t.with("form.preset_applied", "name", &choice.name));
            }
            None => out.error = Some(("preset", t.get("form.preset_choose").into())),
        },
        Action::Save => {
            let input = PresetInput {
                name: Some(out.values.preset_name.clone()),
                utm: out.values.utm_typed(),
            };
            match presets.create(input, Some(by)).await {
                Ok(p) => {
                    out.values.preset = format!("s{}", p.id);
                    out.values.preset_name.clear();
                    out.notice = Some(t.with("form.preset_saved", "name", &p.name));
                }
                Err(PresetError::Invalid(invalid)) => out.invalid = Some(invalid),
                Err(e) => return Err(e),
            }
        }
        Action::Delete => {
            let id = out
                .values
                .preset
                .strip_prefix('s')
                .and_then(|s| s.parse().ok());
            let deleted = match id {
                Some(id) => match presets.delete(id).await {
                    Ok(p) => Some(p),
                    Err(PresetError::NotFound) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            match deleted {
                Some(p) => {
                    out.values.preset.clear();
                    out.notice = Some(t.with("form.preset_deleted", "name", &p.name));
                }
                None => out.error = Some(("preset", t.get("form.preset_choose_saved").into())),
            }
        }
    }
    Ok(out)
}

/// The chosen menu entry, if it exists.
async fn chosen(
    presets: &UtmPresets,
    t: Tr,
    value: &str,
) -> Result<Option<PresetChoice>, PresetError> {
    let saved = match value.strip_prefix('s').and_then(|s| s.parse::<i64>().ok()) {
        Some(id) => match presets.find(id).await {
            Ok(p) => vec![p],
            Err(PresetError::NotFound) => vec![],
            Err(e) => return Err(e),
        },
        None => vec![],
    };
    let (built_in, saved) = choices(t, &saved);
    Ok(built_in.into_iter().chain(saved).find(|c| c.value == value))
}

/// Sets the UTM fields `utm` sets; the others keep what was typed.
fn apply(values: &mut LinkForm, utm: &Utm) {
    let slots = [
        (&mut values.utm_source, &utm.source),
        (&mut values.utm_medium, &utm.medium),
        (&mut values.utm_campaign, &utm.campaign),
        (&mut values.utm_term, &utm.term),
        (&mut values.utm_content, &utm.content),
    ];
    for (field, v) in slots {
        if let Some(v) = v {
            *field = v.clone();
        }
    }
}

/// The form's field id of a field a preset save refused.
pub fn field_id(field: &str) -> Option<&'static str> {
    match field {
        "name" => Some("preset_name"),
        "utm" => Some("preset_name"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applying_sets_only_the_fields_the_preset_has() {
        let mut form = LinkForm {
            destination: "https://shop.example/".into(),
            utm_campaign: "winter".into(),
            utm_source: "old".into(),
            ..LinkForm::default()
        };
        let (built_in, _) = choices(Tr::default(), &[]);
        apply(&mut form, &built_in[0].utm);
        assert_eq!(form.utm_source, "newsletter");
        assert_eq!(form.utm_medium, "email");
        assert_eq!(form.utm_campaign, "winter", "kept");
        assert_eq!(form.destination, "https://shop.example/", "kept");
        assert_eq!(built_in[0].summary(), "source=newsletter, medium=email");
    }
}
