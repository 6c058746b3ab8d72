//! The benchmark binary end to end.
#![allow(clippy::unwrap_used)]

use std::process::Command;

/// The harness end to end on a tiny data set: every part of the report is there (the figures
/// themselves are not judged here), and the `PostgreSQL` baseline runs when a server is configured.
#[test]
fn bench_reports_every_measure() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("benchmarks.md");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kakehashi-bench"));
    command
        .env("KAKEHASHI__DATA_DIR", dir.path())
        .env("KAKEHASHI__DATABASE__URL", "")
        .env("KAKEHASHI__LOG__LEVEL", "warn");
    command.args(["--seeds", "120", "--needs", "24", "--iterations", "10", "--connections", "4", "--bulk", "30"]);
    command.args(["--http-secs", "1", "--output"]).arg(&output);
    let postgres = std::env::var("KAKEHASHI_TEST_DATABASE_URL").ok();
    match &postgres {
        Some(url) => command.args(["--postgres-url", url]),
        None => command.arg("--no-postgres"),
    };
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(&output).unwrap();
    for measure in [
        "bulk load (144 records)",
        "full reindex",
        "in-process search p99",
        "match one need against 120 seeds",
        "bulk matching: ",
        "HTTP searches/s at 4 connections",
        "answering `/healthz` at 4 connections",
        "server memory: peak RSS",
        "| japanese |",
        "| text + facets |",
    ] {
        assert!(report.contains(measure), "{measure} missing from\n{report}");
    }
    let errors = report.lines().find(|l| l.contains("HTTP searches/s")).unwrap();
    assert!(errors.contains(", 0 errors)"), "{errors}");
    let distinct = errors.split(" distinct searches").next().and_then(|l| l.rsplit('(').next()).unwrap();
    assert!(distinct.parse::<usize>().unwrap() >= 1_000, "{errors}");
    assert_eq!(report.contains("PostgreSQL baseline p99"), postgres.is_some(), "{report}");
}
