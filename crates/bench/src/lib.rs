//! `kakehashi-bench`: builds a synthetic data set in a scratch directory and measures, in one
//! run: bulk loading, a full reindex, in-process search latency for a fixed query mix, the same
//! mix against a PostgreSQL full-text baseline over the same records, matching one need against
//! every seed, the delay from publishing to searchable, and throughput, latency and memory of the
//! real server under concurrent HTTP load. It prints a table and writes it to
//! `docs/benchmarks.md`.

mod http;
mod postgres;

/// The argument that makes this binary serve instead of measure: the HTTP part starts the server
/// as a child process of its own executable, so no `kakehashi` binary needs to be built beside it.
pub const SERVE: &str = "serve";

use std::fmt::Write as _;

use anyhow::Context as _;
use std::time::{Duration, Instant};

use kakehashi_search::{Audience, FacetFilters, Kind, NeedAudience, SearchRequest, SeedAudience};
use uuid::Uuid;

use kakehashi::Settings;
use kakehashi::startup::{self, IndexMode};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub seeds: usize,
    pub needs: usize,
    /// Timed runs of each query of the mix in process (the baseline runs a quarter as many).
    pub iterations: usize,
    /// The PostgreSQL server for the baseline (a scratch database is created and dropped);
    /// `None` skips it.
    pub postgres_url: Option<String>,
    /// Concurrent connections of the HTTP load; 0 skips it.
    pub connections: usize,
    /// Measured seconds of HTTP load (after a warm-up of a fifth as long, at least one second).
    pub http_seconds: u64,
}

/// One query of the mix.
pub struct Probe {
    class: &'static str,
    text: &'static str,
    kind: Option<Kind>,
    filters: FacetFilters,
}
fn facets(modality: &[&str], disease_area: &[&str], stage: &[&str]) -> FacetFilters {
    let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect();
    FacetFilters { modality: v(modality), disease_area: v(disease_area), stage: v(stage), ..Default::default() }
}

fn mix() -> Vec<Probe> {
    let text = |class, text| Probe { class, text, kind: Some(Kind::Seed), filters: FacetFilters::default() };
    vec![
        text("japanese", "抗体"),
        text("japanese", "癌"),
        text("japanese", "アルツハイマー病"),
        text("japanese", "核酸 筋ジストロフィー"),
        text("english", "antibodies"),
        text("english", "heart failure"),
        text("english", "gene therapy Parkinson"),
        Probe { class: "facets only", text: "", kind: Some(Kind::Seed), filters: facets(&["adc"], &[], &[]) },
        Probe {
            class: "facets only",
            text: "",
            kind: None,
            filters: facets(&[], &["oncology"], &["preclinical", "phase_1"]),
        },
        Probe {
            class: "text + facets",
            text: "抗体",
            kind: Some(Kind::Seed),
            filters: facets(&["antibody", "adc"], &["oncology"], &[]),
        },
        Probe {
            class: "text + facets",
            text: "inhibitors",
            kind: Some(Kind::Seed),
            filters: facets(&[], &[], &["lead_optimization", "preclinical"]),
        },
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The query string of a probe for `GET /api/v1/search`.
fn search_path(probe: &Probe) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("q", probe.text);
    if let Some(kind) = probe.kind {
        query.append_pair("kind", kind.as_str());
    }
    for (name, values) in [
        ("modality", &probe.filters.modality),
        ("disease_area", &probe.filters.disease_area),
        ("stage", &probe.filters.stage),
    ] {
        for value in values {
            query.append_pair(name, value);
        }
    }
    format!("/api/v1/search?{}", query.finish())
}

/// What was timed for one query of the mix.
struct Timed {
    class: &'static str,
    times: Vec<Duration>,
    total: usize,
}

fn sorted_class(results: &[Timed], class: Option<&str>) -> Vec<Duration> {
    let mut times: Vec<Duration> =
        results.iter().filter(|r| class.is_none_or(|c| r.class == c)).flat_map(|r| r.times.iter().copied()).collect();
    times.sort_unstable();
    times
}

/// The machine the figures were taken on.
fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next().and_then(|kb| kb.parse::<u64>().ok()))
        .map_or_else(String::new, |kb| format!(", {:.0} GiB of memory", kb as f64 / 1024.0 / 1024.0));
    let kernel = read("/proc/sys/kernel/osrelease");
    format!("{cpus} CPUs available ({model}){memory}, Linux {}", kernel.trim())
}

/// Runs the benchmark and returns the report (Markdown).
///
/// # Errors
/// When a step fails.
#[allow(clippy::too_many_lines)]
pub async fn run(options: &Options) -> anyhow::Result<String> {
    let Options { seeds, needs, iterations, .. } = *options;
    let scratch = tempfile::tempdir()?;
    let mut settings = Settings::load(None)?;
    settings.data_dir = scratch.path().to_owned();
    settings.database.url = String::new();
    settings.search.dir = String::new();
    settings.matching.enabled = false;
    let (services, background) = startup::services(&settings, IndexMode::Open).await?;
    let services = std::sync::Arc::new(services);

    eprintln!("writing {seeds} seeds and {needs} needs …");
    let started = Instant::now();
    kakehashi::demo_data::generate(&services, seeds, needs, 42, &|_| {}).await?;
    let load = started.elapsed();

    eprintln!("reindexing …");
    let started = Instant::now();
    let (_, records) = services.rebuild_index(&|_, _| {}).await?;
    let reindex = started.elapsed();
    let segments = services.search.segments();

    eprintln!("searching in process …");
    // A company member of no organisation in the data: the most restrictive audience, so the
    // visibility filter is exercised on every query.
    let (organization, granted) = (Uuid::nil(), vec![Uuid::nil()]);
    let audience = Audience {
        seeds: SeedAudience::Restricted { own_organization: None, granted: granted.clone() },
        needs: NeedAudience::Organization(organization),
    };
    let probes = mix();
    let index = services.search.clone();
    let results = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Timed>> {
        let mut out = Vec::new();
        for probe in &probes {
            let request = SearchRequest {
                text: probe.text.to_owned(),
                kind: probe.kind,
                filters: probe.filters.clone(),
                limit: 20,
                ..Default::default()
            };
            let mut total = 0;
            for _ in 0..iterations / 10 {
                total = index.search(&request, &audience)?.total;
            }
            let mut times = Vec::with_capacity(iterations);
            for _ in 0..iterations {
                let t = Instant::now();
                let r = index.search(&request, &audience)?;
                times.push(t.elapsed());
                total = r.total;
            }
            out.push(Timed { class: probe.class, times, total });
        }
        Ok(out)
    })
    .await??;

    let baseline = match &options.postgres_url {
        Some(url) => {
            eprintln!("loading the PostgreSQL baseline …");
            Some(postgres_baseline(&services, url, &organization, &granted, (iterations / 4).max(5)).await?)
        }
        None => None,
    };

    eprintln!("matching needs against every seed …");
    let needs_sample = kakehashi_store::needs::published_after(&services.db, None, 20).await?;
    let mut match_times = Vec::with_capacity(needs_sample.len());
    for need in &needs_sample {
        let started = Instant::now();
        services.match_record(kakehashi_store::changes::RecordKind::Need, need.id).await?;
        match_times.push(started.elapsed());
    }
    match_times.sort_unstable();

    eprintln!("measuring write-to-searchable delay …");
    let mut state = background.indexer;
    state.last_seq = kakehashi_store::changes::last_seq(&services.db).await?;
    let interval = Duration::from_millis(settings.search.poll_interval_ms);
    let indexer_task = tokio::spawn(std::sync::Arc::clone(&services).run_indexer(state, interval));
    let visibility = write_to_search_delays(&services, 30).await?;
    indexer_task.abort();
    let _ = indexer_task.await;

    // The server opens the same database and index: this process lets go of them first.
    let (db, search) = (services.db.clone(), std::sync::Arc::clone(&services.search));
    drop(services);
    drop(search);
    db.close().await?;
    let http = if options.connections > 0 {
        eprintln!("starting the server and loading it over HTTP with {} connections …", options.connections);
        Some(http_load(scratch.path(), options).await?)
    } else {
        None
    };

    let all = sorted_class(&results, None);
    let mut report = String::new();
    let _ = writeln!(report, "# Kakehashi benchmarks\n");
    let mut command = format!(
        "cargo run --release -p kakehashi-bench -- --seeds {seeds} --needs {needs} --iterations {iterations} --connections {} --http-secs {}",
        options.connections, options.http_seconds
    );
    if options.postgres_url.is_none() {
        command.push_str(" --no-postgres");
    }
    let _ = writeln!(report, "Produced by `{command}` in one run, on {}.", machine());
    let _ = writeln!(
        report,
        "The service runs on SQLite with its tantivy index{}. Ratios compare with the target (below 1 meets an upper bound, above 1 a lower bound) or with the baseline.\n",
        baseline.as_ref().map_or_else(String::new, |b| format!("; the baseline on PostgreSQL {}", b.version))
    );
    let _ = writeln!(report, "| measure | value | target | ratio |");
    let _ = writeln!(report, "|---|---|---|---|");
    let load_rate = (seeds + needs) as f64 / load.as_secs_f64();
    let _ = writeln!(
        report,
        "| bulk load ({} records) | {:.1} s ({:.0} records/s) | — | — |",
        seeds + needs,
        load.as_secs_f64(),
        load_rate
    );
    let reindex_rate = records as f64 / reindex.as_secs_f64();
    let _ = writeln!(
        report,
        "| full reindex ({records} published records) | {:.2} s ({reindex_rate:.0} records/s) | ≥ 20,000 records/s | {:.2}× |",
        reindex.as_secs_f64(),
        reindex_rate / 20_000.0
    );
    let _ = writeln!(report, "| index segments after the rebuild | {segments} | — | — |");
    let p99 = percentile(&all, 99.0);
    let _ = writeln!(report, "| in-process search p50, whole mix | {:.2} ms | — | — |", ms(percentile(&all, 50.0)));
    let _ =
        writeln!(report, "| in-process search p99, whole mix | {:.2} ms | ≤ 5 ms | {:.2}× |", ms(p99), ms(p99) / 5.0);
    if let Some(b) = &baseline {
        let pg_all = sorted_class(&b.results, None);
        let pg_p99 = percentile(&pg_all, 99.0);
        let _ = writeln!(
            report,
            "| PostgreSQL baseline p99, whole mix | {:.2} ms (p50 {:.2} ms) | ≥ 10× the index's p99 | {:.1}× the index's p99 |",
            ms(pg_p99),
            ms(percentile(&pg_all, 50.0)),
            pg_p99.as_secs_f64() / p99.as_secs_f64()
        );
        let _ =
            writeln!(report, "| PostgreSQL baseline load and index build | {:.1} s | — | — |", b.load.as_secs_f64());
    }
    let _ = writeln!(
        report,
        "| publish → searchable, p50 / max of {} | {:.1} ms / {:.1} ms | ≤ 1 s | {:.3}× |",
        visibility.len(),
        ms(percentile(&visibility, 50.0)),
        ms(percentile(&visibility, 100.0)),
        percentile(&visibility, 100.0).as_secs_f64()
    );
    let _ = writeln!(
        report,
        "| match one need against {seeds} seeds, p50 / max of {} | {:.1} ms / {:.1} ms | ≤ 50 ms | p50 {:.2}×, max {:.2}× |",
        match_times.len(),
        ms(percentile(&match_times, 50.0)),
        ms(percentile(&match_times, 100.0)),
        ms(percentile(&match_times, 50.0)) / 50.0,
        ms(percentile(&match_times, 100.0)) / 50.0
    );
    if let Some(HttpRun { load, memory, cpu_per_request }) = &http {
        let connections = options.connections;
        let _ = writeln!(
            report,
            "| HTTP searches/s at {connections} connections ({} requests, {} errors) | {:.0} | ≥ 3,000 | {:.2}× |",
            load.requests,
            load.errors,
            load.per_second(),
            load.per_second() / 3000.0
        );
        let http_p99 = percentile(&load.latencies, 99.0);
        let _ = writeln!(
            report,
            "| HTTP search latency p50 / p99 at {connections} connections | {:.2} ms / {:.2} ms | p99 ≤ 20 ms | {:.2}× |",
            ms(percentile(&load.latencies, 50.0)),
            ms(http_p99),
            ms(http_p99) / 20.0
        );
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let _ = writeln!(
            report,
            "| server CPU time per search (all {cpus} CPUs busy allow at most {:.0}/s) | {:.2} ms | — | — |",
            cpus as f64 / cpu_per_request.as_secs_f64().max(1e-9),
            ms(*cpu_per_request)
        );
        let _ = writeln!(
            report,
            "| server memory: peak RSS (RSS after the load) | {:.0} MiB ({:.0} MiB) | ≤ 500 MiB | {:.2}× |",
            mib(memory.peak),
            mib(memory.rss),
            mib(memory.peak) / 500.0
        );
    }
    let _ = writeln!(
        report,
        "\n| query class | index p50 | index p99 | hits |{}",
        match &baseline {
            Some(_) => " PostgreSQL p50 | PostgreSQL p99 | PostgreSQL hits | p99 ratio |",
            None => "",
        }
    );
    let _ = writeln!(report, "|---|---|---|---|{}", if baseline.is_some() { "---|---|---|---|" } else { "" });
    for class in ["japanese", "english", "facets only", "text + facets"] {
        let times = sorted_class(&results, Some(class));
        let hits: Vec<String> = results.iter().filter(|r| r.class == class).map(|r| r.total.to_string()).collect();
        let _ = write!(
            report,
            "| {class} | {:.2} ms | {:.2} ms | {} |",
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 99.0)),
            hits.join(", ")
        );
        if let Some(b) = &baseline {
            let pg = sorted_class(&b.results, Some(class));
            let pg_hits: Vec<String> =
                b.results.iter().filter(|r| r.class == class).map(|r| r.total.to_string()).collect();
            let _ = write!(
                report,
                " {:.2} ms | {:.2} ms | {} | {:.1}× |",
                ms(percentile(&pg, 50.0)),
                ms(percentile(&pg, 99.0)),
                pg_hits.join(", "),
                percentile(&pg, 99.0).as_secs_f64() / percentile(&times, 99.0).as_secs_f64()
            );
        }
        let _ = writeln!(report);
    }
    if let Some(b) = &baseline {
        let same = results.iter().zip(&b.results).all(|(ours, theirs)| ours.total == theirs.total);
        let _ = writeln!(
            report,
            "\n{}",
            if same {
                "Both sides find the same number of records for every query of the mix, so they answer the same question."
            } else {
                "Hit counts differ where the two analyse text differently: the index stems English and matches Japanese by character bigrams; the baseline uses PostgreSQL's English configuration and substring matching."
            }
        );
    }
    Ok(report)
}

/// The PostgreSQL baseline: its load time, its version and the mix timed against it.
struct BaselineRun {
    version: String,
    load: Duration,
    results: Vec<Timed>,
}

async fn postgres_baseline(
    services: &kakehashi_service::Services,
    url: &str,
    organization: &Uuid,
    granted: &[Uuid],
    iterations: usize,
) -> anyhow::Result<BaselineRun> {
    use kakehashi_service::search::{need_doc, seed_doc};
    use kakehashi_store::{needs, seeds};
    let started = Instant::now();
    let baseline = postgres::Baseline::create(url)
        .await
        .context("the PostgreSQL baseline (set --postgres-url, or skip it with --no-postgres)")?;
    let outcome = async {
        let mut after = None;
        loop {
            let page = seeds::published_after(&services.db, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            baseline.insert(&page.iter().map(seed_doc).collect::<Vec<_>>()).await?;
        }
        let mut after = None;
        loop {
            let page = needs::published_after(&services.db, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            baseline.insert(&page.iter().map(need_doc).collect::<Vec<_>>()).await?;
        }
        baseline.build_indexes().await?;
        let load = started.elapsed();
        eprintln!("searching the PostgreSQL baseline …");
        let mut results = Vec::new();
        for probe in &mix() {
            let sql = postgres::Baseline::sql(probe, *organization, granted);
            let (times, total) = baseline.time(&sql, iterations).await?;
            results.push(Timed { class: probe.class, times, total });
        }
        anyhow::Ok(BaselineRun { version: baseline.version.clone(), load, results })
    }
    .await;
    baseline.drop_database().await?;
    outcome
}

/// What the HTTP part measured: the load, the server's memory, and the server's CPU time per
/// answered request (warm-up included).
struct HttpRun {
    load: http::Load,
    memory: http::Memory,
    cpu_per_request: Duration,
}

async fn http_load(data_dir: &std::path::Path, options: &Options) -> anyhow::Result<HttpRun> {
    let server = http::Server::start(data_dir).await?;
    let token = server.login("company0@demo-data.invalid", kakehashi::demo_data::PASSWORD).await?;
    let paths: Vec<String> = mix().iter().map(search_path).collect();
    let duration = Duration::from_secs(options.http_seconds.max(1));
    let warmup = (duration / 5).max(Duration::from_secs(1));
    let (addr, connections) = (server.addr, options.connections);
    let cpu_before = server.cpu();
    let load =
        tokio::task::spawn_blocking(move || http::load(addr, &token, &paths, connections, warmup, duration)).await??;
    let cpu = server.cpu().saturating_sub(cpu_before);
    let cpu_per_request = cpu / u32::try_from(load.all_requests.max(1)).unwrap_or(u32::MAX);
    Ok(HttpRun { memory: server.memory(), load, cpu_per_request })
}

/// Publishes seeds through the service, as the API does, and times until each is found by search.
async fn write_to_search_delays(
    services: &kakehashi_service::Services,
    samples: usize,
) -> anyhow::Result<Vec<Duration>> {
    let organization = services
        .ensure_organization("ベンチマーク大学", "Benchmark University", kakehashi_domain::OrganizationKind::Academia)
        .await?;
    let member = services
        .ensure_member(
            "bench@demo-data.invalid",
            "bench",
            kakehashi_domain::Role::Researcher,
            organization.id,
            "bench-password-1".into(),
        )
        .await?;
    let actor = kakehashi_service::auth::Authenticated {
        id: member.id,
        organization_id: organization.id,
        role: member.role,
        email: member.email.clone(),
        name: member.name.clone(),
        locale: member.locale,
    };
    let ctx = kakehashi_service::RequestContext::default();
    let everyone = Audience { seeds: SeedAudience::All, needs: NeedAudience::All };
    let mut delays = Vec::with_capacity(samples);
    for i in 0..samples {
        let word = format!("benchmarkword{i}x");
        let content = kakehashi_domain::SeedInput {
            title: format!("Visibility probe {word}"),
            summary: "A seed written to time indexing.".into(),
            confidential: kakehashi_domain::ConfidentialSection::default(),
            modalities: vec!["antibody".into()],
            disease_areas: vec!["oncology".into()],
            stage: "preclinical".into(),
            ip_status: "filed".into(),
            deal_types: vec![],
            keywords: vec![],
            visibility: kakehashi_domain::Visibility::Members,
            language: None,
        }
        .into_content();
        let seed = services.create_seed(&actor, content, &ctx).await?;
        services.set_seed_status(&actor, seed.id, kakehashi_domain::RecordStatus::Published, None, &ctx).await?;
        let published = Instant::now();
        let request = SearchRequest { text: word, limit: 1, ..Default::default() };
        loop {
            let index = std::sync::Arc::clone(&services.search);
            let (request, everyone) = (request.clone(), everyone.clone());
            let found = tokio::task::spawn_blocking(move || index.search(&request, &everyone)).await??.total;
            if found == 1 {
                delays.push(published.elapsed());
                break;
            }
            anyhow::ensure!(published.elapsed() < Duration::from_secs(30), "a published seed never became searchable");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    delays.sort_unstable();
    Ok(delays)
}
