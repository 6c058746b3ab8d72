//! What every request asks of the database about who may do what — the active member behind an
//! id, whether a login session is open, the grants an organisation holds — kept in memory between
//! requests.
//!
//! Each request first reads the database's access generation (one statement,
//! [`kakehashi_store::generation`]); triggers move it on with every change to members, grants and
//! revoked sessions, in whichever process, so what is kept from an older generation is dropped and
//! read again. A suspension, a revoked grant or an ended session therefore takes effect on the
//! very next request everywhere. The end of a grant is compared with the clock on every request,
//! not kept as a yes or no.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use kakehashi_domain::MemberStatus;
use kakehashi_store::{grants, members, tokens as stored};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::{Result, Services};

/// Where the database stands: its access generation and last change-log position.
pub use kakehashi_store::generation::Generation;

/// Beyond this many entries the cache starts over.
const CAPACITY: usize = 100_000;

/// The kept answers, all of one access generation.
#[derive(Debug, Default)]
pub struct AccessCache(Mutex<Kept>);

/// A grant's seed and its end (`None`: until revoked).
type GrantEnd = (Uuid, Option<DateTime<Utc>>);

#[derive(Debug, Default)]
struct Kept {
    generation: i64,
    /// Active members only.
    members: HashMap<Uuid, Authenticated>,
    /// Open sessions only: (member, session).
    sessions: HashSet<(Uuid, Uuid)>,
    /// Grants in force when read, by organisation.
    grants: HashMap<Uuid, Arc<[GrantEnd]>>,
}

impl Kept {
    fn len(&self) -> usize {
        self.members.len() + self.sessions.len() + self.grants.len()
    }
}

impl AccessCache {
    /// The kept answers if they are of `generation`: a newer generation empties them first; an
    /// older one (a read that was overtaken) gets nothing, and keeps nothing.
    fn at(&self, generation: i64) -> Option<MutexGuard<'_, Kept>> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if generation > kept.generation {
            *kept = Kept { generation, ..Kept::default() };
        }
        (kept.generation == generation).then_some(kept)
    }

    /// Keeps an answer read at `generation` (after that generation was read).
    fn keep(&self, generation: i64, put: impl FnOnce(&mut Kept)) {
        if let Some(mut kept) = self.at(generation) {
            if kept.len() >= CAPACITY {
                *kept = Kept { generation, ..Kept::default() };
            }
            put(&mut kept);
        }
    }
}

fn authenticated(member: members::Member) -> Authenticated {
    Authenticated {
        id: member.id,
        organization_id: member.organization_id,
        role: member.role,
        email: member.email,
        name: member.name,
        locale: member.locale,
    }
}

impl Services {
    /// The database's access generation now; read it once per request, before the answers below.
    ///
    /// # Errors
    /// On a database failure.
    pub(crate) async fn access_generation(&self) -> Result<i64> {
        Ok(kakehashi_store::generation::access(&self.db).await?)
    }

    /// The member with this id if they are active, as of `generation`.
    ///
    /// # Errors
    /// On a database failure.
    pub(crate) async fn active_member(&self, generation: i64, id: Uuid) -> Result<Option<Authenticated>> {
        if let Some(member) = self.access_cache.at(generation).and_then(|kept| kept.members.get(&id).cloned()) {
            return Ok(Some(member));
        }
        let Some(member) = members::get(&self.db, id).await? else { return Ok(None) };
        if member.status != MemberStatus::Active {
            return Ok(None);
        }
        let member = authenticated(member);
        self.access_cache.keep(generation, |kept| {
            kept.members.insert(id, member.clone());
        });
        Ok(Some(member))
    }

    /// Whether the member's login session is open, as of `generation`.
    ///
    /// # Errors
    /// On a database failure.
    pub(crate) async fn session_open(&self, generation: i64, member_id: Uuid, session_id: Uuid) -> Result<bool> {
        let key = (member_id, session_id);
        if self.access_cache.at(generation).is_some_and(|kept| kept.sessions.contains(&key)) {
            return Ok(true);
        }
        let open = stored::session_open(&self.db, member_id, session_id).await?;
        if open {
            self.access_cache.keep(generation, |kept| {
                kept.sessions.insert(key);
            });
        }
        Ok(open)
    }

    /// The seeds the organisation holds a grant in force for now, as of `generation`.
    ///
    /// # Errors
    /// On a database failure.
    pub(crate) async fn grants_in_force(&self, generation: i64, organization_id: Uuid) -> Result<Vec<Uuid>> {
        let kept = self.access_cache.at(generation).and_then(|kept| kept.grants.get(&organization_id).cloned());
        let grants = if let Some(grants) = kept {
            grants
        } else {
            let grants: Arc<[GrantEnd]> = grants::in_force_for(&self.db, organization_id).await?.into();
            self.access_cache.keep(generation, |kept| {
                kept.grants.insert(organization_id, Arc::clone(&grants));
            });
            grants
        };
        let now = Utc::now();
        Ok(grants.iter().filter(|(_, end)| end.is_none_or(|end| end > now)).map(|(seed, _)| *seed).collect())
    }
}
