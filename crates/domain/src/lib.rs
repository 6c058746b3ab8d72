//! Kakehashi's domain: the names and rules every other crate shares. Pure: no I/O, no async.

pub mod disclosure;
pub mod matching;
pub mod member;
pub mod page;
pub mod record;
pub mod taxonomy;

pub use disclosure::{
    Access, NeedFacts, RecordStatus, SeedFacts, Viewer, Visibility, can_edit_need, can_edit_seed, may_grant,
    need_access, reveals_need_organization, seed_access,
};
pub use member::{Locale, MemberStatus, OrganizationKind, Role, UnknownName};
pub use page::Page;
pub use record::{ConfidentialSection, FieldProblem, NeedContent, NeedInput, SeedContent, SeedInput, detect_language};
pub use taxonomy::{StageTerm, Taxonomy, TaxonomyError, TaxonomyKind, Term, UnknownTerm};
