//! The disclosure policy: who may learn what about a seed or a need.
//!
//! Pre-filing results can only be posted because owners trust this closed network to keep each tier
//! to its audience, so the rules live here once, as pure functions, and every read path asks this
//! module — record pages, search hits and facets, match reasons, notifications, e-mails, exports.
//! The invariant callers must keep: a `None` must answer exactly like a missing record (same status,
//! same body, same timing), or existence itself leaks.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::member::Role;

/// The member asking. Built from the authenticated session, never from request input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Viewer {
    pub member_id: Uuid,
    pub organization_id: Uuid,
    pub role: Role,
}

/// Where a seed or need is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Draft,
    Published,
    /// Withdrawn from the market place; kept for those already in conversation about it.
    Archived,
}

/// Who a published record is shown to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Every approved member sees the summary.
    Members,
    /// Hidden from other members but still matched, so liaisons can broker quietly.
    LiaisonOnly,
}

/// How much of a record a viewer may see. Ordered: each tier includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// The non-confidential part: title, summary, tags, stage, IP status, deal types.
    Summary,
    /// The summary and the detailed section (data, mechanism, structures, patent numbers).
    Confidential,
    /// Everything, and the right to edit, publish, archive and grant.
    Owner,
}

/// What the policy needs to know about a seed; loaded before anything else about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeedFacts {
    pub owner_id: Uuid,
    pub organization_id: Uuid,
    pub status: RecordStatus,
    pub visibility: Visibility,
}

/// What the policy needs to know about a need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NeedFacts {
    pub owner_id: Uuid,
    pub organization_id: Uuid,
    pub status: RecordStatus,
    pub visibility: Visibility,
    /// The company hides its name from academia until an introduction is accepted.
    pub anonymous: bool,
}

/// What `viewer` may see of `seed`; `None` means the seed does not exist for them.
///
/// `has_active_grant` is whether the viewer's organisation holds an unrevoked, unexpired access
/// grant for this seed; the caller looks it up because grants live in the store.
#[must_use]
pub fn seed_access(seed: &SeedFacts, viewer: &Viewer, has_active_grant: bool) -> Option<Access> {
    let own_organization = viewer.organization_id == seed.organization_id;
    if viewer.role == Role::Admin || viewer.member_id == seed.owner_id || (viewer.role == Role::Tto && own_organization)
    {
        return Some(Access::Owner);
    }
    if seed.status == RecordStatus::Draft {
        return None;
    }
    // Liaisons see liaison-only seeds: brokering them quietly is what that visibility is for.
    if viewer.role == Role::Liaison || (viewer.role == Role::Researcher && own_organization) {
        return Some(Access::Confidential);
    }
    // A grant is given deliberately to one organisation, so it opens even a liaison-only seed, and
    // it outlives archiving so a conversation under CDA can go on.
    if has_active_grant {
        return Some(Access::Confidential);
    }
    match (seed.status, seed.visibility) {
        (RecordStatus::Published, Visibility::Members) => Some(Access::Summary),
        _ => None,
    }
}

/// Whether `viewer` may change `seed`. Grants never confer this, so none is asked for.
#[must_use]
pub fn can_edit_seed(seed: &SeedFacts, viewer: &Viewer) -> bool {
    seed_access(seed, viewer, false) == Some(Access::Owner)
}

/// Whether `viewer` may give or revoke access grants for `seed`: those who answer for it (its owner,
/// the TTO of its organisation) and the funder's staff who broker CDAs.
#[must_use]
pub fn may_grant(seed: &SeedFacts, viewer: &Viewer) -> bool {
    match viewer.role {
        Role::Admin | Role::Liaison => true,
        Role::Tto if viewer.organization_id == seed.organization_id => true,
        _ => viewer.member_id == seed.owner_id,
    }
}

/// What `viewer` may see of `need`; `None` means the need does not exist for them.
///
/// A need is a company's strategy: other companies never see it, whatever its visibility, and
/// academia sees only the summary of published, members-visible needs.
#[must_use]
pub fn need_access(need: &NeedFacts, viewer: &Viewer) -> Option<Access> {
    if viewer.member_id == need.owner_id {
        return Some(Access::Owner);
    }
    match viewer.role {
        Role::Admin => Some(Access::Owner),
        // Colleagues read each other's needs, drafts included, to coordinate a single mandate.
        Role::Company if viewer.organization_id == need.organization_id => Some(Access::Confidential),
        Role::Company => None,
        Role::Liaison => match need.status {
            RecordStatus::Draft => None,
            RecordStatus::Published | RecordStatus::Archived => Some(Access::Confidential),
        },
        Role::Researcher | Role::Tto => match (need.status, need.visibility) {
            (RecordStatus::Published, Visibility::Members) => Some(Access::Summary),
            _ => None,
        },
    }
}

/// Whether `viewer` may change `need`. Colleagues read a need but only its owner edits it.
#[must_use]
pub fn can_edit_need(need: &NeedFacts, viewer: &Viewer) -> bool {
    need_access(need, viewer) == Some(Access::Owner)
}

/// Whether the need's organisation may be named to `viewer`; when false, show "a company".
///
/// An anonymous need stays anonymous to academia until an introduction between the two sides has
/// been accepted; funder staff and the company itself always know. `introduction_accepted` is
/// whether the viewer's organisation has an accepted introduction with this need's organisation.
#[must_use]
pub fn reveals_need_organization(need: &NeedFacts, viewer: &Viewer, introduction_accepted: bool) -> bool {
    if need_access(need, viewer).is_none() {
        return false;
    }
    matches!(viewer.role, Role::Admin | Role::Liaison)
        || viewer.member_id == need.owner_id
        || viewer.organization_id == need.organization_id
        || !need.anonymous
        || introduction_accepted
}

names!(RecordStatus, "record status", { Draft => "draft", Published => "published", Archived => "archived" });
names!(Visibility, "visibility", { Members => "members", LiaisonOnly => "liaison_only" });
names!(Access, "access", { Summary => "summary", Confidential => "confidential", Owner => "owner" });

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use Org::{Other, Same};
    use Role::{Admin, Company, Liaison, Researcher, Tto};
    use Who::{NotOwner, Owner};

    const N: Option<Access> = None;
    const S: Option<Access> = Some(Access::Summary);
    const C: Option<Access> = Some(Access::Confidential);
    const O: Option<Access> = Some(Access::Owner);

    const STATUSES: [RecordStatus; 3] = [RecordStatus::Draft, RecordStatus::Published, RecordStatus::Archived];
    const VISIBILITIES: [Visibility; 2] = [Visibility::Members, Visibility::LiaisonOnly];

    const RECORD_ORG: Uuid = Uuid::from_u128(0xA);
    const OTHER_ORG: Uuid = Uuid::from_u128(0xB);
    const OWNER_ID: Uuid = Uuid::from_u128(1);
    const OTHER_ID: Uuid = Uuid::from_u128(2);

    /// The viewer's organisation relative to the record's.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Org {
        Same,
        Other,
    }

    /// Whether the viewer is the record's owner.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Who {
        Owner,
        NotOwner,
    }

    fn viewer(role: Role, org: Org, who: Who) -> Viewer {
        Viewer {
            member_id: if who == Owner { OWNER_ID } else { OTHER_ID },
            organization_id: if org == Same { RECORD_ORG } else { OTHER_ORG },
            role,
        }
    }

    fn seed(status: RecordStatus, visibility: Visibility) -> SeedFacts {
        SeedFacts { owner_id: OWNER_ID, organization_id: RECORD_ORG, status, visibility }
    }

    fn need(status: RecordStatus, visibility: Visibility, anonymous: bool) -> NeedFacts {
        NeedFacts { owner_id: OWNER_ID, organization_id: RECORD_ORG, status, visibility, anonymous }
    }

    // ── The oracle: expectations written out, independent of the implementation ────────────────

    /// Seed access indexed `[status][visibility][has_active_grant]`.
    type SeedGrid = [[[Option<Access>; 2]; 2]; 3];

    #[rustfmt::skip]
    const SEED_FULL: SeedGrid = [
        //                 members            liaison_only
        //                 no grant, grant    no grant, grant
        /* draft     */    [[O, O],           [O, O]],
        /* published */    [[O, O],           [O, O]],
        /* archived  */    [[O, O],           [O, O]],
    ];

    #[rustfmt::skip]
    const SEED_INSIDER: SeedGrid = [
        /* draft     */    [[N, N],           [N, N]],
        /* published */    [[C, C],           [C, C]],
        /* archived  */    [[C, C],           [C, C]],
    ];

    #[rustfmt::skip]
    const SEED_OUTSIDER: SeedGrid = [
        /* draft     */    [[N, N],           [N, N]],
        /* published */    [[S, C],           [N, C]],
        /* archived  */    [[N, C],           [N, C]],
    ];

    /// Every viewer shape, with its seed grid and whether it may grant access.
    #[rustfmt::skip]
    const SEED_VIEWERS: [(Role, Org, Who, &SeedGrid, bool); 20] = [
        (Researcher, Same,  Owner,    &SEED_FULL,     true),
        (Researcher, Same,  NotOwner, &SEED_INSIDER,  false),
        (Researcher, Other, Owner,    &SEED_FULL,     true),
        (Researcher, Other, NotOwner, &SEED_OUTSIDER, false),
        (Tto,        Same,  Owner,    &SEED_FULL,     true),
        (Tto,        Same,  NotOwner, &SEED_FULL,     true),
        (Tto,        Other, Owner,    &SEED_FULL,     true),
        (Tto,        Other, NotOwner, &SEED_OUTSIDER, false),
        (Company,    Same,  Owner,    &SEED_FULL,     true),
        (Company,    Same,  NotOwner, &SEED_OUTSIDER, false),
        (Company,    Other, Owner,    &SEED_FULL,     true),
        (Company,    Other, NotOwner, &SEED_OUTSIDER, false),
        (Liaison,    Same,  Owner,    &SEED_FULL,     true),
        (Liaison,    Same,  NotOwner, &SEED_INSIDER,  true),
        (Liaison,    Other, Owner,    &SEED_FULL,     true),
        (Liaison,    Other, NotOwner, &SEED_INSIDER,  true),
        (Admin,      Same,  Owner,    &SEED_FULL,     true),
        (Admin,      Same,  NotOwner, &SEED_FULL,     true),
        (Admin,      Other, Owner,    &SEED_FULL,     true),
        (Admin,      Other, NotOwner, &SEED_FULL,     true),
    ];

    /// Need access indexed `[status][visibility]`.
    type NeedGrid = [[Option<Access>; 2]; 3];

    #[rustfmt::skip]
    const NEED_FULL: NeedGrid = [
        //                 members, liaison_only
        /* draft     */    [O, O],
        /* published */    [O, O],
        /* archived  */    [O, O],
    ];

    #[rustfmt::skip]
    const NEED_COLLEAGUE: NeedGrid = [
        /* draft     */    [C, C],
        /* published */    [C, C],
        /* archived  */    [C, C],
    ];

    #[rustfmt::skip]
    const NEED_LIAISON: NeedGrid = [
        /* draft     */    [N, N],
        /* published */    [C, C],
        /* archived  */    [C, C],
    ];

    #[rustfmt::skip]
    const NEED_ACADEMIA: NeedGrid = [
        /* draft     */    [N, N],
        /* published */    [S, N],
        /* archived  */    [N, N],
    ];

    #[rustfmt::skip]
    const NEED_HIDDEN: NeedGrid = [
        /* draft     */    [N, N],
        /* published */    [N, N],
        /* archived  */    [N, N],
    ];

    /// Every viewer shape, with its need grid and whether it is told the organisation of an
    /// anonymous need it can see.
    #[rustfmt::skip]
    const NEED_VIEWERS: [(Role, Org, Who, &NeedGrid, bool); 20] = [
        (Researcher, Same,  Owner,    &NEED_FULL,      true),
        (Researcher, Same,  NotOwner, &NEED_ACADEMIA,  true),
        (Researcher, Other, Owner,    &NEED_FULL,      true),
        (Researcher, Other, NotOwner, &NEED_ACADEMIA,  false),
        (Tto,        Same,  Owner,    &NEED_FULL,      true),
        (Tto,        Same,  NotOwner, &NEED_ACADEMIA,  true),
        (Tto,        Other, Owner,    &NEED_FULL,      true),
        (Tto,        Other, NotOwner, &NEED_ACADEMIA,  false),
        (Company,    Same,  Owner,    &NEED_FULL,      true),
        (Company,    Same,  NotOwner, &NEED_COLLEAGUE, true),
        (Company,    Other, Owner,    &NEED_FULL,      true),
        (Company,    Other, NotOwner, &NEED_HIDDEN,    false),
        (Liaison,    Same,  Owner,    &NEED_FULL,      true),
        (Liaison,    Same,  NotOwner, &NEED_LIAISON,   true),
        (Liaison,    Other, Owner,    &NEED_FULL,      true),
        (Liaison,    Other, NotOwner, &NEED_LIAISON,   true),
        (Admin,      Same,  Owner,    &NEED_FULL,      true),
        (Admin,      Same,  NotOwner, &NEED_FULL,      true),
        (Admin,      Other, Owner,    &NEED_FULL,      true),
        (Admin,      Other, NotOwner, &NEED_FULL,      true),
    ];

    #[test]
    fn oracle_tables_cover_every_viewer_shape_once() {
        let seeds: HashSet<_> = SEED_VIEWERS.iter().map(|(r, o, w, ..)| (*r, *o, *w)).collect();
        let needs: HashSet<_> = NEED_VIEWERS.iter().map(|(r, o, w, ..)| (*r, *o, *w)).collect();
        for role in Role::ALL {
            for org in [Same, Other] {
                for who in [Owner, NotOwner] {
                    assert!(seeds.contains(&(role, org, who)), "seed table lacks {role} {org:?} {who:?}");
                    assert!(needs.contains(&(role, org, who)), "need table lacks {role} {org:?} {who:?}");
                }
            }
        }
        assert_eq!(seeds.len(), Role::ALL.len() * 4);
        assert_eq!(needs.len(), Role::ALL.len() * 4);
    }

    // ── Exhaustive checks against the oracle ───────────────────────────────────────────────────

    #[test]
    fn seed_access_matches_the_oracle_for_every_combination() {
        let mut checked = 0;
        for (role, org, who, grid, _) in SEED_VIEWERS {
            let viewer = viewer(role, org, who);
            for (s, status) in STATUSES.into_iter().enumerate() {
                for (v, visibility) in VISIBILITIES.into_iter().enumerate() {
                    for (g, grant) in [false, true].into_iter().enumerate() {
                        let seed = seed(status, visibility);
                        assert_eq!(
                            seed_access(&seed, &viewer, grant),
                            grid[s][v][g],
                            "{role} {org:?} {who:?} {status} {visibility} grant={grant}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 2 * 2 * 3 * 2 * 2);
    }

    #[test]
    fn can_edit_and_may_grant_match_the_oracle_for_every_combination() {
        for (role, org, who, grid, grants) in SEED_VIEWERS {
            let viewer = viewer(role, org, who);
            for (s, status) in STATUSES.into_iter().enumerate() {
                for (v, visibility) in VISIBILITIES.into_iter().enumerate() {
                    let seed = seed(status, visibility);
                    let context = format!("{role} {org:?} {who:?} {status} {visibility}");
                    assert_eq!(can_edit_seed(&seed, &viewer), grid[s][v][0] == O, "{context}");
                    assert_eq!(can_edit_seed(&seed, &viewer), grid[s][v][1] == O, "{context}");
                    assert_eq!(may_grant(&seed, &viewer), grants, "{context}");
                }
            }
        }
    }

    #[test]
    fn need_access_matches_the_oracle_for_every_combination() {
        let mut checked = 0;
        for (role, org, who, grid, _) in NEED_VIEWERS {
            let viewer = viewer(role, org, who);
            for (s, status) in STATUSES.into_iter().enumerate() {
                for (v, visibility) in VISIBILITIES.into_iter().enumerate() {
                    for anonymous in [false, true] {
                        let need = need(status, visibility, anonymous);
                        let context = format!("{role} {org:?} {who:?} {status} {visibility} anonymous={anonymous}");
                        assert_eq!(need_access(&need, &viewer), grid[s][v], "{context}");
                        assert_eq!(can_edit_need(&need, &viewer), grid[s][v] == O, "{context}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 2 * 2 * 3 * 2 * 2);
    }

    #[test]
    fn reveals_need_organization_matches_the_oracle_for_every_combination() {
        let mut checked = 0;
        for (role, org, who, grid, knows) in NEED_VIEWERS {
            let viewer = viewer(role, org, who);
            for (s, status) in STATUSES.into_iter().enumerate() {
                for (v, visibility) in VISIBILITIES.into_iter().enumerate() {
                    for anonymous in [false, true] {
                        for accepted in [false, true] {
                            let need = need(status, visibility, anonymous);
                            let expected = grid[s][v].is_some() && (knows || !anonymous || accepted);
                            assert_eq!(
                                reveals_need_organization(&need, &viewer, accepted),
                                expected,
                                "{role} {org:?} {who:?} {status} {visibility} {anonymous} {accepted}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 2 * 2 * 3 * 2 * 2 * 2);
    }

    // ── Properties that must hold whatever the tables say ──────────────────────────────────────

    #[test]
    fn a_grant_never_lowers_access() {
        for (role, org, who, ..) in SEED_VIEWERS {
            for status in STATUSES {
                for visibility in VISIBILITIES {
                    let (seed, viewer) = (seed(status, visibility), viewer(role, org, who));
                    assert!(seed_access(&seed, &viewer, true) >= seed_access(&seed, &viewer, false));
                }
            }
        }
    }

    #[test]
    fn summary_tier_exists_only_for_published_members_records() {
        for (role, org, who, ..) in SEED_VIEWERS {
            for status in STATUSES {
                for visibility in VISIBILITIES {
                    let open = status == RecordStatus::Published && visibility == Visibility::Members;
                    let viewer = viewer(role, org, who);
                    for grant in [false, true] {
                        if seed_access(&seed(status, visibility), &viewer, grant) == S {
                            assert!(open, "{role} {status} {visibility}");
                        }
                    }
                    if need_access(&need(status, visibility, false), &viewer) == S {
                        assert!(open, "{role} {status} {visibility}");
                    }
                }
            }
        }
    }

    #[test]
    fn seed_drafts_reach_only_those_who_answer_for_the_seed() {
        for (role, org, who, ..) in SEED_VIEWERS {
            let viewer = viewer(role, org, who);
            for visibility in VISIBILITIES {
                for grant in [false, true] {
                    let access = seed_access(&seed(RecordStatus::Draft, visibility), &viewer, grant);
                    assert!(access == N || access == O, "{role} {org:?} {who:?} {visibility}");
                }
            }
        }
    }

    // ── Each rule on its own ───────────────────────────────────────────────────────────────────

    #[test]
    fn admin_acts_on_behalf_on_any_seed() {
        let admin = viewer(Admin, Other, NotOwner);
        for status in STATUSES {
            assert_eq!(seed_access(&seed(status, Visibility::LiaisonOnly), &admin, false), O);
        }
        assert!(can_edit_seed(&seed(RecordStatus::Draft, Visibility::Members), &admin));
    }

    #[test]
    fn owner_keeps_full_access_through_the_life_cycle() {
        let owner = viewer(Researcher, Same, Owner);
        for status in STATUSES {
            for visibility in VISIBILITIES {
                assert_eq!(seed_access(&seed(status, visibility), &owner, false), O);
            }
        }
    }

    #[test]
    fn tto_manages_the_seeds_of_its_own_organization_only() {
        let draft = seed(RecordStatus::Draft, Visibility::LiaisonOnly);
        assert_eq!(seed_access(&draft, &viewer(Tto, Same, NotOwner), false), O);
        assert_eq!(seed_access(&draft, &viewer(Tto, Other, NotOwner), false), N);
        let published = seed(RecordStatus::Published, Visibility::Members);
        assert_eq!(seed_access(&published, &viewer(Tto, Other, NotOwner), false), S);
    }

    #[test]
    fn lab_colleague_reads_the_confidential_tier_but_not_drafts() {
        let colleague = viewer(Researcher, Same, NotOwner);
        assert_eq!(seed_access(&seed(RecordStatus::Draft, Visibility::Members), &colleague, false), N);
        assert_eq!(seed_access(&seed(RecordStatus::Published, Visibility::LiaisonOnly), &colleague, false), C);
        assert_eq!(seed_access(&seed(RecordStatus::Archived, Visibility::Members), &colleague, false), C);
        assert!(!can_edit_seed(&seed(RecordStatus::Published, Visibility::Members), &colleague));
    }

    #[test]
    fn liaison_sees_liaison_only_seeds_in_full_but_not_drafts() {
        let liaison = viewer(Liaison, Other, NotOwner);
        assert_eq!(seed_access(&seed(RecordStatus::Published, Visibility::LiaisonOnly), &liaison, false), C);
        assert_eq!(seed_access(&seed(RecordStatus::Archived, Visibility::Members), &liaison, false), C);
        assert_eq!(seed_access(&seed(RecordStatus::Draft, Visibility::LiaisonOnly), &liaison, true), N);
        assert!(!can_edit_seed(&seed(RecordStatus::Published, Visibility::Members), &liaison));
    }

    #[test]
    fn company_sees_only_the_summary_of_a_published_members_seed() {
        let company = viewer(Company, Other, NotOwner);
        assert_eq!(seed_access(&seed(RecordStatus::Published, Visibility::Members), &company, false), S);
    }

    #[test]
    fn liaison_only_seed_answers_like_a_missing_one_to_other_members() {
        let seed = seed(RecordStatus::Published, Visibility::LiaisonOnly);
        for outsider in [viewer(Company, Other, NotOwner), viewer(Researcher, Other, NotOwner)] {
            assert_eq!(seed_access(&seed, &outsider, false), N);
        }
    }

    #[test]
    fn an_active_grant_opens_the_confidential_tier_even_when_liaison_only() {
        let company = viewer(Company, Other, NotOwner);
        assert_eq!(seed_access(&seed(RecordStatus::Published, Visibility::Members), &company, true), C);
        assert_eq!(seed_access(&seed(RecordStatus::Published, Visibility::LiaisonOnly), &company, true), C);
        assert!(!can_edit_seed(&seed(RecordStatus::Published, Visibility::Members), &company));
    }

    #[test]
    fn a_grant_never_opens_a_draft() {
        let company = viewer(Company, Other, NotOwner);
        for visibility in VISIBILITIES {
            assert_eq!(seed_access(&seed(RecordStatus::Draft, visibility), &company, true), N);
        }
    }

    #[test]
    fn an_archived_seed_stays_open_only_to_grant_holders() {
        let company = viewer(Company, Other, NotOwner);
        for visibility in VISIBILITIES {
            let archived = seed(RecordStatus::Archived, visibility);
            assert_eq!(seed_access(&archived, &company, true), C);
            assert_eq!(seed_access(&archived, &company, false), N);
        }
    }

    #[test]
    fn grants_are_given_by_those_who_answer_for_the_seed_and_funder_staff() {
        let seed = seed(RecordStatus::Published, Visibility::Members);
        assert!(may_grant(&seed, &viewer(Researcher, Same, Owner)));
        assert!(may_grant(&seed, &viewer(Tto, Same, NotOwner)));
        assert!(may_grant(&seed, &viewer(Liaison, Other, NotOwner)));
        assert!(may_grant(&seed, &viewer(Admin, Other, NotOwner)));
        assert!(!may_grant(&seed, &viewer(Researcher, Same, NotOwner)));
        assert!(!may_grant(&seed, &viewer(Tto, Other, NotOwner)));
        assert!(!may_grant(&seed, &viewer(Company, Other, NotOwner)));
    }

    #[test]
    fn competitors_never_see_a_need() {
        let competitor = viewer(Company, Other, NotOwner);
        for status in STATUSES {
            for visibility in VISIBILITIES {
                let need = need(status, visibility, false);
                assert_eq!(need_access(&need, &competitor), N);
                assert!(!reveals_need_organization(&need, &competitor, true));
            }
        }
    }

    #[test]
    fn company_colleagues_read_needs_but_only_the_owner_edits() {
        let need = need(RecordStatus::Draft, Visibility::LiaisonOnly, true);
        assert_eq!(need_access(&need, &viewer(Company, Same, NotOwner)), C);
        assert!(!can_edit_need(&need, &viewer(Company, Same, NotOwner)));
        assert_eq!(need_access(&need, &viewer(Company, Same, Owner)), O);
        assert!(can_edit_need(&need, &viewer(Company, Same, Owner)));
    }

    #[test]
    fn admin_owns_and_liaison_reads_needs() {
        let draft = need(RecordStatus::Draft, Visibility::LiaisonOnly, true);
        let published = need(RecordStatus::Published, Visibility::LiaisonOnly, true);
        assert_eq!(need_access(&draft, &viewer(Admin, Other, NotOwner)), O);
        assert_eq!(need_access(&draft, &viewer(Liaison, Other, NotOwner)), N);
        assert_eq!(need_access(&published, &viewer(Liaison, Other, NotOwner)), C);
    }

    #[test]
    fn academia_sees_only_the_summary_of_published_members_needs() {
        for role in [Researcher, Tto] {
            let academic = viewer(role, Other, NotOwner);
            assert_eq!(need_access(&need(RecordStatus::Published, Visibility::Members, false), &academic), S);
            assert_eq!(need_access(&need(RecordStatus::Published, Visibility::LiaisonOnly, false), &academic), N);
            assert_eq!(need_access(&need(RecordStatus::Archived, Visibility::Members, false), &academic), N);
            assert_eq!(need_access(&need(RecordStatus::Draft, Visibility::Members, false), &academic), N);
        }
    }

    #[test]
    fn anonymous_need_names_its_company_to_academia_only_after_an_accepted_introduction() {
        let anonymous = need(RecordStatus::Published, Visibility::Members, true);
        let researcher = viewer(Researcher, Other, NotOwner);
        assert!(!reveals_need_organization(&anonymous, &researcher, false));
        assert!(reveals_need_organization(&anonymous, &researcher, true));
        let named = need(RecordStatus::Published, Visibility::Members, false);
        assert!(reveals_need_organization(&named, &researcher, false));
    }

    #[test]
    fn funder_staff_and_the_company_itself_always_know_who_posted_a_need() {
        let anonymous = need(RecordStatus::Published, Visibility::LiaisonOnly, true);
        for viewer in [
            viewer(Liaison, Other, NotOwner),
            viewer(Admin, Other, NotOwner),
            viewer(Company, Same, NotOwner),
            viewer(Company, Same, Owner),
        ] {
            assert!(reveals_need_organization(&anonymous, &viewer, false), "{}", viewer.role);
        }
    }

    #[test]
    fn a_hidden_need_reveals_nothing_even_after_an_introduction() {
        let hidden = need(RecordStatus::Published, Visibility::LiaisonOnly, false);
        assert!(!reveals_need_organization(&hidden, &viewer(Tto, Other, NotOwner), true));
    }

    // ── Names on the wire and in the database ──────────────────────────────────────────────────

    #[test]
    fn access_tiers_are_ordered() {
        assert!(Access::Summary < Access::Confidential);
        assert!(Access::Confidential < Access::Owner);
        assert!(N < S);
    }

    #[test]
    fn names_serialize_in_snake_case_and_round_trip() {
        let wire = |value: toml::Value| value.as_str().unwrap().to_owned();
        assert_eq!(wire(toml::Value::try_from(Visibility::LiaisonOnly).unwrap()), "liaison_only");
        assert_eq!(wire(toml::Value::try_from(Access::Confidential).unwrap()), "confidential");
        assert_eq!(wire(toml::Value::try_from(RecordStatus::Archived).unwrap()), "archived");
        for status in RecordStatus::ALL {
            assert_eq!(status.as_str().parse::<RecordStatus>(), Ok(*status));
            assert_eq!(wire(toml::Value::try_from(status).unwrap()), status.as_str());
        }
        for visibility in Visibility::ALL {
            assert_eq!(visibility.as_str().parse::<Visibility>(), Ok(*visibility));
            assert_eq!(wire(toml::Value::try_from(visibility).unwrap()), visibility.as_str());
        }
        for access in Access::ALL {
            assert_eq!(access.as_str().parse::<Access>(), Ok(*access));
            assert_eq!(wire(toml::Value::try_from(access).unwrap()), access.as_str());
        }
        let err = "public".parse::<Visibility>().unwrap_err();
        assert_eq!(err.to_string(), "unknown visibility `public`");
    }
}
