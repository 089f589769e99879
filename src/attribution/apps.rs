//! The app and site ids Lanterne names (`data/apps.tsv`): their group and whether a link
//! preview by them means a private share. Never guesses an id that is not in the table.

use std::collections::HashMap;

/// What kind of app or site an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// Private messaging (WhatsApp, Telegram, Slack…).
    Messaging,
    /// Text messages.
    Sms,
    /// Public social networks.
    Social,
    /// Webmail and mail apps.
    Email,
    /// Search engines.
    Search,
    /// Anything else (unfurl services).
    Other,
}

/// One row of `apps.tsv`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct App {
    /// The lower-case id, e.g. `whatsapp`.
    pub(crate) id: &'static str,
    /// Its group.
    pub(crate) group: Group,
    /// Whether a preview by this app is a private-share signal.
    pub(crate) private_preview: bool,
}

/// All known apps, by id.
pub(crate) struct Apps {
    by_id: HashMap<&'static str, App>,
}

impl Apps {
    /// Loads `data/apps.tsv`.
    pub(crate) fn new() -> Self {
        let by_id = super::rules::rows(include_str!("data/apps.tsv"))
            .map(|row| {
                let group = match row[1] {
                    "messaging" => Group::Messaging,
                    "sms" => Group::Sms,
                    "social" => Group::Social,
                    "email" => Group::Email,
                    "search" => Group::Search,
                    "other" => Group::Other,
                    other => panic!("apps.tsv: unknown group {other}"),
                };
                let app = App {
                    id: row[0],
                    group,
                    private_preview: row[2] == "yes",
                };
                (row[0], app)
            })
            .collect();
        Apps { by_id }
    }

    /// The app with this id (ids are compared exactly: they are already lower-case).
    pub(crate) fn get(&self, id: &str) -> Option<App> {
        self.by_id.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_used_by_another_table_is_declared_in_apps_tsv() {
        let apps = Apps::new();
        let tables = [
            (include_str!("data/previews.tsv"), 1),
            (include_str!("data/inapp.tsv"), 1),
            (include_str!("data/android_apps.tsv"), 1),
            (include_str!("data/referrers.tsv"), 2),
        ];
        for (data, column) in tables {
            for row in super::super::rules::rows(data) {
                assert!(
                    apps.get(row[column]).is_some(),
                    "{} is not in apps.tsv",
                    row[column]
                );
            }
        }
        for row in super::super::rules::rows(include_str!("data/channels.tsv")) {
            assert!(
                row[1] == "qr" || apps.get(row[1]).is_some(),
                "{} unknown",
                row[1]
            );
        }
    }
}
