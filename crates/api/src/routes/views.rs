//! Response bodies shared by several areas.

use chrono::{DateTime, Utc};
use kakehashi_domain::{Locale, MemberStatus, OrganizationKind, Page, Role};
use kakehashi_service::members::Listed;
use kakehashi_service::members::{Member, Organization};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, Code};

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: Uuid,
    pub name: String,
    pub name_en: String,
    pub kind: OrganizationKind,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        OrganizationView { id: o.id, name: o.name, name_en: o.name_en, kind: o.kind }
    }
}

/// A member as admins see them. Never carries the password hash or lock counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: MemberStatus,
    pub locale: Locale,
    pub organization_id: Uuid,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            id: m.id,
            email: m.email,
            name: m.name,
            role: m.role,
            status: m.status,
            locale: m.locale,
            organization_id: m.organization_id,
            email_verified: m.email_verified_at.is_some(),
            created_at: m.created_at,
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListOf<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl<T> ListOf<T> {
    pub fn from_listed<S>(listed: Listed<S>, map: impl FnMut(S) -> T) -> Self {
        ListOf {
            items: listed.items.into_iter().map(map).collect(),
            total: listed.total,
            page: listed.page.page,
            per_page: listed.page.per_page,
        }
    }
}

/// `?page=&per_page=` (`per_page` at most 100).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
}

impl PageQuery {
    /// # Errors
    /// `validation_failed` naming `page` or `per_page` when out of range.
    pub fn page(&self) -> Result<Page, ApiError> {
        if Page::new(self.page, None).is_none() {
            return Err(ApiError::field(Code::ValidationFailed, "page", "must be between 1 and 1000000"));
        }
        Page::new(self.page, self.per_page).ok_or_else(|| {
            ApiError::field(Code::ValidationFailed, "per_page", format!("must be between 1 and {}", Page::MAX_PER_PAGE))
        })
    }
}
