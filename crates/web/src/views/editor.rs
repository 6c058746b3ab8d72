//! The seed and need editors: drafting, editing, publishing and archiving, the confidential
//! section of a seed edited on its own page, and a seed's access grants. Who may edit is the
//! service's answer (`Access::Owner`); anyone else finds no editor at all (the 404 page), so an
//! editor's address tells nothing about a record the member cannot change.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Path;
use askama::Template;
use chrono::{NaiveDate, TimeZone as _, Utc};
use kakehashi_domain::{
    Access, ConfidentialSection, NeedInput, OrganizationKind, RecordStatus, RecordStep, Role, SeedInput, TaxonomyKind,
    Visibility,
};
use kakehashi_service::ServiceError;
use kakehashi_service::auth::Authenticated;
use kakehashi_service::needs::{NeedPatch, VisibleNeed};
use kakehashi_service::seeds::{SeedPatch, VisibleSeed};

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::{Chrome, FieldErrors, render};

/// A group of taxonomy checkboxes (or the options of a select).
pub struct Picker {
    pub name: &'static str,
    pub legend: &'static str,
    pub options: Vec<PickerOption>,
}

pub struct PickerOption {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
}

fn picker(c: &Chrome, kind: TaxonomyKind, name: &'static str, legend: &'static str, chosen: &[String]) -> Picker {
    let options = c
        .options(kind)
        .into_iter()
        .map(|(value, label)| PickerOption {
            id: format!("{name}-{value}"),
            checked: chosen.contains(&value),
            value,
            label,
        })
        .collect();
    Picker { name, legend: c.t(legend), options }
}

/// Keywords as typed: separated by commas (ASCII or Japanese) or new lines.
fn split_list(raw: &str) -> Vec<String> {
    raw.split([',', '、', '，', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn parse_visibility(raw: &str) -> Option<Visibility> {
    match raw {
        "members" => Some(Visibility::Members),
        "liaison_only" => Some(Visibility::LiaisonOnly),
        _ => None,
    }
}

fn visibility_value(v: Visibility) -> &'static str {
    match v {
        Visibility::Members => "members",
        Visibility::LiaisonOnly => "liaison_only",
    }
}

fn version_of(form: &Form) -> Option<i32> {
    form.get("version").parse().ok()
}

/// Whether the record is of the member's own organisation, whose reference the editor shows.
fn ours(visit: &Visit, organization: Option<uuid::Uuid>) -> bool {
    visit.member().is_ok_and(|live| Some(live.member.organization_id) == organization)
}

/// The editor's page for a record the member may not edit: the same 404 as a missing one.
fn no_editor(visit: &Visit) -> WebError {
    WebError::NotFound(Box::new(visit.chrome("error.not_found_title")))
}

/// A service error on an editor: field problems go beside their fields; a record that cannot be
/// edited by this member is the missing page.
fn editor_error(visit: &Visit, err: &ServiceError) -> Result<FieldErrors, WebError> {
    if matches!(err, ServiceError::Forbidden(_) | ServiceError::NotFound(_)) {
        return Err(no_editor(visit));
    }
    FieldErrors::from_service(err, visit.lang).ok_or_else(|| WebError::from_service(err, visit.chrome("seed.title")))
}

// ---------------------------------------------------------------------------------------------
// Seeds

/// What the seed form shows: the member's input (kept on errors) or the stored seed.
#[derive(Default)]
pub struct SeedFields {
    pub title: String,
    pub summary: String,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    pub stage: String,
    pub ip_status: String,
    pub deal_types: Vec<String>,
    pub keywords: String,
    pub visibility: &'static str,
    /// The organisation's own reference; `None` (no field) for an editor from elsewhere (the
    /// secretariat), to whom the service does not disclose it.
    pub external_ref: Option<String>,
}

#[derive(Template)]
#[template(path = "seed_edit.html")]
pub struct SeedEditPage {
    pub c: Chrome,
    /// `None` for a new seed.
    pub id: Option<String>,
    pub version: i32,
    pub steps: RecordSteps,
    pub f: SeedFields,
    pub pickers: Vec<Picker>,
    pub stages: Vec<(String, String)>,
    pub ip_statuses: Vec<(String, String)>,
    pub errors: FieldErrors,
}

impl SeedEditPage {
    fn new(c: Chrome, seed: Option<&VisibleSeed>, f: SeedFields, errors: FieldErrors) -> SeedEditPage {
        let pickers = vec![
            picker(&c, TaxonomyKind::Modality, "modalities", "search.facet_modality", &f.modalities),
            picker(&c, TaxonomyKind::DiseaseArea, "disease_areas", "search.facet_disease_area", &f.disease_areas),
            picker(&c, TaxonomyKind::DealType, "deal_types", "search.facet_deal_type", &f.deal_types),
        ];
        SeedEditPage {
            stages: c.options(TaxonomyKind::Stage),
            ip_statuses: c.options(TaxonomyKind::IpStatus),
            id: seed.map(|s| s.id.to_string()),
            version: seed.map_or(0, |s| s.version),
            steps: RecordSteps { status: seed.map(|s| s.status) },
            c,
            f,
            pickers,
            errors,
        }
    }
}

/// The life-cycle buttons of an editor: the domain's next steps of the record's status (`None`
/// for a record not yet saved).
#[derive(Debug, Clone, Copy)]
pub struct RecordSteps {
    pub status: Option<RecordStatus>,
}

impl RecordSteps {
    fn allows(self, step: RecordStep) -> bool {
        self.status.is_some_and(|s| s.next_steps().contains(&step))
    }

    #[must_use]
    pub fn can_publish(self) -> bool {
        self.allows(RecordStep::Publish)
    }

    #[must_use]
    pub fn can_archive(self) -> bool {
        self.allows(RecordStep::Archive)
    }

    /// An archived record comes back as a draft (to be edited and published again).
    #[must_use]
    pub fn can_restore(self) -> bool {
        self.allows(RecordStep::Restore)
    }

    /// A new record, or one whose status allows editing (an archived one is restored first).
    #[must_use]
    pub fn can_save(self) -> bool {
        self.status.is_none() || self.allows(RecordStep::Edit)
    }
}

/// What the editor of one kind of record (seeds, needs) knows of it; the handlers after it serve
/// both kinds.
pub(crate) trait Kind {
    type Record;
    /// What the form shows.
    type Fields;
    type Page: Template;
    /// The kind's path segment: `seeds`, `needs`.
    const PATH: &'static str;
    /// The title keys of the editor of a new record and of a stored one.
    const NEW_TITLE: &'static str;
    const EDIT_TITLE: &'static str;
    /// The title key of the error pages of the editor's reads.
    const TITLE: &'static str;

    /// Whether members of `role` register records of the kind.
    fn registers(role: Role) -> bool;
    /// The form of a new record.
    fn blank() -> Self::Fields;
    /// The form of a stored record; `with_ref`: with the organisation's own reference.
    fn of(record: &Self::Record, with_ref: bool) -> Self::Fields;
    /// The member's input, kept on errors.
    fn from_form(form: &Form, with_ref: bool) -> Self::Fields;
    fn page(c: Chrome, record: Option<&Self::Record>, f: Self::Fields, errors: FieldErrors) -> Self::Page;
    fn head(record: &Self::Record) -> Head;
    /// Where the editor goes after registering a record.
    fn created(record: &Self::Record) -> String;

    async fn load(visit: &Visit, member: &Authenticated, id: uuid::Uuid) -> Result<Self::Record, ServiceError>;
    async fn create(
        visit: &Visit,
        member: &Authenticated,
        f: &Self::Fields,
        visibility: Visibility,
    ) -> Result<Self::Record, ServiceError>;
    async fn save(
        visit: &Visit,
        member: &Authenticated,
        id: uuid::Uuid,
        f: &Self::Fields,
        visibility: Visibility,
        version: Option<i32>,
    ) -> Result<Self::Record, ServiceError>;
    async fn set_status(
        visit: &Visit,
        member: &Authenticated,
        id: uuid::Uuid,
        to: RecordStatus,
        version: Option<i32>,
    ) -> Result<Self::Record, ServiceError>;
}

/// What the handlers need of a record besides its form.
pub(crate) struct Head {
    id: uuid::Uuid,
    access: Access,
    /// The record's organisation, when the member may know it.
    organization: Option<uuid::Uuid>,
}

/// The seeds' editor.
pub(crate) struct Seeds;

impl Kind for Seeds {
    type Record = VisibleSeed;
    type Fields = SeedFields;
    type Page = SeedEditPage;
    const PATH: &'static str = "seeds";
    const NEW_TITLE: &'static str = "editor.new_seed";
    const EDIT_TITLE: &'static str = "editor.edit_seed";
    const TITLE: &'static str = "seed.title";

    fn registers(role: Role) -> bool {
        matches!(role, Role::Researcher | Role::Tto)
    }

    fn blank() -> SeedFields {
        SeedFields { visibility: "members", external_ref: Some(String::new()), ..SeedFields::default() }
    }

    fn of(seed: &VisibleSeed, with_ref: bool) -> SeedFields {
        let c = &seed.content;
        SeedFields {
            title: c.title.clone(),
            summary: c.summary.clone(),
            modalities: c.modalities.clone(),
            disease_areas: c.disease_areas.clone(),
            stage: c.stage.clone(),
            ip_status: c.ip_status.clone(),
            deal_types: c.deal_types.clone(),
            keywords: c.keywords.join(", "),
            visibility: visibility_value(c.visibility),
            external_ref: with_ref.then(|| seed.external_ref.clone().unwrap_or_default()),
        }
    }

    fn from_form(form: &Form, with_ref: bool) -> SeedFields {
        SeedFields {
            title: form.get("title").to_owned(),
            summary: form.get("summary").to_owned(),
            modalities: form.all("modalities"),
            disease_areas: form.all("disease_areas"),
            stage: form.get("stage").to_owned(),
            ip_status: form.get("ip_status").to_owned(),
            deal_types: form.all("deal_types"),
            keywords: form.get("keywords").to_owned(),
            visibility: parse_visibility(form.get("visibility")).map_or("", visibility_value),
            external_ref: with_ref.then(|| form.get("external_ref").to_owned()),
        }
    }

    fn page(c: Chrome, seed: Option<&VisibleSeed>, f: SeedFields, errors: FieldErrors) -> SeedEditPage {
        SeedEditPage::new(c, seed, f, errors)
    }

    fn head(seed: &VisibleSeed) -> Head {
        Head { id: seed.id, access: seed.access, organization: Some(seed.organization.id) }
    }

    /// A new seed's confidential section is edited next.
    fn created(seed: &VisibleSeed) -> String {
        format!("/seeds/{}/confidential", seed.id)
    }

    async fn load(visit: &Visit, member: &Authenticated, id: uuid::Uuid) -> Result<VisibleSeed, ServiceError> {
        visit.services.seed(member, id, &visit.ctx).await
    }

    async fn create(
        visit: &Visit,
        member: &Authenticated,
        f: &SeedFields,
        visibility: Visibility,
    ) -> Result<VisibleSeed, ServiceError> {
        let input = SeedInput {
            title: f.title.clone(),
            summary: f.summary.clone(),
            confidential: ConfidentialSection::default(),
            modalities: f.modalities.clone(),
            disease_areas: f.disease_areas.clone(),
            stage: f.stage.clone(),
            ip_status: f.ip_status.clone(),
            deal_types: f.deal_types.clone(),
            keywords: split_list(&f.keywords),
            visibility,
            language: None,
            external_ref: None,
        };
        visit.services.create_seed_with_ref(member, input.into_content(), f.external_ref.clone(), &visit.ctx).await
    }

    async fn save(
        visit: &Visit,
        member: &Authenticated,
        id: uuid::Uuid,
        f: &SeedFields,
        visibility: Visibility,
        version: Option<i32>,
    ) -> Result<VisibleSeed, ServiceError> {
        let patch = SeedPatch {
            title: Some(f.title.clone()),
            summary: Some(f.summary.clone()),
            modalities: Some(f.modalities.clone()),
            disease_areas: Some(f.disease_areas.clone()),
            stage: Some(f.stage.clone()),
            ip_status: Some(f.ip_status.clone()),
            deal_types: Some(f.deal_types.clone()),
            keywords: Some(split_list(&f.keywords)),
            visibility: Some(visibility),
            external_ref: f.external_ref.clone().map(Some),
            ..SeedPatch::default()
        };
        visit.services.update_seed(member, id, patch, version, &visit.ctx).await
    }

    async fn set_status(
        visit: &Visit,
        member: &Authenticated,
        id: uuid::Uuid,
        to: RecordStatus,
        version: Option<i32>,
    ) -> Result<VisibleSeed, ServiceError> {
        visit.services.set_seed_status(member, id, to, version, &visit.ctx).await
    }
}

/// The record, when this member may edit it; the missing page otherwise.
async fn editable<K: Kind>(visit: &Visit, raw_id: &str) -> Result<K::Record, WebError> {
    let live = visit.member()?;
    let id = crate::parse_id(visit, raw_id)?;
    match K::load(visit, &live.member, id).await {
        Ok(record) if K::head(&record).access == Access::Owner => Ok(record),
        Ok(_) | Err(ServiceError::NotFound(_)) => Err(no_editor(visit)),
        Err(err) => Err(WebError::from_service(&err, visit.chrome(K::TITLE))),
    }
}

/// The editor of a stored record as it is stored.
fn stored_page<K: Kind>(visit: &Visit, record: &K::Record, errors: FieldErrors) -> K::Page {
    let f = K::of(record, ours(visit, K::head(record).organization));
    K::page(visit.chrome(K::EDIT_TITLE), Some(record), f, errors)
}

/// The visibility the form chose; without one, a problem beside its field.
fn chosen_visibility(visit: &Visit, form: &Form, errors: &mut FieldErrors) -> Option<Visibility> {
    let visibility = parse_visibility(form.get("visibility"));
    if visibility.is_none() {
        errors.add("visibility", visit.lang.t("form.required"));
    }
    visibility
}

/// `GET /seeds/new`, `GET /needs/new`.
///
/// # Errors
/// The missing page for members who do not register records of the kind.
pub(crate) async fn new_form<K: Kind>(visit: Visit) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    if !K::registers(live.member.role) {
        return Err(no_editor(&visit));
    }
    let page = K::page(visit.chrome(K::NEW_TITLE), None, K::blank(), FieldErrors::default());
    render(&visit, StatusCode::OK, &page)
}

/// `POST /seeds/new` (then the new seed's confidential section's editor), `POST /needs/new`:
/// registers a draft.
///
/// # Errors
/// 403 without a valid form token; the missing page for members who do not register records of
/// the kind.
pub(crate) async fn create<K: Kind>(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    if !K::registers(live.member.role) {
        return Err(no_editor(&visit));
    }
    let f = K::from_form(&form, true);
    let mut errors = FieldErrors::default();
    if let Some(visibility) = chosen_visibility(&visit, &form, &mut errors) {
        match K::create(&visit, &live.member, &f, visibility).await {
            Ok(record) => return Ok(visit.see_other(&K::created(&record))),
            Err(err) => errors = editor_error(&visit, &err)?,
        }
    }
    let status = errors.status();
    let page = K::page(visit.chrome(K::NEW_TITLE), None, f, errors);
    render(&visit, status, &page)
}

/// `GET /seeds/{id}/edit`, `GET /needs/{id}/edit`.
///
/// # Errors
/// The missing page unless the member may edit the record.
pub(crate) async fn edit_form<K: Kind>(visit: Visit, id: Path<String>) -> Result<HttpResponse, WebError> {
    let record = editable::<K>(&visit, &id).await?;
    render(&visit, StatusCode::OK, &stored_page::<K>(&visit, &record, FieldErrors::default()))
}

/// `POST /seeds/{id}/edit` (the public part: a seed's confidential section is left as it is),
/// `POST /needs/{id}/edit`.
///
/// # Errors
/// 403 without a valid form token; the missing page unless the member may edit the record.
pub(crate) async fn edit<K: Kind>(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let record = editable::<K>(&visit, &id).await?;
    let live = visit.member()?;
    let f = K::from_form(&form, ours(&visit, K::head(&record).organization));
    let mut errors = FieldErrors::default();
    if let Some(visibility) = chosen_visibility(&visit, &form, &mut errors) {
        match K::save(&visit, &live.member, K::head(&record).id, &f, visibility, version_of(&form)).await {
            Ok(saved) => return Ok(visit.see_other(&format!("/{}/{}", K::PATH, K::head(&saved).id))),
            Err(err) => errors = editor_error(&visit, &err)?,
        }
    }
    let status = errors.status();
    let page = K::page(visit.chrome(K::EDIT_TITLE), Some(&record), f, errors);
    render(&visit, status, &page)
}

/// `POST /seeds/{id}/status`, `POST /needs/{id}/status`: publishes, archives or restores
/// (`to=draft`).
///
/// # Errors
/// 403 without a valid form token; the missing page unless the member may edit the record.
pub(crate) async fn status<K: Kind>(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let record = editable::<K>(&visit, &id).await?;
    let live = visit.member()?;
    let Some(to) = parse_status(form.get("to")) else { return Err(no_editor(&visit)) };
    match K::set_status(&visit, &live.member, K::head(&record).id, to, version_of(&form)).await {
        Ok(moved) => Ok(visit.see_other(&format!("/{}/{}", K::PATH, K::head(&moved).id))),
        Err(err) => {
            let errors = editor_error(&visit, &err)?;
            render(&visit, StatusCode::CONFLICT, &stored_page::<K>(&visit, &record, errors))
        }
    }
}

#[derive(Template)]
#[template(path = "seed_confidential.html")]
pub struct ConfidentialEditPage {
    pub c: Chrome,
    pub id: String,
    pub title: String,
    pub version: i32,
    pub details: String,
    pub patents: String,
    pub notes: String,
    pub errors: FieldErrors,
}

/// `GET /seeds/{id}/confidential`.
///
/// # Errors
/// The missing page unless the member may edit the seed.
pub async fn confidential_form(visit: Visit, id: Path<String>) -> Result<HttpResponse, WebError> {
    let seed = editable::<Seeds>(&visit, &id).await?;
    let section = seed.confidential.clone().unwrap_or_default();
    let page = ConfidentialEditPage {
        c: visit.chrome("editor.confidential"),
        id: seed.id.to_string(),
        title: seed.content.title.clone(),
        version: seed.version,
        details: section.details,
        patents: section.patent_applications.join("\n"),
        notes: section.notes,
        errors: FieldErrors::default(),
    };
    render(&visit, StatusCode::OK, &page)
}

/// `POST /seeds/{id}/confidential`: saves the confidential section alone.
///
/// # Errors
/// 403 without a valid form token; the missing page unless the member may edit the seed.
pub async fn save_confidential(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let seed = editable::<Seeds>(&visit, &id).await?;
    let live = visit.member()?;
    let section = ConfidentialSection {
        details: form.get("details").to_owned(),
        patent_applications: split_list(&form.get("patent_applications").replace(['，', '、'], ",")),
        notes: form.get("notes").to_owned(),
    };
    let patch = SeedPatch { confidential: Some(section), ..SeedPatch::default() };
    let errors = match visit.services.update_seed(&live.member, seed.id, patch, version_of(&form), &visit.ctx).await {
        Ok(seed) => return Ok(visit.see_other(&format!("/seeds/{}", seed.id))),
        Err(err) => editor_error(&visit, &err)?,
    };
    let status = errors.status();
    let page = ConfidentialEditPage {
        c: visit.chrome("editor.confidential"),
        id: seed.id.to_string(),
        title: seed.content.title.clone(),
        version: seed.version,
        details: form.get("details").to_owned(),
        patents: form.get("patent_applications").to_owned(),
        notes: form.get("notes").to_owned(),
        errors,
    };
    render(&visit, status, &page)
}

fn parse_status(raw: &str) -> Option<RecordStatus> {
    match raw {
        "published" => Some(RecordStatus::Published),
        "archived" => Some(RecordStatus::Archived),
        // Restoring: an archived record back to draft.
        "draft" => Some(RecordStatus::Draft),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Access grants

pub struct GrantRow {
    pub organization_id: String,
    pub organization: String,
    pub granted: String,
    pub expires: String,
    pub by_cda: bool,
}

#[derive(Template)]
#[template(path = "seed_access.html")]
pub struct AccessPage {
    pub c: Chrome,
    pub id: String,
    pub title: String,
    pub grants: Vec<GrantRow>,
    pub organizations: Vec<(String, String)>,
    pub chosen: String,
    pub expires: String,
    pub errors: FieldErrors,
}

async fn access_page(
    visit: &Visit,
    raw_id: &str,
    chosen: String,
    expires: String,
    errors: FieldErrors,
) -> Result<AccessPage, WebError> {
    let live = visit.member()?;
    let id = crate::parse_id(visit, raw_id)?;
    let c = visit.chrome("editor.access");
    let seed = visit.services.seed(&live.member, id, &visit.ctx).await.map_err(|_| no_editor(visit))?;
    let grants = visit.services.seed_grants(&live.member, id).await.map_err(|err| match err {
        ServiceError::Forbidden(_) | ServiceError::NotFound(_) => no_editor(visit),
        other => WebError::from_service(&other, c.clone()),
    })?;
    let ids: Vec<uuid::Uuid> = grants.iter().map(|g| g.organization_id).collect();
    let names =
        visit.services.organizations_by_id(&ids).await.map_err(|err| WebError::from_service(&err, c.clone()))?;
    let grants = grants
        .iter()
        .map(|g| GrantRow {
            organization_id: g.organization_id.to_string(),
            organization: names
                .get(&g.organization_id)
                .map_or_else(String::new, |o| c.lang.pick(&o.name, &o.name_en).to_owned()),
            granted: c.date(&g.granted_at),
            expires: g.expires_at.map_or_else(|| c.t("editor.no_expiry").to_owned(), |t| c.date(&t)),
            by_cda: g.introduction_id.is_some(),
        })
        .collect();
    let organizations = visit
        .services
        .all_organizations(Some(OrganizationKind::Company))
        .await
        .map_err(|err| WebError::from_service(&err, c.clone()))?
        .into_iter()
        .filter(|o| o.id != seed.organization.id)
        .map(|o| (o.id.to_string(), c.lang.pick(&o.name, &o.name_en).to_owned()))
        .collect();
    Ok(AccessPage {
        id: seed.id.to_string(),
        title: seed.content.title,
        grants,
        organizations,
        chosen,
        expires,
        errors,
        c,
    })
}

/// `GET /seeds/{id}/access`: the grants in force and a form to give one.
///
/// # Errors
/// The missing page for members who may not grant.
pub async fn access_form(visit: Visit, id: Path<String>) -> Result<HttpResponse, WebError> {
    let page = access_page(&visit, &id, String::new(), String::new(), FieldErrors::default()).await?;
    render(&visit, StatusCode::OK, &page)
}

/// The first instant after the chosen day (UTC): access holds through that date.
fn end_of(date: &str) -> Option<chrono::DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&day.succ_opt()?.and_hms_opt(0, 0, 0)?))
}

/// `POST /seeds/{id}/access`: opens the confidential section to an organisation.
///
/// # Errors
/// 403 without a valid form token; the missing page for members who may not grant.
pub async fn grant(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let seed_id = crate::parse_id(&visit, &id)?;
    let mut errors = FieldErrors::default();
    let organization = form.get("organization_id").parse::<uuid::Uuid>().ok();
    if organization.is_none() {
        errors.add("organization_id", visit.lang.t("form.required"));
    }
    let expires = match form.get("expires") {
        "" => None,
        raw => {
            let at = end_of(raw);
            if at.is_none() {
                errors.add("expires_at", visit.lang.t("editor.bad_date"));
            }
            at
        }
    };
    if let (Some(org), true) = (organization, errors.is_empty()) {
        match visit.services.grant_seed_access(&live.member, seed_id, org, expires, &visit.ctx).await {
            Ok(_) => return Ok(visit.see_other(&format!("/seeds/{seed_id}/access"))),
            Err(err) => errors = editor_error(&visit, &err)?,
        }
    }
    let page = access_page(&visit, &id, form.get("organization_id").to_owned(), form.get("expires").to_owned(), errors)
        .await?;
    render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// `POST /seeds/{id}/access/{organization}/revoke`.
///
/// # Errors
/// 403 without a valid form token; the missing page for members who may not grant, or for a
/// grant that is not in force.
pub async fn revoke(visit: Visit, path: Path<(String, String)>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let seed_id = crate::parse_id(&visit, &path.0)?;
    let organization = crate::parse_id(&visit, &path.1)?;
    match visit.services.revoke_seed_access(&live.member, seed_id, organization, &visit.ctx).await {
        Ok(()) => Ok(visit.see_other(&format!("/seeds/{seed_id}/access"))),
        Err(err) => Err(editor_error(&visit, &err).err().unwrap_or_else(|| no_editor(&visit))),
    }
}

// ---------------------------------------------------------------------------------------------
// Needs

#[derive(Default)]
pub struct NeedFields {
    pub title: String,
    pub description: String,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    pub stages: Vec<String>,
    pub deal_types: Vec<String>,
    pub keywords: String,
    pub anonymous: bool,
    pub visibility: &'static str,
    pub external_ref: Option<String>,
}

#[derive(Template)]
#[template(path = "need_edit.html")]
pub struct NeedEditPage {
    pub c: Chrome,
    pub id: Option<String>,
    pub version: i32,
    pub steps: RecordSteps,
    pub f: NeedFields,
    pub pickers: Vec<Picker>,
    pub errors: FieldErrors,
}

impl NeedEditPage {
    fn new(c: Chrome, need: Option<&VisibleNeed>, f: NeedFields, errors: FieldErrors) -> NeedEditPage {
        let pickers = vec![
            picker(&c, TaxonomyKind::Modality, "modalities", "search.facet_modality", &f.modalities),
            picker(&c, TaxonomyKind::DiseaseArea, "disease_areas", "search.facet_disease_area", &f.disease_areas),
            picker(&c, TaxonomyKind::Stage, "stages", "search.facet_stage", &f.stages),
            picker(&c, TaxonomyKind::DealType, "deal_types", "search.facet_deal_type", &f.deal_types),
        ];
        NeedEditPage {
            id: need.map(|n| n.id.to_string()),
            version: need.map_or(0, |n| n.version),
            steps: RecordSteps { status: need.map(|n| n.status) },
            c,
            f,
            pickers,
            errors,
        }
    }
}

/// The needs' editor.
pub(crate) struct Needs;

impl Kind for Needs {
    type Record = VisibleNeed;
    type Fields = NeedFields;
    type Page = NeedEditPage;
    const PATH: &'static str = "needs";
    const NEW_TITLE: &'static str = "editor.new_need";
    const EDIT_TITLE: &'static str = "editor.edit_need";
    const TITLE: &'static str = "need.title";

    fn registers(role: Role) -> bool {
        role == Role::Company
    }

    fn blank() -> NeedFields {
        NeedFields { visibility: "members", external_ref: Some(String::new()), ..NeedFields::default() }
    }

    fn of(need: &VisibleNeed, with_ref: bool) -> NeedFields {
        let c = &need.content;
        NeedFields {
            title: c.title.clone(),
            description: c.description.clone(),
            modalities: c.modalities.clone(),
            disease_areas: c.disease_areas.clone(),
            stages: c.stages.clone(),
            deal_types: c.deal_types.clone(),
            keywords: c.keywords.join(", "),
            anonymous: c.anonymous,
            visibility: visibility_value(c.visibility),
            external_ref: with_ref.then(|| need.external_ref.clone().unwrap_or_default()),
        }
    }

    fn from_form(form: &Form, with_ref: bool) -> NeedFields {
        NeedFields {
            title: form.get("title").to_owned(),
            description: form.get("description").to_owned(),
            modalities: form.all("modalities"),
            disease_areas: form.all("disease_areas"),
            stages: form.all("stages"),
            deal_types: form.all("deal_types"),
            keywords: form.get("keywords").to_owned(),
            anonymous: form.get("anonymous") == "true",
            visibility: parse_visibility(form.get("visibility")).map_or("", visibility_value),
            external_ref: with_ref.then(|| form.get("external_ref").to_owned()),
        }
    }

    fn page(c: Chrome, need: Option<&VisibleNeed>, f: NeedFields, errors: FieldErrors) -> NeedEditPage {
        NeedEditPage::new(c, need, f, errors)
    }

    fn head(need: &VisibleNeed) -> Head {
        Head { id: need.id, access: need.access, organization: need.organization.as_ref().map(|o| o.id) }
    }

    fn created(need: &VisibleNeed) -> String {
        format!("/needs/{}", need.id)
    }

    async fn load(visit: &Visit, member: &Authenticated, id: uuid::Uuid) -> Result<VisibleNeed, ServiceError> {
        visit.services.need(member, id).await
    }

    async fn create(
        visit: &Visit,
        member: &Authenticated,
        f: &NeedFields,
        visibility: Visibility,
    ) -> Result<VisibleNeed, ServiceError> {
        let input = NeedInput {
            title: f.title.clone(),
            description: f.description.clone(),
            modalities: f.modalities.clone(),
            disease_areas: f.disease_areas.clone(),
            stages: f.stages.clone(),
            deal_types: f.deal_types.clone(),
            keywords: split_list(&f.keywords),
            anonymous: f.anonymous,
            visibility,
            language: None,
            external_ref: None,
        };
        visit.services.create_need_with_ref(member, input.into_content(), f.external_ref.clone(), &visit.ctx).await
    }

    async fn save(
        visit: &Visit,
        member: &Authenticated,
        id: uuid::Uuid,
        f: &NeedFields,
        visibility: Visibility,
        version: Option<i32>,
    ) -> Result<VisibleNeed, ServiceError> {
        let patch = NeedPatch {
            title: Some(f.title.clone()),
            description: Some(f.description.clone()),
            modalities: Some(f.modalities.clone()),
            disease_areas: Some(f.disease_areas.clone()),
            stages: Some(f.stages.clone()),
            deal_types: Some(f.deal_types.clone()),
            keywords: Some(split_list(&f.keywords)),
            anonymous: Some(f.anonymous),
            visibility: Some(visibility),
            language: None,
            external_ref: f.external_ref.clone().map(Some),
        };
        visit.services.update_need(member, id, patch, version, &visit.ctx).await
    }

    async fn set_status(
        visit: &Visit,
        member: &Authenticated,
        id: uuid::Uuid,
        to: RecordStatus,
        version: Option<i32>,
    ) -> Result<VisibleNeed, ServiceError> {
        visit.services.set_need_status(member, id, to, version, &visit.ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_western_and_japanese_commas_and_lines() {
        assert_eq!(
            split_list("DMD, exon skipping、核酸医薬\n  ASO ,,"),
            vec!["DMD", "exon skipping", "核酸医薬", "ASO"]
        );
    }

    #[test]
    fn access_holds_through_the_chosen_day() {
        assert_eq!(end_of("2027-03-31").map(|t| t.to_rfc3339()).as_deref(), Some("2027-04-01T00:00:00+00:00"));
        assert!(end_of("31/03/2027").is_none());
    }
}
