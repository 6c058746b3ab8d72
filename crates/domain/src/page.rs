//! Pagination as every list endpoint understands it: 1-based pages, at most [`Page::MAX_PER_PAGE`].

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
}

impl Page {
    pub const DEFAULT_PER_PAGE: u64 = 20;
    pub const MAX_PER_PAGE: u64 = 100;

    /// A page from optional query parameters; `None` when a value is out of range, so the caller
    /// can answer with a validation error rather than silently serving something else.
    #[must_use]
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Option<Page> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(Self::DEFAULT_PER_PAGE);
        (page >= 1 && (1..=Self::MAX_PER_PAGE).contains(&per_page) && page <= 1_000_000)
            .then_some(Page { page, per_page })
    }

    #[must_use]
    pub fn offset(self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

impl Default for Page {
    fn default() -> Self {
        Page { page: 1, per_page: Self::DEFAULT_PER_PAGE }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(Page::new(None, None), Some(Page::default()));
        assert_eq!(Page::new(Some(3), Some(100)).map(Page::offset), Some(200));
        assert_eq!(Page::new(Some(0), None), None);
        assert_eq!(Page::new(None, Some(0)), None);
        assert_eq!(Page::new(None, Some(101)), None);
    }
}
