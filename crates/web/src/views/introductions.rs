//! Introductions: the list by state, and one introduction's page with its history, the caller's
//! next steps as buttons (exactly the steps the domain's state machine gives this party), and
//! the message thread. An anonymous company stays unnamed on the seed's side until it accepts:
//! the service leaves its name out, and nothing here puts it back.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Path, Query};
use askama::Template;
use kakehashi_domain::Page;
use kakehashi_domain::introduction::{CdaStatus, DeclineReason, IntroductionStatus, Outcome, Party};
use kakehashi_service::introductions::Filter;
use kakehashi_service::introductions::{IntroductionView, StepRequest};

use crate::csrf::Form;
use crate::errors::WebError;
use crate::i18n::Lang;
use crate::session::Visit;
use crate::views::{Chrome, FieldErrors, ListQuery, Pager, render};

/// The catalogue key of a step name (`cda:signed` → `step.cda_signed`).
#[must_use]
pub fn step_key(name: &str) -> String {
    format!("step.{}", name.replace(':', "_"))
}

#[must_use]
pub fn status_key(status: IntroductionStatus) -> String {
    format!("intro.status_{}", status.as_str())
}

fn party_key(party: Party) -> &'static str {
    match party {
        Party::Requester => "party.requester",
        Party::Liaison => "party.liaison",
        Party::SeedOwner => "party.seed_owner",
    }
}

pub struct IntroRow {
    pub id: String,
    pub seed_title: String,
    pub company: String,
    pub status: String,
    pub waiting_for_me: bool,
    pub updated: String,
}

fn company(lang: Lang, view: &IntroductionView) -> String {
    match &view.requester_organization {
        Some(o) => lang.pick(&o.name, &o.name_en).to_owned(),
        None => lang.t("record.anonymous_company").to_owned(),
    }
}

fn status_text(lang: Lang, view: &IntroductionView) -> String {
    let mut text = lang.t(&status_key(view.status)).to_owned();
    if let Some(cda) = view.cda_status {
        text.push_str(" · CDA: ");
        text.push_str(lang.t(&format!("cda.{}", cda.as_str())));
    }
    if let Some(outcome) = view.outcome {
        text.push_str(" · ");
        text.push_str(lang.t(&format!("outcome.{}", outcome.as_str())));
    }
    text
}

/// A list row for an introduction.
#[must_use]
pub fn row(lang: Lang, view: &IntroductionView) -> IntroRow {
    IntroRow {
        id: view.id.to_string(),
        seed_title: view.seed.title.clone().unwrap_or_else(|| lang.t("intro.seed_unavailable").to_owned()),
        company: company(lang, view),
        status: status_text(lang, view),
        waiting_for_me: !view.next_steps.is_empty(),
        updated: lang.datetime(view.updated_at),
    }
}

#[derive(Template)]
#[template(path = "introductions.html")]
pub struct IntroductionsPage {
    pub c: Chrome,
    pub tabs: Vec<(String, &'static str, bool)>,
    pub rows: Vec<IntroRow>,
    pub pager: Pager,
}

/// `GET /introductions?status=`.
///
/// # Errors
/// The login page without a session.
pub async fn list(visit: Visit, q: Query<ListQuery>) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("intro.list_title");
    let status: Option<IntroductionStatus> = q.status.as_deref().and_then(|s| s.parse().ok());
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let filter = Filter { status, seed_id: None, open: None };
    let listed = visit
        .services
        .list_introductions(&live.member, filter, Page { page, per_page: 20 })
        .await
        .map_err(|err| WebError::from_service(&err, c.clone()))?;
    let mut tabs = vec![("/introductions".to_owned(), c.t("intro.all"), status.is_none())];
    for s in IntroductionStatus::ALL {
        tabs.push((format!("/introductions?status={}", s.as_str()), visit.lang.t(&status_key(*s)), status == Some(*s)));
    }
    let base = status.map_or_else(|| "/introductions".to_owned(), |s| format!("/introductions?status={}", s.as_str()));
    let pager = Pager::new(&base, page, 20, listed.total);
    let rows = listed.items.iter().map(|v| row(visit.lang, v)).collect();
    render(&visit, StatusCode::OK, &IntroductionsPage { c, tabs, rows, pager })
}

pub struct StepButton {
    pub step: String,
    pub label: &'static str,
}

pub struct HistoryRow {
    pub step: &'static str,
    pub party: &'static str,
    pub at: String,
}

pub struct MessageRow {
    pub author: String,
    pub party: &'static str,
    pub body: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "introduction.html")]
pub struct IntroductionPage {
    pub c: Chrome,
    pub id: String,
    pub seed_id: String,
    pub seed_title: String,
    pub seed_organization: String,
    pub company: String,
    pub requester: String,
    pub need_title: Option<String>,
    pub status: String,
    pub message: String,
    pub decline: Option<(String, String)>,
    pub buttons: Vec<StepButton>,
    pub can_decline: bool,
    pub reasons: Vec<(&'static str, &'static str)>,
    pub history: Vec<HistoryRow>,
    pub thread: Thread,
    pub errors: FieldErrors,
}

pub struct Thread {
    pub id: String,
    pub messages: Vec<MessageRow>,
    pub errors: FieldErrors,
    pub body: String,
}

#[derive(Template)]
#[template(path = "introduction_thread_partial.html")]
pub struct ThreadPartial {
    pub c: Chrome,
    pub thread: Thread,
}

async fn thread(visit: &Visit, c: &Chrome, id: uuid::Uuid) -> Result<Thread, WebError> {
    let live = visit.member()?;
    let listed = super::whole(|page| visit.services.introduction_messages(&live.member, id, page))
        .await
        .map_err(|err| WebError::from_service(&err, c.clone()))?;
    let lang = visit.lang;
    let messages = listed
        .into_iter()
        .map(|m| MessageRow {
            author: m.author.map_or_else(|| lang.t("record.anonymous_company").to_owned(), |a| a.name),
            party: lang.t(party_key(m.party)),
            body: m.body,
            at: lang.datetime(m.created_at),
        })
        .collect();
    Ok(Thread { id: id.to_string(), messages, errors: FieldErrors::default(), body: String::new() })
}

async fn build(visit: &Visit, id: uuid::Uuid, errors: FieldErrors) -> Result<IntroductionPage, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("intro.title");
    let lang = visit.lang;
    let view =
        visit.services.introduction(&live.member, id).await.map_err(|err| WebError::from_service(&err, c.clone()))?;
    let thread = thread(visit, &c, id).await?;
    let buttons = view
        .next_steps
        .iter()
        .filter(|s| s.as_str() != "decline")
        .map(|s| StepButton { step: s.clone(), label: lang.t(&step_key(s)) })
        .collect();
    let reasons =
        DeclineReason::ALL.iter().map(|r| (r.as_str(), lang.pick(r.labels().0, r.labels().1))).collect::<Vec<_>>();
    Ok(IntroductionPage {
        id: view.id.to_string(),
        seed_id: view.seed.id.to_string(),
        seed_title: view.seed.title.clone().unwrap_or_else(|| lang.t("intro.seed_unavailable").to_owned()),
        seed_organization: lang.pick(&view.seed_organization.name, &view.seed_organization.name_en).to_owned(),
        company: company(lang, &view),
        requester: view.requester.as_ref().map_or_else(|| lang.t("intro.unnamed").to_owned(), |p| p.name.clone()),
        need_title: view.need.as_ref().and_then(|n| n.title.clone()),
        status: status_text(lang, &view),
        message: view.message.clone(),
        decline: view.decline.as_ref().map(|d| {
            (lang.pick(d.reason.labels().0, d.reason.labels().1).to_owned(), d.comment.clone().unwrap_or_default())
        }),
        can_decline: view.next_steps.iter().any(|s| s == "decline"),
        buttons,
        reasons,
        history: view
            .history
            .iter()
            .map(|h| HistoryRow {
                step: lang.t(&step_key(&h.step)),
                party: lang.t(party_key(h.party)),
                at: lang.datetime(h.at),
            })
            .collect(),
        thread,
        errors,
        c,
    })
}

/// `GET /introductions/{id}`.
///
/// # Errors
/// The 404 page unless the member takes part.
pub async fn page(visit: Visit, id: Path<String>) -> Result<HttpResponse, WebError> {
    visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    let page = build(&visit, id, FieldErrors::default()).await?;
    render(&visit, StatusCode::OK, &page)
}

fn step_request(form: &Form) -> Option<StepRequest> {
    let comment = Some(form.get("comment").to_owned()).filter(|c| !c.trim().is_empty());
    let step = form.get("step");
    Some(match step.split_once(':') {
        None => match step {
            "forward" => StepRequest::Forward { comment },
            "accept" => StepRequest::Accept { comment },
            "withdraw" => StepRequest::Withdraw { comment },
            "decline" => StepRequest::Decline { reason: form.get("reason_code").parse().ok()?, comment },
            _ => return None,
        },
        Some(("cda", status)) => StepRequest::Cda(status.parse::<CdaStatus>().ok()?),
        Some(("outcome", outcome)) => StepRequest::Outcome(outcome.parse::<Outcome>().ok()?),
        Some(_) => return None,
    })
}

/// `POST /introductions/{id}/steps` with `step` (`forward`, `cda:signed`, …), and for a decline
/// `reason_code` and `comment`.
///
/// # Errors
/// 403 without a valid token or for another party's step; 404 unless the member takes part.
pub async fn step(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    let Some(request) = step_request(&form) else {
        let mut errors = FieldErrors::default();
        errors.add("reason_code", visit.lang.t("intro.choose_reason"));
        let page = build(&visit, id, errors).await?;
        return render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    match visit.services.take_step(&live.member, id, request, &visit.ctx).await {
        Ok(_) => Ok(visit.see_other(&format!("/introductions/{id}"))),
        Err(err) => match FieldErrors::from_service(&err, visit.lang) {
            Some(errors) => {
                let page = build(&visit, id, errors).await?;
                render(&visit, StatusCode::CONFLICT, &page)
            }
            None => Err(WebError::from_service(&err, visit.chrome("intro.title"))),
        },
    }
}

/// `POST /introductions/{id}/messages` with `body`; htmx gets the thread fragment back.
///
/// # Errors
/// 403 without a valid token; 404 unless the member takes part.
pub async fn post_message(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    let body = form.get("body").to_owned();
    let c = visit.chrome("intro.title");
    let outcome = visit.services.post_introduction_message(&live.member, id, &body, &visit.ctx).await;
    let errors = match outcome {
        Ok(_) if !visit.htmx => return Ok(visit.see_other(&format!("/introductions/{id}#thread"))),
        Ok(_) => FieldErrors::default(),
        Err(err) => {
            FieldErrors::from_service(&err, visit.lang).ok_or_else(|| WebError::from_service(&err, c.clone()))?
        }
    };
    let failed = !errors.is_empty();
    let status = if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    if visit.htmx {
        let mut thread = thread(&visit, &c, id).await?;
        thread.errors = errors;
        if failed {
            thread.body = body;
        }
        return render(&visit, status, &ThreadPartial { c, thread });
    }
    let mut page = build(&visit, id, FieldErrors::default()).await?;
    page.thread.errors = errors;
    page.thread.body = body;
    render(&visit, status, &page)
}

#[cfg(test)]
mod tests {
    use kakehashi_domain::introduction::Step;

    use super::*;

    #[test]
    fn every_step_status_and_party_has_words_in_both_languages() {
        let mut keys: Vec<String> = Vec::new();
        keys.extend(["forward", "accept", "decline", "withdraw"].map(step_key));
        keys.extend(CdaStatus::ALL.iter().map(|s| step_key(&Step::Cda(*s).name())));
        keys.extend(Outcome::ALL.iter().map(|o| step_key(&Step::Outcome(*o).name())));
        keys.extend(CdaStatus::ALL.iter().map(|s| format!("cda.{}", s.as_str())));
        keys.extend(Outcome::ALL.iter().map(|o| format!("outcome.{}", o.as_str())));
        keys.extend(IntroductionStatus::ALL.iter().map(|s| status_key(*s)));
        keys.push("step.request".into());
        for lang in [crate::i18n::JA, crate::i18n::EN] {
            let catalogue = crate::i18n::flatten(lang);
            for key in &keys {
                assert!(catalogue.contains_key(key), "missing {key}");
            }
        }
    }
}
