//! `GET /api/v1/search`: full text in Japanese and English with facets. Repeating a facet
//! parameter ORs its values; different facets AND.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use kakehashi_search::{FacetFilters, Kind, Sort};
use kakehashi_service::Services;
use kakehashi_service::search::{SearchItem, SearchPage, SearchQuery};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, Code, Problem};
use crate::extract::{CurrentMember, Standing};
use crate::routes::views::{OrganizationView, PageQuery};

/// Query parameters (documentation; parsed by hand so facet parameters can repeat).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchParams {
    /// Text in Japanese and/or English; every word must match. Empty: browse by facets.
    #[param(max_length = 500)]
    q: Option<String>,
    /// `seed` or `need`; both when absent.
    #[param(inline, value_type = Option<KindParam>)]
    kind: Option<String>,
    /// Repeat to OR values, e.g. `modality=antibody&modality=adc`.
    #[param(max_items = 50)]
    modality: Option<Vec<String>>,
    #[param(max_items = 50)]
    disease_area: Option<Vec<String>>,
    #[param(max_items = 50)]
    stage: Option<Vec<String>>,
    #[param(max_items = 50)]
    ip_status: Option<Vec<String>>,
    #[param(max_items = 50)]
    deal_type: Option<Vec<String>>,
    /// `relevance` (default) or `newest`.
    #[param(inline, value_type = Option<SortParam>)]
    sort: Option<String>,
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 100, default = 20)]
    per_page: Option<u64>,
}

/// What `kind` takes.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum KindParam {
    Seed,
    Need,
}

/// What `sort` takes.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum SortParam {
    Relevance,
    Newest,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitView {
    /// `seed` or `need`.
    pub kind: &'static str,
    pub id: Uuid,
    pub title: String,
    /// HTML-escaped text with matches in `<mark>`.
    pub snippet: String,
    /// Relevance; `null` when sorted by date.
    pub score: Option<f32>,
    /// `null` for an anonymous need whose company the caller may not know.
    pub organization: Option<OrganizationView>,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    /// The seed's stage, or the stages a need asks for.
    pub stages: Vec<String>,
    pub ip_status: Option<String>,
    pub deal_types: Vec<String>,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetValueView {
    pub value: String,
    pub label_ja: String,
    pub label_en: String,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetsView {
    pub modality: Vec<FacetValueView>,
    pub disease_area: Vec<FacetValueView>,
    pub stage: Vec<FacetValueView>,
    pub ip_status: Vec<FacetValueView>,
    pub deal_type: Vec<FacetValueView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResultsView {
    pub items: Vec<SearchHitView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub facets: FacetsView,
}

fn hit_view(item: SearchItem) -> SearchHitView {
    let SearchItem { hit, organization } = item;
    let mut facets = hit.facets;
    let mut take = |name: &str| facets.remove(name).unwrap_or_default();
    SearchHitView {
        kind: hit.kind.as_str(),
        id: hit.id,
        title: hit.title,
        snippet: hit.snippet,
        score: hit.score,
        organization: organization.map(Into::into),
        modalities: take("modality"),
        disease_areas: take("disease_area"),
        stages: take("stage"),
        ip_status: take("ip_status").into_iter().next(),
        deal_types: take("deal_type"),
        published_at: hit.published_at,
    }
}

fn results_view(page: SearchPage) -> SearchResultsView {
    let mut by_name: std::collections::HashMap<&str, Vec<FacetValueView>> = page
        .facets
        .into_iter()
        .map(|f| {
            let values = f
                .values
                .into_iter()
                .map(|v| FacetValueView { value: v.value, label_ja: v.label_ja, label_en: v.label_en, count: v.count })
                .collect();
            (f.name, values)
        })
        .collect();
    let mut take = |name: &str| by_name.remove(name).unwrap_or_default();
    let facets = FacetsView {
        modality: take("modality"),
        disease_area: take("disease_area"),
        stage: take("stage"),
        ip_status: take("ip_status"),
        deal_type: take("deal_type"),
    };
    SearchResultsView {
        items: page.items.into_iter().map(hit_view).collect(),
        total: page.total,
        page: page.page.page,
        per_page: page.page.per_page,
        facets,
    }
}

const MAX_QUERY_CHARS: usize = 500;
const MAX_FACET_VALUES: usize = 50;

fn parse(query_string: &str) -> Result<SearchQuery, ApiError> {
    let mut query = SearchQuery::default();
    let mut filters = FacetFilters::default();
    let (mut page, mut per_page) = (None, None);
    let number = |name: &str, value: &str| {
        value.parse::<u64>().map_err(|_| ApiError::field(Code::ValidationFailed, name, "must be a positive integer"))
    };
    for (key, value) in form_urlencoded::parse(query_string.as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "q" => {
                if value.chars().count() > MAX_QUERY_CHARS {
                    return Err(ApiError::field(
                        Code::ValidationFailed,
                        "q",
                        format!("must be at most {MAX_QUERY_CHARS} characters"),
                    ));
                }
                query.text = value;
            }
            "kind" => {
                query.kind = Some(match value.as_str() {
                    "seed" => Kind::Seed,
                    "need" => Kind::Need,
                    _ => return Err(ApiError::field(Code::ValidationFailed, "kind", "must be seed or need")),
                });
            }
            "sort" => {
                query.sort = match value.as_str() {
                    "relevance" => Sort::Relevance,
                    "newest" => Sort::Newest,
                    _ => return Err(ApiError::field(Code::ValidationFailed, "sort", "must be relevance or newest")),
                };
            }
            "modality" => filters.modality.push(value),
            "disease_area" => filters.disease_area.push(value),
            "stage" => filters.stage.push(value),
            "ip_status" => filters.ip_status.push(value),
            "deal_type" => filters.deal_type.push(value),
            "page" => page = Some(number("page", &value)?),
            "per_page" => per_page = Some(number("per_page", &value)?),
            other => return Err(ApiError::field(Code::ValidationFailed, other.to_owned(), "unknown parameter")),
        }
    }
    for (name, values) in [
        ("modality", &filters.modality),
        ("disease_area", &filters.disease_area),
        ("stage", &filters.stage),
        ("ip_status", &filters.ip_status),
        ("deal_type", &filters.deal_type),
    ] {
        if values.len() > MAX_FACET_VALUES {
            return Err(ApiError::field(Code::ValidationFailed, name, format!("at most {MAX_FACET_VALUES} values")));
        }
    }
    query.filters = filters;
    query.page = PageQuery { page, per_page }.page()?;
    if query.page.offset() + query.page.per_page > kakehashi_service::search::MAX_RESULT_WINDOW {
        let message = format!(
            "results beyond the first {} are not served; narrow the search",
            kakehashi_service::search::MAX_RESULT_WINDOW
        );
        return Err(ApiError::field(Code::ValidationFailed, "page", message));
    }
    Ok(query)
}

/// Search seeds and needs the caller may find.
#[utoipa::path(
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, body = SearchResultsView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/search")]
pub async fn search(
    svc: web::Data<Services>,
    member: CurrentMember,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = parse(req.query_string())?;
    let page = match Standing::of(&req) {
        Some(Standing(stands)) => svc.search_as_of(&member, query, stands).await?,
        None => svc.search(&member, query).await?,
    };
    Ok(HttpResponse::Ok().json(results_view(page)))
}
