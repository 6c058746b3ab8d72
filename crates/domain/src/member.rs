//! Members, their organisations and roles.
//!
//! A role only makes sense inside an organisation of the matching kind: researchers and TTO staff
//! belong to academia, company staff to companies, liaisons and admins to the funder. Every place
//! that assigns a role asks [`Role::fits`], so no member can hold a role their organisation cannot.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What a member may do. Checked by the API's extractors on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Researcher,
    Tto,
    Company,
    Liaison,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Researcher, Role::Tto, Role::Company, Role::Liaison, Role::Admin];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Researcher => "researcher",
            Role::Tto => "tto",
            Role::Company => "company",
            Role::Liaison => "liaison",
            Role::Admin => "admin",
        }
    }

    /// Whether a member of an organisation of `kind` may hold this role.
    #[must_use]
    pub fn fits(self, kind: OrganizationKind) -> bool {
        matches!(
            (self, kind),
            (Role::Researcher | Role::Tto, OrganizationKind::Academia)
                | (Role::Company, OrganizationKind::Company)
                | (Role::Liaison | Role::Admin, OrganizationKind::Funder)
        )
    }

    /// Whether members of this role register seeds (researchers their own, TTO staff their
    /// organisation's).
    #[must_use]
    pub fn registers_seeds(self) -> bool {
        matches!(self, Role::Researcher | Role::Tto)
    }

    /// Whether members of this role register needs and ask for introductions: company staff.
    #[must_use]
    pub fn registers_needs(self) -> bool {
        self == Role::Company
    }

    /// The secretariat (liaisons and admins): it sees every published record, whatever its
    /// visibility, and moderates matches.
    #[must_use]
    pub fn is_secretariat(self) -> bool {
        matches!(self, Role::Liaison | Role::Admin)
    }

    /// Whether members of this role have a coverage (the organisations they look after).
    #[must_use]
    pub fn has_coverage(self) -> bool {
        self == Role::Liaison
    }

    /// Into which organisation a member of this role in `own` may bulk-import seeds, given the
    /// one asked for: an admin names one, TTO staff import into their own, nobody else imports.
    ///
    /// # Errors
    /// The [`ImportRefusal`] that says why not.
    pub fn seed_import_target(self, own: Uuid, asked: Option<Uuid>) -> Result<Uuid, ImportRefusal> {
        match (self, asked) {
            (Role::Admin, Some(organization)) => Ok(organization),
            (Role::Admin, None) => Err(ImportRefusal::OrganizationRequired),
            (Role::Tto, None) => Ok(own),
            (Role::Tto, Some(organization)) if organization == own => Ok(organization),
            (Role::Tto, Some(_)) => Err(ImportRefusal::OwnOrganizationOnly),
            (Role::Researcher | Role::Company | Role::Liaison, _) => Err(ImportRefusal::NotAllowed),
        }
    }

    /// The role a self-registered member gets until an admin decides otherwise.
    #[must_use]
    pub fn default_for(kind: OrganizationKind) -> Role {
        match kind {
            OrganizationKind::Academia => Role::Researcher,
            OrganizationKind::Company => Role::Company,
            OrganizationKind::Funder => Role::Liaison,
        }
    }
}

/// Why a bulk import of seeds is refused ([`Role::seed_import_target`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImportRefusal {
    #[error("is required for admins")]
    OrganizationRequired,
    #[error("TTO staff import into their own organization")]
    OwnOrganizationOnly,
    #[error("only admins and TTO staff import seeds")]
    NotAllowed,
}

/// The kinds of organisation that take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    Academia,
    Company,
    Funder,
}

impl OrganizationKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationKind::Academia => "academia",
            OrganizationKind::Company => "company",
            OrganizationKind::Funder => "funder",
        }
    }
}

/// Where a member stands in the approval life cycle. Only `Active` members can log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// Invited by an admin; becomes active when the invitation is accepted.
    Invited,
    /// Registered; the e-mail address is not verified yet.
    PendingVerification,
    /// E-mail verified; waits for an admin's approval.
    PendingApproval,
    Active,
    Suspended,
    Rejected,
}

impl MemberStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Invited => "invited",
            MemberStatus::PendingVerification => "pending_verification",
            MemberStatus::PendingApproval => "pending_approval",
            MemberStatus::Active => "active",
            MemberStatus::Suspended => "suspended",
            MemberStatus::Rejected => "rejected",
        }
    }
}

/// A step in a member's life cycle: the member's own (verifying the address, accepting an
/// invitation) or an admin's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberStep {
    VerifyEmail,
    AcceptInvitation,
    /// Admit a verified registration, or lift a suspension.
    Approve,
    Reject,
    Suspend,
}

impl MemberStep {
    pub const ALL: [MemberStep; 5] = [
        MemberStep::VerifyEmail,
        MemberStep::AcceptInvitation,
        MemberStep::Approve,
        MemberStep::Reject,
        MemberStep::Suspend,
    ];
}

impl MemberStatus {
    pub const ALL: [MemberStatus; 6] = [
        MemberStatus::Invited,
        MemberStatus::PendingVerification,
        MemberStatus::PendingApproval,
        MemberStatus::Active,
        MemberStatus::Suspended,
        MemberStatus::Rejected,
    ];

    /// The status `step` leads to from this one.
    ///
    /// # Errors
    /// The statuses the step applies to, in words, when it does not apply to this one.
    pub fn after(self, step: MemberStep) -> Result<MemberStatus, &'static str> {
        use MemberStatus::{Active, Invited, PendingApproval, PendingVerification, Rejected, Suspended};
        match (step, self) {
            (MemberStep::VerifyEmail, PendingVerification) => Ok(PendingApproval),
            (MemberStep::VerifyEmail, _) => {
                Err("e-mail verification applies to members who registered and have not verified")
            }
            (MemberStep::AcceptInvitation, Invited) => Ok(Active),
            (MemberStep::AcceptInvitation, _) => Err("accepting an invitation applies to invited members"),
            (MemberStep::Approve, PendingApproval | Suspended) => Ok(Active),
            (MemberStep::Approve, _) => Err("approve applies to members pending approval or suspended"),
            (MemberStep::Reject, PendingApproval | PendingVerification | Invited) => Ok(Rejected),
            (MemberStep::Reject, _) => Err("reject applies to members not yet admitted"),
            (MemberStep::Suspend, Active) => Ok(Suspended),
            (MemberStep::Suspend, _) => Err("suspend applies to active members"),
        }
    }
}

/// A member's preferred language for e-mail and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    #[default]
    Ja,
    En,
}

impl Locale {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Ja => "ja",
            Locale::En => "en",
        }
    }
}

/// How a member hears of new matches by e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchMail {
    /// One e-mail per match, as it is found.
    #[default]
    Immediate,
    /// One e-mail a day listing the day's matches (the in-app notifications still come at once).
    Daily,
}

impl MatchMail {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMail::Immediate => "immediate",
            MatchMail::Daily => "daily",
        }
    }
}

/// A stored value that is not one of the names above.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! from_str_via_as_str {
    ($ty:ty, $kind:literal, $all:expr) => {
        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $all.into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownName { kind: $kind, value: s.to_owned() })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

from_str_via_as_str!(Role, "role", Role::ALL);
from_str_via_as_str!(
    OrganizationKind,
    "organization kind",
    [OrganizationKind::Academia, OrganizationKind::Company, OrganizationKind::Funder]
);
from_str_via_as_str!(MemberStatus, "member status", MemberStatus::ALL);
from_str_via_as_str!(Locale, "locale", [Locale::Ja, Locale::En]);
from_str_via_as_str!(MatchMail, "match e-mail preference", [MatchMail::Immediate, MatchMail::Daily]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_applies_only_from_its_statuses_and_nothing_leaves_rejected() {
        use MemberStatus::*;
        for from in MemberStatus::ALL {
            for step in MemberStep::ALL {
                let expected = match step {
                    MemberStep::VerifyEmail => (from == PendingVerification).then_some(PendingApproval),
                    MemberStep::AcceptInvitation => (from == Invited).then_some(Active),
                    MemberStep::Approve => matches!(from, PendingApproval | Suspended).then_some(Active),
                    MemberStep::Reject => {
                        matches!(from, PendingApproval | PendingVerification | Invited).then_some(Rejected)
                    }
                    MemberStep::Suspend => (from == Active).then_some(Suspended),
                };
                assert_eq!(from.after(step).ok(), expected, "{step:?} from {from}");
            }
        }
        assert!(MemberStep::ALL.iter().all(|&step| Rejected.after(step).is_err()), "rejected is final");
    }

    #[test]
    fn every_role_fits_exactly_one_organization_kind() {
        let kinds = [OrganizationKind::Academia, OrganizationKind::Company, OrganizationKind::Funder];
        for role in Role::ALL {
            let fitting = kinds.iter().filter(|k| role.fits(**k)).count();
            assert_eq!(fitting, 1, "{role}");
        }
    }

    #[test]
    fn default_role_fits_its_kind() {
        for kind in [OrganizationKind::Academia, OrganizationKind::Company, OrganizationKind::Funder] {
            assert!(Role::default_for(kind).fits(kind));
        }
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("pending_approval".parse::<MemberStatus>(), Ok(MemberStatus::PendingApproval));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn who_registers_what_and_who_imports_where() {
        let (own, other) = (Uuid::new_v4(), Uuid::new_v4());
        for role in Role::ALL {
            assert_eq!(role.registers_seeds(), matches!(role, Role::Researcher | Role::Tto), "{role}");
            assert_eq!(role.registers_needs(), role == Role::Company, "{role}");
            assert_eq!(role.is_secretariat(), matches!(role, Role::Liaison | Role::Admin), "{role}");
            assert_eq!(role.has_coverage(), role == Role::Liaison, "{role}");
        }
        assert_eq!(Role::Admin.seed_import_target(own, Some(other)), Ok(other));
        assert_eq!(Role::Admin.seed_import_target(own, None), Err(ImportRefusal::OrganizationRequired));
        assert_eq!(Role::Tto.seed_import_target(own, None), Ok(own));
        assert_eq!(Role::Tto.seed_import_target(own, Some(own)), Ok(own));
        assert_eq!(Role::Tto.seed_import_target(own, Some(other)), Err(ImportRefusal::OwnOrganizationOnly));
        for role in [Role::Researcher, Role::Company, Role::Liaison] {
            assert_eq!(role.seed_import_target(own, Some(own)), Err(ImportRefusal::NotAllowed), "{role}");
        }
    }
}
