//! `kakehashi-bench`: builds a synthetic data set in a scratch directory and measures, in one
//! run: bulk loading, a full reindex, in-process search latency for a fixed query mix, the same
//! mix against a `PostgreSQL` full-text baseline over the same records, matching one need against
//! every seed, the delay from publishing to searchable, and throughput, latency and memory of the
//! real server under concurrent HTTP load. It prints a table and writes it to
//! `docs/benchmarks.md`.

mod http;
mod memory;
mod postgres;
pub mod queries;
mod report;

/// The argument that makes this binary serve instead of measure: the HTTP part starts the server
/// as a child process of its own executable, so no `kakehashi` binary needs to be built beside it.
pub const SERVE: &str = "serve";

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
    /// The `PostgreSQL` server for the baseline (a scratch database is created and dropped);
    /// `None` skips it.
    pub postgres_url: Option<String>,
    /// Concurrent connections of the HTTP load; 0 skips it.
    pub connections: usize,
    /// Measured seconds of HTTP load (after a warm-up of a fifth as long, at least one second).
    pub http_seconds: u64,
    /// Seeds written in one batch, as an import writes them, for the bulk matching measure; 0
    /// skips it.
    pub bulk: usize,
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
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a rank between 0 and the list's length"
    )]
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
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

/// Everything one run measured, for the report.
struct Figures {
    /// Writing the synthetic records.
    load: Duration,
    /// The full reindex, the records it indexed and the segments it left.
    reindex: Duration,
    records: u64,
    segments: usize,
    /// The mix in process.
    results: Vec<Timed>,
    baseline: Option<BaselineRun>,
    /// Matching one need against every seed, sorted.
    match_times: Vec<Duration>,
    /// Publish to searchable, sorted.
    visibility: Vec<Duration>,
    bulk: Option<BulkRun>,
    http: Option<HttpRun>,
}

/// A backlog written in one batch and drained by the matcher.
struct BulkRun {
    /// Records the matcher claimed and matched until nothing was left.
    records: usize,
    /// Writing the batch.
    write: Duration,
    /// From the end of the write until the backlog was empty (indexing included).
    drain: Duration,
    /// Open matches afterwards.
    matches: u64,
}

/// A company member of no organisation in the data: the most restrictive audience, so the
/// visibility filter is exercised on every query.
const NOBODY: Uuid = Uuid::nil();

/// Runs the benchmark and returns the report (Markdown).
///
/// # Errors
/// When a step fails.
pub async fn run(options: &Options) -> anyhow::Result<String> {
    let Options { seeds, needs, iterations, .. } = *options;
    let scratch = tempfile::tempdir()?;
    let settings = scratch_settings(scratch.path())?;
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
    let results = search_in_process(&services, iterations).await?;
    let baseline = match &options.postgres_url {
        Some(url) => {
            eprintln!("loading the PostgreSQL baseline …");
            Some(postgres_baseline(&services, url, &NOBODY, &[NOBODY], (iterations / 4).max(5)).await?)
        }
        None => None,
    };
    eprintln!("matching needs against every seed …");
    let match_times = match_needs(&services).await?;
    eprintln!("matching a backlog of {} seeds, then measuring write-to-searchable delay …", options.bulk);
    let (bulk, visibility) = with_indexer(&services, background, &settings, options.bulk).await?;

    let browser = browser(&services).await?;
    let searches = http_mix(&services).await?;
    // The server opens the same database and index: this process lets go of them first.
    let (db, search) = (services.db.clone(), std::sync::Arc::clone(&services.search));
    drop(services);
    drop(search);
    db.close().await?;
    let http = if options.connections > 0 {
        eprintln!("starting the server and loading it over HTTP with {} connections …", options.connections);
        Some(http_load(scratch.path(), &settings, options, &browser, &searches).await?)
    } else {
        None
    };
    let figures = Figures { load, reindex, records, segments, results, baseline, match_times, visibility, bulk, http };
    Ok(report::render(options, &figures))
}

/// The settings of a run: `SQLite` and the index in `dir`, matching off (the benchmark times it
/// itself).
fn scratch_settings(dir: &std::path::Path) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(None)?;
    dir.clone_into(&mut settings.data_dir);
    settings.database.url = String::new();
    settings.search.dir = String::new();
    settings.matching.enabled = false;
    Ok(settings)
}

/// Times every query of the mix in process, after a tenth as many untimed runs.
async fn search_in_process(services: &kakehashi_service::Services, iterations: usize) -> anyhow::Result<Vec<Timed>> {
    let audience = Audience {
        seeds: SeedAudience::Restricted { own_organization: None, granted: vec![NOBODY] },
        needs: NeedAudience::Organization(NOBODY),
    };
    let index = services.search.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Timed>> {
        let mut out = Vec::new();
        for probe in &mix() {
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
    .await?
}

/// Matches a sample of needs against every seed, one at a time; the times sorted.
async fn match_needs(services: &kakehashi_service::Services) -> anyhow::Result<Vec<Duration>> {
    let needs_sample = kakehashi_store::needs::published_after(&services.db, None, 20).await?;
    let mut match_times = Vec::with_capacity(needs_sample.len());
    for need in &needs_sample {
        let started = Instant::now();
        services.match_record(kakehashi_store::changes::RecordKind::Need, need.id).await?;
        match_times.push(started.elapsed());
    }
    match_times.sort_unstable();
    Ok(match_times)
}

/// Runs the indexer as the server does while a backlog is matched and publish → searchable is
/// timed.
async fn with_indexer(
    services: &std::sync::Arc<kakehashi_service::Services>,
    background: startup::Background,
    settings: &Settings,
    bulk: usize,
) -> anyhow::Result<(Option<BulkRun>, Vec<Duration>)> {
    let mut state = background.indexer;
    state.last_seq = kakehashi_store::changes::last_seq(&services.db).await?;
    let interval = Duration::from_millis(settings.search.poll_interval_ms);
    let indexer_task = tokio::spawn(std::sync::Arc::clone(services).run_indexer(state, interval));
    let outcome = async {
        let bulk = if bulk > 0 { Some(bulk_matching(services, bulk).await?) } else { None };
        anyhow::Ok((bulk, write_to_search_delays(services, 30).await?))
    }
    .await;
    indexer_task.abort();
    let _ = indexer_task.await;
    outcome
}

/// Bulk matching after an import: the generated data's own backlog is set aside (as though it
/// had been matched, so the measure does not take an hour), `n` more seeds are written in one
/// batch as an import writes them, and the matcher drains the backlog as the server's does, one
/// claimed batch after another, while the indexer applies the batch.
async fn bulk_matching(services: &kakehashi_service::Services, n: usize) -> anyhow::Result<BulkRun> {
    use sea_orm::ConnectionTrait as _;
    services.db.execute_unprepared("DELETE FROM match_work").await?;
    let started = Instant::now();
    kakehashi::demo_data::generate(services, n, 0, 4242, &|_| {}).await?;
    let write = started.elapsed();
    let started = Instant::now();
    let mut records = 0;
    while kakehashi_store::match_work::waiting(&services.db).await? > 0 {
        anyhow::ensure!(started.elapsed() < Duration::from_mins(10), "the backlog was not drained in ten minutes");
        match services.match_due().await? {
            0 => tokio::time::sleep(Duration::from_millis(1)).await,
            claimed => records += claimed,
        }
    }
    let drain = started.elapsed();
    let matches = {
        use kakehashi_store::entity::match_;
        use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
        match_::Entity::find().filter(match_::Column::Status.eq("open")).count(&services.db).await?
    };
    Ok(BulkRun { records, write, drain, matches })
}

/// The `PostgreSQL` baseline: its load time, its version and the mix timed against it.
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

/// What the HTTP part measured: the load, the server's memory, the server's CPU time per
/// answered request (warm-up included), and the same load on `/healthz` (what HTTP alone allows).
struct HttpRun {
    load: http::Load,
    /// Distinct searches in the mix.
    searches: usize,
    ceiling: http::Load,
    /// The server's memory over its whole life.
    memory: memory::Peaks,
    /// From starting the server to its first ready answer: it rebuilds the index meanwhile.
    started_in: Duration,
    cpu_per_request: Duration,
    /// CPUs' worth of time that processes other than the server and this benchmark used while
    /// the searches were measured (other work on a shared machine skews every figure).
    others_cpus: f64,
    pages: Vec<PageTiming>,
}

/// Records sampled for the HTTP mix's vocabulary.
const VOCABULARY_SAMPLE: u64 = 3_000;

/// The HTTP load's searches, drawn from a sample of the records' text and the taxonomy.
async fn http_mix(services: &kakehashi_service::Services) -> anyhow::Result<Vec<queries::Search>> {
    let seeds = kakehashi_store::seeds::published_after(&services.db, None, VOCABULARY_SAMPLE).await?;
    let needs = kakehashi_store::needs::published_after(&services.db, None, VOCABULARY_SAMPLE / 5).await?;
    let texts: Vec<String> = seeds
        .iter()
        .map(|s| format!("{} {}", s.content.title, s.content.summary))
        .chain(needs.iter().map(|n| format!("{} {}", n.content.title, n.content.description)))
        .collect();
    let vocabulary = queries::Vocabulary::of(texts.iter().map(String::as_str));
    let searches = queries::mix(&vocabulary, &services.taxonomy);
    anyhow::ensure!(searches.len() >= queries::AT_LEAST, "only {} distinct searches", searches.len());
    Ok(searches)
}

/// What a browser is served beside what the JSON API answers for the same thing.
struct PageTiming {
    what: &'static str,
    page_path: String,
    api_path: String,
    /// Sorted latencies, one request at a time on one connection.
    page: Vec<Duration>,
    api: Vec<Duration>,
}

/// A browser session of the company member the load runs as, opened before the server starts,
/// and a seed that member may read.
struct Browser {
    cookie: String,
    seed: Uuid,
}

/// Sequential rounds of each page and its API twin.
const PAGE_ROUNDS: usize = 200;

async fn browser(services: &kakehashi_service::Services) -> anyhow::Result<Browser> {
    let timeouts = kakehashi_service::web_sessions::SessionTimeouts {
        idle: Duration::from_hours(1),
        absolute: Duration::from_hours(8),
    };
    let opened = services
        .open_web_session(
            COMPANY,
            kakehashi::demo_data::PASSWORD.to_owned(),
            timeouts,
            &kakehashi_service::RequestContext::default(),
        )
        .await?;
    let query = kakehashi_service::search::SearchQuery {
        text: PAGE_QUERY.to_owned(),
        kind: Some(Kind::Seed),
        filters: FacetFilters::default(),
        sort: kakehashi_search::Sort::Relevance,
        page: kakehashi_domain::Page { page: 1, per_page: 1 },
    };
    let found = services.search(&opened.member, query).await?;
    let seed = found.items.first().map(|item| item.hit.id).context("the company member finds no seed to open")?;
    Ok(Browser { cookie: opened.cookie_value, seed })
}

/// The member the HTTP load and the page timings run as.
const COMPANY: &str = "company0@demo-data.invalid";
/// The query of the search page timing.
const PAGE_QUERY: &str = "抗体";

async fn time_pages(addr: std::net::SocketAddr, token: &str, browser: &Browser) -> anyhow::Result<Vec<PageTiming>> {
    let q: String = form_urlencoded::byte_serialize(PAGE_QUERY.as_bytes()).collect();
    let pairs = [
        ("search page", format!("/search?q={q}&kind=seed"), format!("/api/v1/search?q={q}&kind=seed&per_page=20")),
        ("seed page", format!("/seeds/{}", browser.seed), format!("/api/v1/seeds/{}", browser.seed)),
    ];
    let cookie = format!("Cookie: {}={}", kakehashi_web::session::SESSION_COOKIE, browser.cookie);
    let bearer = format!("Authorization: Bearer {token}");
    let get = |path: &str, credential: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{credential}\r\n\r\n").into_bytes()
    };
    let requests: Vec<Vec<u8>> =
        pairs.iter().flat_map(|(_, page, api)| [get(page, &cookie), get(api, &bearer)]).collect();
    let mut times = http::sequential(addr, &requests, PAGE_ROUNDS).await?.into_iter();
    let mut timings = Vec::new();
    for (what, page_path, api_path) in pairs {
        let (Some(page), Some(api)) = (times.next(), times.next()) else { break };
        timings.push(PageTiming { what, page_path, api_path, page, api });
    }
    Ok(timings)
}

async fn http_load(
    data_dir: &std::path::Path,
    settings: &Settings,
    options: &Options,
    browser: &Browser,
    searches: &[queries::Search],
) -> anyhow::Result<HttpRun> {
    // The server rebuilds the index at start, as after an upgrade or a damaged index, so its
    // peak memory includes the rebuild.
    std::fs::remove_dir_all(settings.index_dir()).context("removing the index before the server starts")?;
    let server = http::Server::start(data_dir).await?;
    let token = server.login(COMPANY, kakehashi::demo_data::PASSWORD).await?;
    let paths: Vec<String> = searches.iter().map(|s| s.path.clone()).collect();
    let duration = Duration::from_secs(options.http_seconds.max(1));
    let warmup = (duration / 5).max(Duration::from_secs(1));
    let (addr, connections) = (server.addr, options.connections);
    server.enter(1);
    let cpu_before = server.cpu();
    let (machine_before, own_before) = (machine_busy(), http::cpu_of("/proc/self/stat"));
    let load = {
        let token = token.clone();
        tokio::task::spawn_blocking(move || http::load(addr, &token, &paths, connections, warmup, duration)).await??
    };
    let cpu = server.cpu().saturating_sub(cpu_before);
    let others = machine_busy()
        .saturating_sub(machine_before)
        .saturating_sub(cpu)
        .saturating_sub(http::cpu_of("/proc/self/stat").saturating_sub(own_before));
    let others_cpus = others.as_secs_f64() / (warmup + duration).as_secs_f64();
    let cpu_per_request = cpu / u32::try_from(load.all_requests.max(1)).unwrap_or(u32::MAX);
    server.enter(2);
    eprintln!("loading /healthz the same way …");
    let ceiling = {
        let (token, paths) = (token.clone(), vec!["/healthz".to_owned()]);
        tokio::task::spawn_blocking(move || http::load(addr, &token, &paths, connections, warmup, duration)).await??
    };
    eprintln!("timing the web pages beside the JSON API …");
    server.enter(3);
    let pages = time_pages(server.addr, &token, browser).await?;
    let memory = server.memory();
    let started_in = server.started_in;
    Ok(HttpRun { memory, started_in, load, searches: searches.len(), ceiling, cpu_per_request, others_cpus, pages })
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
            external_ref: None,
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

/// CPU time every process of the machine has used since boot, user and system (Linux).
fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> =
        stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user, nice, system, then idle and iowait (not busy), then irq and softirq.
    let busy = ticks.iter().take(3).sum::<u64>() + ticks.iter().skip(5).take(2).sum::<u64>();
    Duration::from_millis(busy * 10)
}
