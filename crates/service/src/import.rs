//! Bulk import of seeds from JSON lines or CSV, for the secretariat and TTO offices.
//!
//! Every row is parsed and validated first; only valid rows are written, in transactions of a few
//! hundred, each seed in one insert. A bad row is reported by its line number and never leaves a
//! half-imported seed; a failed batch is rolled back whole and its rows reported as failed.
//!
//! A row may carry the organisation's own reference (`external_ref`, unique within the
//! organisation): a seed already holding it is updated (its content; its status is kept) instead
//! of a new one added, so a file sent again after a partial run adds nothing twice. Rows without
//! a reference are always added. Every run is audited twice: `seed.import_started` before the
//! first batch is written and `seed.imported` at the end, with the same `import` id, so a run that
//! was stopped midway shows as started and never finished.

use std::path::Path;

use kakehashi_domain::{ConfidentialSection, FieldProblem, RecordStatus, SeedContent, SeedInput, Visibility};
use kakehashi_store::audit;
use kakehashi_store::seeds::{self, NewSeed};
use serde::Serialize;
use uuid::Uuid;

use crate::members::Organization;
use crate::{RequestContext, Result, ServiceError, Services, error_chain};

const BATCH: usize = 500;
/// Rows beyond this are refused up front, so one request cannot hold the database for minutes.
pub const MAX_ROWS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    /// `.csv` means CSV; anything else JSON lines.
    #[must_use]
    pub fn from_path(path: &Path) -> Format {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) { Format::Csv } else { Format::JsonLines }
    }
}

/// One input row: its line number and what it holds.
pub struct Row {
    pub line: usize,
    pub content: std::result::Result<SeedContent, Vec<FieldProblem>>,
    /// The organisation's own reference for the seed, if the row gives one.
    pub external_ref: Option<String>,
}

/// The longest reference accepted.
pub const MAX_EXTERNAL_REF: usize = 200;

pub(crate) fn external_ref(value: &str) -> std::result::Result<Option<String>, Vec<FieldProblem>> {
    let value = value.trim();
    if value.is_empty() {
        Ok(None)
    } else if value.chars().count() > MAX_EXTERNAL_REF {
        Err(problem("external_ref", format!("at most {MAX_EXTERNAL_REF} characters")))
    } else {
        Ok(Some(value.to_owned()))
    }
}

fn problem(field: &str, message: impl Into<String>) -> Vec<FieldProblem> {
    vec![FieldProblem { field: field.to_owned(), message: message.into() }]
}

/// Splits the input into rows, each parsed into seed content or the reason it could not be.
#[must_use]
pub fn parse(bytes: &[u8], format: Format) -> Vec<Row> {
    match format {
        Format::JsonLines => parse_json_lines(bytes),
        Format::Csv => parse_csv(bytes),
    }
}

fn parse_json_lines(bytes: &[u8]) -> Vec<Row> {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(index, line)| {
            let line_no = index + 1;
            let mut value: serde_json::Value = match serde_json::from_slice(line) {
                Ok(value) => value,
                Err(e) => {
                    return Row { line: line_no, content: Err(problem("row", unreadable(&e))), external_ref: None };
                }
            };
            // The reference is the import's, not the seed content's.
            let reference = match value.as_object_mut().and_then(|o| o.remove("external_ref")) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(r)) => external_ref(&r),
                Some(_) => Err(problem("external_ref", "a string")),
            };
            let content =
                serde_path_to_error::deserialize::<_, SeedInput>(value).map(SeedInput::into_content).map_err(|e| {
                    let message = e.inner().to_string();
                    problem(&field_at(&e.path().to_string(), &message), message)
                });
            match reference {
                Ok(external_ref) => Row { line: line_no, content, external_ref },
                Err(problems) => Row { line: line_no, content: Err(problems), external_ref: None },
            }
        })
        .collect()
}

/// What is wrong with a line that is not one JSON value, said without serde's position suffix.
fn unreadable(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => "the line ends before its JSON value does".to_owned(),
        _ => format!("not valid JSON at column {}", e.column()),
    }
}

/// The field a deserialisation problem concerns: a missing field is named by the message, not the
/// path (which stops at its parent); `row` for the line as a whole.
fn field_at(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (missing, path) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => "row".to_owned(),
        (None, path) => path.to_owned(),
    }
}

/// A CSV record that cannot be read, in words.
fn unreadable_record(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".to_owned(),
        _ => e.to_string(),
    }
}

/// CSV with a header row. List columns hold values separated by `;`.
const CSV_COLUMNS: &[&str] = &[
    "title",
    "summary",
    "confidential_details",
    "patent_applications",
    "modalities",
    "disease_areas",
    "stage",
    "ip_status",
    "deal_types",
    "keywords",
    "visibility",
    "language",
    "external_ref",
];

fn parse_csv(bytes: &[u8]) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::Fields).from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return vec![Row { line: 1, content: Err(problem("header", e.to_string())), external_ref: None }],
    };
    let unknown: Vec<&str> = headers.iter().filter(|h| !CSV_COLUMNS.contains(h)).collect();
    if !unknown.is_empty() {
        let message = format!("unknown columns {unknown:?}; expected some of {CSV_COLUMNS:?}");
        return vec![Row { line: 1, content: Err(problem("header", message)), external_ref: None }];
    }
    let column = |record: &csv::StringRecord, name: &str| -> String {
        headers.iter().position(|h| h == name).and_then(|i| record.get(i)).unwrap_or("").to_owned()
    };
    let list = |value: String| -> Vec<String> {
        value.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    reader
        .records()
        .map(|record| {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                    return Row { line, content: Err(problem("row", unreadable_record(&e))), external_ref: None };
                }
            };
            let line = record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
            let visibility = match column(&record, "visibility").as_str() {
                "" | "members" => Ok(Visibility::Members),
                "liaison_only" => Ok(Visibility::LiaisonOnly),
                other => Err(problem("visibility", format!("unknown value `{other}`"))),
            };
            let language = match column(&record, "language").as_str() {
                "" => Ok(None),
                other => other.parse().map(Some).map_err(|_| problem("language", format!("unknown value `{other}`"))),
            };
            let content = visibility.and_then(|visibility| {
                language.map(|language| {
                    SeedInput {
                        title: column(&record, "title"),
                        summary: column(&record, "summary"),
                        confidential: ConfidentialSection {
                            details: column(&record, "confidential_details"),
                            patent_applications: list(column(&record, "patent_applications")),
                            notes: String::new(),
                        },
                        modalities: list(column(&record, "modalities")),
                        disease_areas: list(column(&record, "disease_areas")),
                        stage: column(&record, "stage"),
                        ip_status: column(&record, "ip_status"),
                        deal_types: list(column(&record, "deal_types")),
                        keywords: list(column(&record, "keywords")),
                        visibility,
                        language,
                        external_ref: None,
                    }
                    .into_content()
                })
            });
            match external_ref(&column(&record, "external_ref")) {
                Ok(external_ref) => Row { line, content, external_ref },
                Err(problems) => Row { line, content: Err(problems), external_ref: None },
            }
        })
        .collect()
}

/// How an import runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub organization_id: Uuid,
    /// The member who owns the imported seeds; `None` leaves them to the organisation's TTO.
    pub owner_id: Option<Uuid>,
    /// The member or operator running the import, for the audit trail.
    pub actor_id: Option<Uuid>,
    pub dry_run: bool,
    /// Publish at once instead of importing drafts.
    pub publish: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new seed was added.
    Created,
    /// The seed already carrying the row's `external_ref` was updated.
    Updated,
    /// A dry run found nothing wrong with the row.
    Valid,
    /// Nothing of the row was written; `Report::errors` says why.
    Failed,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct RowOutcome {
    pub line: usize,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub rows: usize,
    pub imported: usize,
    pub failed: usize,
    pub dry_run: bool,
    /// Of `imported`, the seeds that already carried the row's `external_ref` and were updated.
    pub updated: usize,
    /// Every problem, by line and field.
    pub errors: Vec<RowError>,
    /// Every row's outcome, by line.
    pub outcomes: Vec<RowOutcome>,
}

/// A row that passed its checks: its line, its content and its reference.
type ValidRow = (usize, SeedContent, Option<String>);

impl Report {
    /// The report once the rows are checked: the invalid ones failed, nothing written yet.
    fn checked(rows: usize, valid: usize, errors: Vec<RowError>, dry_run: bool) -> Report {
        let mut outcomes: Vec<RowOutcome> =
            errors.iter().map(|e| RowOutcome { line: e.line, outcome: Outcome::Failed }).collect();
        outcomes.dedup_by_key(|o| o.line);
        Report { rows, imported: 0, failed: rows - valid, dry_run, updated: 0, errors, outcomes }
    }

    /// Adds what became of one batch: for each row whether it updated a seed, or the batch's
    /// failure (rolled back whole, so each of its rows failed).
    fn add_batch(&mut self, batch: &[ValidRow], written: Result<Vec<bool>>) {
        match written {
            Ok(was_update) => {
                self.imported += was_update.len();
                self.updated += was_update.iter().filter(|u| **u).count();
                self.outcomes.extend(batch.iter().zip(was_update).map(|((line, _, _), was_update)| RowOutcome {
                    line: *line,
                    outcome: if was_update { Outcome::Updated } else { Outcome::Created },
                }));
            }
            Err(err) => {
                tracing::error!(error = %error_chain(&err), "an import batch failed and was rolled back");
                self.failed += batch.len();
                self.outcomes
                    .extend(batch.iter().map(|(line, _, _)| RowOutcome { line: *line, outcome: Outcome::Failed }));
                self.errors.extend(batch.iter().map(|(line, _, _)| RowError {
                    line: *line,
                    field: "row".into(),
                    message: "could not be stored; nothing of it was written".into(),
                }));
            }
        }
    }
}

impl Services {
    /// Each row checked as a seed of its own, and against the rows above it: a reference used on
    /// an earlier line is refused. The valid rows with their lines, and the problems by line.
    fn checked_rows(&self, rows: Vec<Row>) -> (Vec<ValidRow>, Vec<RowError>) {
        let mut errors = Vec::new();
        let mut valid: Vec<ValidRow> = Vec::with_capacity(rows.len());
        let mut first_line: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for row in rows {
            let mut checked =
                row.content.and_then(|mut content| content.normalize_and_validate(&self.taxonomy).map(|()| content));
            if let (Ok(_), Some(reference)) = (&checked, &row.external_ref)
                && let Some(first) = first_line.insert(reference.clone(), row.line)
            {
                first_line.insert(reference.clone(), first);
                checked = Err(problem("external_ref", format!("already used on line {first}")));
            }
            match checked {
                Ok(content) => valid.push((row.line, content, row.external_ref)),
                Err(problems) => errors.extend(problems.into_iter().map(|p| RowError {
                    line: row.line,
                    field: p.field,
                    message: p.message,
                })),
            }
        }
        (valid, errors)
    }

    /// Validates `rows` and, unless a dry run, writes the valid ones. `progress` is told how many
    /// rows are done after each batch.
    ///
    /// # Errors
    /// Validation errors for an unknown organisation or too many rows; storage failures outside a
    /// batch.
    #[tracing::instrument(skip_all)]
    pub async fn import_seeds(
        &self,
        rows: Vec<Row>,
        options: &Options,
        ctx: &RequestContext,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Report> {
        let organization = self.import_target(rows.len(), options.organization_id).await?;
        let total = rows.len();
        let (valid, errors) = self.checked_rows(rows);
        let mut report = Report::checked(total, valid.len(), errors, options.dry_run);
        if options.dry_run {
            report
                .outcomes
                .extend(valid.iter().map(|(line, _, _)| RowOutcome { line: *line, outcome: Outcome::Valid }));
            progress(total);
        } else {
            self.write_rows(&valid, &organization, options, ctx, progress, &mut report).await?;
        }
        report.errors.sort_by_key(|e| e.line);
        report.outcomes.sort_by_key(|o| o.line);
        Ok(report)
    }

    /// The academic organisation the seeds are imported into, once the file's size is known to
    /// be acceptable.
    async fn import_target(&self, rows: usize, organization_id: Uuid) -> Result<Organization> {
        if rows > MAX_ROWS {
            return Err(ServiceError::validation("file", format!("at most {MAX_ROWS} rows per import")));
        }
        // An empty file is most likely the wrong one; saying so beats a report of nothing done.
        if rows == 0 {
            return Err(ServiceError::validation(
                "file",
                "the file holds no rows (a CSV file needs a header and a row)",
            ));
        }
        let organization = self
            .organization(organization_id)
            .await
            .map_err(|_| ServiceError::validation("organization_id", "no such organization"))?;
        if organization.kind != kakehashi_domain::OrganizationKind::Academia {
            return Err(ServiceError::validation("organization_id", "seeds belong to academic organizations"));
        }
        Ok(organization)
    }

    /// Writes the valid rows batch by batch, between the two audit entries of the run, and adds
    /// what became of each row to `report`.
    async fn write_rows(
        &self,
        valid: &[ValidRow],
        organization: &Organization,
        options: &Options,
        ctx: &RequestContext,
        progress: &(dyn Fn(usize) + Sync),
        report: &mut Report,
    ) -> Result<()> {
        let status = if options.publish { RecordStatus::Published } else { RecordStatus::Draft };
        let mut done = report.failed;
        // The whole import is one batch for the matcher: one digest per liaison.
        let import = Uuid::now_v7();
        let audit_entry = |action: &'static str, details: serde_json::Value| audit::NewEntry {
            actor_id: options.actor_id,
            organization_id: Some(organization.id),
            action,
            object_type: "organization",
            object_id: Some(organization.id.to_string()),
            request_id: ctx.request_id.clone(),
            details,
        };
        // Written before anything else: a run stopped midway is on record as started.
        let started = serde_json::json!({ "import": import, "rows": report.rows, "valid": valid.len(), "published": options.publish });
        let entry = audit_entry("seed.import_started", started);
        patiently("recording the import's start", || async { Ok(audit::record(&self.db, entry.clone()).await?) })
            .await?;
        for batch in valid.chunks(BATCH) {
            let news: Vec<NewSeed> = batch
                .iter()
                .map(|(_, content, external_ref)| NewSeed {
                    organization_id: organization.id,
                    owner_id: options.owner_id,
                    content: content.clone(),
                    status,
                    external_ref: external_ref.clone(),
                })
                .collect();
            let written = patiently("writing an import batch", || self.write_batch(&news, import)).await;
            report.add_batch(batch, written);
            done += batch.len();
            progress(done);
        }
        let details = serde_json::json!({ "import": import, "rows": report.rows, "imported": report.imported, "updated": report.updated, "failed": report.failed, "published": options.publish });
        let entry = audit_entry("seed.imported", details);
        patiently("recording the import's end", || async { Ok(audit::record(&self.db, entry.clone()).await?) }).await?;
        Ok(())
    }

    /// Writes one batch in one transaction: seeds whose `external_ref` the organisation already
    /// has are updated, the others added. Returns, for each of `news` in order, whether it was an
    /// update.
    async fn write_batch(&self, news: &[NewSeed], import: Uuid) -> Result<Vec<bool>> {
        let Some(organization_id) = news.first().map(|n| n.organization_id) else { return Ok(Vec::new()) };
        let txn = self.write_txn().await?;
        let refs: Vec<String> = news.iter().filter_map(|n| n.external_ref.clone()).collect();
        let existing: std::collections::HashMap<String, (Uuid, i32)> =
            seeds::by_external_refs(&txn, organization_id, &refs)
                .await?
                .into_iter()
                .map(|(r, id, v)| (r, (id, v)))
                .collect();
        let was_update: Vec<bool> =
            news.iter().map(|n| n.external_ref.as_ref().is_some_and(|r| existing.contains_key(r))).collect();
        let (updates, inserts): (Vec<&NewSeed>, Vec<&NewSeed>) =
            news.iter().partition(|n| n.external_ref.as_ref().is_some_and(|r| existing.contains_key(r)));
        let mut ids = Vec::with_capacity(news.len());
        for new in &updates {
            let Some(&(id, version)) = new.external_ref.as_ref().and_then(|r| existing.get(r)) else { continue };
            if !seeds::update_content(&txn, id, version, &new.content).await? {
                return Err(ServiceError::Conflict("a seed changed while it was being imported".into()));
            }
            ids.push(id);
        }
        let inserts: Vec<NewSeed> = inserts.into_iter().cloned().collect();
        ids.extend(seeds::insert_many(&txn, &inserts).await?);
        kakehashi_store::changes::record_many(&txn, kakehashi_store::changes::RecordKind::Seed, &ids, import).await?;
        txn.commit().await?;
        self.records_changed();
        Ok(was_update)
    }
}

/// How often a write of an import is tried when the database is busy.
const ATTEMPTS: u32 = 5;

/// Runs `write` again, after a growing pause, while it fails for a reason that passes by itself (a
/// database busy with another process's writes: an import from the command line shares `SQLite`
/// with a running server). Each write is one transaction, so trying it again is safe.
async fn patiently<T, F, Fut>(what: &str, mut write: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Err(err) if attempt < ATTEMPTS && crate::matching::is_transient(&err) => {
                tracing::warn!(attempt, "{what}: the database is busy; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(attempt))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_report_line_numbers_and_fields() {
        let input = b"{\"title\":\"A\",\"summary\":\"s\",\"stage\":\"preclinical\",\"ip_status\":\"filed\"}\n\n{\"title\":1}\n{\"title\":\"B\",\"summary\":\"s\",\"stage\":\"x\",\"ip_status\":\"filed\",\"owner_id\":\"x\"}\n";
        let rows = parse(input, Format::JsonLines);
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3, 4]);
        assert!(rows[0].content.is_ok());
        assert_eq!(rows[1].content.as_ref().err().map(|p| p[0].field.as_str()), Some("title"));
        assert!(rows[2].content.as_ref().err().is_some_and(|p| p[0].message.contains("unknown field `owner_id`")));
    }

    #[test]
    fn unreadable_lines_and_missing_fields_are_said_plainly() {
        let input = b"not json\n{\"title\":\"A\",\n{\"title\":\"A\"}\n";
        let rows = parse(input, Format::JsonLines);
        let problem = |i: usize| rows[i].content.as_ref().err().map(|p| (p[0].field.clone(), p[0].message.clone()));
        assert_eq!(problem(0), Some(("row".to_owned(), "not valid JSON at column 2".to_owned())));
        assert_eq!(problem(1), Some(("row".to_owned(), "the line ends before its JSON value does".to_owned())));
        assert_eq!(problem(2), Some(("summary".to_owned(), "missing field `summary`".to_owned())));
        let csv = parse(b"title,summary\nA,s,extra\n", Format::Csv);
        assert_eq!(
            csv[0].content.as_ref().err().map(|p| p[0].message.clone()),
            Some("the row has 3 fields where the header has 2".to_owned())
        );
    }

    #[test]
    fn csv_lists_and_line_numbers() {
        let input = "title,summary,modalities,stage,ip_status,visibility\n\
                     抗体,概要,antibody; adc,preclinical,filed,liaison_only\n\
                     B,s,,preclinical,filed,secret\n";
        let rows = parse(input.as_bytes(), Format::Csv);
        assert_eq!(rows.len(), 2);
        let first = rows[0].content.as_ref().ok().map(|c| (c.modalities.clone(), c.visibility, c.language));
        assert_eq!(
            first,
            Some((
                vec!["antibody".to_owned(), "adc".to_owned()],
                Visibility::LiaisonOnly,
                kakehashi_domain::Locale::Ja
            ))
        );
        assert_eq!(rows[1].line, 3);
        assert!(rows[1].content.is_err());
        let bad_header = parse(b"title,owner\nx,y\n", Format::Csv);
        assert!(bad_header[0].content.as_ref().err().is_some_and(|p| p[0].field == "header"));
    }
}
