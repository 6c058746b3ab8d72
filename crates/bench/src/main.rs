//! The benchmark's command line. With no subcommand it measures (see the library); `serve` is
//! the server it starts for the HTTP part, configured from the environment like `kakehashi serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kakehashi::{Application, Settings, telemetry};

/// mimalloc rather than the system allocator: the matcher, the index and the database threads
/// allocate and free small blocks at a high rate, and glibc's arenas spent a quarter of a bulk
/// match's CPU time in `malloc` and `free` and kept more memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Measure, in one run on synthetic data in a scratch directory: bulk load, reindex, search
/// latency in process and against a `PostgreSQL` full-text baseline, matching, and the server
/// under HTTP load with its memory; prints a table and writes it to docs/benchmarks.md.
#[derive(Debug, Parser)]
#[command(name = "kakehashi-bench", version)]
struct Cli {
    #[arg(long, default_value_t = 100_000)]
    seeds: usize,
    #[arg(long, default_value_t = 20_000)]
    needs: usize,
    /// Timed runs of each query in the mix (the `PostgreSQL` baseline runs a quarter as many).
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// The `PostgreSQL` server of the baseline; a scratch database is created there and dropped.
    #[arg(long, env = "KAKEHASHI_BENCH_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// Skip the `PostgreSQL` baseline.
    #[arg(long)]
    no_postgres: bool,
    /// Concurrent HTTP connections of the load test; 0 skips it.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds of HTTP load.
    #[arg(long, default_value_t = 10)]
    http_secs: u64,
    /// Seeds written in one batch (as an import writes them) and then matched as a backlog; 0
    /// skips the bulk matching measure.
    #[arg(long, default_value_t = 2_000)]
    bulk: usize,
    /// Where to write the report.
    #[arg(long, default_value = "docs/benchmarks.md")]
    output: PathBuf,
    #[command(subcommand)]
    mode: Option<Mode>,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Serve the benchmark's data (started by the benchmark itself for the HTTP part).
    #[command(name = kakehashi_bench::SERVE, hide = true)]
    Serve,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(None) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let result =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime").and_then(
            |runtime| {
                runtime.block_on(async {
                    match cli.mode {
                        Some(Mode::Serve) => Ok(Application::build(&settings).await?.run_until_stopped().await?),
                        None => measure(cli).await,
                    }
                })
            },
        );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn measure(cli: Cli) -> anyhow::Result<()> {
    let Cli { seeds, needs, iterations, postgres_url, no_postgres, connections, http_secs, bulk, output, .. } = cli;
    let options = kakehashi_bench::Options {
        seeds,
        needs,
        iterations,
        postgres_url: (!no_postgres).then_some(postgres_url),
        connections,
        http_seconds: http_secs,
        bulk,
    };
    let report = kakehashi_bench::run(&options).await?;
    println!("{report}");
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&output, &report).with_context(|| format!("writing {}", output.display()))?;
    println!("Written to {}.", output.display());
    Ok(())
}
