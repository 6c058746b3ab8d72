//! The pages, one module per view. Each handler calls service functions, builds a small view
//! model here and renders a template; templates only lay out what the view model says (who may
//! see what and which steps a party has are answered by the service and the domain).

pub mod admin;
pub mod dashboard;
pub mod editor;
pub mod import;
pub mod introductions;
pub mod links;
pub mod login;
pub mod matches;
pub mod needs;
pub mod notifications;
pub mod preferences;
pub mod saved_searches;
pub mod search;
pub mod secretariat;
pub mod seeds;

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use kakehashi_domain::{Role, Taxonomy, TaxonomyKind};
use kakehashi_service::ServiceError;
use serde::Deserialize;

use crate::errors::WebError;
use crate::i18n::Lang;
use crate::session::Visit;

/// A link of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What surrounds every page: language, title, navigation, the member's name, the form token.
#[derive(Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub title_key: &'static str,
    pub member_name: Option<String>,
    pub role_label: &'static str,
    pub nav: Vec<NavLink>,
    pub csrf: String,
    pub href_ja: String,
    pub href_en: String,
    taxonomy: Arc<Taxonomy>,
}

impl std::fmt::Debug for Chrome {
    // Only what identifies the page: the form token and the taxonomy stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chrome").field("lang", &self.lang).field("title_key", &self.title_key).finish_non_exhaustive()
    }
}

fn with_lang(here: &str, lang: &str) -> String {
    let sep = if here.contains('?') { '&' } else { '?' };
    format!("{here}{sep}lang={lang}")
}

/// The pages a role works with, in the order of its navigation bar.
fn nav_for(role: Role) -> &'static [(&'static str, &'static str)] {
    const COMMON: &[(&str, &str)] = &[
        ("/", "nav.dashboard"),
        ("/search", "nav.search"),
        ("/matches", "nav.matches"),
        ("/introductions", "nav.introductions"),
        ("/notifications", "nav.notifications"),
    ];
    match role {
        Role::Researcher | Role::Tto => &[
            ("/", "nav.dashboard"),
            ("/seeds", "nav.my_seeds"),
            ("/matches", "nav.matches"),
            ("/introductions", "nav.introductions"),
            ("/notifications", "nav.notifications"),
        ],
        Role::Company => &[
            ("/", "nav.dashboard"),
            ("/search", "nav.search"),
            ("/needs", "nav.my_needs"),
            ("/matches", "nav.matches"),
            ("/introductions", "nav.introductions"),
            ("/saved-searches", "nav.saved_searches"),
            ("/notifications", "nav.notifications"),
        ],
        Role::Liaison => COMMON,
        Role::Admin => &[
            ("/", "nav.dashboard"),
            ("/search", "nav.search"),
            ("/introductions", "nav.introductions"),
            ("/admin", "nav.admin"),
            ("/notifications", "nav.notifications"),
        ],
    }
}

impl Chrome {
    #[must_use]
    pub fn new(visit: &Visit, title_key: &'static str) -> Chrome {
        let lang = visit.lang;
        let path = visit.here.split('?').next().unwrap_or("/");
        let (member_name, role_label, nav) = match &visit.session {
            Some(live) => {
                let role = live.member.role;
                let nav = nav_for(role)
                    .iter()
                    .map(|(href, key)| NavLink {
                        href,
                        label: lang.t(key),
                        current: if *href == "/" { path == "/" } else { path.starts_with(href) },
                    })
                    .collect();
                (Some(live.member.name.clone()), lang.t(role_key(role)), nav)
            }
            None => (None, "", Vec::new()),
        };
        Chrome {
            lang,
            title_key,
            member_name,
            role_label,
            nav,
            csrf: visit.csrf.clone(),
            href_ja: with_lang(&visit.here, "ja"),
            href_en: with_lang(&visit.here, "en"),
            taxonomy: Arc::clone(&visit.services.taxonomy),
        }
    }

    #[must_use]
    pub fn retitled(mut self, title_key: &'static str) -> Chrome {
        self.title_key = title_key;
        self
    }

    #[must_use]
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    #[must_use]
    pub fn title(&self) -> &'static str {
        self.lang.t(self.title_key)
    }

    #[must_use]
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    #[must_use]
    pub fn signed_in(&self) -> bool {
        self.member_name.is_some()
    }

    /// A taxonomy term's label in the page's language (the value itself if the taxonomy lost it).
    #[must_use]
    pub fn term(&self, kind: TaxonomyKind, value: &str) -> String {
        self.taxonomy
            .label(kind, value)
            .map_or_else(|| value.to_owned(), |t| self.lang.pick(&t.label_ja, &t.label_en).to_owned())
    }

    #[must_use]
    pub fn terms(&self, kind: TaxonomyKind, values: &[String]) -> String {
        let sep = if self.lang == Lang::Ja { "、" } else { ", " };
        values.iter().map(|v| self.term(kind, v)).collect::<Vec<_>>().join(sep)
    }

    /// Every term of a taxonomy as `(value, label)` for pickers.
    #[must_use]
    pub fn options(&self, kind: TaxonomyKind) -> Vec<(String, String)> {
        self.taxonomy
            .terms(kind)
            .map(|t| (t.value.clone(), self.lang.pick(&t.label_ja, &t.label_en).to_owned()))
            .collect()
    }

    #[must_use]
    pub fn date(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        self.lang.datetime(*at)
    }
}

#[must_use]
pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Researcher => "role.researcher",
        Role::Tto => "role.tto",
        Role::Company => "role.company",
        Role::Liaison => "role.liaison",
        Role::Admin => "role.admin",
    }
}

/// The page shown for errors.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub c: &'a Chrome,
    pub message: &'static str,
}

/// Renders a template into a page of this visit.
///
/// # Errors
/// When the template fails to render (logged).
pub fn render(visit: &Visit, status: StatusCode, template: &impl Template) -> Result<HttpResponse, WebError> {
    let html = template.render().map_err(|err| {
        tracing::error!(error = %err, "template failed");
        WebError::Internal(None)
    })?;
    Ok(visit.respond(status, html))
}

/// Problems with the fields of a form, by form field, in the page's language.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    by_field: HashMap<String, String>,
    /// A problem that no field explains, shown above the form.
    pub general: Option<String>,
    /// The request clashed with the state of things (a stale version, a taken value, a step the
    /// state does not allow) rather than being malformed.
    conflict: bool,
}

impl FieldErrors {
    #[must_use]
    pub fn get(&self, field: &str) -> &str {
        self.by_field.get(field).map_or("", String::as_str)
    }

    #[must_use]
    pub fn has(&self, field: &str) -> bool {
        self.by_field.contains_key(field)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_none()
    }

    /// 409 for a clash with the state of things, 422 for a form to correct.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        if self.conflict { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.by_field.entry(field.to_owned()).or_insert_with(|| message.into());
    }

    /// The field problems of a service error, each under its form field (the API's `errors[]`
    /// names `modalities[2]` or `confidential.details`: the form field is the name before any
    /// index); a taken value goes beside its field, a conflict or a refused step above the form.
    /// `None` for errors that no form explains.
    #[must_use]
    pub fn from_service(err: &ServiceError, lang: Lang) -> Option<FieldErrors> {
        let mut out = FieldErrors::default();
        let prefix = lang.t("form.invalid_prefix");
        match err {
            ServiceError::Validation { field, message } => {
                out.add(form_field(field), format!("{prefix}{}", crate::problems::translate(lang, message)));
            }
            ServiceError::Invalid(problems) => {
                for p in problems {
                    out.add(form_field(&p.field), format!("{prefix}{}", crate::problems::translate(lang, &p.message)));
                }
            }
            ServiceError::Taken { field, message } => {
                out.add(form_field(field), crate::problems::translate(lang, message));
                out.conflict = true;
            }
            ServiceError::Conflict(message) | ServiceError::IllegalStep { message, .. } => {
                out.general = Some(crate::problems::translate(lang, message));
                out.conflict = true;
            }
            ServiceError::RateLimited { .. } => out.general = Some(lang.t("form.rate_limited").to_owned()),
            _ => return None,
        }
        Some(out)
    }
}

fn form_field(api_field: &str) -> &str {
    api_field.split('[').next().unwrap_or(api_field)
}

/// The query of a list by status (`?status=&page=`), as introductions and matches are.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub page: Option<u64>,
}

/// Rows per page of a member's own seeds or needs.
pub const MINE_PER_PAGE: u64 = 50;

/// The most rows a page gathers from a list it shows whole (a thread, a picker, a work queue).
pub const WHOLE_LIST_CAP: u64 = 2_000;

/// Every item of a paged service list, read a hundred at a time, up to [`WHOLE_LIST_CAP`]: for
/// the lists a page shows whole, so none is cut at the service's largest page.
///
/// # Errors
/// The first error of a page.
pub async fn whole<T, F, Fut>(mut read: F) -> Result<Vec<T>, ServiceError>
where
    F: FnMut(kakehashi_domain::Page) -> Fut,
    Fut: Future<Output = Result<kakehashi_service::members::Listed<T>, ServiceError>>,
{
    let per_page = kakehashi_domain::Page::MAX_PER_PAGE;
    let mut items = Vec::new();
    for page in 1..=WHOLE_LIST_CAP.div_ceil(per_page) {
        let listed = read(kakehashi_domain::Page { page, per_page }).await?;
        let done = listed.items.len() < usize::try_from(per_page).unwrap_or(usize::MAX)
            || page.saturating_mul(per_page) >= listed.total;
        items.extend(listed.items);
        if done {
            break;
        }
    }
    Ok(items)
}

/// Page numbers for a list: previous and next links when there are any.
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the list's path and query without `page`.
    #[must_use]
    pub fn new(base: &str, page: u64, per_page: u64, total: u64) -> Pager {
        let pages = total.div_ceil(per_page.max(1)).max(1);
        let link = |p: u64| {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}page={p}")
        };
        Pager { page, pages, prev: (page > 1).then(|| link(page - 1)), next: (page < pages).then(|| link(page + 1)) }
    }
}

/// A `<mark>`-highlighted snippet from the index, kept to its marks: the index escapes the text,
/// and anything that still looks like markup besides `<mark>` is escaped again here.
#[must_use]
pub fn safe_snippet(snippet: &str) -> String {
    let escape = |s: &str| s.replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut out = String::with_capacity(snippet.len());
    for (i, part) in snippet.split("<mark>").enumerate() {
        if i == 0 {
            out.push_str(&escape(part));
            continue;
        }
        let (marked, rest) = part.split_once("</mark>").unwrap_or((part, ""));
        out.push_str("<mark>");
        out.push_str(&escape(marked));
        out.push_str("</mark>");
        out.push_str(&escape(rest));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_keep_only_their_marks() {
        assert_eq!(safe_snippet("a <mark>b</mark> &lt;c&gt;"), "a <mark>b</mark> &lt;c&gt;");
        assert_eq!(safe_snippet("<script>x</script><mark>y"), "&lt;script&gt;x&lt;/script&gt;<mark>y</mark>");
    }

    #[test]
    fn api_field_names_map_to_form_fields() {
        assert_eq!(form_field("modalities[2]"), "modalities");
        assert_eq!(form_field("confidential.details"), "confidential.details");
    }

    #[test]
    fn pager_links_pages_around_the_current_one() {
        let p = Pager::new("/search?q=x", 2, 20, 45);
        assert_eq!(p.pages, 3);
        assert_eq!(p.prev.as_deref(), Some("/search?q=x&page=1"));
        assert_eq!(p.next.as_deref(), Some("/search?q=x&page=3"));
    }
}
