//! The TTO's bulk import: a CSV or JSON-lines file sent from a form, imported by the service's
//! import (the API's), and its report shown row by row. Who may import, and into which
//! organisation, is the domain's answer (`Role::seed_import_target`): anyone else finds no page
//! (the 404 page), and their upload is refused before its body is read.

use actix_web::http::StatusCode;
use actix_web::web::{self, Payload};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt as _;
use kakehashi_domain::{ImportRefusal, OrganizationKind};
use kakehashi_service::import::{self, Format, Options, Outcome, Report};
use uuid::Uuid;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::upload;
use crate::views::{Chrome, FieldErrors, render};

/// Room for the form's other fields and the parts' headers around the file.
const FORM_OVERHEAD: usize = 64 * 1024;
/// Rows shown in the report's table; the counts above it cover every row.
const SHOWN_ROWS: usize = 1000;

/// One line of the report's table: a row's outcome, or one of a failed row's problems.
pub struct ReportLine {
    pub line: usize,
    pub outcome: &'static str,
    pub failed: bool,
    pub field: String,
    pub message: String,
}

pub struct ReportView {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub failed: usize,
    pub dry_run: bool,
    pub lines: Vec<ReportLine>,
    /// Rows beyond the table.
    pub more: usize,
}

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub c: Chrome,
    /// The academic organisations an admin chooses from; `None` for TTO staff (their own).
    pub organizations: Option<Vec<(String, String)>>,
    pub organization_id: String,
    pub publish: bool,
    pub dry_run: bool,
    pub limit_kb: usize,
    pub errors: FieldErrors,
    pub report: Option<ReportView>,
}

fn outcome_key(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Created => "import.created",
        Outcome::Updated => "import.updated",
        Outcome::Valid => "import.valid",
        Outcome::Failed => "import.failed",
    }
}

fn report_view(c: &Chrome, report: Report) -> ReportView {
    let mut lines = Vec::new();
    let mut errors = report.errors.into_iter().peekable();
    for row in report.outcomes.iter().take(SHOWN_ROWS) {
        let outcome = c.t(outcome_key(row.outcome));
        let failed = row.outcome == Outcome::Failed;
        let mut any = false;
        while let Some(e) = errors.next_if(|e| e.line <= row.line) {
            if e.line == row.line {
                let message = crate::problems::translate(c.lang, &e.message);
                lines.push(ReportLine { line: row.line, outcome, failed, field: e.field, message });
                any = true;
            }
        }
        if !any {
            lines.push(ReportLine { line: row.line, outcome, failed, field: String::new(), message: String::new() });
        }
    }
    let shown = report.outcomes.len().min(SHOWN_ROWS);
    ReportView {
        rows: report.rows,
        created: report.imported - report.updated,
        updated: report.updated,
        failed: report.failed,
        dry_run: report.dry_run,
        lines,
        more: report.outcomes.len() - shown,
    }
}

/// Whether the member's role imports at all (into some organisation); the missing page if not.
fn importer(visit: &Visit) -> Result<(), WebError> {
    let member = &visit.member()?.member;
    match member.role.seed_import_target(member.organization_id, None) {
        Err(ImportRefusal::NotAllowed) => Err(WebError::NotFound(Box::new(visit.chrome("error.not_found_title")))),
        _ => Ok(()),
    }
}

async fn show(
    visit: &Visit,
    status: StatusCode,
    form: &Form,
    errors: FieldErrors,
    report: Option<Report>,
) -> Result<HttpResponse, WebError> {
    let member = &visit.member()?.member;
    let c = visit.chrome("import.title");
    // Admins name the organisation; TTO staff import into their own.
    let organizations = match member.role.seed_import_target(member.organization_id, None) {
        Err(ImportRefusal::OrganizationRequired) => {
            let orgs = visit
                .services
                .all_organizations(Some(OrganizationKind::Academia))
                .await
                .map_err(|err| WebError::from_service(&err, c.clone()))?;
            Some(orgs.into_iter().map(|o| (o.id.to_string(), c.lang.pick(&o.name, &o.name_en).to_owned())).collect())
        }
        _ => None,
    };
    let page = ImportPage {
        organizations,
        organization_id: form.get("organization_id").to_owned(),
        publish: form.has("publish"),
        dry_run: form.has("dry_run"),
        limit_kb: visit.config.import_limit / 1024,
        errors,
        report: report.map(|r| report_view(&c, r)),
        c,
    };
    render(visit, status, &page)
}

/// `GET /seeds/import`: the upload form (TTO staff and the secretariat; others get the 404 page).
///
/// # Errors
/// The login page without a session; the 404 page for other roles.
pub async fn form(visit: Visit) -> Result<HttpResponse, WebError> {
    importer(&visit)?;
    show(&visit, StatusCode::OK, &Form::default(), FieldErrors::default(), None).await
}

/// The format of an uploaded file, by its name or else its content type.
fn format_of(part: &upload::Part) -> Option<Format> {
    let name = part.filename.as_deref().unwrap_or("").to_ascii_lowercase();
    let essence = part.content_type.as_deref().unwrap_or("").split(';').next().unwrap_or("").trim().to_owned();
    let extension = std::path::Path::new(&name).extension().and_then(|e| e.to_str()).unwrap_or("");
    if extension == "csv" || essence.eq_ignore_ascii_case("text/csv") {
        Some(Format::Csv)
    } else if ["jsonl", "ndjson", "json"].contains(&extension)
        || ["application/x-ndjson", "application/jsonl", "application/json-lines"]
            .iter()
            .any(|t| essence.eq_ignore_ascii_case(t))
    {
        Some(Format::JsonLines)
    } else {
        None
    }
}

/// `POST /seeds/import` (multipart: `file`, `csrf_token`, and `organization_id` for admins,
/// `publish`, `dry_run`): imports the file and shows the report.
///
/// # Errors
/// 404 for roles that do not import, 403 without a valid token or from another site (both before
/// the body is read), 413 for a body beyond the import limit.
pub async fn upload(visit: Visit, req: HttpRequest, mut payload: Payload) -> Result<HttpResponse, WebError> {
    importer(&visit)?;
    if !crate::csrf::same_site(&req) {
        return Err(WebError::Forbidden(Box::new(visit.chrome("error.forbidden_title"))));
    }
    let limit = visit.config.import_limit;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| WebError::Forbidden(Box::new(visit.chrome("error.forbidden_title"))))?;
        if body.len() + chunk.len() > limit + FORM_OVERHEAD {
            return Err(WebError::TooLarge(Box::new(visit.chrome("error.too_large_title"))));
        }
        body.extend_from_slice(&chunk);
    }
    let content_type = req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let parts = content_type.and_then(upload::boundary).and_then(|b| upload::parse(&body, &b)).unwrap_or_default();
    let form = Form::of_upload(&req, &parts);
    form.check(&visit)?;

    let member = &visit.member()?.member;
    let mut errors = FieldErrors::default();
    let lang = visit.lang;
    let file = parts.into_iter().find(|p| p.name == "file" && p.filename.is_some());
    let file = match file {
        Some(file) if file.data.len() > limit => {
            errors.add("file", lang.t("import.too_large"));
            None
        }
        Some(file) if file.data.iter().all(u8::is_ascii_whitespace) => {
            errors.add("file", lang.t("import.empty"));
            None
        }
        Some(file) => {
            if let Some(format) = format_of(&file) {
                Some((file.data, format))
            } else {
                errors.add("file", lang.t("import.unknown_format"));
                None
            }
        }
        None => {
            errors.add("file", lang.t("import.no_file"));
            None
        }
    };
    let asked = match form.get("organization_id") {
        "" => None,
        raw => {
            if let Ok(id) = raw.parse::<Uuid>() {
                Some(id)
            } else {
                errors.add("organization_id", lang.t("import.choose_organization"));
                None
            }
        }
    };
    let target = member.role.seed_import_target(member.organization_id, asked);
    match target {
        Err(ImportRefusal::OrganizationRequired) => errors.add("organization_id", lang.t("import.choose_organization")),
        Err(ImportRefusal::OwnOrganizationOnly | ImportRefusal::NotAllowed) => {
            return Err(WebError::Forbidden(Box::new(visit.chrome("error.forbidden_title"))));
        }
        Ok(_) => {}
    }
    let (Some((data, format)), Ok(organization_id), true) = (file, target, errors.is_empty()) else {
        return show(&visit, StatusCode::UNPROCESSABLE_ENTITY, &form, errors, None).await;
    };
    let rows = web::block(move || import::parse(&data, format)).await.map_err(|_| WebError::Internal(None))?;
    let options = Options {
        organization_id,
        owner_id: None,
        actor_id: Some(member.id),
        dry_run: form.has("dry_run"),
        publish: form.has("publish"),
    };
    match visit.services.import_seeds(rows, &options, &visit.ctx, &|_| {}).await {
        Ok(report) => show(&visit, StatusCode::OK, &form, FieldErrors::default(), Some(report)).await,
        Err(err) => match FieldErrors::from_service(&err, lang) {
            Some(errors) => show(&visit, StatusCode::UNPROCESSABLE_ENTITY, &form, errors, None).await,
            None => Err(WebError::from_service(&err, visit.chrome("import.title"))),
        },
    }
}
