//! `kakehashi bench`: builds a synthetic data set in a scratch directory and measures, in one
//! run, bulk loading, a full reindex and in-process search latency for a fixed query mix, then
//! prints a table and writes it to `docs/benchmarks.md`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use kakehashi_search::{Audience, FacetFilters, Kind, NeedAudience, SearchRequest, SeedAudience};
use uuid::Uuid;

use crate::settings::Settings;
use crate::startup::{self, IndexMode};

/// One query of the mix.
struct Probe {
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

/// Runs the benchmark and returns the report (Markdown).
///
/// # Errors
/// When a step fails.
pub async fn run(seeds: usize, needs: usize, iterations: usize) -> anyhow::Result<String> {
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
    crate::demo_data::generate(&services, seeds, needs, 42, &|_| {}).await?;
    let load = started.elapsed();

    eprintln!("reindexing …");
    let started = Instant::now();
    let (_, records) = services.rebuild_index(&|_, _| {}).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let reindex = started.elapsed();

    eprintln!("searching …");
    // A company member: the most restrictive audience, so the visibility filter is exercised.
    let audience = Audience {
        seeds: SeedAudience::Restricted { own_organization: None, granted: vec![Uuid::nil()] },
        needs: NeedAudience::Organization(Uuid::nil()),
    };
    let probes = mix();
    let index = services.search.clone();
    let results = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(&'static str, Vec<Duration>, usize)>> {
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
            out.push((probe.class, times, total));
        }
        Ok(out)
    })
    .await??;

    eprintln!("matching needs against every seed …");
    let needs_sample = kakehashi_service::store::needs::published_after(&services.db, None, 20).await?;
    let mut match_times = Vec::with_capacity(needs_sample.len());
    for need in &needs_sample {
        let started = Instant::now();
        services
            .match_record(kakehashi_service::store::changes::RecordKind::Need, need.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match_times.push(started.elapsed());
    }
    match_times.sort_unstable();

    eprintln!("measuring write-to-searchable delay …");
    let mut state = background.indexer;
    state.last_seq = kakehashi_service::store::changes::last_seq(&services.db).await?;
    let interval = Duration::from_millis(settings.search.poll_interval_ms);
    let indexer_task = tokio::spawn(std::sync::Arc::clone(&services).run_indexer(state, interval));
    let visibility = write_to_search_delays(&services, 30).await?;
    indexer_task.abort();

    let mut all: Vec<Duration> = results.iter().flat_map(|r| r.1.iter().copied()).collect();
    all.sort_unstable();
    let mut report = String::new();
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let _ = writeln!(report, "# Kakehashi benchmarks\n");
    let _ = writeln!(
        report,
        "Produced by `cargo run --release -- bench --seeds {seeds} --needs {needs} --iterations {iterations}` on a {cpus}-CPU machine, SQLite, in one run.\n"
    );
    let _ = writeln!(report, "| measure | value | target | ratio to target |");
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
    let p50 = percentile(&all, 50.0);
    let p99 = percentile(&all, 99.0);
    let _ = writeln!(report, "| in-process search p50, whole mix | {:.2} ms | — | — |", ms(p50));
    let _ = writeln!(
        report,
        "| in-process search p99, whole mix | {:.2} ms | ≤ 5 ms | {:.2}× (below 1 meets it) |",
        ms(p99),
        ms(p99) / 5.0
    );
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
        "| match one need against {seeds} seeds, p50 / max of {} | {:.1} ms / {:.1} ms | ≤ 50 ms | {:.2}× |",
        match_times.len(),
        ms(percentile(&match_times, 50.0)),
        ms(percentile(&match_times, 100.0)),
        ms(percentile(&match_times, 100.0)) / 50.0
    );
    let _ = writeln!(report, "\n| query class | p50 | p99 | hits |");
    let _ = writeln!(report, "|---|---|---|---|");
    for class in ["japanese", "english", "facets only", "text + facets"] {
        let mut times: Vec<Duration> =
            results.iter().filter(|r| r.0 == class).flat_map(|r| r.1.iter().copied()).collect();
        times.sort_unstable();
        let hits: Vec<String> = results.iter().filter(|r| r.0 == class).map(|r| r.2.to_string()).collect();
        let _ = writeln!(
            report,
            "| {class} | {:.2} ms | {:.2} ms | {} |",
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 99.0)),
            hits.join(", ")
        );
    }
    Ok(report)
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
        let seed = services.create_seed(&actor, content, &ctx).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        services
            .set_seed_status(&actor, seed.id, kakehashi_domain::RecordStatus::Published, None, &ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
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
