//! Telling members: in-app notifications, and e-mail through the transactional outbox.
//!
//! The notification and the outbox row are written in the transaction of the event. A delivery
//! worker claims due rows, sends them, and on failure retries with exponential backoff and jitter,
//! recording every attempt and the last error. The idempotency key (message and recipient) keeps
//! one row per recipient however often the event is seen, also across processes and restarts; a
//! crash between sending and recording can send one message twice, so each carries a stable
//! `Message-ID` that mail systems use to recognise the repeat.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kakehashi_domain::{Coverage, Locale, MatchMail, MemberStatus, Page, Role};
use kakehashi_notify::templates::{digest_mail, match_mail, matches_mail};
pub use kakehashi_store::notifications::Notification;
use kakehashi_store::notifications::{self, NewNotification};
use kakehashi_store::outbox::{self, NewMessage};
use kakehashi_store::{ConnectionTrait, coverage, members};
use rand::Rng;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::members::Listed;
use crate::{Result, ServiceError, Services};

/// How the delivery worker retries.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryConfig {
    /// The first retry waits this long; each further one twice as long (at most an hour).
    pub retry_base: Duration,
    pub poll_interval: Duration,
    /// The hour (UTC) at which daily match digests go out.
    pub digest_hour_utc: u32,
}

const CLAIM: u64 = 20;
const LEASE: chrono::Duration = chrono::Duration::minutes(2);

/// The wait before attempt `attempts + 1`: exponential, capped at an hour, with ±20 % jitter so
/// that many failed messages do not retry in step.
#[must_use]
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    let wait = base.saturating_mul(2u32.saturating_pow(exponent)).min(Duration::from_hours(1));
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    wait.mul_f64(jitter)
}

impl Services {
    /// The active liaisons with the organisations each covers, read once for all the pairs (or
    /// introduction steps) told of together.
    pub(crate) async fn liaisons_with_coverage(
        &self,
        conn: &impl ConnectionTrait,
    ) -> Result<Vec<(members::Member, Coverage)>> {
        let mut out = Vec::new();
        for liaison in members::active_with_role(conn, Role::Liaison).await? {
            let covered = coverage::of(conn, liaison.id).await?;
            out.push((liaison, covered));
        }
        Ok(out)
    }

    /// Tells the covering liaisons of the pairs that are settled, inside the matcher's transaction:
    /// open pairs nobody has been told of, made one at a time or by a bulk import whose records are
    /// all matched now. A pair that left its top lists before this is never told of.
    ///
    /// Each liaison gets an in-app notification per pair (their queue to work through, each read
    /// on its own), and e-mail as they chose: the pairs of one import in one e-mail (an import of
    /// thousands of seeds must not send thousands of e-mails), the others told of together in one
    /// e-mail (a single pair in its own), or nothing now for those who take the daily digest.
    pub(crate) async fn tell_settled_matches(&self, conn: &impl ConnectionTrait) -> Result<usize> {
        // Only the pairs told of now are read: those of an import still being matched
        // stay where they are until its last record is done.
        let batches = kakehashi_store::matches::untold_origins(conn).await?;
        let unfinished = kakehashi_store::match_work::unfinished_batches(conn, &batches).await?;
        let finished: Vec<Uuid> = batches.into_iter().filter(|b| !unfinished.contains(b)).collect();
        let mut settled = kakehashi_store::matches::untold(conn, &finished).await?;
        if settled.is_empty() {
            return Ok(0);
        }
        settled.sort_by(|a, b| b.score.total_cmp(&a.score));
        let (seeds, needs) = crate::records::titles_of_seeds_and_needs(
            conn,
            settled.iter().map(|m| m.seed_id),
            settled.iter().map(|m| m.need_id),
        )
        .await?;
        let liaisons = self.liaisons_with_coverage(conn).await?;
        // Per liaison and import (`None`: made one at a time): the pairs of one e-mail.
        let mut mails: HashMap<(Uuid, Option<Uuid>), Vec<&kakehashi_store::matches::Untold>> = HashMap::new();
        let mut told = Vec::new();
        for m in &settled {
            let (Some((seed_organization, seed_title)), Some((need_organization, need_title))) =
                (seeds.get(&m.seed_id), needs.get(&m.need_id))
            else {
                continue;
            };
            for (liaison, covered) in &liaisons {
                if !covered.covers_either(*seed_organization, *need_organization) {
                    continue;
                }
                told.push(NewNotification {
                    member_id: liaison.id,
                    kind: "match.new",
                    title_ja: format!("新しいマッチ: {seed_title} × {need_title}"),
                    title_en: format!("New match: {seed_title} × {need_title}"),
                    object_type: "match",
                    object_id: m.id,
                });
                // A liaison who chose the daily digest hears of it there.
                if liaison.match_mail != MatchMail::Daily {
                    mails.entry((liaison.id, m.origin)).or_default().push(m);
                }
            }
        }
        notifications::insert_many(conn, told).await?;
        let base = self.public_url.trim_end_matches('/');
        for ((liaison_id, batch), pairs) in mails {
            let Some((liaison, _)) = liaisons.iter().find(|(l, _)| l.id == liaison_id) else { continue };
            let title = |m: &kakehashi_store::matches::Untold| {
                let seed = seeds.get(&m.seed_id).map_or("", |s| s.1.as_str());
                let need = needs.get(&m.need_id).map_or("", |n| n.1.as_str());
                (seed.to_owned(), need.to_owned())
            };
            let (key, mail) = if let (None, [m]) = (batch, pairs.as_slice()) {
                let (seed_title, need_title) = title(m);
                let link = format!("{base}/matches/{}", m.id);
                let mail =
                    match_mail(liaison.locale, &liaison.email, &liaison.name, &seed_title, &need_title, m.score, &link);
                // Keyed by the pair, not the row: a pair pruned and found again is not mailed twice.
                (format!("match.new:{}:{}:{liaison_id}", m.seed_id, m.need_id), mail)
            } else {
                let lines: Vec<String> = pairs
                    .iter()
                    .map(|m| {
                        let (seed_title, need_title) = title(m);
                        let percent = (m.score * 100.0).round();
                        match liaison.locale {
                            Locale::Ja => format!("{seed_title} × {need_title}（{percent}%）"),
                            Locale::En => format!("{seed_title} × {need_title} ({percent}%)"),
                        }
                    })
                    .collect();
                let link = format!("{base}/matches");
                let mail = matches_mail(liaison.locale, &liaison.email, &liaison.name, &lines, &link, batch.is_some());
                // One e-mail per import; pairs told of together otherwise are named by the first.
                let key = match batch {
                    Some(batch) => format!("match.batch:{batch}:{liaison_id}"),
                    None => {
                        format!("match.new:{}:{liaison_id}", pairs.iter().map(|m| m.id).min().unwrap_or_default())
                    }
                };
                (key, mail)
            };
            outbox::enqueue(
                conn,
                NewMessage {
                    idempotency_key: key,
                    member_id: Some(liaison_id),
                    to_address: mail.to,
                    subject: mail.subject,
                    text_body: mail.text,
                    html_body: mail.html,
                },
            )
            .await?;
        }
        let ids: Vec<Uuid> = settled.iter().map(|m| m.id).collect();
        kakehashi_store::matches::mark_told(conn, &ids).await?;
        Ok(ids.len())
    }

    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn list_notifications(
        &self,
        actor: &Authenticated,
        unread_only: bool,
        page: Page,
    ) -> Result<Listed<Notification>> {
        let (items, total) = notifications::list(&self.db, actor.id, unread_only, page).await?;
        Ok(Listed { items, total, page })
    }

    /// # Errors
    /// `NotFound` unless the notification is the member's.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn mark_notification_read(&self, actor: &Authenticated, id: Uuid) -> Result<()> {
        if notifications::mark_read(&self.db, actor.id, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("notification"))
        }
    }

    /// Sends the messages due now; returns how many were sent.
    ///
    /// # Errors
    /// On a storage failure (a failed send is recorded, not returned).
    pub async fn deliver_due(&self) -> Result<usize> {
        let mut sent = 0;
        for message in outbox::claim_due(&self.db, CLAIM, LEASE).await? {
            // A member suspended since the event no longer hears from the service.
            if let Some(member_id) = message.member_id
                && members::get(&self.db, member_id).await?.is_none_or(|m| m.status != MemberStatus::Active)
            {
                outbox::mark_failed(
                    &self.db,
                    message.id,
                    "recipient is no longer active",
                    Utc::now() + chrono::Duration::days(3650),
                )
                .await?;
                continue;
            }
            let mail = kakehashi_notify::Message {
                to: message.to_address.clone(),
                subject: message.subject.clone(),
                text: message.text_body.clone(),
                html: message.html_body.clone(),
                message_id: Some(format!("<{}@kakehashi>", message.idempotency_key.replace([':', ' '], "."))),
            };
            match self.mailer.send(&mail).await {
                Ok(()) => {
                    outbox::mark_sent(&self.db, message.id).await?;
                    sent += 1;
                }
                Err(err) => {
                    let wait = backoff(self.delivery.retry_base, message.attempts);
                    let retry_at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                    let error = crate::error_chain(&err);
                    tracing::warn!(id = %message.id, attempts = message.attempts + 1, error = %error, "e-mail delivery failed; will retry");
                    outbox::mark_failed(&self.db, message.id, &error, retry_at).await?;
                }
            }
        }
        Ok(sent)
    }

    /// Delivers the outbox until the process ends.
    pub async fn run_delivery(self: Arc<Self>) {
        loop {
            let sent = self.deliver_due().await;
            self.progress.passed();
            match sent {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::error!(error = %crate::error_chain(&err), "e-mail delivery loop failed"),
            }
            tokio::time::sleep(self.delivery.poll_interval).await;
        }
    }
}

/// The start of the latest digest period to have ended by `now`: the last `hour`:00 UTC.
#[must_use]
pub fn digest_due(now: chrono::DateTime<Utc>, hour: u32) -> chrono::DateTime<Utc> {
    let today = now.date_naive().and_hms_opt(hour.min(23), 0, 0).unwrap_or_default().and_utc();
    if today <= now { today } else { today - chrono::Duration::days(1) }
}

impl Services {
    /// Sends each daily-digest member the matches of the 24 hours up to the latest digest hour,
    /// once: the idempotency key names the member and the day, so a second run (or a second
    /// process) adds nothing. Returns how many digests were queued.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn send_due_digests(&self, now: chrono::DateTime<Utc>) -> Result<usize> {
        let until = digest_due(now, self.delivery.digest_hour_utc);
        let since = until - chrono::Duration::days(1);
        let mut queued = 0;
        for member in members::active_with_role(&self.db, Role::Liaison).await? {
            if member.match_mail != MatchMail::Daily {
                continue;
            }
            let key = format!("digest:{}:{}", until.format("%Y-%m-%d"), member.id);
            if outbox::exists(&self.db, &key).await? {
                continue;
            }
            let news = notifications::of_kind_between(&self.db, member.id, "match.new", since, until).await?;
            if news.is_empty() {
                continue;
            }
            let lines: Vec<String> = news
                .into_iter()
                .map(|n| match member.locale {
                    Locale::Ja => n.title_ja,
                    Locale::En => n.title_en,
                })
                .collect();
            let link = format!("{}/matches", self.public_url.trim_end_matches('/'));
            let mail = digest_mail(member.locale, &member.email, &member.name, &lines, &link);
            let new = NewMessage {
                idempotency_key: key,
                member_id: Some(member.id),
                to_address: mail.to,
                subject: mail.subject,
                text_body: mail.text,
                html_body: mail.html,
            };
            if outbox::enqueue(&self.db, new).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Queues the daily digests as they fall due, checking every minute, until the process ends.
    pub async fn run_digests(self: Arc<Self>) {
        loop {
            if let Err(err) = self.send_due_digests(Utc::now()).await {
                tracing::error!(error = %crate::error_chain(&err), "daily digests failed");
            }
            tokio::time::sleep(Duration::from_mins(1)).await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(10);
        for (attempts, nominal) in [(0, 10.0), (1, 20.0), (3, 80.0)] {
            let wait = backoff(base, attempts).as_secs_f64();
            assert!((nominal * 0.8..=nominal * 1.2).contains(&wait), "{attempts}: {wait}");
        }
        assert!(backoff(base, 30).as_secs_f64() <= 3600.0 * 1.2);
    }

    #[test]
    fn the_digest_covers_the_day_up_to_the_last_digest_hour() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(digest_due(at("2026-11-22T08:59:00Z"), 0), at("2026-11-22T00:00:00Z"));
        assert_eq!(digest_due(at("2026-11-22T08:59:00Z"), 9), at("2026-11-21T09:00:00Z"));
        assert_eq!(digest_due(at("2026-11-22T09:00:00Z"), 9), at("2026-11-22T09:00:00Z"));
    }
}
