//! Liaison coverage: the organisations a liaison looks after. A liaison given none looks after
//! everyone (the secretariat's generalist); that rule is written here once, and every caller —
//! introductions, match lists, match e-mails — asks [`Coverage`].

use uuid::Uuid;

/// The organisations a liaison covers; empty covers every organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage(Vec<Uuid>);

impl Coverage {
    #[must_use]
    pub fn new(organizations: Vec<Uuid>) -> Self {
        Coverage(organizations)
    }

    /// Whether the liaison looks after `organization`.
    #[must_use]
    pub fn covers(&self, organization: Uuid) -> bool {
        self.0.is_empty() || self.0.contains(&organization)
    }

    /// Whether the liaison looks after either side of a pair (a seed's organisation and a
    /// need's or a requester's).
    #[must_use]
    pub fn covers_either(&self, one: Uuid, other: Uuid) -> bool {
        self.covers(one) || self.covers(other)
    }

    /// The organisations named, or `None` for everyone: what a query narrows by.
    #[must_use]
    pub fn organizations(&self) -> Option<&[Uuid]> {
        (!self.0.is_empty()).then_some(self.0.as_slice())
    }

    /// The organisations as configured (empty for everyone), for display.
    #[must_use]
    pub fn as_configured(&self) -> &[Uuid] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_coverage_covers_everyone() {
        let everyone = Coverage::default();
        assert!(everyone.covers(Uuid::new_v4()));
        assert!(everyone.covers_either(Uuid::new_v4(), Uuid::new_v4()));
        assert_eq!(everyone.organizations(), None);
    }

    #[test]
    fn named_coverage_covers_only_its_organisations() {
        let (mine, other, third) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let coverage = Coverage::new(vec![mine]);
        assert!(coverage.covers(mine));
        assert!(!coverage.covers(other));
        assert!(coverage.covers_either(other, mine));
        assert!(coverage.covers_either(mine, other));
        assert!(!coverage.covers_either(other, third));
        assert_eq!(coverage.organizations(), Some(&[mine][..]));
    }
}
