//! Introductions: a company asks to be introduced to a seed, a liaison mediates, the seed's side
//! answers, and the CDA and the outcome are tracked.
//!
//! The life cycle is one state machine ([`State::apply`]) and who takes part is one function
//! ([`party_of`]); the service asks both and never re-derives either. Invariants:
//! - the seed's side learns of a request only once a liaison has forwarded it;
//! - an anonymous company stays unnamed to the seed's side until it accepts, and so does
//!   everything linked to the request that would name it (the need it was made for);
//! - a state that ends the introduction (declined, withdrawn, CDA not concluded, an outcome) is
//!   final: asking again means a new introduction.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::disclosure::{Access, Viewer};
use crate::member::Role;

/// Where the request itself stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntroductionStatus {
    /// Waiting for a liaison.
    Requested,
    /// Waiting for the seed's side.
    Forwarded,
    /// The seed's side agreed to talk; CDA tracking starts.
    Accepted,
    Declined,
    /// The company took the request back before it was accepted.
    Withdrawn,
}

/// Where the confidentiality agreement stands, once the request is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CdaStatus {
    Sent,
    Negotiating,
    Signed,
    NotConcluded,
}

/// What came of a signed CDA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    License,
    JointResearch,
    NoDeal,
}

impl Outcome {
    /// Whether the outcome is a deal (the last row of the funnel).
    #[must_use]
    pub fn is_deal(self) -> bool {
        matches!(self, Outcome::License | Outcome::JointResearch)
    }
}

/// Why an introduction was declined: seed owners want to say "not yet, and here is why".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    NeedsMoreData,
    AlreadyLicensed,
    OutsideStrategy,
    IpNotReady,
    NoCapacity,
    NotAFit,
    Other,
}

impl DeclineReason {
    /// The reason's label, `(ja, en)`.
    #[must_use]
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            DeclineReason::NeedsMoreData => ("時期尚早（さらにデータが必要）", "Not yet: needs more data"),
            DeclineReason::AlreadyLicensed => ("既に導出・提携済み", "Already licensed or partnered"),
            DeclineReason::OutsideStrategy => ("方針・戦略の対象外", "Outside our strategy"),
            DeclineReason::IpNotReady => ("特許出願の準備中", "Patent filing not ready"),
            DeclineReason::NoCapacity => ("現在は対応できる体制がない", "No capacity at present"),
            DeclineReason::NotAFit => ("ご要望と合致しない", "Not a fit for the request"),
            DeclineReason::Other => ("その他", "Other"),
        }
    }
}

names!(IntroductionStatus, "introduction status", {
    Requested => "requested", Forwarded => "forwarded", Accepted => "accepted",
    Declined => "declined", Withdrawn => "withdrawn",
});
names!(CdaStatus, "CDA status", {
    Sent => "sent", Negotiating => "negotiating", Signed => "signed", NotConcluded => "not_concluded",
});
names!(Outcome, "outcome", { License => "license", JointResearch => "joint_research", NoDeal => "no_deal" });
names!(DeclineReason, "decline reason", {
    NeedsMoreData => "needs_more_data", AlreadyLicensed => "already_licensed", OutsideStrategy => "outside_strategy",
    IpNotReady => "ip_not_ready", NoCapacity => "no_capacity", NotAFit => "not_a_fit", Other => "other",
});

/// How a member takes part in an introduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The asking company's staff.
    Requester,
    /// A liaison covering either side, or the secretariat.
    Liaison,
    /// The seed's owner or the TTO of its organisation.
    SeedOwner,
}

names!(Party, "party", { Requester => "requester", Liaison => "liaison", SeedOwner => "seed_owner" });

/// What the rules need to know of an introduction to place a viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntroductionFacts {
    pub requester_organization_id: Uuid,
    pub seed_organization_id: Uuid,
    pub seed_owner_id: Option<Uuid>,
    /// Whether a liaison has forwarded it (even if it has since moved on).
    pub forwarded: bool,
    /// Whether the company asked to stay unnamed.
    pub anonymous: bool,
    /// Whether the seed's side has accepted (even if it has since moved on).
    pub accepted: bool,
}

/// How `viewer` takes part in the introduction; `None` means it does not exist for them.
///
/// `covers` is whether a liaison's coverage includes either organisation (an empty coverage
/// covers all); it is ignored for other roles. Admins act as the secretariat, like a liaison.
#[must_use]
pub fn party_of(facts: &IntroductionFacts, viewer: &Viewer, covers: bool) -> Option<Party> {
    match viewer.role {
        Role::Admin => Some(Party::Liaison),
        Role::Liaison => covers.then_some(Party::Liaison),
        Role::Company => (viewer.organization_id == facts.requester_organization_id).then_some(Party::Requester),
        Role::Researcher => {
            (facts.forwarded && facts.seed_owner_id == Some(viewer.member_id)).then_some(Party::SeedOwner)
        }
        Role::Tto => {
            (facts.forwarded && viewer.organization_id == facts.seed_organization_id).then_some(Party::SeedOwner)
        }
    }
}

/// Whether the requesting company (and its staff) may be named to a party.
#[must_use]
pub fn reveals_requester(facts: &IntroductionFacts, party: Party) -> bool {
    match party {
        Party::Requester | Party::Liaison => true,
        Party::SeedOwner => !facts.anonymous || facts.accepted,
    }
}

/// How much of the need an introduction was made for a party may read in the introduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkedNeed {
    /// Neither its id nor its title: either would name an anonymous company.
    Hidden,
    /// Its id only: the party may not read the need itself.
    Id,
    /// Its id and title.
    Titled,
}

/// What `party` learns of the linked need. Anonymity covers everything linked to the request
/// until the seed's side accepts, whatever the need's own anonymity says: a named need's id
/// leads to a page naming the company. `need_access` is the party's access to the need itself.
#[must_use]
pub fn linked_need(facts: &IntroductionFacts, party: Party, need_access: Option<Access>) -> LinkedNeed {
    if !reveals_requester(facts, party) {
        LinkedNeed::Hidden
    } else if need_access.is_some() {
        LinkedNeed::Titled
    } else {
        LinkedNeed::Id
    }
}

/// One move in the life cycle; each is one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Forward,
    Accept,
    Decline,
    Withdraw,
    Cda(CdaStatus),
    Outcome(Outcome),
}

impl Step {
    /// The step's name as shown to clients: `forward`, `cda:signed`, `outcome:license`, …
    #[must_use]
    pub fn name(self) -> String {
        match self {
            Step::Forward => "forward".to_owned(),
            Step::Accept => "accept".to_owned(),
            Step::Decline => "decline".to_owned(),
            Step::Withdraw => "withdraw".to_owned(),
            Step::Cda(status) => format!("cda:{status}"),
            Step::Outcome(outcome) => format!("outcome:{outcome}"),
        }
    }
}

/// Who is told of a step, in this order: those who must act next, and those waiting on the
/// outcome. The one who took the step is left out by whoever sends the news, and the seed's side
/// hears nothing before a liaison forwards the request.
#[must_use]
pub fn told_of(step: Step) -> &'static [Party] {
    match step {
        Step::Forward => &[Party::SeedOwner, Party::Requester],
        Step::Accept | Step::Decline => &[Party::Requester, Party::Liaison],
        Step::Withdraw => &[Party::Liaison, Party::SeedOwner],
        Step::Cda(_) | Step::Outcome(_) => &[Party::Requester, Party::Liaison, Party::SeedOwner],
    }
}

/// The whole state of an introduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub status: IntroductionStatus,
    pub cda: Option<CdaStatus>,
    pub outcome: Option<Outcome>,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The step does not follow from the current state.
    #[error("`{}` is not possible now; possible next steps: {}", .step.name(), list(.allowed))]
    Illegal { step: Step, allowed: Vec<Step> },
    /// The step follows, but not for this party.
    #[error("only the {} may take the step `{}`", parties(.by), .step.name())]
    NotYours { step: Step, by: Vec<Party> },
}

fn list(steps: &[Step]) -> String {
    if steps.is_empty() { "none, the introduction is closed".to_owned() } else { names_of(steps).join(", ") }
}

fn parties(by: &[Party]) -> String {
    by.iter()
        .map(|p| match p {
            Party::Requester => "requesting company",
            Party::Liaison => "liaison",
            Party::SeedOwner => "seed owner",
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Step names, for messages and problem documents.
#[must_use]
pub fn names_of(steps: &[Step]) -> Vec<String> {
    steps.iter().map(|s| s.name()).collect()
}

const CDA_STEPS: [CdaStatus; 4] = [CdaStatus::Sent, CdaStatus::Negotiating, CdaStatus::Signed, CdaStatus::NotConcluded];
const OUTCOMES: [Outcome; 3] = [Outcome::License, Outcome::JointResearch, Outcome::NoDeal];

impl State {
    /// A new request.
    pub const REQUESTED: State = State { status: IntroductionStatus::Requested, cda: None, outcome: None };

    /// Whether nothing can happen any more.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.next_steps().is_empty()
    }

    /// Every step that may follow, whoever takes it.
    #[must_use]
    pub fn next_steps(&self) -> Vec<Step> {
        match (self.status, self.cda, self.outcome) {
            (IntroductionStatus::Requested, ..) => vec![Step::Forward, Step::Decline, Step::Withdraw],
            (IntroductionStatus::Forwarded, ..) => vec![Step::Accept, Step::Decline, Step::Withdraw],
            (IntroductionStatus::Accepted, _, Some(_))
            | (IntroductionStatus::Accepted, Some(CdaStatus::NotConcluded), _) => Vec::new(),
            (IntroductionStatus::Accepted, Some(CdaStatus::Signed), None) => {
                let mut steps: Vec<Step> = OUTCOMES.iter().map(|o| Step::Outcome(*o)).collect();
                steps.push(Step::Cda(CdaStatus::NotConcluded));
                steps
            }
            // The CDA moves forward, possibly skipping a stage, or fails at any point.
            (IntroductionStatus::Accepted, cda, None) => {
                CDA_STEPS.iter().filter(|s| cda.is_none_or(|c| **s > c)).map(|s| Step::Cda(*s)).collect()
            }
            (IntroductionStatus::Declined | IntroductionStatus::Withdrawn, ..) => Vec::new(),
        }
    }

    /// Who may take `step` (whether or not it follows from here).
    #[must_use]
    pub fn takers(&self, step: Step) -> Vec<Party> {
        match step {
            Step::Forward => vec![Party::Liaison],
            Step::Accept => vec![Party::SeedOwner],
            // The liaison screens the request; once forwarded, the answer is the seed owner's.
            Step::Decline if self.status == IntroductionStatus::Requested => vec![Party::Liaison],
            Step::Decline => vec![Party::SeedOwner],
            Step::Withdraw => vec![Party::Requester],
            Step::Cda(_) | Step::Outcome(_) => vec![Party::Liaison, Party::SeedOwner],
        }
    }

    /// The steps `party` may take now.
    #[must_use]
    pub fn steps_for(&self, party: Party) -> Vec<Step> {
        self.next_steps().into_iter().filter(|s| self.takers(*s).contains(&party)).collect()
    }

    /// The state after `party` takes `step`.
    ///
    /// # Errors
    /// [`Refusal::NotYours`] when the party may not take that kind of step at all,
    /// [`Refusal::Illegal`] (naming the possible steps) when it does not follow from here.
    pub fn apply(&self, step: Step, party: Party) -> Result<State, Refusal> {
        // Someone who could never take this kind of step is told so rather than shown the state
        // machine; someone who could is told what is possible now.
        let ever = match step {
            Step::Forward => vec![Party::Liaison],
            Step::Accept => vec![Party::SeedOwner],
            Step::Decline => vec![Party::Liaison, Party::SeedOwner],
            Step::Withdraw => vec![Party::Requester],
            Step::Cda(_) | Step::Outcome(_) => vec![Party::Liaison, Party::SeedOwner],
        };
        if !ever.contains(&party) {
            return Err(Refusal::NotYours { step, by: ever });
        }
        let allowed = self.next_steps();
        if !allowed.contains(&step) {
            return Err(Refusal::Illegal { step, allowed });
        }
        let takers = self.takers(step);
        if !takers.contains(&party) {
            return Err(Refusal::NotYours { step, by: takers });
        }
        let mut next = *self;
        match step {
            Step::Forward => next.status = IntroductionStatus::Forwarded,
            Step::Accept => next.status = IntroductionStatus::Accepted,
            Step::Decline => next.status = IntroductionStatus::Declined,
            Step::Withdraw => next.status = IntroductionStatus::Withdrawn,
            Step::Cda(status) => next.cda = Some(status),
            Step::Outcome(outcome) => next.outcome = Some(outcome),
        }
        Ok(next)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use IntroductionStatus as S;

    fn state(status: S, cda: Option<CdaStatus>, outcome: Option<Outcome>) -> State {
        State { status, cda, outcome }
    }

    fn every_step() -> Vec<Step> {
        let mut steps = vec![Step::Forward, Step::Accept, Step::Decline, Step::Withdraw];
        steps.extend(CDA_STEPS.iter().map(|c| Step::Cda(*c)));
        steps.extend(OUTCOMES.iter().map(|o| Step::Outcome(*o)));
        steps
    }

    fn every_state() -> Vec<State> {
        let mut states = Vec::new();
        for status in IntroductionStatus::ALL {
            let cdas: Vec<Option<CdaStatus>> =
                std::iter::once(None).chain(CdaStatus::ALL.iter().copied().map(Some)).collect();
            for cda in cdas {
                let outcomes: Vec<Option<Outcome>> =
                    std::iter::once(None).chain(Outcome::ALL.iter().copied().map(Some)).collect();
                for outcome in outcomes {
                    states.push(state(*status, cda, outcome));
                }
            }
        }
        states
    }

    #[test]
    fn the_happy_path_reaches_a_deal() {
        let mut s = State::REQUESTED;
        for (step, party) in [
            (Step::Forward, Party::Liaison),
            (Step::Accept, Party::SeedOwner),
            (Step::Cda(CdaStatus::Sent), Party::Liaison),
            (Step::Cda(CdaStatus::Negotiating), Party::SeedOwner),
            (Step::Cda(CdaStatus::Signed), Party::Liaison),
            (Step::Outcome(Outcome::License), Party::SeedOwner),
        ] {
            s = s.apply(step, party).unwrap();
        }
        assert_eq!(s, state(S::Accepted, Some(CdaStatus::Signed), Some(Outcome::License)));
        assert!(s.is_closed());
    }

    #[test]
    fn illegal_steps_name_the_possible_ones() {
        let err = State::REQUESTED.apply(Step::Accept, Party::SeedOwner).unwrap_err();
        assert_eq!(
            err,
            Refusal::Illegal { step: Step::Accept, allowed: vec![Step::Forward, Step::Decline, Step::Withdraw] }
        );
        assert_eq!(err.to_string(), "`accept` is not possible now; possible next steps: forward, decline, withdraw");
        let closed = state(S::Declined, None, None);
        assert_eq!(
            closed.apply(Step::Forward, Party::Liaison).unwrap_err().to_string(),
            "`forward` is not possible now; possible next steps: none, the introduction is closed"
        );
    }

    #[test]
    fn each_step_belongs_to_its_parties() {
        let forwarded = state(S::Forwarded, None, None);
        assert_eq!(
            forwarded.apply(Step::Accept, Party::Requester).unwrap_err(),
            Refusal::NotYours { step: Step::Accept, by: vec![Party::SeedOwner] }
        );
        assert!(forwarded.apply(Step::Decline, Party::Liaison).is_err(), "after forwarding the owner answers");
        assert!(State::REQUESTED.apply(Step::Decline, Party::SeedOwner).is_err(), "the liaison screens first");
        assert!(State::REQUESTED.apply(Step::Forward, Party::Requester).is_err());
        let accepted = state(S::Accepted, None, None);
        assert!(accepted.apply(Step::Cda(CdaStatus::Signed), Party::Requester).is_err());
        assert!(accepted.apply(Step::Cda(CdaStatus::Signed), Party::SeedOwner).is_ok());
    }

    #[test]
    fn the_cda_only_moves_forward_and_can_fail_even_after_signing() {
        let negotiating = state(S::Accepted, Some(CdaStatus::Negotiating), None);
        assert!(negotiating.apply(Step::Cda(CdaStatus::Sent), Party::Liaison).is_err());
        assert!(negotiating.apply(Step::Cda(CdaStatus::Negotiating), Party::Liaison).is_err());
        let signed = state(S::Accepted, Some(CdaStatus::Signed), None);
        assert_eq!(
            signed.apply(Step::Cda(CdaStatus::NotConcluded), Party::Liaison).unwrap().cda,
            Some(CdaStatus::NotConcluded)
        );
        assert!(state(S::Accepted, None, None).apply(Step::Outcome(Outcome::License), Party::Liaison).is_err());
    }

    #[test]
    fn every_transition_is_legal_exactly_when_listed_and_closed_states_stay_closed() {
        let parties = [Party::Requester, Party::Liaison, Party::SeedOwner];
        for s in every_state() {
            let next = s.next_steps();
            for step in every_step() {
                for party in parties {
                    let ok = s.apply(step, party).is_ok();
                    assert_eq!(ok, next.contains(&step) && s.takers(step).contains(&party), "{s:?} {step:?} {party:?}");
                    if let Ok(after) = s.apply(step, party) {
                        assert_ne!(after, s, "a step always changes the state");
                    }
                }
            }
            let ends = matches!(s.status, S::Declined | S::Withdrawn)
                || (s.status == S::Accepted && (s.outcome.is_some() || s.cda == Some(CdaStatus::NotConcluded)));
            assert_eq!(s.is_closed(), ends, "{s:?}");
        }
    }

    fn facts(forwarded: bool, anonymous: bool, accepted: bool) -> IntroductionFacts {
        IntroductionFacts {
            requester_organization_id: Uuid::from_u128(0xC),
            seed_organization_id: Uuid::from_u128(0xA),
            seed_owner_id: Some(Uuid::from_u128(1)),
            forwarded,
            anonymous,
            accepted,
        }
    }

    fn viewer(role: Role, member: u128, organization: u128) -> Viewer {
        Viewer { member_id: Uuid::from_u128(member), organization_id: Uuid::from_u128(organization), role }
    }

    #[test]
    fn who_takes_part() {
        // (viewer, covers, before forwarding, after forwarding)
        let cases = [
            (viewer(Role::Admin, 9, 0xF), false, Some(Party::Liaison), Some(Party::Liaison)),
            (viewer(Role::Liaison, 8, 0xF), true, Some(Party::Liaison), Some(Party::Liaison)),
            (viewer(Role::Liaison, 8, 0xF), false, None, None),
            (viewer(Role::Company, 5, 0xC), true, Some(Party::Requester), Some(Party::Requester)),
            (viewer(Role::Company, 6, 0xD), true, None, None),
            (viewer(Role::Researcher, 1, 0xA), true, None, Some(Party::SeedOwner)),
            (viewer(Role::Researcher, 2, 0xA), true, None, None),
            (viewer(Role::Tto, 3, 0xA), true, None, Some(Party::SeedOwner)),
            (viewer(Role::Tto, 4, 0xB), true, None, None),
            (viewer(Role::Researcher, 7, 0xB), true, None, None),
        ];
        for (v, covers, before, after) in cases {
            assert_eq!(party_of(&facts(false, false, false), &v, covers), before, "{v:?} before forwarding");
            assert_eq!(party_of(&facts(true, false, false), &v, covers), after, "{v:?} after forwarding");
        }
    }

    #[test]
    fn an_anonymous_company_is_named_to_the_seed_side_only_after_accepting() {
        assert!(!reveals_requester(&facts(true, true, false), Party::SeedOwner));
        assert!(reveals_requester(&facts(true, true, true), Party::SeedOwner));
        assert!(reveals_requester(&facts(true, false, false), Party::SeedOwner));
        for party in [Party::Requester, Party::Liaison] {
            assert!(reveals_requester(&facts(true, true, false), party));
        }
    }

    #[test]
    fn the_linked_need_is_hidden_exactly_while_the_company_is() {
        let accesses = [None, Some(Access::Summary), Some(Access::Confidential), Some(Access::Owner)];
        for party in Party::ALL {
            for forwarded in [false, true] {
                for anonymous in [false, true] {
                    for accepted in [false, true] {
                        let f = facts(forwarded, anonymous, accepted);
                        for access in accesses {
                            // The oracle, written out: only the seed's side is kept from an
                            // anonymous company, and only until it accepts.
                            let hidden = *party == Party::SeedOwner && anonymous && !accepted;
                            let expected = match (hidden, access) {
                                (true, _) => LinkedNeed::Hidden,
                                (false, None) => LinkedNeed::Id,
                                (false, Some(_)) => LinkedNeed::Titled,
                            };
                            assert_eq!(linked_need(&f, *party, access), expected, "{party} {f:?} {access:?}");
                            assert_eq!(hidden, !reveals_requester(&f, *party), "{party} {f:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for r in DeclineReason::ALL {
            assert_eq!(r.as_str().parse::<DeclineReason>().unwrap(), *r);
            assert!(!r.labels().0.is_empty() && !r.labels().1.is_empty());
        }
        assert_eq!(Step::Cda(CdaStatus::NotConcluded).name(), "cda:not_concluded");
        assert_eq!(Step::Outcome(Outcome::JointResearch).name(), "outcome:joint_research");
    }

    #[test]
    fn who_is_told_of_each_step() {
        use Party::{Liaison, Requester, SeedOwner};
        let everyone = [Requester, Liaison, SeedOwner];
        for (step, told) in [
            (Step::Forward, &[SeedOwner, Requester][..]),
            (Step::Accept, &[Requester, Liaison]),
            (Step::Decline, &[Requester, Liaison]),
            (Step::Withdraw, &[Liaison, SeedOwner]),
        ] {
            assert_eq!(told_of(step), told, "{}", step.name());
        }
        for step in every_step().into_iter().filter(|s| matches!(s, Step::Cda(_) | Step::Outcome(_))) {
            assert_eq!(told_of(step), everyone, "{}", step.name());
        }
    }

    #[test]
    fn every_step_is_told_to_someone_besides_those_who_may_take_it() {
        for step in every_step() {
            let takers = State::REQUESTED.takers(step);
            assert!(told_of(step).iter().any(|p| !takers.contains(p)), "{}", step.name());
        }
    }
}
