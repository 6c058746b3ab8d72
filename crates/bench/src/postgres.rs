//! The baseline a team would otherwise build: `PostgreSQL` full-text search over the same
//! records, with a `tsvector` column and a GIN index for English, `pg_trgm` trigrams for
//! Japanese substrings (`PostgreSQL` has no Japanese text-search configuration), GIN indexes on
//! the facet arrays, and the same visibility filter and facet counts as the index answers.
//! One SQL statement per search returns the page of hits with snippets, the total and every
//! facet's counts.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use kakehashi_search::{Kind, SearchDoc};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

use super::Probe;

/// A scratch database holding the baseline; dropped by [`Baseline::drop_database`].
pub struct Baseline {
    admin_url: String,
    name: String,
    db: DatabaseConnection,
    pub version: String,
}

/// A connection that does not log every statement (the baseline runs thousands).
async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(2);
    Ok(Database::connect(options).await?)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn array(values: &[String]) -> String {
    if values.is_empty() {
        return "'{}'::text[]".to_owned();
    }
    let items: Vec<String> = values.iter().map(|v| quote(v)).collect();
    format!("ARRAY[{}]::text[]", items.join(","))
}

const SCHEMA: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE records (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        organization_id uuid NOT NULL,
        visibility text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        modalities text[] NOT NULL,
        disease_areas text[] NOT NULL,
        stages text[] NOT NULL,
        ip_status text,
        deal_types text[] NOT NULL,
        published_at timestamptz NOT NULL,
        tsv tsvector GENERATED ALWAYS AS
            (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'D')) STORED
    )",
];

const INDEXES: &[&str] = &[
    "CREATE INDEX records_tsv ON records USING gin (tsv)",
    "CREATE INDEX records_trgm ON records USING gin ((title || ' ' || body) gin_trgm_ops)",
    "CREATE INDEX records_modalities ON records USING gin (modalities)",
    "CREATE INDEX records_disease_areas ON records USING gin (disease_areas)",
    "CREATE INDEX records_stages ON records USING gin (stages)",
    "CREATE INDEX records_audience ON records (kind, visibility, organization_id)",
    "ANALYZE records",
];

impl Baseline {
    /// Creates a fresh database next to `admin_url`'s (UTF-8 with a Unicode character
    /// classification, so trigrams are taken of Japanese text too) and its schema.
    ///
    /// # Errors
    /// When `PostgreSQL` cannot be reached or the database cannot be created.
    pub async fn create(admin_url: &str) -> anyhow::Result<Baseline> {
        let admin = connect(admin_url).await?;
        let name = format!("kk_bench_{}", Uuid::new_v4().simple());
        let with_locale = format!(
            "CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        );
        if admin.execute_unprepared(&with_locale).await.is_err() {
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")).await?;
        }
        let version = admin
            .query_one_raw(Statement::from_string(DbBackend::Postgres, "SHOW server_version"))
            .await?
            .and_then(|row| row.try_get::<String>("", "server_version").ok())
            .unwrap_or_default();
        admin.close().await?;
        let (prefix, _) =
            admin_url.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("a PostgreSQL URL ends with a database name"))?;
        let db = connect(&format!("{prefix}/{name}")).await?;
        for statement in SCHEMA {
            db.execute_unprepared(statement).await?;
        }
        Ok(Baseline { admin_url: admin_url.to_owned(), name, db, version })
    }

    /// Inserts a batch of records.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn insert(&self, docs: &[SearchDoc]) -> anyhow::Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let mut sql = String::from(
            "INSERT INTO records (id, kind, organization_id, visibility, title, body, modalities, disease_areas, \
             stages, ip_status, deal_types, published_at) VALUES ",
        );
        for (i, d) in docs.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let _ = write!(
                sql,
                "('{}',{},'{}',{},{},{},{},{},{},{},{},{})",
                d.id,
                quote(d.kind.as_str()),
                d.organization_id,
                quote(d.visibility.as_str()),
                quote(&d.title),
                quote(&d.body),
                array(&d.modalities),
                array(&d.disease_areas),
                array(&d.stages),
                d.ip_status.as_deref().map_or_else(|| "NULL".to_owned(), quote),
                array(&d.deal_types),
                quote(&d.published_at.to_rfc3339()),
            );
        }
        self.db.execute_unprepared(&sql).await?;
        Ok(())
    }

    /// Builds the indexes and the planner's statistics once every record is in.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn build_indexes(&self) -> anyhow::Result<()> {
        for statement in INDEXES {
            self.db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    /// The SQL for one search of the mix, for a company member of no organisation in the data
    /// (members-visible seeds, plus the seeds granted to it and its own needs: none).
    #[must_use]
    pub fn sql(probe: &Probe, organization: Uuid, granted: &[Uuid]) -> String {
        let granted: Vec<String> = granted.iter().map(|id| format!("'{id}'")).collect();
        let seeds =
            format!("(kind = 'seed' AND (visibility = 'members' OR id = ANY(ARRAY[{}]::uuid[])))", granted.join(","));
        let needs = format!("(kind = 'need' AND organization_id = '{organization}')");
        let mut conditions = vec![match probe.kind {
            Some(Kind::Seed) => seeds,
            Some(Kind::Need) => needs,
            None => format!("({seeds} OR {needs})"),
        }];
        let normalized = kakehashi_search::analysis::normalize(probe.text);
        let (cjk, latin): (Vec<&str>, Vec<&str>) =
            normalized.split_whitespace().partition(|word| kakehashi_search::analysis::has_cjk(word));
        let tsquery = (!latin.is_empty()).then(|| format!("plainto_tsquery('english', {})", quote(&latin.join(" "))));
        if let Some(q) = &tsquery {
            conditions.push(format!("tsv @@ {q}"));
        }
        let patterns: Vec<String> = cjk.iter().map(|w| quote(&format!("%{w}%"))).collect();
        for pattern in &patterns {
            conditions.push(format!("(title || ' ' || body) ILIKE {pattern}"));
        }
        for (column, values) in [
            ("modalities", &probe.filters.modality),
            ("disease_areas", &probe.filters.disease_area),
            ("stages", &probe.filters.stage),
        ] {
            if !values.is_empty() {
                conditions.push(format!("{column} && {}", array(values)));
            }
        }
        let rank = match (&tsquery, patterns.first()) {
            (Some(q), _) => format!("ts_rank(tsv, {q})"),
            (None, Some(pattern)) => format!("(title ILIKE {pattern})::int::real"),
            (None, None) => "0::real".to_owned(),
        };
        let snippet = match &tsquery {
            Some(q) => format!("ts_headline('english', r.body, {q}, 'MaxWords=40, MinWords=20')"),
            None => "left(r.body, 240)".to_owned(),
        };
        let mut sql = format!(
            "WITH m AS MATERIALIZED (SELECT id, published_at, modalities, disease_areas, stages, ip_status, deal_types, \
             {rank} AS rank FROM records WHERE {}) \
             SELECT 'hit' AS facet, r.id::text AS value, 0::bigint AS n, {snippet} AS snippet \
             FROM (SELECT id FROM m ORDER BY rank DESC, published_at DESC LIMIT 20) h JOIN records r ON r.id = h.id \
             UNION ALL SELECT 'total', NULL, count(*), NULL FROM m",
            conditions.join(" AND ")
        );
        for (facet, column) in [
            ("modality", "modalities"),
            ("disease_area", "disease_areas"),
            ("stage", "stages"),
            ("deal_type", "deal_types"),
        ] {
            let _ =
                write!(sql, " UNION ALL SELECT '{facet}', v, count(*), NULL FROM m, unnest(m.{column}) v GROUP BY v");
        }
        sql.push_str(
            " UNION ALL SELECT 'ip_status', ip_status, count(*), NULL FROM m WHERE ip_status IS NOT NULL GROUP BY ip_status",
        );
        sql
    }

    /// Runs one search and returns its total.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn search(&self, sql: &str) -> anyhow::Result<usize> {
        let rows = self.db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
        let mut total = 0;
        for row in rows {
            if row.try_get::<String>("", "facet")? == "total" {
                total = usize::try_from(row.try_get::<i64>("", "n")?).unwrap_or_default();
            }
        }
        Ok(total)
    }

    /// Times `iterations` runs of `sql` after a few to warm the caches; returns the times and total.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn time(&self, sql: &str, iterations: usize) -> anyhow::Result<(Vec<Duration>, usize)> {
        let mut total = 0;
        for _ in 0..(iterations / 10).max(1) {
            total = self.search(sql).await?;
        }
        let mut times = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let started = Instant::now();
            total = self.search(sql).await?;
            times.push(started.elapsed());
        }
        Ok((times, total))
    }

    /// Drops the scratch database.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn drop_database(self) -> anyhow::Result<()> {
        self.db.close().await?;
        let admin = connect(&self.admin_url).await?;
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)).await?;
        admin.close().await?;
        Ok(())
    }
}
