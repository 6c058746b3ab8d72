//! The secretariat's working screens beside `/admin`: organisations, member invitations, liaison coverage, the
//! audit log with its filters, and the funnel report for a chosen period (table, chart, CSV).
//! Each calls the service function the API's admin endpoint calls; nobody but an admin finds
//! these pages (the 404 page), and their forms need the session's token.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Path, Query};
use askama::Template;
use chrono::{DateTime, Utc};
use kakehashi_domain::{Locale, MemberStatus, OrganizationKind, Page, Role};
use kakehashi_service::ServiceError;
use kakehashi_service::members::{AuditFilter, Invitation};
use kakehashi_service::reports::{Funnel, FunnelCounts, FunnelRates, GroupBy, period_bound};
use kakehashi_service::web_sessions::LiveSession;
use serde::Deserialize;
use uuid::Uuid;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::{Chrome, FieldErrors, Pager, render, role_key};

/// The admin's session and the page's chrome; the missing page for anyone else.
fn secretariat<'a>(visit: &'a Visit, title_key: &'static str) -> Result<(&'a LiveSession, Chrome), WebError> {
    let live = visit.member()?;
    if live.member.role != Role::Admin {
        return Err(WebError::NotFound(Box::new(visit.chrome("error.not_found_title"))));
    }
    Ok((live, visit.chrome(title_key)))
}

fn failed(c: &Chrome) -> impl Fn(ServiceError) -> WebError + '_ {
    |err| WebError::from_service(&err, c.clone())
}

/// `(id, name)` of every organisation, in the page's language.
async fn organizations(visit: &Visit, c: &Chrome) -> Result<Vec<(String, String)>, WebError> {
    let orgs = visit.services.all_organizations(None).await.map_err(failed(c))?;
    Ok(orgs.into_iter().map(|o| (o.id.to_string(), c.lang.pick(&o.name, &o.name_en).to_owned())).collect())
}

fn name_of(list: &[(String, String)], id: Uuid) -> String {
    let id = id.to_string();
    list.iter().find(|(i, _)| *i == id).map_or(id, |(_, name)| name.clone())
}

// ---------------------------------------------------------------------------------------------
// Organisations

pub struct OrganizationRow {
    pub name: String,
    pub name_en: String,
    pub kind: &'static str,
    pub created: String,
}

pub struct OrganizationFields {
    pub name: String,
    pub name_en: String,
    pub kind: String,
}

#[derive(Template)]
#[template(path = "admin_organizations.html")]
pub struct OrganizationsPage {
    pub c: Chrome,
    pub f: OrganizationFields,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub organizations: Vec<OrganizationRow>,
    pub errors: FieldErrors,
}

fn kind_key(kind: OrganizationKind) -> &'static str {
    match kind {
        OrganizationKind::Academia => "secretariat.kind_academia",
        OrganizationKind::Company => "secretariat.kind_company",
        OrganizationKind::Funder => "secretariat.kind_funder",
    }
}

async fn organizations_page(
    visit: &Visit,
    c: Chrome,
    f: OrganizationFields,
    errors: FieldErrors,
) -> Result<OrganizationsPage, WebError> {
    let listed = visit.services.all_organizations(None).await.map_err(failed(&c))?;
    let organizations = listed
        .into_iter()
        .map(|o| OrganizationRow {
            kind: c.t(kind_key(o.kind)),
            created: c.date(&o.created_at),
            name: o.name,
            name_en: o.name_en,
        })
        .collect();
    let kinds = [OrganizationKind::Academia, OrganizationKind::Company, OrganizationKind::Funder]
        .into_iter()
        .map(|k| (k.as_str(), c.t(kind_key(k))))
        .collect();
    Ok(OrganizationsPage { c, f, kinds, organizations, errors })
}

/// `GET /admin/organizations`: the organisations and the form that adds one.
///
/// # Errors
/// The 404 page for anyone but an admin.
pub async fn organizations_list(visit: Visit) -> Result<HttpResponse, WebError> {
    let (_, c) = secretariat(&visit, "secretariat.organizations")?;
    let f = OrganizationFields { name: String::new(), name_en: String::new(), kind: String::new() };
    let page = organizations_page(&visit, c, f, FieldErrors::default()).await?;
    render(&visit, StatusCode::OK, &page)
}

/// `POST /admin/organizations`: adds an organisation through the service (the API's).
///
/// # Errors
/// 403 without a valid token; the 404 page for anyone but an admin.
pub async fn create_organization(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let (live, c) = secretariat(&visit, "secretariat.organizations")?;
    let lang = visit.lang;
    let f = OrganizationFields {
        name: form.get("name").trim().to_owned(),
        name_en: form.get("name_en").trim().to_owned(),
        kind: form.get("kind").to_owned(),
    };
    let mut errors = FieldErrors::default();
    for (field, value) in [("name", &f.name), ("name_en", &f.name_en)] {
        if value.is_empty() || value.chars().count() > 200 {
            errors.add(field, lang.t("secretariat.organization_name_invalid"));
        }
    }
    let kind = f.kind.parse::<OrganizationKind>().ok();
    if kind.is_none() {
        errors.add("kind", lang.t("secretariat.choose_kind"));
    }
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        let page = organizations_page(&visit, c, f, errors).await?;
        return render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    match visit.services.create_organization(&live.member, f.name.clone(), f.name_en.clone(), kind, &visit.ctx).await {
        Ok(_) => Ok(visit.see_other("/admin/organizations")),
        Err(ServiceError::Conflict(_)) => {
            errors.add("name", lang.t("secretariat.organization_exists"));
            let page = organizations_page(&visit, c, f, errors).await?;
            render(&visit, StatusCode::CONFLICT, &page)
        }
        Err(err) => match FieldErrors::from_service(&err, lang) {
            Some(errors) => {
                let page = organizations_page(&visit, c, f, errors).await?;
                render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            None => Err(WebError::from_service(&err, c)),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Invitations

pub struct InvitedRow {
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub organization: String,
    pub invited: String,
}

pub struct InviteFields {
    pub email: String,
    pub name: String,
    pub role: String,
    pub organization_id: String,
    pub locale: String,
}

#[derive(Template)]
#[template(path = "admin_invitations.html")]
pub struct InvitationsPage {
    pub c: Chrome,
    pub f: InviteFields,
    pub roles: Vec<(&'static str, &'static str)>,
    pub organizations: Vec<(String, String)>,
    pub invited: Vec<InvitedRow>,
    pub errors: FieldErrors,
    pub sent: bool,
}

async fn invitations_page(
    visit: &Visit,
    c: Chrome,
    f: InviteFields,
    errors: FieldErrors,
    sent: bool,
) -> Result<InvitationsPage, WebError> {
    let organizations = organizations(visit, &c).await?;
    let invited = super::whole(|page| visit.services.list_members(Some(MemberStatus::Invited), page))
        .await
        .map_err(failed(&c))?;
    let invited = invited
        .into_iter()
        .map(|m| InvitedRow {
            organization: name_of(&organizations, m.organization_id),
            role: c.t(role_key(m.role)),
            invited: c.date(&m.created_at),
            name: m.name,
            email: m.email,
        })
        .collect();
    let roles = Role::ALL.iter().map(|r| (r.as_str(), c.t(role_key(*r)))).collect();
    Ok(InvitationsPage { c, f, roles, organizations, invited, errors, sent })
}

#[derive(Debug, Deserialize)]
pub struct SentQuery {
    #[serde(default)]
    pub sent: Option<String>,
}

/// `GET /admin/invitations`: the invite form and the invitations not yet accepted.
///
/// # Errors
/// The 404 page for anyone but an admin.
pub async fn invitations(visit: Visit, query: Query<SentQuery>) -> Result<HttpResponse, WebError> {
    let (live, c) = secretariat(&visit, "secretariat.invitations")?;
    let f = InviteFields {
        email: String::new(),
        name: String::new(),
        role: String::new(),
        organization_id: String::new(),
        locale: crate::i18n::Lang::from_locale(live.member.locale).code().to_owned(),
    };
    let page = invitations_page(&visit, c, f, FieldErrors::default(), query.sent.is_some()).await?;
    render(&visit, StatusCode::OK, &page)
}

/// `POST /admin/invitations`: invites a member through the service's invitation (the API's).
///
/// # Errors
/// 403 without a valid token; the 404 page for anyone but an admin.
pub async fn invite(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let (live, c) = secretariat(&visit, "secretariat.invitations")?;
    let lang = visit.lang;
    let f = InviteFields {
        email: form.get("email").trim().to_owned(),
        name: form.get("name").trim().to_owned(),
        role: form.get("role").to_owned(),
        organization_id: form.get("organization_id").to_owned(),
        locale: form.get("locale").to_owned(),
    };
    let mut errors = FieldErrors::default();
    if f.email.is_empty() || f.email.len() > 254 || !f.email.contains('@') || f.email.contains(char::is_whitespace) {
        errors.add("email", lang.t("secretariat.email_invalid"));
    }
    if f.name.is_empty() || f.name.chars().count() > 200 {
        errors.add("name", lang.t("secretariat.name_invalid"));
    }
    let role = f.role.parse::<Role>().ok();
    if role.is_none() {
        errors.add("role", lang.t("secretariat.choose_role"));
    }
    let organization_id = f.organization_id.parse::<Uuid>().ok();
    if organization_id.is_none() {
        errors.add("organization_id", lang.t("secretariat.choose_organization"));
    }
    let locale = if f.locale == "en" { Locale::En } else { Locale::Ja };
    let (Some(role), Some(organization_id), true) = (role, organization_id, errors.is_empty()) else {
        let page = invitations_page(&visit, c, f, errors, false).await?;
        return render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let invitation = Invitation { email: f.email.clone(), name: f.name.clone(), role, organization_id, locale };
    match visit.services.invite(&live.member, invitation, &visit.ctx).await {
        Ok(_) => Ok(visit.see_other("/admin/invitations?sent=1")),
        Err(err) => match FieldErrors::from_service(&err, lang) {
            Some(errors) => {
                let status = errors.status();
                let page = invitations_page(&visit, c, f, errors, false).await?;
                render(&visit, status, &page)
            }
            None => Err(WebError::from_service(&err, c)),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Liaison coverage

pub struct CoverageOption {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub struct LiaisonRow {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The organisations covered, by name; empty covers everyone.
    pub covers: Vec<String>,
    pub options: Vec<CoverageOption>,
}

#[derive(Template)]
#[template(path = "admin_coverage.html")]
pub struct CoveragePage {
    pub c: Chrome,
    pub liaisons: Vec<LiaisonRow>,
    pub errors: FieldErrors,
}

async fn coverage_page(visit: &Visit, c: Chrome, errors: FieldErrors) -> Result<CoveragePage, WebError> {
    let organizations = organizations(visit, &c).await?;
    let members = visit.services.members_with_role(Role::Liaison).await.map_err(failed(&c))?;
    let mut liaisons = Vec::new();
    for m in members {
        let coverage = visit.services.coverage(m.id).await.map_err(failed(&c))?;
        let configured = coverage.as_configured();
        let options = organizations
            .iter()
            .map(|(id, name)| CoverageOption {
                id: format!("cover-{}-{id}", m.id),
                value: id.clone(),
                label: name.clone(),
                checked: configured.iter().any(|o| o.to_string() == *id),
            })
            .collect();
        liaisons.push(LiaisonRow {
            id: m.id.to_string(),
            covers: configured.iter().map(|o| name_of(&organizations, *o)).collect(),
            name: m.name,
            email: m.email,
            options,
        });
    }
    Ok(CoveragePage { c, liaisons, errors })
}

/// `GET /admin/coverage`: which organisations each liaison covers, each with its edit form.
///
/// # Errors
/// The 404 page for anyone but an admin.
pub async fn coverage(visit: Visit) -> Result<HttpResponse, WebError> {
    let (_, c) = secretariat(&visit, "secretariat.coverage")?;
    let page = coverage_page(&visit, c, FieldErrors::default()).await?;
    render(&visit, StatusCode::OK, &page)
}

/// `POST /admin/liaisons/{id}/coverage` (`organization_ids`, repeated; none covers everyone):
/// the service's coverage setter, the API's.
///
/// # Errors
/// 403 without a valid token; the 404 page for anyone but an admin and for a member who is not
/// a liaison.
pub async fn set_coverage(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let (live, c) = secretariat(&visit, "secretariat.coverage")?;
    let liaison = crate::parse_id(&visit, &id)?;
    let mut errors = FieldErrors::default();
    let mut ids = Vec::new();
    for raw in form.all("organization_ids") {
        match raw.parse::<Uuid>() {
            Ok(id) => ids.push(id),
            Err(_) => errors.general = Some(visit.lang.t("secretariat.unknown_organization").to_owned()),
        }
    }
    if errors.is_empty() {
        match visit.services.set_coverage(&live.member, liaison, ids, &visit.ctx).await {
            Ok(_) => return Ok(visit.see_other("/admin/coverage")),
            Err(err) => match FieldErrors::from_service(&err, visit.lang) {
                Some(mut field_errors) => {
                    field_errors.general = Some(visit.lang.t("secretariat.unknown_organization").to_owned());
                    errors = field_errors;
                }
                None => return Err(WebError::from_service(&err, c)),
            },
        }
    }
    let page = coverage_page(&visit, c, errors).await?;
    render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page)
}

// ---------------------------------------------------------------------------------------------
// Dates of the filters and the report period

/// The start of `from` and the end of `to` (that whole day included), each optional, read as
/// the API reads them; problems beside the fields.
fn period(
    from: &str,
    to: &str,
    errors: &mut FieldErrors,
    c: &Chrome,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let mut parse = |field: &str, raw: &str, end: bool| -> Option<DateTime<Utc>> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let bound = period_bound(raw, end);
        if bound.is_err() {
            errors.add(field, c.t("secretariat.date_invalid"));
        }
        bound.ok()
    };
    let from = parse("from", from, false);
    let to = parse("to", to, true);
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        errors.add("from", c.t("secretariat.from_after_to"));
    }
    (from, to)
}

// ---------------------------------------------------------------------------------------------
// Audit log

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    pub page: Option<u64>,
}

pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub organization: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
pub struct AuditPage {
    pub c: Chrome,
    pub q: AuditQuery,
    pub rows: Vec<AuditRow>,
    pub total: u64,
    pub pager: Pager,
    pub errors: FieldErrors,
}

const AUDIT_PER_PAGE: u64 = 50;
/// Details longer than this are cut in the table (the API gives them whole).
const DETAILS_SHOWN: usize = 300;

/// `GET /admin/audit?actor=&action=&from=&to=&page=`: the audit trail, newest first.
///
/// # Errors
/// The 404 page for anyone but an admin.
pub async fn audit(visit: Visit, query: Query<AuditQuery>) -> Result<HttpResponse, WebError> {
    let (_, c) = secretariat(&visit, "secretariat.audit")?;
    let q = query.into_inner();
    let mut errors = FieldErrors::default();
    let (from, to) = period(&q.from, &q.to, &mut errors, &c);
    let actor_id = match actor(&visit, &c, &q.actor).await? {
        Ok(id) => id,
        Err(problem) => {
            errors.add("actor", problem);
            None
        }
    };
    let page = Page { page: q.page.unwrap_or(1).max(1), per_page: AUDIT_PER_PAGE };
    let (rows, total) = if errors.is_empty() {
        let filter = AuditFilter {
            actor_id,
            organization_id: None,
            action: Some(q.action.trim().to_owned()).filter(|a| !a.is_empty()),
            object_type: None,
            object_id: None,
            from,
            to,
        };
        let listed = visit.services.audit_log(filter, page).await.map_err(failed(&c))?;
        let actor_ids: Vec<Uuid> = listed.items.iter().filter_map(|e| e.actor_id).collect();
        let actors = visit.services.members_by_id(&actor_ids).await.map_err(failed(&c))?;
        let organization_ids: Vec<Uuid> = listed.items.iter().filter_map(|e| e.organization_id).collect();
        let organizations = visit.services.organizations_by_id(&organization_ids).await.map_err(failed(&c))?;
        let rows = listed
            .items
            .into_iter()
            .map(|e| {
                let mut details = e.details.to_string();
                if details == "null" || details == "{}" {
                    details.clear();
                }
                if details.chars().count() > DETAILS_SHOWN {
                    details = details.chars().take(DETAILS_SHOWN).collect::<String>() + "…";
                }
                AuditRow {
                    at: c.date(&e.occurred_at),
                    actor: match e.actor_id {
                        None => c.t("secretariat.system").to_owned(),
                        Some(id) => {
                            actors.get(&id).map_or_else(|| id.to_string(), |m| format!("{} <{}>", m.name, m.email))
                        }
                    },
                    object: match e.object_id {
                        Some(id) => format!("{} {id}", e.object_type),
                        None => e.object_type,
                    },
                    organization: e
                        .organization_id
                        .and_then(|id| organizations.get(&id))
                        .map(|o| c.lang.pick(&o.name, &o.name_en).to_owned())
                        .unwrap_or_default(),
                    action: e.action,
                    details,
                }
            })
            .collect();
        (rows, listed.total)
    } else {
        (Vec::new(), 0)
    };
    let base = {
        let pairs = [("actor", &q.actor), ("action", &q.action), ("from", &q.from), ("to", &q.to)];
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
            .finish();
        if query.is_empty() { "/admin/audit".to_owned() } else { format!("/admin/audit?{query}") }
    };
    let pager = Pager::new(&base, page.page, AUDIT_PER_PAGE, total);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(&visit, status, &AuditPage { c, q, rows, total, pager, errors })
}

/// Candidates shown when the actor field matches several members.
const ACTORS_NAMED: u64 = 5;

/// The member the actor field names: an e-mail address, a part of one or of a name matching one
/// member only, or a member's id (the links of older pages). The problem to show beside the
/// field otherwise.
async fn actor(visit: &Visit, c: &Chrome, raw: &str) -> Result<Result<Option<Uuid>, String>, WebError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Ok(None));
    }
    if let Ok(id) = raw.parse::<Uuid>() {
        return Ok(Ok(Some(id)));
    }
    let found = visit.services.find_members(raw, ACTORS_NAMED + 1).await.map_err(failed(c))?;
    Ok(match found.as_slice() {
        [] => Err(c.t("secretariat.unknown_actor").to_owned()),
        [member] => Ok(Some(member.id)),
        several => {
            let mut named: Vec<&str> = several
                .iter()
                .take(usize::try_from(ACTORS_NAMED).unwrap_or(usize::MAX))
                .map(|m| m.email.as_str())
                .collect();
            if several.len() as u64 > ACTORS_NAMED {
                named.push("…");
            }
            Err(format!("{}{}", c.t("secretariat.several_actors"), named.join(", ")))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Funnel report

#[derive(Debug, Default, Deserialize)]
pub struct FunnelQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub group_by: String,
}

pub struct FunnelBar {
    pub label: &'static str,
    pub count: u64,
    pub y: u64,
    pub width: u64,
}

pub struct FunnelRow {
    pub label: String,
    pub counts: FunnelCounts,
    pub rates: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_funnel.html")]
pub struct FunnelPage {
    pub c: Chrome,
    pub q: FunnelQuery,
    pub period: String,
    pub funnel: Vec<FunnelBar>,
    pub rows: Vec<FunnelRow>,
    pub csv_href: String,
    pub errors: FieldErrors,
}

/// The funnel's stages as bars of a chart at most 300 wide.
#[must_use]
pub fn bars(c: &Chrome, t: &FunnelCounts) -> Vec<FunnelBar> {
    let stages = [
        ("admin.funnel_matches", t.matches),
        ("admin.funnel_introductions", t.introductions),
        ("admin.funnel_forwarded", t.forwarded),
        ("admin.funnel_accepted", t.accepted),
        ("admin.funnel_cda_signed", t.cda_signed),
        ("admin.funnel_deals", t.deals),
    ];
    let max = stages.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    stages
        .iter()
        .zip(0u64..)
        .map(|((label, count), i)| FunnelBar { label: c.t(label), count: *count, y: i * 28, width: count * 300 / max })
        .collect()
}

fn rates(c: &Chrome, r: &FunnelRates) -> Vec<String> {
    [r.introductions, r.forwarded, r.accepted, r.cda_signed, r.deals]
        .iter()
        .map(|rate| rate.map_or_else(|| c.t("secretariat.no_rate").to_owned(), |v| format!("{:.1} %", v * 100.0)))
        .collect()
}

/// The report for the query's period, or the problems of the form.
async fn report(visit: &Visit, c: &Chrome, q: &FunnelQuery) -> Result<Result<Funnel, FieldErrors>, WebError> {
    let mut errors = FieldErrors::default();
    let (from, to) = period(&q.from, &q.to, &mut errors, c);
    let grouping = GroupBy::parse(&q.group_by).unwrap_or_else(|_| {
        errors.add("group_by", c.t("secretariat.choose_grouping"));
        None
    });
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - chrono::Duration::days(365));
    if from >= to {
        errors.add("from", c.t("secretariat.from_after_to"));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(visit.services.funnel(from, to, grouping).await.map_err(failed(c))?))
}

/// `GET /admin/funnel?from=&to=&group_by=`: the funnel as a table and a chart.
///
/// # Errors
/// The 404 page for anyone but an admin.
pub async fn funnel(visit: Visit, query: Query<FunnelQuery>) -> Result<HttpResponse, WebError> {
    let (_, c) = secretariat(&visit, "secretariat.funnel")?;
    let q = query.into_inner();
    let csv_href = {
        let pairs = [("from", &q.from), ("to", &q.to), ("group_by", &q.group_by)];
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
            .finish();
        if query.is_empty() { "/admin/funnel.csv".to_owned() } else { format!("/admin/funnel.csv?{query}") }
    };
    let (status, period, funnel, rows, errors) = match report(&visit, &c, &q).await? {
        Ok(report) => {
            let last_day = report.to - chrono::Duration::seconds(1);
            // Report periods are whole days in UTC, as the API's.
            let period = format!("{} – {} (UTC)", report.from.format("%Y-%m-%d"), last_day.format("%Y-%m-%d"));
            let mut rows = vec![FunnelRow {
                label: c.t("secretariat.total").to_owned(),
                counts: report.totals,
                rates: rates(&c, &report.rates),
            }];
            rows.extend(report.groups.iter().map(|g| FunnelRow {
                label: c.lang.pick(&g.label_ja, &g.label_en).to_owned(),
                counts: g.counts,
                rates: rates(&c, &g.rates),
            }));
            (StatusCode::OK, period, bars(&c, &report.totals), rows, FieldErrors::default())
        }
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, String::new(), Vec::new(), Vec::new(), errors),
    };
    render(&visit, status, &FunnelPage { c, q, period, funnel, rows, csv_href, errors })
}

/// `GET /admin/funnel.csv?from=&to=&group_by=`: the same report as the service's CSV (the API's
/// download), cells that could start a spreadsheet formula neutralised there.
///
/// # Errors
/// The 404 page for anyone but an admin; the report page with the problems for a bad period.
pub async fn funnel_csv(visit: Visit, query: Query<FunnelQuery>) -> Result<HttpResponse, WebError> {
    let (_, c) = secretariat(&visit, "secretariat.funnel")?;
    match report(&visit, &c, &query).await? {
        Ok(report) => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("Content-Disposition", format!("attachment; filename=\"{}\"", report.csv_filename())))
            .body(report.to_csv())),
        Err(_) => funnel(visit, query).await,
    }
}
