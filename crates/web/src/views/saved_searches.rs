//! Saved searches: the member's list (each opens the search it keeps), saving the search on the
//! search page, and deleting one.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Path;
use askama::Template;
use kakehashi_service::saved_searches::StoredQuery;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::search::Params;
use crate::views::{Chrome, render};

pub struct SavedRow {
    pub id: String,
    pub name: String,
    pub href: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "saved_searches.html")]
pub struct SavedSearchesPage {
    pub c: Chrome,
    pub rows: Vec<SavedRow>,
    pub error: Option<String>,
}

fn search_href(query: &StoredQuery) -> String {
    let params = Params {
        q: query.q.clone(),
        kind: query.kind,
        filters: kakehashi_search::FacetFilters {
            modality: query.modality.clone(),
            disease_area: query.disease_area.clone(),
            stage: query.stage.clone(),
            ip_status: query.ip_status.clone(),
            deal_type: query.deal_type.clone(),
        },
        ..Params::default()
    };
    format!("/search?{}", form_urlencoded::Serializer::new(String::new()).extend_pairs(params.pairs()).finish())
}

async fn page_with(visit: &Visit, error: Option<String>, status: StatusCode) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("saved.title");
    let saved =
        visit.services.saved_searches(&live.member).await.map_err(|err| WebError::from_service(&err, c.clone()))?;
    let rows = saved
        .into_iter()
        .map(|s| {
            let query: StoredQuery = serde_json::from_value(s.query).unwrap_or_default();
            SavedRow { id: s.id.to_string(), name: s.name, href: search_href(&query), created: c.date(&s.created_at) }
        })
        .collect();
    render(visit, status, &SavedSearchesPage { c, rows, error })
}

/// `GET /saved-searches`.
///
/// # Errors
/// The login page without a session.
pub async fn list(visit: Visit) -> Result<HttpResponse, WebError> {
    page_with(&visit, None, StatusCode::OK).await
}

/// `POST /saved-searches` from the search page: `name` and the search's own parameters.
///
/// # Errors
/// 403 without a valid form token.
pub async fn create(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let pairs = ["q", "kind", "modality", "disease_area", "stage", "ip_status", "deal_type"]
        .iter()
        .flat_map(|k| form.all(k).into_iter().map(move |v| (k.to_string(), v)))
        .collect::<Vec<_>>();
    let params = Params::parse(&form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish());
    let query = StoredQuery {
        q: params.q.clone(),
        kind: params.kind,
        modality: params.filters.modality.clone(),
        disease_area: params.filters.disease_area.clone(),
        stage: params.filters.stage.clone(),
        ip_status: params.filters.ip_status.clone(),
        deal_type: params.filters.deal_type.clone(),
    };
    let name: String = form.get("name").trim().chars().take(200).collect();
    let name = if name.is_empty() { params.q.clone() } else { name };
    match visit.services.create_saved_search(&live.member, name, query).await {
        Ok(_) => Ok(visit.see_other("/saved-searches")),
        Err(err) => match crate::views::FieldErrors::from_service(&err, visit.lang) {
            Some(errors) => {
                let message = ["name", "q", "modality", "disease_area", "stage", "ip_status", "deal_type"]
                    .iter()
                    .map(|f| errors.get(f))
                    .find(|m| !m.is_empty())
                    .map(str::to_owned)
                    .or(errors.general);
                page_with(&visit, message, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            None => Err(WebError::from_service(&err, visit.chrome("saved.title"))),
        },
    }
}

/// `POST /saved-searches/{id}/delete`.
///
/// # Errors
/// 403 without a valid token; 404 unless it is the member's.
pub async fn remove(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    visit
        .services
        .delete_saved_search(&live.member, id)
        .await
        .map_err(|err| WebError::from_service(&err, visit.chrome("saved.title")))?;
    Ok(visit.see_other("/saved-searches"))
}
