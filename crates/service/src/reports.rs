//! The secretariat's funnel: matches → introductions → forwarded → accepted → CDA signed → deals.
//!
//! Counted by cohort: the matches made in the period, and the introductions requested in it with
//! how far each has got by now. Grouped by modality or disease area, a record counts once under
//! each of its seed's terms; grouped by organisation, once under the seed's organisation and once
//! under the company's. Groups can therefore add up to more than the totals.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use kakehashi_domain::TaxonomyKind;
use kakehashi_store::{introductions, matches, organizations, seeds};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Result, Services};

/// How the report is broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Modality,
    DiseaseArea,
    Organization,
}

impl GroupBy {
    /// The grouping a query names: `modality`, `disease_area`, `organization`, or none when empty.
    ///
    /// # Errors
    /// For any other name.
    pub fn parse(raw: &str) -> std::result::Result<Option<GroupBy>, UnknownGrouping> {
        match raw {
            "" => Ok(None),
            "modality" => Ok(Some(GroupBy::Modality)),
            "disease_area" => Ok(Some(GroupBy::DiseaseArea)),
            "organization" => Ok(Some(GroupBy::Organization)),
            _ => Err(UnknownGrouping),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be modality, disease_area or organization")]
pub struct UnknownGrouping;

/// Why one end of a report period (or of an audit filter) cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadBound {
    #[error("must be a date (YYYY-MM-DD) or an RFC 3339 time")]
    NotADate,
    #[error("must lie between 1970-01-01 and 9999-12-31")]
    OutOfRange,
}

/// The earliest and latest instants a period may name: four-digit years, which every database
/// stores and compares correctly.
fn period_limits() -> (DateTime<Utc>, DateTime<Utc>) {
    let first = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
    (first.and_time(chrono::NaiveTime::MIN).and_utc(), last.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc())
}

/// One end of a period: a day `YYYY-MM-DD` (its start, or with `end_of_day` the next midnight,
/// so that the whole day is included) or an RFC 3339 time as it is.
///
/// # Errors
/// Neither a day nor a time, or outside four-digit years.
pub fn period_bound(value: &str, end_of_day: bool) -> std::result::Result<DateTime<Utc>, BadBound> {
    let (first, last) = period_limits();
    if let Ok(day) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
        if start < first || start > last {
            return Err(BadBound::OutOfRange);
        }
        // The end of the last day there is stays within four-digit years.
        return Ok(if end_of_day { (start + chrono::Duration::days(1)).min(last) } else { start });
    }
    let instant = DateTime::parse_from_rfc3339(value).map_err(|_| BadBound::NotADate)?.with_timezone(&Utc);
    if instant < first || instant > last {
        return Err(BadBound::OutOfRange);
    }
    Ok(instant)
}

/// The counts of one row of the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct FunnelCounts {
    pub matches: u64,
    pub introductions: u64,
    pub forwarded: u64,
    pub accepted: u64,
    pub cda_signed: u64,
    pub deals: u64,
}

/// Each stage as a share of the stage before it; `null` when the stage before is empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct FunnelRates {
    /// Introductions per match.
    pub introductions: Option<f64>,
    pub forwarded: Option<f64>,
    pub accepted: Option<f64>,
    pub cda_signed: Option<f64>,
    pub deals: Option<f64>,
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (denominator > 0).then(|| ((numerator as f64 / denominator as f64) * 10_000.0).round() / 10_000.0)
}

impl FunnelCounts {
    #[must_use]
    pub fn rates(&self) -> FunnelRates {
        FunnelRates {
            introductions: ratio(self.introductions, self.matches),
            forwarded: ratio(self.forwarded, self.introductions),
            accepted: ratio(self.accepted, self.forwarded),
            cda_signed: ratio(self.cda_signed, self.accepted),
            deals: ratio(self.deals, self.cda_signed),
        }
    }
}

/// One group of the report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FunnelGroup {
    /// The taxonomy code or the organisation's id.
    pub key: String,
    pub label_ja: String,
    pub label_en: String,
    pub counts: FunnelCounts,
    pub rates: FunnelRates,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Funnel {
    pub from: DateTime<Utc>,
    /// Exclusive.
    pub to: DateTime<Utc>,
    pub totals: FunnelCounts,
    pub rates: FunnelRates,
    /// Empty unless a grouping was asked for.
    pub groups: Vec<FunnelGroup>,
}

/// Which stages one introduction reached.
fn stages(intro: &introductions::Introduction) -> FunnelCounts {
    FunnelCounts {
        matches: 0,
        introductions: 1,
        forwarded: u64::from(intro.forwarded_at.is_some()),
        accepted: u64::from(intro.accepted_at.is_some()),
        cda_signed: u64::from(intro.cda_signed_at.is_some()),
        deals: u64::from(intro.state.outcome.is_some_and(kakehashi_domain::introduction::Outcome::is_deal)),
    }
}

fn add(into: &mut FunnelCounts, other: &FunnelCounts) {
    into.matches += other.matches;
    into.introductions += other.introductions;
    into.forwarded += other.forwarded;
    into.accepted += other.accepted;
    into.cda_signed += other.cda_signed;
    into.deals += other.deals;
}

/// Seeds are read this many at a time (bind-parameter limits).
const CHUNK: usize = 500;

impl Services {
    /// The funnel for `[from, to)`.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn funnel(&self, from: DateTime<Utc>, to: DateTime<Utc>, group_by: Option<GroupBy>) -> Result<Funnel> {
        let made = matches::made_between(&self.db, from, to).await?;
        let requested = introductions::requested_between(&self.db, from, to).await?;
        let match_row = FunnelCounts { matches: 1, ..FunnelCounts::default() };
        let mut totals = FunnelCounts::default();
        for _ in &made {
            add(&mut totals, &match_row);
        }
        for intro in &requested {
            add(&mut totals, &stages(intro));
        }
        let groups = match group_by {
            None => Vec::new(),
            Some(by) => self.groups(by, &made, &requested).await?,
        };
        Ok(Funnel { from, to, totals, rates: totals.rates(), groups })
    }

    async fn groups(
        &self,
        by: GroupBy,
        made: &[matches::Counted],
        requested: &[introductions::Introduction],
    ) -> Result<Vec<FunnelGroup>> {
        let match_row = FunnelCounts { matches: 1, ..FunnelCounts::default() };
        let mut counts: BTreeMap<String, FunnelCounts> = BTreeMap::new();
        let mut bump = |keys: Vec<String>, row: &FunnelCounts| {
            for key in keys {
                add(counts.entry(key).or_default(), row);
            }
        };
        match by {
            GroupBy::Organization => {
                let pair = |a: Uuid, b: Uuid| -> Vec<String> {
                    let mut keys = vec![a.to_string()];
                    if a != b {
                        keys.push(b.to_string());
                    }
                    keys
                };
                for m in made {
                    bump(pair(m.seed_organization_id, m.need_organization_id), &match_row);
                }
                for intro in requested {
                    bump(pair(intro.seed_organization_id, intro.requester_organization_id), &stages(intro));
                }
            }
            GroupBy::Modality | GroupBy::DiseaseArea => {
                let ids: HashSet<Uuid> =
                    made.iter().map(|m| m.seed_id).chain(requested.iter().map(|i| i.seed_id)).collect();
                let ids: Vec<Uuid> = ids.into_iter().collect();
                let mut terms: HashMap<Uuid, Vec<String>> = HashMap::with_capacity(ids.len());
                for chunk in ids.chunks(CHUNK) {
                    for seed in seeds::get_many(&self.db, chunk).await? {
                        let list =
                            if by == GroupBy::Modality { seed.content.modalities } else { seed.content.disease_areas };
                        terms.insert(seed.id, list);
                    }
                }
                for m in made {
                    bump(terms.get(&m.seed_id).cloned().unwrap_or_default(), &match_row);
                }
                for intro in requested {
                    bump(terms.get(&intro.seed_id).cloned().unwrap_or_default(), &stages(intro));
                }
            }
        }
        let mut groups = Vec::with_capacity(counts.len());
        for (key, counts) in counts {
            let (label_ja, label_en) = self.group_label(by, &key).await?;
            groups.push(FunnelGroup { key, label_ja, label_en, rates: counts.rates(), counts });
        }
        // Largest first, the key breaking ties, so the report reads the same every time.
        groups.sort_by(|a, b| {
            b.counts
                .matches
                .cmp(&a.counts.matches)
                .then_with(|| b.counts.introductions.cmp(&a.counts.introductions))
                .then_with(|| a.key.cmp(&b.key))
        });
        Ok(groups)
    }

    async fn group_label(&self, by: GroupBy, key: &str) -> Result<(String, String)> {
        let kind = match by {
            GroupBy::Modality => TaxonomyKind::Modality,
            GroupBy::DiseaseArea => TaxonomyKind::DiseaseArea,
            GroupBy::Organization => {
                let org = match key.parse::<Uuid>() {
                    Ok(id) => organizations::get(&self.db, id).await?,
                    Err(_) => None,
                };
                return Ok(org.map_or_else(|| (key.to_owned(), key.to_owned()), |o| (o.name, o.name_en)));
            }
        };
        Ok(self
            .taxonomy
            .label(kind, key)
            .map_or_else(|| (key.to_owned(), key.to_owned()), |t| (t.label_ja.clone(), t.label_en.clone())))
    }
}

/// A text cell of a CSV file. A cell that a spreadsheet would take for a formula (`=`, `+`, `-`,
/// `@`, tab or carriage return first: an organisation named `=HYPERLINK(…)`) gets a leading `'`,
/// which spreadsheets show as text.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.into_owned()
    }
}

fn csv_rate(rate: Option<f64>) -> String {
    rate.map(|r| r.to_string()).unwrap_or_default()
}

fn csv_row(out: &mut String, key: &str, label_ja: &str, label_en: &str, c: &FunnelCounts) {
    let r = c.rates();
    let cells = [
        csv_field(key),
        csv_field(label_ja),
        csv_field(label_en),
        c.matches.to_string(),
        c.introductions.to_string(),
        c.forwarded.to_string(),
        c.accepted.to_string(),
        c.cda_signed.to_string(),
        c.deals.to_string(),
        csv_rate(r.introductions),
        csv_rate(r.forwarded),
        csv_rate(r.accepted),
        csv_rate(r.cda_signed),
        csv_rate(r.deals),
    ];
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

impl Funnel {
    /// The report as CSV, the one the API and the web application both download: a `total` row
    /// first, then one row per group; no cell can start a spreadsheet formula.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "group,label_ja,label_en,matches,introductions,forwarded,accepted,cda_signed,deals,\
             rate_introductions,rate_forwarded,rate_accepted,rate_cda_signed,rate_deals\r\n",
        );
        csv_row(&mut out, "total", "合計", "Total", &self.totals);
        for g in &self.groups {
            csv_row(&mut out, &g.key, &g.label_ja, &g.label_en, &g.counts);
        }
        out
    }

    /// The download's file name, by the report's period.
    #[must_use]
    pub fn csv_filename(&self) -> String {
        format!("funnel-{}-{}.csv", self.from.format("%Y%m%d"), self.to.format("%Y%m%d"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_period_bound_is_a_whole_day_or_a_time_within_four_digit_years() {
        use super::{BadBound, period_bound};
        let at = |v: &str, end: bool| period_bound(v, end).map(|t| t.to_rfc3339());
        assert_eq!(at("2026-03-31", false).as_deref(), Ok("2026-03-31T00:00:00+00:00"));
        assert_eq!(at("2026-03-31", true).as_deref(), Ok("2026-04-01T00:00:00+00:00"));
        assert_eq!(at("9999-12-31", true).as_deref(), Ok("9999-12-31T23:59:59+00:00"));
        assert_eq!(at("2026-03-31T09:00:00+09:00", true).as_deref(), Ok("2026-03-31T00:00:00+00:00"));
        assert_eq!(at("1969-12-31", false), Err(BadBound::OutOfRange));
        assert_eq!(at("2026-13-40", false), Err(BadBound::NotADate));
    }

    use super::*;

    #[test]
    fn rates_are_shares_of_the_stage_before() {
        let counts = FunnelCounts { matches: 10, introductions: 4, forwarded: 3, accepted: 0, cda_signed: 0, deals: 0 };
        let rates = counts.rates();
        assert_eq!(rates.introductions, Some(0.4));
        assert_eq!(rates.forwarded, Some(0.75));
        assert_eq!(rates.accepted, Some(0.0));
        assert_eq!(rates.cda_signed, None, "nothing was accepted");
        assert_eq!(rates.deals, None);
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_text() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("東都医科大学"), "東都医科大学");
    }
}
