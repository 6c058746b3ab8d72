//! `kakehashi`: the command line of the service.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use actix_web::web::Data;
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kakehashi::startup::IndexMode;
use kakehashi::{Application, Settings, demo, startup, telemetry};
use kakehashi_service::import;

#[derive(Debug, Parser)]
#[command(name = "kakehashi", version, about = "Members-only seeds–needs matchmaking for medical R&D")]
struct Cli {
    /// A TOML file layered over config/default.toml (environment variables KAKEHASHI__… still win).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API (applies pending migrations first).
    Serve {
        /// Load demo organisations and members and print their credentials.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Rebuild the search index from the database (stop the server first: it holds the index).
    Reindex,
    /// Measure search and matching quality: the small set in memory, then the real-style set
    /// among synthetic distractors, beside a TF-IDF baseline and the targets.
    Relevance {
        /// The small set (documents, queries, expected results).
        #[arg(long, default_value = "tests/relevance/set.json")]
        set: PathBuf,
        /// The real-style set with graded judgements, evaluated among distractors.
        #[arg(long, default_value = "tests/relevance/real.json")]
        real: PathBuf,
        /// Synthetic distractor seeds written around the real-style set (and a fifth as many needs).
        #[arg(long, default_value_t = 30_000)]
        distractors: usize,
        /// Distractor seeds and needs (each) also matched for the matches-per-record figures.
        #[arg(long, default_value_t = 100)]
        sample: usize,
        /// The distractor generator's seed.
        #[arg(long, default_value_t = 1)]
        rng_seed: u64,
    },
    /// Write deterministic synthetic members, seeds and needs (Japanese and English).
    DemoData {
        #[arg(long, default_value_t = 1_000)]
        seeds: usize,
        #[arg(long, default_value_t = 200)]
        needs: usize,
        /// The same value writes the same content.
        #[arg(long, default_value_t = 1)]
        rng_seed: u64,
    },
    /// Bulk import.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import seeds from JSON lines (one seed object per line) or CSV (`.csv`, with a header row).
    Seeds {
        file: PathBuf,
        /// The academic organisation the seeds belong to.
        #[arg(long, value_name = "ORG_ID")]
        organization: uuid::Uuid,
        /// Validate and report without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Publish the seeds at once instead of importing drafts.
        #[arg(long)]
        publish: bool,
        /// E-mail of the member who owns the seeds (default: none; the organisation's TTO manages them).
        #[arg(long, value_name = "EMAIL")]
        owner: Option<String>,
        /// Force the format instead of guessing it from the file extension.
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FileFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an active admin; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// The funder organisation the admin belongs to; created when missing.
        #[arg(long, default_value = "架け橋事務局")]
        organization: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => {
            let (services, background) = startup::services(&settings, IndexMode::Open).await?;
            let services = Data::new(services);
            if demo {
                let logins = demo::load(&services).await.context("loading demo data")?;
                if kakehashi_store::seeds::count(&services.db).await? == 0 {
                    let written = kakehashi::demo_data::generate(&services, 300, 60, 1, &|_| {})
                        .await
                        .context("writing demo seeds and needs")?;
                    println!(
                        "Loaded {} demo seeds and {} demo needs (Japanese and English).",
                        written.seeds, written.needs
                    );
                    let introduction = demo::story(&services).await.context("writing the demo introduction")?;
                    println!(
                        "An introduction is waiting for researcher@toto-med.demo.kakehashi.invalid to accept: \
                         GET /api/v1/introductions/{introduction}"
                    );
                }
                println!("{}", demo::table(&logins, settings.server.public_url.trim_end_matches('/')));
            }
            let app = Application::with_services(&settings, services, background)?;
            println!("Kakehashi is listening on {} (public URL {})", settings.server.bind, settings.server.public_url);
            app.run_until_stopped().await?;
        }
        Command::Reindex => {
            let dir = settings.index_dir();
            let db = startup::database(&settings).await?;
            kakehashi_store::migrate(&db).await.context("applying migrations")?;
            db.close().await.ok();
            // Opening wipes nothing that is current; the rebuild below replaces the contents anyway.
            let (services, _) = startup::services(&settings, IndexMode::InMemory).await?;
            let (index, _) = tokio::task::spawn_blocking(move || kakehashi_search::SearchIndex::open(&dir)).await??;
            let services = kakehashi_service::Services { search: std::sync::Arc::new(index), ..services };
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} indexing [{bar:40}] {pos}/{len} records ({per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let started = std::time::Instant::now();
            let (seq, records) = services
                .rebuild_index(&|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "Indexed {records} published records in {secs:.2} s ({:.0} records/s), current to change {seq}.",
                records as f64 / secs.max(1e-9)
            );
        }
        Command::Relevance { set, real, distractors, sample, rng_seed } => {
            let read = |path: &PathBuf| -> anyhow::Result<kakehashi_search::relevance::RelevanceSet> {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                kakehashi_search::relevance::RelevanceSet::from_json(&text)
                    .with_context(|| format!("parsing the relevance set {}", path.display()))
            };
            println!("{}", kakehashi::relevance::small_set_report(&settings, &read(&set)?)?);
            let options = kakehashi::relevance::Options { distractors, rng_seed, sample, progress: true };
            let evaluation = kakehashi::relevance::evaluate(&settings, &read(&real)?, &options).await?;
            let command =
                format!("kakehashi relevance --distractors {distractors} --sample {sample} --rng-seed {rng_seed}");
            println!("{}", evaluation.report(&command));
        }
        Command::DemoData { seeds, needs, rng_seed } => {
            let (services, _) = startup::services(&settings, IndexMode::InMemory).await?;
            let bar = indicatif::ProgressBar::new((seeds + needs) as u64).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} writing [{bar:40}] {pos}/{len} records ({per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let started = std::time::Instant::now();
            let written = kakehashi::demo_data::generate(&services, seeds, needs, rng_seed, &|done| {
                bar.set_position(done as u64)
            })
            .await?;
            bar.finish_and_clear();
            println!(
                "Wrote {} seeds, {} needs and {} members in {:.1} s. Members log in with the password `{}`; the server indexes the records from the change log.",
                written.seeds,
                written.needs,
                written.members,
                started.elapsed().as_secs_f64(),
                kakehashi::demo_data::PASSWORD
            );
        }
        Command::Migrate => {
            let db = startup::database(&settings).await?;
            let pending = kakehashi_store::pending_migrations(&db).await?;
            kakehashi_store::migrate(&db).await.context("applying migrations")?;
            if pending.is_empty() {
                println!("The database schema is up to date.");
            } else {
                for name in &pending {
                    println!("applied {name}");
                }
            }
        }
        Command::Import { command: ImportCommand::Seeds { file, organization, dry_run, publish, owner, format } } => {
            let format = match format {
                Some(FileFormat::Csv) => import::Format::Csv,
                Some(FileFormat::Jsonl) => import::Format::JsonLines,
                None => import::Format::from_path(&file),
            };
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let (services, _) = startup::services(&settings, IndexMode::InMemory).await?;
            let owner_id = match owner {
                None => None,
                Some(email) => Some(
                    kakehashi_store::members::by_email(&services.db, &kakehashi_service::auth::normalize_email(&email))
                        .await?
                        .filter(|m| m.organization_id == organization)
                        .with_context(|| format!("no member {email} in organization {organization}"))?
                        .id,
                ),
            };
            let rows = import::parse(&bytes, format);
            let bar = indicatif::ProgressBar::new(rows.len() as u64).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} importing [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let options = import::Options { organization_id: organization, owner_id, actor_id: None, dry_run, publish };
            let ctx = kakehashi_service::RequestContext::default();
            let report = services
                .import_seeds(rows, &options, &ctx, &|done| bar.set_position(done as u64))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
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
            if report.failed > 0 {
                anyhow::bail!("{} rows were not imported", report.failed);
            }
        }
        Command::Admin { command: AdminCommand::Create { email, name, password_stdin: _, organization } } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let (services, _) = startup::services(&settings, IndexMode::InMemory).await?;
            let member = services
                .create_admin(&email, &name, password, &organization)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("Created admin {} ({})", member.email, member.id);
        }
    }
    Ok(())
}
