//! The channel ladder for human clicks: a precedence list of named predicates
//! (internal → referrer → qr → dark social → direct). Owns the dark-social signals and the
//! words of `data/channels.tsv`; never looks at the User-Agent itself (it gets the in-app
//! app already named).

use std::collections::HashMap;
use std::time::Duration;

use super::Channel;
use super::apps::Apps;
use super::evidence::Evidence;
use super::referrers::Referer;
use super::rules::rows;
use super::signals::{LinkFacts, RecentPreview, SlugKind, present};

/// What a word of a declared channel or UTM field means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    /// The QR channel.
    Qr,
    /// A private channel, named by an app id (`whatsapp`, `sms`, `email`…).
    Private(&'static str),
}

/// The words of `data/channels.tsv`.
pub(crate) struct ChannelWords {
    words: HashMap<&'static str, Meaning>,
}

impl ChannelWords {
    /// Loads `data/channels.tsv`.
    pub(crate) fn new() -> Self {
        let words = rows(include_str!("data/channels.tsv"))
            .map(|row| {
                (
                    row[0],
                    if row[1] == "qr" {
                        Meaning::Qr
                    } else {
                        Meaning::Private(row[1])
                    },
                )
            })
            .collect();
        ChannelWords { words }
    }

    fn meaning(&self, value: Option<&str>) -> Option<Meaning> {
        let value = present(value)?;
        if value.len() > 32 {
            return None;
        }
        if value.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.words.get(value.to_ascii_lowercase().as_str()).copied();
        }
        self.words.get(value).copied()
    }
}

/// Everything the ladder needs about one human request.
pub(crate) struct Inputs<'a> {
    /// The classified Referer, if one was sent and parsed.
    pub(crate) referer: Option<Referer>,
    /// The in-app browser named by the User-Agent.
    pub(crate) inapp_ua: Option<&'static str>,
    /// The app named by `X-Requested-With`.
    pub(crate) inapp_package: Option<&'static str>,
    /// `Sec-Fetch-Site`.
    pub(crate) sec_fetch_site: Option<&'a str>,
    /// The link's facts.
    pub(crate) link: &'a LinkFacts<'a>,
    /// The link's recent share events.
    pub(crate) recent_previews: &'a [RecentPreview],
    /// How recent a preview must be to count.
    pub(crate) preview_window: Duration,
}

/// The ladder's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The channel.
    pub(crate) channel: Channel,
    /// The source id or referrer host.
    pub(crate) source: Option<String>,
    /// Strongest first.
    pub(crate) evidence: Vec<Evidence>,
}

/// Runs the ladder: the first rung that holds decides; the private-share signals are kept
/// as supporting evidence whatever decided.
pub(crate) fn decide(inputs: &Inputs<'_>, words: &ChannelWords, apps: &Apps) -> Decision {
    let signals = private_signals(inputs, words, apps);
    let decided = from_referer(inputs.referer.as_ref())
        .or_else(|| from_qr(inputs.link, words))
        .or_else(|| from_private_signals(&signals))
        .unwrap_or_else(|| Decision {
            channel: Channel::Direct,
            source: None,
            evidence: vec![if withheld(inputs.sec_fetch_site) {
                Evidence::RefererWithheld
            } else {
                Evidence::NoReferer
            }],
        });
    let mut evidence = decided.evidence;
    for (signal, _) in signals {
        if !evidence.contains(&signal) {
            evidence.push(signal);
        }
    }
    if inputs.referer == Some(Referer::Invalid) {
        evidence.push(Evidence::RefererInvalid);
    }
    Decision {
        evidence,
        ..decided
    }
}

/// Whether `Sec-Fetch-Site` says another page led here (`cross-site`, `same-site`): with
/// no Referer, that page withheld its address (`referrerpolicy="no-referrer"`,
/// `rel=noreferrer`); the click stays `direct`, for want of a source.
fn withheld(sec_fetch_site: Option<&str>) -> bool {
    present(sec_fetch_site).is_some_and(|site| {
        site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site")
    })
}

/// Rungs 1–2: a Referer decides (internal, then the referrer tables).
fn from_referer(referer: Option<&Referer>) -> Option<Decision> {
    let decision = match referer? {
        Referer::Invalid => return None,
        Referer::Internal => Decision {
            channel: Channel::Internal,
            source: None,
            evidence: vec![Evidence::RefererInternal],
        },
        Referer::Known {
            channel,
            source,
            app,
        } => {
            let evidence = if *app {
                Evidence::RefererApp((*source).to_owned())
            } else {
                Evidence::Referer(format!("{}:{source}", channel.as_str()))
            };
            Decision {
                channel: *channel,
                source: Some((*source).to_owned()),
                evidence: vec![evidence],
            }
        }
        Referer::Unknown { host } => Decision {
            channel: Channel::Referral,
            source: Some(host.clone()),
            evidence: vec![Evidence::Referer("referral".to_owned())],
        },
    };
    Some(decision)
}

/// Rung 3: the link is a QR variant, or its utm_medium says qr.
fn from_qr(link: &LinkFacts<'_>, words: &ChannelWords) -> Option<Decision> {
    let evidence = if words.meaning(link.declared_channel) == Some(Meaning::Qr) {
        Evidence::DeclaredChannel("qr".to_owned())
    } else if words.meaning(link.utm_medium) == Some(Meaning::Qr) {
        Evidence::UtmMedium("qr".to_owned())
    } else {
        return None;
    };
    Some(Decision {
        channel: Channel::Qr,
        source: None,
        evidence: vec![evidence],
    })
}

/// Rung 4: no Referer and at least one private-share signal; the source is the app of the
/// strongest signal that names one.
fn from_private_signals(signals: &[(Evidence, Option<&'static str>)]) -> Option<Decision> {
    let (first, _) = signals.first()?;
    let source = signals.iter().find_map(|(_, app)| *app).map(str::to_owned);
    Some(Decision {
        channel: Channel::DarkSocial,
        source,
        evidence: vec![first.clone()],
    })
}

/// The private-share signals, strongest first: in-app browser (User-Agent, then
/// X-Requested-With), declared channel, utm_medium, utm_source, recent preview, and
/// `Sec-Fetch-Site: none` with a generated slug.
fn private_signals(
    inputs: &Inputs<'_>,
    words: &ChannelWords,
    apps: &Apps,
) -> Vec<(Evidence, Option<&'static str>)> {
    let mut signals = Vec::new();
    if let Some(app) = inputs.inapp_ua {
        signals.push((Evidence::InappUa(app.to_owned()), Some(app)));
    }
    if let Some(app) = inputs
        .inapp_package
        .filter(|app| Some(*app) != inputs.inapp_ua)
    {
        signals.push((Evidence::XRequestedWith(app.to_owned()), Some(app)));
    }
    let private = |value| match words.meaning(value) {
        Some(Meaning::Private(app)) => Some(app),
        _ => None,
    };
    if let Some(app) = private(inputs.link.declared_channel) {
        signals.push((Evidence::DeclaredChannel(app.to_owned()), Some(app)));
    }
    if let Some(app) = private(inputs.link.utm_medium) {
        signals.push((Evidence::UtmMedium(app.to_owned()), Some(app)));
    }
    if let Some(app) = private(inputs.link.utm_source) {
        signals.push((Evidence::UtmSource(app.to_owned()), Some(app)));
    }
    if let Some(app) = latest_private_preview(inputs, apps) {
        signals.push((Evidence::RecentPreview(app.to_owned()), Some(app)));
    }
    let none = present(inputs.sec_fetch_site).is_some_and(|site| site.eq_ignore_ascii_case("none"));
    if none && inputs.link.slug_kind == SlugKind::Generated {
        signals.push((Evidence::SecFetchSiteNoneGeneratedSlug, None));
    }
    signals
}

/// The most recent preview within the window by an app whose previews mean a private
/// share; on a tie, the one listed first.
fn latest_private_preview(inputs: &Inputs<'_>, apps: &Apps) -> Option<&'static str> {
    inputs
        .recent_previews
        .iter()
        .filter(|p| p.age <= inputs.preview_window)
        .filter_map(|p| {
            apps.get(&p.app)
                .filter(|app| app.private_preview)
                .map(|app| (p.age, app.id))
        })
        .min_by_key(|(age, _)| *age)
        .map(|(_, id)| id)
}
