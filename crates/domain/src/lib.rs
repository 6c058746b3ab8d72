//! Kakehashi's domain: the names and rules every other crate shares. Pure: no I/O, no async.

/// `as_str`, `FromStr` and `Display` for a closed set of names stored and sent as text.
macro_rules! names {
    ($ty:ident, $kind:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::UnknownName { kind: $kind, value: s.to_owned() })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod coverage;
pub mod disclosure;
pub mod introduction;
pub mod matching;
pub mod member;
pub mod page;
pub mod record;
pub mod taxonomy;
pub mod text;

pub use coverage::Coverage;
pub use disclosure::{
    Access, NeedFacts, RecordStatus, SeedFacts, Viewer, Visibility, can_edit_need, can_edit_seed, may_grant,
    need_access, reveals_need_organization, seed_access,
};
pub use matching::MatchStatus;
pub use member::{ImportRefusal, Locale, MatchMail, MemberStatus, MemberStep, OrganizationKind, Role, UnknownName};
pub use page::Page;
pub use record::{
    ConfidentialSection, FieldProblem, IllegalRecordStep, NeedContent, NeedInput, RecordStep, SeedContent, SeedInput,
    detect_language,
};
pub use taxonomy::{StageTerm, Taxonomy, TaxonomyError, TaxonomyKind, Term, UnknownTerm};
