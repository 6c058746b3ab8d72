//! Introductions: a company asks to meet a seed's side, a liaison screens and forwards the request,
//! the seed's side answers, and the CDA and the outcome are tracked up to a deal.
//!
//! Who takes part and what comes next are decided in [`kakehashi_domain::introduction`]; this
//! module loads the facts, writes each step with its history entry, audit entry, notifications
//! and outbox rows in one transaction, and opens (or closes) the confidential tier when the CDA
//! is signed (or fails after signing). Views are built per viewer: the seed's side sees neither
//! the request before it is forwarded nor an anonymous company's name before it accepts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kakehashi_domain::introduction::{
    CdaStatus, DeclineReason, IntroductionStatus, LinkedNeed, Outcome, Party, Refusal, State, Step, linked_need,
    names_of, party_of, reveals_requester, told_of,
};
use kakehashi_domain::{Page, Role, need_access, seed_access};
use kakehashi_notify::templates::{IntroductionNews, introduction_headline, introduction_mail};
pub use kakehashi_store::introductions::Filter;
use kakehashi_store::introductions::{self, Introduction, NewIntroduction, Transition};
use kakehashi_store::notifications::{self, NewNotification};
use kakehashi_store::organizations::Organization;
use kakehashi_store::outbox::{self, NewMessage};
use kakehashi_store::{ConnectionTrait, StoreError, audit, grants, members, needs, organizations, seeds};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::members::Listed;
use crate::seeds::{record_entry, viewer};
use crate::{RequestContext, Result, ServiceError, Services};

/// The longest request message or thread message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 5_000;
/// The longest comment on a step, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// A company's request.
#[derive(Debug, Clone)]
pub struct IntroductionRequest {
    pub seed_id: Uuid,
    pub need_id: Option<Uuid>,
    pub message: String,
    /// Stay unnamed to the seed's side until it accepts; defaults to the need's anonymity.
    pub anonymous: Option<bool>,
}

/// A step as asked for, with what it carries.
#[derive(Debug, Clone)]
pub enum StepRequest {
    Forward { comment: Option<String> },
    Accept { comment: Option<String> },
    Decline { reason: DeclineReason, comment: Option<String> },
    Withdraw { comment: Option<String> },
    Cda(CdaStatus),
    Outcome(Outcome),
}

impl StepRequest {
    fn step(&self) -> Step {
        match self {
            StepRequest::Forward { .. } => Step::Forward,
            StepRequest::Accept { .. } => Step::Accept,
            StepRequest::Decline { .. } => Step::Decline,
            StepRequest::Withdraw { .. } => Step::Withdraw,
            StepRequest::Cda(status) => Step::Cda(*status),
            StepRequest::Outcome(outcome) => Step::Outcome(*outcome),
        }
    }

    fn comment(&self) -> Option<&str> {
        match self {
            StepRequest::Forward { comment }
            | StepRequest::Accept { comment }
            | StepRequest::Decline { comment, .. }
            | StepRequest::Withdraw { comment } => comment.as_deref(),
            StepRequest::Cda(_) | StepRequest::Outcome(_) => None,
        }
    }
}

/// A seed or need as an introduction shows it: the title only where the viewer may read it.
#[derive(Debug, Clone)]
pub struct RecordRef {
    pub id: Uuid,
    pub title: Option<String>,
}

/// A person named in an introduction.
#[derive(Debug, Clone)]
pub struct PersonRef {
    pub id: Uuid,
    pub name: String,
}

/// Why an introduction was declined, as the requester learns it.
#[derive(Debug, Clone)]
pub struct Decline {
    pub reason: DeclineReason,
    pub comment: Option<String>,
    pub by: Party,
}

/// One entry of the history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub step: String,
    pub party: Party,
    pub at: DateTime<Utc>,
}

/// An introduction as one viewer may see it.
#[derive(Debug, Clone)]
pub struct IntroductionView {
    pub id: Uuid,
    /// How the viewer takes part.
    pub party: Party,
    pub status: IntroductionStatus,
    pub cda_status: Option<CdaStatus>,
    pub outcome: Option<Outcome>,
    pub seed: RecordRef,
    pub seed_organization: Organization,
    pub need: Option<RecordRef>,
    /// `None` while an anonymous company is hidden from the viewer.
    pub requester: Option<PersonRef>,
    pub requester_organization: Option<Organization>,
    pub anonymous: bool,
    pub message: String,
    pub decline: Option<Decline>,
    /// The steps the viewer may take now.
    pub next_steps: Vec<String>,
    pub closed: bool,
    /// Filled for a single introduction, empty in lists.
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub cda_signed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A message of the thread as one viewer may see it.
#[derive(Debug, Clone)]
pub struct MessageView {
    pub id: Uuid,
    pub party: Party,
    /// `None` while the author's company is anonymous to the viewer.
    pub author: Option<PersonRef>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

fn text(field: &'static str, value: &str, max: usize, required: bool) -> Result<Option<String>> {
    let trimmed = kakehashi_domain::text::trim_invisible(value);
    if trimmed.is_empty() {
        return if required { Err(ServiceError::validation(field, "must not be empty")) } else { Ok(None) };
    }
    if trimmed.chars().count() > max {
        return Err(ServiceError::validation(field, format!("must be at most {max} characters")));
    }
    Ok(Some(trimmed.to_owned()))
}

/// One step being taken: by whom, on what, and where it leads.
struct Taking<'a> {
    actor: &'a Authenticated,
    intro: &'a Introduction,
    party: Party,
    request: &'a StepRequest,
    step: Step,
    next: State,
    /// The comment as it will be stored.
    comment: Option<String>,
    ctx: &'a RequestContext,
}

/// What `party` hears of a step.
fn news_of(request: &StepRequest, party: Party) -> IntroductionNews {
    match request {
        StepRequest::Forward { .. } if party == Party::Requester => IntroductionNews::ForwardedToRequester,
        StepRequest::Forward { .. } => IntroductionNews::Forwarded,
        StepRequest::Accept { .. } => IntroductionNews::Accepted,
        StepRequest::Decline { reason, .. } => IntroductionNews::Declined(*reason),
        StepRequest::Withdraw { .. } => IntroductionNews::Withdrawn,
        StepRequest::Cda(status) => IntroductionNews::Cda(*status),
        StepRequest::Outcome(outcome) => IntroductionNews::Outcome(*outcome),
    }
}

fn refused(refusal: &Refusal) -> ServiceError {
    match refusal {
        Refusal::Illegal { allowed, .. } => {
            ServiceError::IllegalStep { message: refusal.to_string(), allowed: names_of(allowed) }
        }
        Refusal::NotYours { .. } => ServiceError::NotYourStep(refusal.to_string()),
    }
}

impl Services {
    /// Whether the liaison's coverage includes either organisation of the introduction.
    async fn covers(&self, actor: &Authenticated, intro: &Introduction) -> Result<bool> {
        if !actor.role.has_coverage() {
            return Ok(false);
        }
        Ok(self.coverage(actor.id).await?.covers_either(intro.seed_organization_id, intro.requester_organization_id))
    }

    /// How the actor takes part, from the stored facts; `None` means "not found" for them.
    async fn party(&self, actor: &Authenticated, intro: &Introduction) -> Result<Option<Party>> {
        let owner = seeds::get(&self.db, intro.seed_id).await?.and_then(|s| s.owner_id);
        let covers = self.covers(actor, intro).await?;
        Ok(party_of(&intro.facts(owner), &viewer(actor), covers))
    }

    async fn visible_introduction(&self, actor: &Authenticated, id: Uuid) -> Result<(Introduction, Party)> {
        let intro = introductions::get(&self.db, id).await?.ok_or(ServiceError::NotFound("introduction"))?;
        let party = self.party(actor, &intro).await?.ok_or(ServiceError::NotFound("introduction"))?;
        Ok((intro, party))
    }

    async fn view(&self, actor: &Authenticated, intro: Introduction, party: Party) -> Result<IntroductionView> {
        let viewer = viewer(actor);
        let seed = seeds::get(&self.db, intro.seed_id).await?;
        let granted = grants::is_active(&self.db, intro.seed_id, actor.organization_id).await?;
        let seed_title = seed
            .as_ref()
            .filter(|s| seed_access(&s.facts(), &viewer, granted).is_some())
            .map(|s| s.content.title.clone());
        let need = match intro.need_id {
            Some(need_id) => {
                let need = needs::get(&self.db, need_id).await?;
                let access = need.as_ref().and_then(|n| need_access(&n.facts(), &viewer));
                match linked_need(&intro.facts(None), party, access) {
                    LinkedNeed::Hidden => None,
                    LinkedNeed::Id => Some(RecordRef { id: need_id, title: None }),
                    LinkedNeed::Titled => Some(RecordRef { id: need_id, title: need.map(|n| n.content.title) }),
                }
            }
            None => None,
        };
        let named = reveals_requester(&intro.facts(None), party);
        let (requester, requester_organization) = if named {
            let person =
                members::get(&self.db, intro.requester_id).await?.map(|m| PersonRef { id: m.id, name: m.name });
            (person, Some(self.organization(intro.requester_organization_id).await?))
        } else {
            (None, None)
        };
        let decline = match (intro.decline_reason, intro.declined_by) {
            (Some(reason), Some(by)) => Some(Decline { reason, comment: intro.decline_comment.clone(), by }),
            _ => None,
        };
        Ok(IntroductionView {
            id: intro.id,
            party,
            status: intro.state.status,
            cda_status: intro.state.cda,
            outcome: intro.state.outcome,
            seed: RecordRef { id: intro.seed_id, title: seed_title },
            seed_organization: self.organization(intro.seed_organization_id).await?,
            need,
            requester,
            requester_organization,
            anonymous: intro.anonymous,
            message: intro.message,
            decline,
            next_steps: names_of(&intro.state.steps_for(party)),
            closed: intro.closed_at.is_some(),
            history: Vec::new(),
            created_at: intro.created_at,
            updated_at: intro.updated_at,
            forwarded_at: intro.forwarded_at,
            accepted_at: intro.accepted_at,
            cda_signed_at: intro.cda_signed_at,
            closed_at: intro.closed_at,
        })
    }

    /// A company asks to be introduced to a seed, optionally for one of its needs.
    ///
    /// # Errors
    /// `Forbidden` for other roles; `NotFound` for a seed (or need) the company may not see;
    /// `Conflict` when its organisation already has an open introduction to the seed.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn request_introduction(
        &self,
        actor: &Authenticated,
        request: IntroductionRequest,
        ctx: &RequestContext,
    ) -> Result<IntroductionView> {
        if !actor.role.registers_needs() {
            return Err(ServiceError::Forbidden("only company members ask for introductions"));
        }
        let message = text("message", &request.message, MAX_MESSAGE_CHARS, true)?.unwrap_or_default();
        let viewer = viewer(actor);
        let seed = seeds::get(&self.db, request.seed_id).await?.ok_or(ServiceError::NotFound("seed"))?;
        let granted = grants::is_active(&self.db, seed.id, actor.organization_id).await?;
        if seed_access(&seed.facts(), &viewer, granted).is_none() {
            return Err(ServiceError::NotFound("seed"));
        }
        if seed.status != kakehashi_domain::RecordStatus::Published {
            return Err(ServiceError::validation("seed_id", "the seed is no longer published"));
        }
        let mut anonymous = request.anonymous.unwrap_or(false);
        if let Some(need_id) = request.need_id {
            let need = needs::get(&self.db, need_id).await?.filter(|n| n.organization_id == actor.organization_id);
            let Some(need) = need else {
                return Err(ServiceError::validation("need_id", "must be a need of your organisation"));
            };
            anonymous = request.anonymous.unwrap_or(need.content.anonymous);
        }
        let txn = self.write_txn().await?;
        if let Some(open) = introductions::open_for(&txn, seed.id, actor.organization_id).await? {
            return Err(ServiceError::Conflict(format!(
                "your organisation already has an open introduction to this seed: {}",
                open.id
            )));
        }
        let intro = introductions::insert(
            &txn,
            NewIntroduction {
                seed_id: seed.id,
                need_id: request.need_id,
                requester_id: actor.id,
                requester_organization_id: actor.organization_id,
                seed_organization_id: seed.organization_id,
                anonymous,
                message,
            },
        )
        .await
        .map_err(|err| match err {
            StoreError::Conflict => {
                ServiceError::Conflict("your organisation already has an open introduction to this seed".to_owned())
            }
            err => err.into(),
        })?;
        let event = introductions::record_event(&txn, intro.id, Some(actor.id), Party::Requester, "request").await?;
        audit::record(
            &txn,
            record_entry(
                actor,
                "introduction.requested",
                "introduction",
                intro.id,
                ctx,
                serde_json::json!({ "seed_id": seed.id, "need_id": request.need_id, "anonymous": anonymous }),
            ),
        )
        .await?;
        self.tell(&txn, &intro, event.id, &[(Party::Liaison, IntroductionNews::Requested)], actor.id).await?;
        txn.commit().await?;
        self.view(actor, intro, Party::Requester).await
    }

    /// Introductions the member takes part in, most recently active first.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn list_introductions(
        &self,
        actor: &Authenticated,
        filter: introductions::Filter,
        page: Page,
    ) -> Result<Listed<IntroductionView>> {
        let scope = match actor.role {
            Role::Admin => introductions::Scope::All,
            Role::Liaison => match self.coverage(actor.id).await?.organizations() {
                None => introductions::Scope::All,
                Some(covered) => introductions::Scope::Organizations(covered.to_vec()),
            },
            Role::Company => introductions::Scope::Requester(actor.organization_id),
            Role::Researcher => introductions::Scope::SeedOwner(actor.id),
            Role::Tto => introductions::Scope::SeedOrganization(actor.organization_id),
        };
        let (rows, total) = introductions::page(&self.db, &scope, &filter, page).await?;
        let mut items = Vec::with_capacity(rows.len());
        for intro in rows {
            // The scope is the policy's own narrowing; asking it again keeps one source of truth.
            let Some(party) = self.party(actor, &intro).await? else { continue };
            items.push(self.view(actor, intro, party).await?);
        }
        Ok(Listed { items, total, page })
    }

    /// One introduction with its history.
    ///
    /// # Errors
    /// `NotFound` unless the member takes part in it.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn introduction(&self, actor: &Authenticated, id: Uuid) -> Result<IntroductionView> {
        let (intro, party) = self.visible_introduction(actor, id).await?;
        self.view_with_history(actor, intro, party).await
    }

    async fn view_with_history(
        &self,
        actor: &Authenticated,
        intro: Introduction,
        party: Party,
    ) -> Result<IntroductionView> {
        let events = introductions::events(&self.db, intro.id).await?;
        let mut view = self.view(actor, intro, party).await?;
        view.history =
            events.into_iter().map(|e| HistoryEntry { step: e.step, party: e.party, at: e.created_at }).collect();
        Ok(view)
    }

    /// Takes one step of the life cycle.
    ///
    /// # Errors
    /// `NotFound` unless the member takes part; `NotYourStep` when the step is another party's;
    /// `IllegalStep` (naming the possible steps) when it does not follow from the current state;
    /// `Conflict` when someone else moved the introduction at the same moment.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn take_step(
        &self,
        actor: &Authenticated,
        id: Uuid,
        request: StepRequest,
        ctx: &RequestContext,
    ) -> Result<IntroductionView> {
        let comment = match request.comment() {
            Some(c) => text("comment", c, MAX_COMMENT_CHARS, false)?,
            None => None,
        };
        let (intro, party) = self.visible_introduction(actor, id).await?;
        let step = request.step();
        let next = intro.state.apply(step, party).map_err(|r| refused(&r))?;
        let taking = Taking { actor, intro: &intro, party, request: &request, step, next, comment, ctx };
        let txn = self.write_txn().await?;
        let event_id = self.write_step(&txn, &taking).await?;
        self.follow_cda(&txn, &taking).await?;
        self.tell_step(&txn, &taking, event_id).await?;
        txn.commit().await?;
        let updated = introductions::get(&self.db, id).await?.ok_or(ServiceError::NotFound("introduction"))?;
        self.view_with_history(actor, updated, party).await
    }

    /// Writes the new state (unless someone else moved first), its history entry, the comment
    /// as a thread message (a decline keeps its comment beside the reason) and the audit entry;
    /// returns the history entry's id.
    async fn write_step(&self, txn: &impl ConnectionTrait, t: &Taking<'_>) -> Result<Uuid> {
        let (id, step) = (t.intro.id, t.step);
        let transition = Transition {
            state: t.next,
            decline: match t.request {
                StepRequest::Decline { reason, .. } => Some((*reason, t.comment.clone(), t.party)),
                _ => None,
            },
            forwarded: step == Step::Forward,
            accepted: step == Step::Accept,
            cda_signed: step == Step::Cda(CdaStatus::Signed),
            closed: t.next.is_closed(),
        };
        if !introductions::transition(txn, id, t.intro.version, transition).await? {
            return Err(ServiceError::Conflict(
                "the introduction was changed by someone else at the same moment; reload it and retry".to_owned(),
            ));
        }
        let event = introductions::record_event(txn, id, Some(t.actor.id), t.party, &step.name()).await?;
        if let Some(body) = t.comment.clone().filter(|_| !matches!(t.request, StepRequest::Decline { .. })) {
            introductions::post_message(txn, id, t.actor.id, t.party, body).await?;
        }
        let details = serde_json::json!({ "step": step.name(), "party": t.party.as_str() });
        audit::record(txn, record_entry(t.actor, "introduction.step", "introduction", id, t.ctx, details)).await?;
        Ok(event.id)
    }

    /// A signed CDA opens the seed's confidential tier to the requesting organisation; a CDA
    /// that fails after signing closes it again.
    async fn follow_cda(&self, txn: &impl ConnectionTrait, t: &Taking<'_>) -> Result<()> {
        let intro = t.intro;
        let (action, detail) = match t.step {
            Step::Cda(CdaStatus::Signed) => {
                let grant = grants::grant(
                    txn,
                    intro.seed_id,
                    intro.requester_organization_id,
                    Some(t.actor.id),
                    None,
                    Some(intro.id),
                )
                .await?;
                ("seed.access_granted", ("grant_id", serde_json::json!(grant.id)))
            }
            Step::Cda(CdaStatus::NotConcluded) if intro.state.cda == Some(CdaStatus::Signed) => {
                let revoked = grants::revoke_for_introduction(txn, intro.id, Some(t.actor.id)).await?;
                ("seed.access_revoked", ("revoked", serde_json::json!(revoked)))
            }
            _ => return Ok(()),
        };
        let mut details = serde_json::json!({
            "organization_id": intro.requester_organization_id,
            "introduction_id": intro.id,
        });
        details[detail.0] = detail.1;
        audit::record(txn, record_entry(t.actor, action, "seed", intro.seed_id, t.ctx, details)).await?;
        Ok(())
    }

    /// Tells those who must act next, and those waiting on the outcome ([`told_of`]).
    async fn tell_step(&self, txn: &impl ConnectionTrait, t: &Taking<'_>, event_id: Uuid) -> Result<()> {
        let after = Introduction {
            state: t.next,
            forwarded_at: t.intro.forwarded_at.or_else(|| (t.step == Step::Forward).then(Utc::now)),
            accepted_at: t.intro.accepted_at.or_else(|| (t.step == Step::Accept).then(Utc::now)),
            ..t.intro.clone()
        };
        let told: Vec<(Party, IntroductionNews)> =
            told_of(t.step).iter().map(|party| (*party, news_of(t.request, *party))).collect();
        self.tell(txn, &after, event_id, &told, t.actor.id).await
    }

    /// The thread, oldest first.
    ///
    /// # Errors
    /// `NotFound` unless the member takes part in the introduction.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn introduction_messages(
        &self,
        actor: &Authenticated,
        id: Uuid,
        page: Page,
    ) -> Result<Listed<MessageView>> {
        let (intro, party) = self.visible_introduction(actor, id).await?;
        let (rows, total) = introductions::messages(&self.db, id, page).await?;
        let mut names: HashMap<Uuid, String> = HashMap::new();
        let mut items = Vec::with_capacity(rows.len());
        for m in rows {
            let hidden = m.party == Party::Requester && !reveals_requester(&intro.facts(None), party);
            let author = if hidden {
                None
            } else {
                let name = if let Some(name) = names.get(&m.author_id) {
                    name.clone()
                } else {
                    let name = members::get(&self.db, m.author_id).await?.map(|a| a.name).unwrap_or_default();
                    names.insert(m.author_id, name.clone());
                    name
                };
                Some(PersonRef { id: m.author_id, name })
            };
            items.push(MessageView { id: m.id, party: m.party, author, body: m.body, created_at: m.created_at });
        }
        Ok(Listed { items, total, page })
    }

    /// Posts to the thread; everyone else who takes part is told.
    ///
    /// # Errors
    /// `NotFound` unless the member takes part; a validation error for an empty or long body.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn post_introduction_message(
        &self,
        actor: &Authenticated,
        id: Uuid,
        body: &str,
        ctx: &RequestContext,
    ) -> Result<MessageView> {
        let body = text("body", body, MAX_MESSAGE_CHARS, true)?.unwrap_or_default();
        let (intro, party) = self.visible_introduction(actor, id).await?;
        let txn = self.write_txn().await?;
        let message = introductions::post_message(&txn, id, actor.id, party, body).await?;
        audit::record(
            &txn,
            record_entry(
                actor,
                "introduction.message",
                "introduction",
                id,
                ctx,
                serde_json::json!({ "message_id": message.id }),
            ),
        )
        .await?;
        let everyone: Vec<_> = Party::ALL.iter().map(|party| (*party, IntroductionNews::Message)).collect();
        self.tell(&txn, &intro, message.id, &everyone, actor.id).await?;
        txn.commit().await?;
        Ok(MessageView {
            id: message.id,
            party,
            author: Some(PersonRef { id: actor.id, name: self.member_with_organization(actor.id).await?.0.name }),
            body: message.body,
            created_at: message.created_at,
        })
    }

    /// The active members who make up `party` for this introduction.
    async fn members_of(
        &self,
        conn: &impl ConnectionTrait,
        intro: &Introduction,
        party: Party,
    ) -> Result<Vec<members::Member>> {
        let active = |m: &members::Member| m.status == kakehashi_domain::MemberStatus::Active;
        Ok(match party {
            Party::Requester => members::get(conn, intro.requester_id).await?.into_iter().filter(active).collect(),
            Party::Liaison => self
                .liaisons_with_coverage(conn)
                .await?
                .into_iter()
                .filter(|(_, covered)| {
                    covered.covers_either(intro.seed_organization_id, intro.requester_organization_id)
                })
                .map(|(liaison, _)| liaison)
                .collect(),
            // The seed's side hears nothing before a liaison forwards the request.
            Party::SeedOwner if intro.forwarded_at.is_none() => Vec::new(),
            Party::SeedOwner => {
                let seed = seeds::get(conn, intro.seed_id).await?;
                let owner = match seed.and_then(|s| s.owner_id) {
                    Some(owner) => members::get(conn, owner).await?.filter(active),
                    None => None,
                };
                // A seed without an active owner is answered for by its TTO.
                match owner {
                    Some(owner) => vec![owner],
                    None => members::active_in_organization(conn, intro.seed_organization_id, Role::Tto).await?,
                }
            }
        })
    }

    /// Tells each party its news (in-app and by e-mail through the outbox), except the actor,
    /// inside the caller's transaction. Each recipient reads the company's name only where they
    /// may know it.
    async fn tell(
        &self,
        conn: &impl ConnectionTrait,
        intro: &Introduction,
        event_id: Uuid,
        told: &[(Party, IntroductionNews)],
        actor_id: Uuid,
    ) -> Result<()> {
        let seed_title = seeds::get(conn, intro.seed_id).await?.map_or_else(|| "—".to_owned(), |s| s.content.title);
        let company = organizations::get(conn, intro.requester_organization_id).await?;
        let link = format!("{}/introductions/{}", self.public_url.trim_end_matches('/'), intro.id);
        for &(party, news) in told {
            let named = reveals_requester(&intro.facts(None), party);
            for member in self.members_of(conn, intro, party).await? {
                if member.id == actor_id {
                    continue;
                }
                let company_ja = company.as_ref().filter(|_| named).map(|c| c.name.as_str());
                let company_en = company.as_ref().filter(|_| named).map(|c| c.name_en.as_str());
                let title_ja = introduction_headline(news, kakehashi_domain::Locale::Ja, &seed_title, company_ja);
                let title_en = introduction_headline(news, kakehashi_domain::Locale::En, &seed_title, company_en);
                notifications::insert(
                    conn,
                    NewNotification {
                        member_id: member.id,
                        kind: "introduction",
                        title_ja: title_ja.clone(),
                        title_en: title_en.clone(),
                        object_type: "introduction",
                        object_id: intro.id,
                    },
                )
                .await?;
                let headline = match member.locale {
                    kakehashi_domain::Locale::Ja => title_ja,
                    kakehashi_domain::Locale::En => title_en,
                };
                let mail = introduction_mail(member.locale, &member.email, &member.name, &headline, &link);
                outbox::enqueue(
                    conn,
                    NewMessage {
                        idempotency_key: format!("introduction:{event_id}:{}", member.id),
                        member_id: Some(member.id),
                        to_address: mail.to,
                        subject: mail.subject,
                        text_body: mail.text,
                        html_body: mail.html,
                    },
                )
                .await?;
            }
        }
        Ok(())
    }
}
