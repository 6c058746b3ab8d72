//! `GET /search`: the query box, facet checkboxes with their counts, highlighted snippets, sort,
//! pagination and "save this search". It takes the query parameters of `GET /api/v1/search` and
//! asks the same service function, so it finds exactly what the API would for this member. An
//! htmx request gets only the results fragment.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use kakehashi_domain::{Page, TaxonomyKind};
use kakehashi_search::{FacetFilters, Kind, Sort};
use kakehashi_service::search::SearchQuery;

use crate::errors::WebError;
use crate::session::Visit;
use crate::views::{Chrome, FieldErrors, Pager, render, safe_snippet};

pub const PER_PAGE: u64 = 20;

/// One search hit as shown.
pub struct HitRow {
    pub href: String,
    pub kind_label: &'static str,
    pub title: String,
    /// Escaped text with `<mark>` around the words that matched.
    pub snippet_html: String,
    pub organization: String,
    pub tags: String,
    pub published: String,
}

pub struct FacetBox {
    pub name: &'static str,
    pub legend: &'static str,
    pub values: Vec<FacetOption>,
}

pub struct FacetOption {
    pub id: String,
    pub value: String,
    pub label: String,
    pub count: u64,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPageView {
    pub c: Chrome,
    pub r: Results,
}

#[derive(Template)]
#[template(path = "search_partial.html")]
pub struct SearchPartial {
    pub c: Chrome,
    pub r: Results,
}

pub struct Results {
    pub q: String,
    pub kind: String,
    pub sort: String,
    pub facets: Vec<FacetBox>,
    pub hits: Vec<HitRow>,
    pub total: u64,
    pub pager: Pager,
    pub errors: FieldErrors,
    /// The query as hidden fields for "save this search".
    pub saved_fields: Vec<(String, String)>,
    pub can_save: bool,
}

/// The search parameters, as the API reads them (facets repeat).
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub q: String,
    pub kind: Option<Kind>,
    pub filters: FacetFilters,
    pub sort: Sort,
    pub page: u64,
}

impl Params {
    #[must_use]
    pub fn parse(query: &str) -> Params {
        let mut p = Params { page: 1, ..Params::default() };
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let v = v.into_owned();
            match k.as_ref() {
                "q" => p.q = v.chars().take(500).collect(),
                "kind" => {
                    p.kind = match v.as_str() {
                        "seed" => Some(Kind::Seed),
                        "need" => Some(Kind::Need),
                        _ => None,
                    }
                }
                "sort" => p.sort = if v == "newest" { Sort::Newest } else { Sort::Relevance },
                "page" => p.page = v.parse().unwrap_or(1).clamp(1, 500),
                "modality" if !v.is_empty() => p.filters.modality.push(v),
                "disease_area" if !v.is_empty() => p.filters.disease_area.push(v),
                "stage" if !v.is_empty() => p.filters.stage.push(v),
                "ip_status" if !v.is_empty() => p.filters.ip_status.push(v),
                "deal_type" if !v.is_empty() => p.filters.deal_type.push(v),
                _ => {}
            }
        }
        p
    }

    /// The parameters as pairs, without `page`.
    #[must_use]
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = vec![("q".to_owned(), self.q.clone())];
        if let Some(kind) = self.kind {
            out.push(("kind".into(), kind.as_str().into()));
        }
        for (name, values) in self.facet_lists() {
            for v in values {
                out.push((name.to_owned(), v.clone()));
            }
        }
        if self.sort == Sort::Newest {
            out.push(("sort".into(), "newest".into()));
        }
        out
    }

    fn facet_lists(&self) -> [(&'static str, &Vec<String>); 5] {
        let f = &self.filters;
        [
            ("modality", &f.modality),
            ("disease_area", &f.disease_area),
            ("stage", &f.stage),
            ("ip_status", &f.ip_status),
            ("deal_type", &f.deal_type),
        ]
    }
}

fn facet_kind(name: &str) -> Option<(TaxonomyKind, &'static str)> {
    Some(match name {
        "modality" => (TaxonomyKind::Modality, "search.facet_modality"),
        "disease_area" => (TaxonomyKind::DiseaseArea, "search.facet_disease_area"),
        "stage" => (TaxonomyKind::Stage, "search.facet_stage"),
        "ip_status" => (TaxonomyKind::IpStatus, "search.facet_ip_status"),
        "deal_type" => (TaxonomyKind::DealType, "search.facet_deal_type"),
        _ => return None,
    })
}

/// `GET /search`.
///
/// # Errors
/// The login page without a session.
pub async fn page(visit: Visit, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let params = Params::parse(req.query_string());
    let c = visit.chrome("search.title");
    let lang = visit.lang;
    let query = SearchQuery {
        text: params.q.clone(),
        kind: params.kind,
        filters: params.filters.clone(),
        sort: params.sort,
        page: Page { page: params.page, per_page: PER_PAGE },
    };
    let base = {
        let s = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.pairs()).finish();
        format!("/search?{s}")
    };
    let mut errors = FieldErrors::default();
    let found = match visit.services.search(&live.member, query).await {
        Ok(found) => Some(found),
        Err(err) => match FieldErrors::from_service(&err, lang) {
            Some(e) => {
                errors = e;
                None
            }
            None => return Err(WebError::from_service(&err, c)),
        },
    };
    let (hits, total, facet_counts) = match found {
        Some(found) => (found.items, found.total, found.facets),
        None => (Vec::new(), 0, Vec::new()),
    };
    let selected = params.facet_lists();
    let facets = facet_counts
        .into_iter()
        .filter_map(|f| {
            let (_, legend) = facet_kind(f.name)?;
            let chosen: &Vec<String> = selected.iter().find(|(n, _)| *n == f.name).map(|(_, v)| *v)?;
            let values = f
                .values
                .into_iter()
                .map(|v| FacetOption {
                    id: format!("f-{}-{}", f.name, v.value),
                    checked: chosen.contains(&v.value),
                    label: lang.pick(&v.label_ja, &v.label_en).to_owned(),
                    value: v.value,
                    count: v.count,
                })
                .collect();
            Some(FacetBox { name: f.name, legend: lang.t(legend), values })
        })
        .collect();
    let hits = hits
        .into_iter()
        .map(|item| {
            let hit = item.hit;
            let (href, kind_label) = match hit.kind {
                Kind::Seed => (format!("/seeds/{}", hit.id), lang.t("search.kind_seed")),
                Kind::Need => (format!("/needs/{}", hit.id), lang.t("search.kind_need")),
            };
            // In the order the facets are listed beside the hits: modality, disease area, stage.
            let mut tags = Vec::new();
            for (name, kind) in kakehashi_search::FACETS {
                if matches!(kind, TaxonomyKind::Modality | TaxonomyKind::DiseaseArea | TaxonomyKind::Stage)
                    && let Some(values) = hit.facets.get(name)
                {
                    tags.push(c.terms(kind, values));
                }
            }
            HitRow {
                href,
                kind_label,
                title: hit.title,
                snippet_html: safe_snippet(&hit.snippet),
                organization: item.organization.map_or_else(
                    || lang.t("record.anonymous_company").to_owned(),
                    |o| lang.pick(&o.name, &o.name_en).to_owned(),
                ),
                tags: tags.into_iter().filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" · "),
                published: lang.datetime(hit.published_at),
            }
        })
        .collect();
    let can_save = !params.q.trim().is_empty() || params.facet_lists().iter().any(|(_, v)| !v.is_empty());
    let r = Results {
        q: params.q.clone(),
        kind: params.kind.map_or("", Kind::as_str).to_owned(),
        sort: if params.sort == Sort::Newest { "newest".into() } else { "relevance".into() },
        facets,
        hits,
        total,
        pager: Pager::new(&base, params.page, PER_PAGE, total),
        errors,
        saved_fields: params.pairs().into_iter().filter(|(_, v)| !v.is_empty()).collect(),
        can_save,
    };
    if visit.htmx && req.headers().get("hx-target").is_some_and(|t| t == "results") {
        return render(&visit, StatusCode::OK, &SearchPartial { c, r });
    }
    render(&visit, StatusCode::OK, &SearchPageView { c, r })
}
