//! `kakehashi`: the command line of the service.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kakehashi::{Settings, commands, telemetry};
use kakehashi_service::import;

/// mimalloc rather than the system allocator: the matcher, the index and the database threads
/// allocate and free small blocks at a high rate, and glibc's arenas spent a quarter of a bulk
/// match's CPU time in `malloc` and `free` and kept more memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Run the benchmark: `kakehashi-bench` (built by `cargo build --release -p kakehashi-bench`),
    /// looked for beside this executable, then on the PATH, with every argument passed on
    /// (`kakehashi bench -- --help` lists them).
    Bench {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
        args: Vec<String>,
    },
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
    // The benchmark reads its own settings; nothing here is set up for it.
    if let Command::Bench { args } = &cli.command {
        return commands::bench(args);
    }
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
        Command::Serve { demo } => commands::serve(&settings, demo).await,
        Command::Migrate => commands::migrate(&settings).await,
        Command::Reindex => commands::reindex(&settings).await,
        Command::Bench { .. } => Ok(()),
        Command::Relevance { set, real, distractors, sample, rng_seed } => {
            commands::relevance(&settings, &commands::RelevanceRun { set, real, distractors, sample, rng_seed }).await
        }
        Command::DemoData { seeds, needs, rng_seed } => commands::demo_data(&settings, seeds, needs, rng_seed).await,
        Command::Import { command: ImportCommand::Seeds { file, organization, dry_run, publish, owner, format } } => {
            let format = format.map(|f| match f {
                FileFormat::Csv => import::Format::Csv,
                FileFormat::Jsonl => import::Format::JsonLines,
            });
            let job = commands::SeedImport { file, organization, dry_run, publish, owner, format };
            commands::import_seeds(&settings, job).await
        }
        Command::Admin { command: AdminCommand::Create { email, name, password_stdin: _, organization } } => {
            commands::create_admin(&settings, &email, &name, &organization).await
        }
    }
}
