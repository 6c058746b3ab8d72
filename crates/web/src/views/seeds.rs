//! A seed's page (its summary; the confidential section only when the service opened it, with a
//! banner saying who may read it and why; its matches; the company's "request an introduction"
//! form) and the list of one's own seeds. Hidden and missing seeds answer the same 404 page.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Path, Query};
use askama::Template;
use kakehashi_domain::{Access, Page, RecordStatus, Role, TaxonomyKind, Visibility};
use kakehashi_service::introductions::IntroductionRequest;
use kakehashi_service::matching::Filter as MatchFilter;
use kakehashi_service::seeds::VisibleSeed;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::matches::{MatchRow, rows as match_rows};
use crate::views::{Chrome, FieldErrors, ListQuery, MINE_PER_PAGE, Pager, render};

pub struct Confidential {
    pub banner: &'static str,
    pub details: String,
    pub patents: Vec<String>,
    pub notes: String,
}

pub struct SeedView {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub organization: String,
    pub modalities: String,
    pub disease_areas: String,
    pub stage: String,
    pub ip_status: String,
    pub deal_types: String,
    pub keywords: String,
    pub status: &'static str,
    pub visibility: &'static str,
    pub updated: String,
}

pub struct RequestForm {
    pub needs: Vec<(String, String)>,
    /// The company has published needs the list leaves out.
    pub more: bool,
    pub message: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "seed.html")]
pub struct SeedPage {
    pub c: Chrome,
    pub seed: SeedView,
    pub confidential: Option<Confidential>,
    pub closed_note: bool,
    pub matches: Vec<MatchRow>,
    pub request: Option<RequestForm>,
    /// The viewer may edit, publish, archive and grant (the service's `Access::Owner`).
    pub editable: bool,
}

#[derive(Template)]
#[template(path = "seeds.html")]
pub struct SeedsPage {
    pub c: Chrome,
    pub seeds: Vec<SeedView>,
    /// Researchers and TTO staff register seeds.
    pub can_register: bool,
    /// TTO staff and the secretariat import them in bulk.
    pub can_import: bool,
    pub pager: Pager,
}

#[must_use]
pub fn status_key(status: RecordStatus) -> &'static str {
    match status {
        RecordStatus::Draft => "record.status_draft",
        RecordStatus::Published => "record.status_published",
        RecordStatus::Archived => "record.status_archived",
    }
}

#[must_use]
pub fn visibility_key(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Members => "record.visibility_members",
        Visibility::LiaisonOnly => "record.visibility_liaison_only",
    }
}

fn view(c: &Chrome, seed: &VisibleSeed) -> SeedView {
    let content = &seed.content;
    SeedView {
        id: seed.id.to_string(),
        title: content.title.clone(),
        summary: content.summary.clone(),
        organization: c.lang.pick(&seed.organization.name, &seed.organization.name_en).to_owned(),
        modalities: c.terms(TaxonomyKind::Modality, &content.modalities),
        disease_areas: c.terms(TaxonomyKind::DiseaseArea, &content.disease_areas),
        stage: c.term(TaxonomyKind::Stage, &content.stage),
        ip_status: c.term(TaxonomyKind::IpStatus, &content.ip_status),
        deal_types: c.terms(TaxonomyKind::DealType, &content.deal_types),
        keywords: content.keywords.join(", "),
        status: c.t(status_key(seed.status)),
        visibility: c.t(visibility_key(content.visibility)),
        updated: c.date(&seed.updated_at),
    }
}

/// Why this viewer reads the confidential section, in words.
fn banner(seed: &VisibleSeed, role: Role, organization_id: uuid::Uuid) -> &'static str {
    if seed.access == Access::Owner || seed.organization.id == organization_id {
        "seed.banner_owner"
    } else if role == Role::Liaison {
        "seed.banner_liaison"
    } else if role == Role::Admin {
        "seed.banner_admin"
    } else {
        "seed.banner_grant"
    }
}

/// How many of a company's latest published needs the introduction form offers, besides those
/// matched with the seed. A longer list is no longer a choice one makes by eye.
const NEED_CHOICES: u64 = 100;

async fn build(visit: &Visit, id: uuid::Uuid, errors: FieldErrors, message: String) -> Result<SeedPage, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("seed.title");
    let seed = match visit.services.seed(&live.member, id, &visit.ctx).await {
        Ok(seed) => seed,
        Err(err) => return Err(WebError::from_service(&err, c)),
    };
    let confidential = seed.confidential.as_ref().map(|section| Confidential {
        banner: banner(&seed, live.member.role, live.member.organization_id),
        details: section.details.clone(),
        patents: section.patent_applications.clone(),
        notes: section.notes.clone(),
    });
    let filter = MatchFilter { seed_id: Some(id), need_id: None, status: Some(kakehashi_domain::MatchStatus::Open) };
    let matches = match visit.services.list_matches(&live.member, filter, Page { page: 1, per_page: 20 }).await {
        Ok(listed) => match_rows(&c, listed.items, live.member.role),
        Err(err) => return Err(WebError::from_service(&err, c)),
    };
    let request = if live.member.role == Role::Company && seed.status == RecordStatus::Published {
        let latest = visit
            .services
            .list_needs(&live.member, true, Some(RecordStatus::Published), Page { page: 1, per_page: NEED_CHOICES })
            .await
            .map_err(|err| WebError::from_service(&err, c.clone()))?;
        let more = latest.total > latest.items.len() as u64;
        // The company's needs matched with this seed first: the likeliest reason to ask.
        let mut needs: Vec<(String, String)> = Vec::new();
        for (id, title) in matches
            .iter()
            .map(|m| (m.need_id.clone(), m.need_title.clone()))
            .chain(latest.items.into_iter().map(|n| (n.id.to_string(), n.content.title)))
        {
            if !needs.iter().any(|(listed, _)| *listed == id) {
                needs.push((id, title));
            }
        }
        Some(RequestForm { needs, more, message, errors })
    } else {
        None
    };
    Ok(SeedPage {
        seed: view(&c, &seed),
        closed_note: confidential.is_none(),
        editable: seed.access == Access::Owner,
        confidential,
        matches,
        request,
        c: c.retitled("seed.title"),
    })
}

/// `GET /seeds/{id}`.
///
/// # Errors
/// The 404 page for a missing or hidden seed.
pub async fn page(visit: Visit, id: Path<String>) -> Result<HttpResponse, WebError> {
    visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    let page = build(&visit, id, FieldErrors::default(), String::new()).await?;
    render(&visit, StatusCode::OK, &page)
}

/// `POST /seeds/{id}/introductions`: a company asks to be introduced.
///
/// # Errors
/// 403 without a valid form token; 404 for a seed the member may not see.
pub async fn request_introduction(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    let need_id = match form.get("need_id") {
        "" => None,
        raw => Some(crate::parse_id(&visit, raw)?),
    };
    let message = form.get("message").to_owned();
    let request = IntroductionRequest { seed_id: id, need_id, message: message.clone(), anonymous: None };
    match visit.services.request_introduction(&live.member, request, &visit.ctx).await {
        Ok(intro) => Ok(visit.see_other(&format!("/introductions/{}", intro.id))),
        Err(err) => match FieldErrors::from_service(&err, visit.lang) {
            Some(errors) => {
                let page = build(&visit, id, errors, message).await?;
                render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            None => Err(WebError::from_service(&err, visit.chrome("seed.title"))),
        },
    }
}

/// `GET /seeds`: the member's own seeds (the organisation's for TTO staff).
///
/// # Errors
/// The login page without a session.
pub async fn mine(visit: Visit, q: Query<ListQuery>) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("seeds.title");
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let listed = visit
        .services
        .list_seeds(&live.member, true, None, Page { page, per_page: MINE_PER_PAGE })
        .await
        .map_err(|err| WebError::from_service(&err, c.clone()))?;
    let pager = Pager::new("/seeds", page, MINE_PER_PAGE, listed.total);
    let seeds = listed.items.iter().map(|s| view(&c, s)).collect();
    let can_register = matches!(live.member.role, Role::Researcher | Role::Tto);
    let can_import = !matches!(
        live.member.role.seed_import_target(live.member.organization_id, None),
        Err(kakehashi_domain::ImportRefusal::NotAllowed)
    );
    render(&visit, StatusCode::OK, &SeedsPage { c, seeds, can_register, can_import, pager })
}
