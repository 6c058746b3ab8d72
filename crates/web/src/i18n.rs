//! Languages: the two catalogues of interface strings, choosing a member's language, and dates
//! written the way each language writes them.
//!
//! Strings live in `i18n/ja.toml` and `i18n/en.toml` (sections flatten to `section.key`), never
//! in templates; a test fails when a key is missing in either, or when a template or view asks
//! for a key that neither has.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::HttpRequest;
use actix_web::http::header;
use chrono::{DateTime, FixedOffset, Utc};
use kakehashi_domain::Locale;

/// The language a page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    #[must_use]
    pub fn parse(value: &str) -> Option<Lang> {
        match value.trim().to_ascii_lowercase().as_str() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    #[must_use]
    pub fn locale(self) -> Locale {
        match self {
            Lang::Ja => Locale::Ja,
            Lang::En => Locale::En,
        }
    }

    #[must_use]
    pub fn from_locale(locale: Locale) -> Lang {
        match locale {
            Locale::Ja => Lang::Ja,
            Locale::En => Lang::En,
        }
    }

    /// A string of the catalogue; the key itself when missing (a test keeps that from happening).
    #[must_use]
    pub fn t(self, key: &str) -> &'static str {
        let catalogue = match self {
            Lang::Ja => &CATALOGUES.0,
            Lang::En => &CATALOGUES.1,
        };
        if let Some(text) = catalogue.get(key) {
            text.as_str()
        } else {
            tracing::warn!(key, lang = self.code(), "missing interface string");
            "?"
        }
    }

    /// Of a `(ja, en)` pair of labels, the one of this language.
    #[must_use]
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// A moment in Japan's time (members work in Japan; it has no daylight saving), written as the
    /// language writes dates: `2026年12月1日 09:30` or `1 Dec 2026, 09:30`.
    #[must_use]
    pub fn datetime(self, at: DateTime<Utc>) -> String {
        let jst = FixedOffset::east_opt(9 * 3600).map_or_else(|| at.fixed_offset(), |tz| at.with_timezone(&tz));
        match self {
            Lang::Ja => jst.format("%Y年%-m月%-d日 %H:%M").to_string(),
            Lang::En => jst.format("%-d %b %Y, %H:%M JST").to_string(),
        }
    }

    /// The language of a request without a member: the `lang` cookie, else `Accept-Language`,
    /// else Japanese.
    #[must_use]
    pub fn of_request(req: &HttpRequest) -> Lang {
        if let Some(lang) = req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
            return lang;
        }
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(accept_language)
            .unwrap_or_default()
    }
}

/// The cookie that remembers the language chosen before signing in.
pub const LANG_COOKIE: &str = "lang";

/// The preferred of `ja` and `en` in an `Accept-Language` header, by quality.
#[must_use]
pub fn accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = Lang::parse(primary) else { continue };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

pub(crate) const JA: &str = include_str!("../i18n/ja.toml");
pub(crate) const EN: &str = include_str!("../i18n/en.toml");

static CATALOGUES: LazyLock<(HashMap<String, String>, HashMap<String, String>)> =
    LazyLock::new(|| (flatten(JA), flatten(EN)));

/// A catalogue's strings by `section.key`; an unreadable catalogue is empty (a test reads both).
pub(crate) fn flatten(source: &str) -> HashMap<String, String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
        for (key, value) in table {
            let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            match value {
                toml::Value::String(s) => {
                    out.insert(name, s.clone());
                }
                toml::Value::Table(t) => walk(&name, t, out),
                _ => {}
            }
        }
    }
    let mut out = HashMap::new();
    if let Ok(table) = source.parse::<toml::Table>() {
        walk("", &table, &mut out);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        JA.parse::<toml::Table>().unwrap();
        EN.parse::<toml::Table>().unwrap();
        let ja: BTreeSet<_> = flatten(JA).into_keys().collect();
        let en: BTreeSet<_> = flatten(EN).into_keys().collect();
        let only_ja: Vec<_> = ja.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&ja).collect();
        assert!(only_ja.is_empty() && only_en.is_empty(), "only in ja: {only_ja:?}; only in en: {only_en:?}");
    }

    /// Every `t("…")` in the templates and views names a key of the catalogues.
    #[test]
    fn every_key_asked_for_exists() {
        let ja = flatten(JA);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut missing = Vec::new();
        let mut sources = Vec::new();
        for dir in ["templates", "src", "src/views"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    sources.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        for (path, text) in sources {
            for piece in text.split("t(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                if key.contains('.') && !key.contains(' ') && !ja.contains_key(key) {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from the catalogues: {missing:#?}");
    }

    #[test]
    fn accept_language_takes_the_preferred_known_language() {
        assert_eq!(accept_language("en-GB,en;q=0.9,ja;q=0.8"), Some(Lang::En));
        assert_eq!(accept_language("fr, ja;q=0.5, en;q=0.4"), Some(Lang::Ja));
        assert_eq!(accept_language("de"), None);
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T00:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(Lang::Ja.datetime(at), "2026年12月1日 09:30");
        assert_eq!(Lang::En.datetime(at), "1 Dec 2026, 09:30 JST");
    }
}
