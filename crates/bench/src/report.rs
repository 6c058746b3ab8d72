//! The benchmark's report: one table of every measure against its target, one of the query
//! classes beside the baseline, and whether both sides found the same records.

use std::fmt::Write as _;

use crate::{BaselineRun, Figures, HttpRun, Options, machine, mib, ms, percentile, sorted_class};

/// The report in Markdown.
pub(crate) fn render(options: &Options, figures: &Figures) -> String {
    let mut report = String::new();
    let _ = writeln!(report, "# Kakehashi benchmarks\n");
    summary(&mut report, options, figures);
    classes(&mut report, figures);
    agreement(&mut report, figures);
    pages(&mut report, figures);
    report
}

/// Every measure, its target and the ratio to it.
fn summary(out: &mut String, options: &Options, figures: &Figures) {
    let targets = &Targets::for_records(options.seeds + options.needs);
    produced_by(out, options, figures.baseline.as_ref());
    let _ = writeln!(out, "| measure | value | target | ratio |");
    let _ = writeln!(out, "|---|---|---|---|");
    index_lines(out, options, figures, targets);
    search_lines(out, figures, targets);
    matching_lines(out, options.seeds, figures);
    if let Some(run) = &figures.http {
        http_lines(out, run, options.connections, targets);
    }
}

/// The command that produced the report, the machine, and what the ratios compare with.
fn produced_by(out: &mut String, options: &Options, baseline: Option<&BaselineRun>) {
    let Options { seeds, needs, iterations, .. } = *options;
    let mut command = format!(
        "cargo run --release -p kakehashi-bench -- --seeds {seeds} --needs {needs} --iterations {iterations} --bulk {} --connections {} --http-secs {}",
        options.bulk, options.connections, options.http_seconds
    );
    if options.postgres_url.is_none() {
        command.push_str(" --no-postgres");
    }
    let _ = writeln!(out, "Produced by `{command}` in one run, on {}.", machine());
    let _ = writeln!(
        out,
        "The service runs on SQLite with its tantivy index{}. Ratios compare with the target (below 1 meets an upper bound, above 1 a lower bound) or with the baseline.\n",
        baseline.map_or_else(String::new, |b| format!("; the baseline on PostgreSQL {}", b.version))
    );
}

/// Writing the records and rebuilding the index from them.
fn index_lines(out: &mut String, options: &Options, figures: &Figures, targets: &Targets) {
    let Figures { load, reindex, records, segments, .. } = figures;
    let written = options.seeds + options.needs;
    let load_rate = written as f64 / load.as_secs_f64();
    let _ = writeln!(
        out,
        "| bulk load ({} records) | {:.1} s ({:.0} records/s) | — | — |",
        written,
        load.as_secs_f64(),
        load_rate
    );
    let reindex_rate = *records as f64 / reindex.as_secs_f64();
    let _ = writeln!(
        out,
        "| full reindex ({records} published records) | {:.2} s ({reindex_rate:.0} records/s) | ≥ {} records/s | {:.2}× |",
        reindex.as_secs_f64(),
        thousands(targets.reindex_per_second),
        reindex_rate / targets.reindex_per_second
    );
    let _ = writeln!(out, "| index segments after the rebuild | {segments} | — | — |");
}

/// The query mix in process, and in the baseline when it ran.
fn search_lines(out: &mut String, figures: &Figures, targets: &Targets) {
    let all = sorted_class(&figures.results, None);
    let p99 = percentile(&all, 99.0);
    let _ = writeln!(out, "| in-process search p50, whole mix | {:.2} ms | — | — |", ms(percentile(&all, 50.0)));
    let _ = writeln!(
        out,
        "| in-process search p99, whole mix | {:.2} ms | ≤ {} ms | {:.2}× |",
        ms(p99),
        targets.search_p99_ms,
        ms(p99) / targets.search_p99_ms
    );
    if let Some(b) = &figures.baseline {
        let pg_all = sorted_class(&b.results, None);
        let pg_p99 = percentile(&pg_all, 99.0);
        let _ = writeln!(
            out,
            "| PostgreSQL baseline p99, whole mix | {:.2} ms (p50 {:.2} ms) | ≥ 10× the index's p99 | {:.1}× the index's p99 |",
            ms(pg_p99),
            ms(percentile(&pg_all, 50.0)),
            pg_p99.as_secs_f64() / p99.as_secs_f64()
        );
        let _ = writeln!(out, "| PostgreSQL baseline load and index build | {:.1} s | — | — |", b.load.as_secs_f64());
    }
}

/// How soon a published record is found, matching one need, and the matcher draining a backlog.
fn matching_lines(out: &mut String, seeds: usize, figures: &Figures) {
    let Figures { visibility, match_times, bulk, .. } = figures;
    let _ = writeln!(
        out,
        "| publish → searchable, p50 / max of {} | {:.1} ms / {:.1} ms | ≤ 1 s | {:.3}× |",
        visibility.len(),
        ms(percentile(visibility, 50.0)),
        ms(percentile(visibility, 100.0)),
        percentile(visibility, 100.0).as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| match one need against {seeds} seeds, p50 / max of {} | {:.1} ms / {:.1} ms | p50 ≤ 25 ms, max ≤ 50 ms | p50 {:.2}×, max {:.2}× |",
        match_times.len(),
        ms(percentile(match_times, 50.0)),
        ms(percentile(match_times, 100.0)),
        ms(percentile(match_times, 50.0)) / 25.0,
        ms(percentile(match_times, 100.0)) / 50.0
    );
    if let Some(b) = bulk {
        let rate = b.records as f64 / b.drain.as_secs_f64();
        let _ = writeln!(
            out,
            "| bulk matching: {} records written in one batch ({:.1} s), the backlog drained by the matcher ({} open matches after) | {:.1} s ({rate:.0} records/s) | ≥ 1,000 records/s | {:.2}× |",
            b.records,
            b.write.as_secs_f64(),
            b.matches,
            b.drain.as_secs_f64(),
            rate / 1000.0
        );
    }
}

/// The server under HTTP load: searches, the `/healthz` ceiling, latency, CPU and memory.
fn http_lines(out: &mut String, run: &HttpRun, connections: usize, targets: &Targets) {
    let HttpRun { load, searches, ceiling, cpu_per_request, .. } = run;
    let _ = writeln!(
        out,
        "| HTTP searches/s at {connections} connections ({searches} distinct searches; {} requests, {} errors) | {:.0} | ≥ {} | {:.2}× |",
        load.requests,
        load.errors,
        load.per_second(),
        thousands(targets.http_per_second),
        load.per_second() / targets.http_per_second
    );
    let _ = writeln!(
        out,
        "| the same server answering `/healthz` at {connections} connections, same run (the HTTP ceiling; {} errors) | {:.0}/s (p99 {:.2} ms) | — | searches at {:.2}× of it |",
        ceiling.errors,
        ceiling.per_second(),
        ms(percentile(&ceiling.latencies, 99.0)),
        load.per_second() / ceiling.per_second().max(1e-9)
    );
    let http_p99 = percentile(&load.latencies, 99.0);
    let _ = writeln!(
        out,
        "| HTTP search latency p50 / p99 at {connections} connections | {:.2} ms / {:.2} ms | p99 ≤ {} ms | {:.2}× |",
        ms(percentile(&load.latencies, 50.0)),
        ms(http_p99),
        targets.http_p99_ms,
        ms(http_p99) / targets.http_p99_ms
    );
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let _ = writeln!(
        out,
        "| server CPU time per search (all {cpus} CPUs busy allow at most {:.0}/s) | {:.2} ms | {} | {} |",
        cpus as f64 / cpu_per_request.as_secs_f64().max(1e-9),
        ms(*cpu_per_request),
        targets.cpu_per_search_ms.map_or_else(|| "—".to_owned(), |t| format!("≤ {t} ms")),
        targets.cpu_per_search_ms.map_or_else(|| "—".to_owned(), |t| format!("{:.2}×", ms(*cpu_per_request) / t))
    );
    memory_lines(out, run, targets);
}

/// The server's memory over its whole life, what its peak was made of, and how long its start
/// (the index rebuild) took.
fn memory_lines(out: &mut String, http: &HttpRun, targets: &Targets) {
    let HttpRun { memory, started_in, others_cpus, .. } = http;
    let _ = writeln!(
        out,
        "| server start to ready, rebuilding the index from the database | {:.1} s | — | — |",
        started_in.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| server memory: peak RSS over its whole life (`VmHWM`), the index rebuilt at start included (RSS at the end) | {:.0} MiB ({:.0} MiB) | ≤ {} MiB | {:.2}× |",
        mib(memory.hwm),
        mib(memory.rss),
        targets.peak_mib,
        mib(memory.hwm) / targets.peak_mib as f64
    );
    let parts: Vec<String> = memory
        .at_peak
        .parts
        .iter()
        .filter(|(_, b)| *b >= 1 << 20)
        .map(|(w, b)| format!("{w} {:.0} MiB", mib(*b)))
        .collect();
    let _ = writeln!(
        out,
        "| what the largest sampled RSS ({:.0} MiB, {}) was made of | {} | — | — |",
        mib(memory.at_peak.total),
        memory.at_peak.phase,
        parts.join("; ")
    );
    let phases: Vec<String> =
        memory.by_phase.iter().filter(|(_, b)| *b > 0).map(|(p, b)| format!("{p} {:.0} MiB", mib(*b))).collect();
    let _ = writeln!(
        out,
        "| largest RSS sampled in each phase (heap and anonymous at most {:.0} MiB, in {}; mapped files at most {:.0} MiB, in {}) | {} | — | — |",
        mib(memory.anon.0),
        memory.anon.1,
        mib(memory.file.0),
        memory.file.1,
        phases.join("; ")
    );
    let _ = writeln!(
        out,
        "| CPU used by other processes on this machine while the searches were measured | {others_cpus:.2} CPUs | — | — |"
    );
}

/// 3000.0 as "3,000".
fn thousands(n: f64) -> String {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "rates and counts: positive and far below 2^64"
    )]
    let n = n.round() as u64;
    if n >= 1000 { format!("{},{:03}", n / 1000, n % 1000) } else { n.to_string() }
}

/// The targets: for 100,000 seeds and 20,000 needs, and for a million records (from a
/// million records on).
pub(crate) struct Targets {
    pub(crate) reindex_per_second: f64,
    pub(crate) search_p99_ms: f64,
    pub(crate) http_per_second: f64,
    pub(crate) http_p99_ms: f64,
    /// None at a million: the issue sets none there.
    pub(crate) cpu_per_search_ms: Option<f64>,
    pub(crate) peak_mib: u64,
}

impl Targets {
    pub(crate) fn for_records(records: usize) -> Targets {
        if records >= 1_000_000 {
            Targets {
                reindex_per_second: 25_000.0,
                search_p99_ms: 10.0,
                http_per_second: 1_500.0,
                http_p99_ms: 40.0,
                cpu_per_search_ms: None,
                peak_mib: 1_536,
            }
        } else {
            Targets {
                reindex_per_second: 20_000.0,
                search_p99_ms: 5.0,
                http_per_second: 3_000.0,
                http_p99_ms: 20.0,
                cpu_per_search_ms: Some(0.6),
                peak_mib: 300,
            }
        }
    }
}

/// Each class of the query mix, in process and (when run) in the baseline.
fn classes(out: &mut String, figures: &Figures) {
    let Figures { results, baseline, .. } = figures;
    let _ = writeln!(
        out,
        "\n| query class | index p50 | index p99 | hits |{}",
        match &baseline {
            Some(_) => " PostgreSQL p50 | PostgreSQL p99 | PostgreSQL hits | p99 ratio |",
            None => "",
        }
    );
    let _ = writeln!(out, "|---|---|---|---|{}", if baseline.is_some() { "---|---|---|---|" } else { "" });
    for class in ["japanese", "english", "facets only", "text + facets"] {
        let times = sorted_class(results, Some(class));
        let hits: Vec<String> = results.iter().filter(|r| r.class == class).map(|r| r.total.to_string()).collect();
        let _ = write!(
            out,
            "| {class} | {:.2} ms | {:.2} ms | {} |",
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 99.0)),
            hits.join(", ")
        );
        if let Some(b) = baseline {
            let pg = sorted_class(&b.results, Some(class));
            let pg_hits: Vec<String> =
                b.results.iter().filter(|r| r.class == class).map(|r| r.total.to_string()).collect();
            let _ = write!(
                out,
                " {:.2} ms | {:.2} ms | {} | {:.1}× |",
                ms(percentile(&pg, 50.0)),
                ms(percentile(&pg, 99.0)),
                pg_hits.join(", "),
                percentile(&pg, 99.0).as_secs_f64() / percentile(&times, 99.0).as_secs_f64()
            );
        }
        let _ = writeln!(out);
    }
}

/// Whether the index and the baseline found as many records for every query.
fn agreement(out: &mut String, figures: &Figures) {
    let Figures { results, baseline, .. } = figures;
    if let Some(b) = baseline {
        let same = results.iter().zip(&b.results).all(|(ours, theirs)| ours.total == theirs.total);
        let _ = writeln!(
            out,
            "\n{}",
            if same {
                "Both sides find the same number of records for every query of the mix, so they answer the same question."
            } else {
                "Hit counts differ where the two analyse text differently: the index stems English and matches Japanese by character bigrams; the baseline uses PostgreSQL's English configuration and substring matching."
            }
        );
    }
}

/// The web application's pages beside the JSON API's answers for the same thing.
fn pages(out: &mut String, figures: &Figures) {
    let Some(HttpRun { pages, .. }) = &figures.http else { return };
    if pages.is_empty() {
        return;
    }
    let rounds = pages.first().map_or(0, |p| p.page.len());
    let _ = writeln!(
        out,
        "\n## Web pages beside the JSON API\n\nThe company member's browser session against the same member's bearer token, {rounds} rounds of each request one after another on one keep-alive connection to the idle server (so a latency here is the server's time plus a loopback round trip). The issue sets no target here; the ratio shows what rendering costs. The seed page also reads the seed's open matches and, for a company, its published needs for the introduction form, which the JSON answer does not.\n"
    );
    let _ = writeln!(out, "| what | page p50 / p99 | JSON API p50 / p99 | page ÷ API at p50 |");
    let _ = writeln!(out, "|---|---|---|---|");
    for p in pages {
        let (page50, api50) = (ms(percentile(&p.page, 50.0)), ms(percentile(&p.api, 50.0)));
        let _ = writeln!(
            out,
            "| {} (`{}` / `{}`) | {page50:.2} ms / {:.2} ms | {api50:.2} ms / {:.2} ms | {:.2}× |",
            p.what,
            p.page_path,
            p.api_path,
            ms(percentile(&p.page, 99.0)),
            ms(percentile(&p.api, 99.0)),
            page50 / api50.max(1e-9)
        );
    }
}
