//! One function per subcommand of `kakehashi`: `main.rs` parses the command line and calls one.
//! Each prints what a person at the terminal needs and returns an error (with its causes) for
//! `main` to report.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use actix_web::web::Data;
use anyhow::Context as _;
use kakehashi_service::{RequestContext, Services, import};
use uuid::Uuid;

use crate::progress;
use crate::settings::Settings;
use crate::startup::{self, Application, IndexMode};
use crate::{demo, demo_data, relevance as quality};

/// The benchmark's executable: beside `exe` when built there (`cargo build --release -p
/// kakehashi-bench` puts both in one directory), else looked up on the PATH.
#[must_use]
pub fn bench_program(exe: &Path) -> PathBuf {
    let name = format!("kakehashi-bench{}", std::env::consts::EXE_SUFFIX);
    exe.parent().map(|dir| dir.join(&name)).filter(|p| p.is_file()).unwrap_or_else(|| PathBuf::from(name))
}

/// `kakehashi bench ARGS…`: runs `kakehashi-bench ARGS…` and answers with its exit status. The
/// benchmark is its own crate so that this binary carries none of its code or dependencies.
#[must_use]
pub fn bench(args: &[String]) -> std::process::ExitCode {
    let program = std::env::current_exe().map_or_else(|_| PathBuf::from("kakehashi-bench"), |e| bench_program(&e));
    match std::process::Command::new(&program).args(args).status() {
        Ok(status) => std::process::ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(err) => {
            eprintln!(
                "error: cannot run {}: {err}; build it with `cargo build --release -p kakehashi-bench`",
                program.display()
            );
            std::process::ExitCode::FAILURE
        }
    }
}

/// `kakehashi serve [--demo]`: applies migrations and serves until stopped.
///
/// # Errors
/// When the server cannot be set up or fails.
pub async fn serve(settings: &Settings, with_demo: bool) -> anyhow::Result<()> {
    let (services, background) = startup::services(settings, IndexMode::Open).await?;
    let services = Data::new(services);
    if with_demo {
        load_demo(settings, &services).await?;
    }
    let app = Application::with_services(settings, services, background)?;
    println!("Kakehashi is listening on {} (public URL {})", settings.server.bind, settings.server.public_url);
    app.run_until_stopped().await?;
    Ok(())
}

/// The demo members (new passwords on every start) and, on an empty database, demo records and
/// one introduction waiting for its researcher.
async fn load_demo(settings: &Settings, services: &Services) -> anyhow::Result<()> {
    let logins = demo::load(services).await.context("loading demo data")?;
    if kakehashi_store::seeds::count(&services.db).await? == 0 {
        let written =
            demo_data::generate(services, 300, 60, 1, &|_| {}).await.context("writing demo seeds and needs")?;
        println!("Loaded {} demo seeds and {} demo needs (Japanese and English).", written.seeds, written.needs);
        let introduction = demo::story(services).await.context("writing the demo introduction")?;
        println!(
            "An introduction is waiting for researcher@toto-med.demo.kakehashi.invalid to accept: \
             GET /api/v1/introductions/{introduction}"
        );
    }
    println!("{}", demo::table(&logins, settings.server.public_url.trim_end_matches('/')));
    Ok(())
}

/// `kakehashi migrate`: applies pending migrations and names each one.
///
/// # Errors
/// When the database cannot be reached or a migration fails.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = startup::database(settings).await?;
    let pending = kakehashi_store::pending_migrations(&db).await?;
    kakehashi_store::migrate(&db).await.context("applying migrations")?;
    if pending.is_empty() {
        println!("The database schema is up to date.");
    }
    for name in &pending {
        println!("applied {name}");
    }
    Ok(())
}

/// `kakehashi reindex`: rebuilds the search index from the database.
///
/// # Errors
/// When the database or the index cannot be opened, or the rebuild fails.
pub async fn reindex(settings: &Settings) -> anyhow::Result<()> {
    let dir = settings.index_dir();
    let db = startup::database(settings).await?;
    kakehashi_store::migrate(&db).await.context("applying migrations")?;
    db.close().await.ok();
    // Opening wipes nothing that is current; the rebuild below replaces the contents anyway.
    let (services, _) = startup::services(settings, IndexMode::InMemory).await?;
    let (index, _) = tokio::task::spawn_blocking(move || kakehashi_search::SearchIndex::open(&dir)).await??;
    let services = Services { search: Arc::new(index), ..services };
    let bar = progress::bar(0, "indexing", "records");
    let started = Instant::now();
    let (seq, records) = services
        .rebuild_index(&|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Indexed {records} published records in {secs:.2} s ({:.0} records/s), current to change {seq}.",
        records as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// What `kakehashi relevance` evaluates.
#[derive(Debug, Clone)]
pub struct RelevanceRun {
    pub set: PathBuf,
    pub real: PathBuf,
    pub distractors: usize,
    pub sample: usize,
    pub rng_seed: u64,
}

/// `kakehashi relevance`: the small set in memory, then the real-style set among distractors.
///
/// # Errors
/// When a set cannot be read or the evaluation fails.
pub async fn relevance(settings: &Settings, run: &RelevanceRun) -> anyhow::Result<()> {
    let read = |path: &Path| -> anyhow::Result<kakehashi_search::relevance::RelevanceSet> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        kakehashi_search::relevance::RelevanceSet::from_json(&text)
            .with_context(|| format!("parsing the relevance set {}", path.display()))
    };
    let RelevanceRun { distractors, sample, rng_seed, .. } = *run;
    println!("{}", quality::small_set_report(settings, &read(&run.set)?)?);
    let options = quality::Options { distractors, rng_seed, sample, progress: true };
    let evaluation = quality::evaluate(settings, &read(&run.real)?, &options).await?;
    let command = format!("kakehashi relevance --distractors {distractors} --sample {sample} --rng-seed {rng_seed}");
    println!("{}", evaluation.report(&command));
    Ok(())
}

/// `kakehashi demo-data`: writes deterministic synthetic members, seeds and needs.
///
/// # Errors
/// When the database cannot be written.
pub async fn demo_data(settings: &Settings, seeds: usize, needs: usize, rng_seed: u64) -> anyhow::Result<()> {
    let (services, _) = startup::services(settings, IndexMode::InMemory).await?;
    let bar = progress::bar((seeds + needs) as u64, "writing", "records");
    let started = Instant::now();
    let written = demo_data::generate(&services, seeds, needs, rng_seed, &|done| bar.set_position(done as u64)).await?;
    bar.finish_and_clear();
    println!(
        "Wrote {} seeds, {} needs and {} members in {:.1} s. Members log in with the password `{}`; the server indexes the records from the change log.",
        written.seeds,
        written.needs,
        written.members,
        started.elapsed().as_secs_f64(),
        demo_data::PASSWORD
    );
    Ok(())
}

/// What `kakehashi import seeds` imports.
#[derive(Debug, Clone)]
pub struct SeedImport {
    pub file: PathBuf,
    pub organization: Uuid,
    pub dry_run: bool,
    pub publish: bool,
    pub owner: Option<String>,
    /// `None`: from the file's extension.
    pub format: Option<import::Format>,
}

/// `kakehashi import seeds`: imports the good rows, prints every bad one.
///
/// # Errors
/// When the file cannot be read, the owner is not a member of the organisation, the import
/// fails, or any row was refused.
pub async fn import_seeds(settings: &Settings, job: SeedImport) -> anyhow::Result<()> {
    let SeedImport { file, organization, dry_run, publish, owner, format } = job;
    let format = format.unwrap_or_else(|| import::Format::from_path(&file));
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let (services, _) = startup::services(settings, IndexMode::InMemory).await?;
    let owner_id = match owner {
        None => None,
        Some(email) => Some(member_of(&services, &email, organization).await?),
    };
    let rows = import::parse(&bytes, format);
    let bar = progress::bar(rows.len() as u64, "importing", "rows");
    let options = import::Options { organization_id: organization, owner_id, actor_id: None, dry_run, publish };
    let ctx = RequestContext::default();
    let report = services.import_seeds(rows, &options, &ctx, &|done| bar.set_position(done as u64)).await?;
    bar.finish_and_clear();
    for error in &report.errors {
        println!("line {}: {}: {}", error.line, error.field, error.message);
    }
    let verb = if dry_run { "would import" } else { "imported" };
    println!(
        "{} rows: {verb} {}, {} failed",
        report.rows,
        if dry_run { report.rows - report.failed } else { report.imported },
        report.failed
    );
    if report.updated > 0 {
        println!("{} of them updated by their external_ref", report.updated);
    }
    if report.failed > 0 {
        anyhow::bail!("{} rows were not imported", report.failed);
    }
    Ok(())
}

/// The id of the member with this e-mail address in `organization`.
async fn member_of(services: &Services, email: &str, organization: Uuid) -> anyhow::Result<Uuid> {
    let member = kakehashi_store::members::by_email(&services.db, &kakehashi_service::auth::normalize_email(email))
        .await?
        .filter(|m| m.organization_id == organization)
        .with_context(|| format!("no member {email} in organization {organization}"))?;
    Ok(member.id)
}

/// `kakehashi admin create`: an active admin, the password read from standard input.
///
/// # Errors
/// When standard input cannot be read or the admin cannot be created.
pub async fn create_admin(settings: &Settings, email: &str, name: &str, organization: &str) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password).context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let (services, _) = startup::services(settings, IndexMode::InMemory).await?;
    let member = services.create_admin(email, name, password, organization).await?;
    println!("Created admin {} ({})", member.email, member.id);
    Ok(())
}

#[cfg(test)]
mod bench_tests {
    use super::bench_program;

    #[test]
    fn the_benchmark_is_taken_from_beside_the_executable_then_from_the_path() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let exe = dir.path().join("kakehashi");
        let name = format!("kakehashi-bench{}", std::env::consts::EXE_SUFFIX);
        assert_eq!(bench_program(&exe), std::path::PathBuf::from(&name));
        std::fs::write(dir.path().join(&name), b"").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bench_program(&exe), dir.path().join(&name));
    }
}
