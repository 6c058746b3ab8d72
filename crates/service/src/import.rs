//! Bulk import of seeds from JSON lines or CSV, for the secretariat and TTO offices.
//!
//! Every row is parsed and validated first; only valid rows are written, in transactions of a few
//! hundred, each seed in one insert. A bad row is reported by its line number and never leaves a
//! half-imported seed; a failed batch is rolled back whole and its rows reported as failed.

use std::path::Path;

use kakehashi_domain::{ConfidentialSection, FieldProblem, RecordStatus, SeedContent, SeedInput, Visibility};
use kakehashi_store::audit;
use kakehashi_store::seeds::{self, NewSeed};
use serde::Serialize;
use uuid::Uuid;

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
            let de = &mut serde_json::Deserializer::from_slice(line);
            let content =
                serde_path_to_error::deserialize::<_, SeedInput>(de).map(SeedInput::into_content).map_err(|e| {
                    let path = e.path().to_string();
                    let message = e.inner().to_string();
                    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
                    problem(if path == "." { "row" } else { &path }, message)
                });
            Row { line: index + 1, content }
        })
        .collect()
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
];

fn parse_csv(bytes: &[u8]) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::Fields).from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return vec![Row { line: 1, content: Err(problem("header", e.to_string())) }],
    };
    let unknown: Vec<&str> = headers.iter().filter(|h| !CSV_COLUMNS.contains(h)).collect();
    if !unknown.is_empty() {
        let message = format!("unknown columns {unknown:?}; expected some of {CSV_COLUMNS:?}");
        return vec![Row { line: 1, content: Err(problem("header", message)) }];
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
                    return Row { line, content: Err(problem("row", e.to_string())) };
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
                    }
                    .into_content()
                })
            });
            Row { line, content }
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

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub rows: usize,
    pub imported: usize,
    pub failed: usize,
    pub dry_run: bool,
    /// Every problem, by line and field.
    pub errors: Vec<RowError>,
}

impl Services {
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
        if rows.len() > MAX_ROWS {
            return Err(ServiceError::validation("file", format!("at most {MAX_ROWS} rows per import")));
        }
        let organization = self
            .organization(options.organization_id)
            .await
            .map_err(|_| ServiceError::validation("organization_id", "no such organization"))?;
        if organization.kind != kakehashi_domain::OrganizationKind::Academia {
            return Err(ServiceError::validation("organization_id", "seeds belong to academic organizations"));
        }
        let total = rows.len();
        let mut errors = Vec::new();
        let mut valid: Vec<(usize, SeedContent)> = Vec::with_capacity(total);
        for row in rows {
            let checked =
                row.content.and_then(|mut content| content.normalize_and_validate(&self.taxonomy).map(|()| content));
            match checked {
                Ok(content) => valid.push((row.line, content)),
                Err(problems) => errors.extend(problems.into_iter().map(|p| RowError {
                    line: row.line,
                    field: p.field,
                    message: p.message,
                })),
            }
        }
        let failed_rows = total - valid.len();
        let mut imported = 0;
        let mut batch_failures = 0;
        if options.dry_run {
            progress(total);
        } else {
            let status = if options.publish { RecordStatus::Published } else { RecordStatus::Draft };
            let mut done = failed_rows;
            // The whole import is one batch for the matcher: one digest per liaison.
            let import = Uuid::now_v7();
            for batch in valid.chunks(BATCH) {
                let news: Vec<NewSeed> = batch
                    .iter()
                    .map(|(_, content)| NewSeed {
                        organization_id: organization.id,
                        owner_id: options.owner_id,
                        content: content.clone(),
                        status,
                    })
                    .collect();
                match self.write_batch(&news, import).await {
                    Ok(n) => imported += n,
                    Err(err) => {
                        tracing::error!(error = %error_chain(&err), "an import batch failed and was rolled back");
                        batch_failures += batch.len();
                        errors.extend(batch.iter().map(|(line, _)| RowError {
                            line: *line,
                            field: "row".into(),
                            message: "could not be stored; nothing of it was written".into(),
                        }));
                    }
                }
                done += batch.len();
                progress(done);
            }
            let details = serde_json::json!({ "rows": total, "imported": imported, "failed": failed_rows + batch_failures, "published": options.publish });
            audit::record(
                &self.db,
                audit::NewEntry {
                    actor_id: options.actor_id,
                    organization_id: Some(organization.id),
                    action: "seed.imported",
                    object_type: "organization",
                    object_id: Some(organization.id.to_string()),
                    request_id: ctx.request_id.clone(),
                    details,
                },
            )
            .await?;
        }
        errors.sort_by_key(|e| e.line);
        Ok(Report { rows: total, imported, failed: failed_rows + batch_failures, dry_run: options.dry_run, errors })
    }

    async fn write_batch(&self, news: &[NewSeed], import: Uuid) -> Result<usize> {
        let txn = self.write_txn().await?;
        let ids = seeds::insert_many(&txn, news).await?;
        kakehashi_store::changes::record_many(&txn, kakehashi_store::changes::RecordKind::Seed, &ids, import).await?;
        txn.commit().await?;
        self.records_changed();
        Ok(ids.len())
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
