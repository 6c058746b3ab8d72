//! Faults an operator meets: a database that does not answer, storage that cannot be written.
//! Each answers quickly and truthfully, and the service recovers by itself.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use sea_orm::TransactionTrait as _;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app_with};

#[actix_web::test]
async fn a_database_that_does_not_answer_is_a_quick_503_and_recovery_is_by_itself() {
    let app = spawn_app_with(|s| {
        s.database.max_connections = 1;
        s.database.acquire_timeout_ms = 300;
    })
    .await;
    let (_, admin) = app.admin().await;
    assert_eq!(app.get("/api/v1/me", Some(&admin)).await.status, 200);

    // The only connection taken: to every request the database is gone.
    let held = app.services.db.begin().await.unwrap();
    let started = Instant::now();
    let res = app.get("/api/v1/me", Some(&admin)).await;
    let waited = started.elapsed();
    assert_problem(&res, 503, "unavailable");
    assert!(res.headers.get("retry-after").is_some(), "a 503 says when to retry");
    assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
    let res = app
        .request(
            Method::POST,
            "/api/v1/admin/organizations",
            Some(&admin),
            Some(json!({ "name": "x", "kind": "company" })),
        )
        .await;
    assert_eq!(res.status, 503, "{}", res.text);

    let started = Instant::now();
    let ready = app.get("/readyz", None).await;
    assert_problem(&ready, 503, "unavailable");
    assert!(started.elapsed() < Duration::from_secs(1), "readiness answered after {:?}", started.elapsed());

    // The database is back: so is the service, with nothing to do for anyone.
    held.rollback().await.unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&admin)).await.status, 200);
    assert_eq!(app.get("/readyz", None).await.status, 200);
}

/// A small filesystem of its own, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// A tmpfs of `mib` MiB, or `None` (with the reason printed) where this process may not mount.
    fn mount(mib: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => Some(SmallDisk { dir }),
            Ok(out) => {
                eprintln!("SKIPPED: cannot mount a small filesystem: {}", String::from_utf8_lossy(&out.stderr).trim());
                None
            }
            Err(err) => {
                eprintln!("SKIPPED: cannot run mount: {err}");
                None
            }
        }
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Fills the disk with one file; returns its path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write as _;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl SmallDisk {
    /// Makes the filesystem read-only (possible only while no file on it is open for writing).
    /// Waits for files closed in the background (a dropped pool closes its connections so).
    async fn remount_read_only(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = std::process::Command::new("mount").args(["-o", "remount,ro"]).arg(self.path()).output().unwrap();
            if out.status.success() {
                return;
            }
            assert!(Instant::now() < deadline, "remount read-only: {}", String::from_utf8_lossy(&out.stderr));
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// A full disk under the embedded database: every refusal is a 503, every 201 is stored, and the
/// service takes writes again by itself once space returns. Needs to mount a small tmpfs (root);
/// skipped with a message where that is not permitted.
#[actix_web::test]
async fn a_full_disk_acknowledges_only_what_is_stored_and_recovers_by_itself() {
    if std::env::var("KAKEHASHI_TEST_DATABASE_URL").is_ok() {
        eprintln!("SKIPPED on PostgreSQL: this test fills the embedded database's disk");
        return;
    }
    let Some(disk) = SmallDisk::mount(6) else { return };
    let dir = disk.path().to_owned();
    let world = crate::world::World::with(move |s| s.data_dir = dir).await;
    let filler = disk.fill();

    let mut stored = Vec::new();
    let mut refused = 0;
    for i in 0..60 {
        let mut body = crate::world::seed_body(&crate::world::marker(), "members");
        body["summary"] = json!(format!("{i} {}", "Antisense oligonucleotides restoring dystrophin. ".repeat(60)));
        let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
        match res.status.as_u16() {
            201 => stored.push(res.body["id"].as_str().unwrap().to_owned()),
            503 => {
                assert_problem(&res, 503, "unavailable");
                assert!(res.headers.get("retry-after").is_some());
                refused += 1;
            }
            other => panic!("a full disk answered {other}: {}", res.text),
        }
    }
    assert!(refused > 0, "the disk never filled up ({} stored)", stored.len());
    assert_problem(&world.app.get("/readyz", None).await, 503, "unavailable");

    // Space comes back: the service takes writes again without a restart.
    std::fs::remove_file(filler).unwrap();
    crate::helpers::until("readiness after space returned", async || {
        (world.app.get("/readyz", None).await.status == 200).then_some(())
    })
    .await;
    let started = Instant::now();
    crate::helpers::until("a write after space returned", async || {
        let body = crate::world::seed_body(&crate::world::marker(), "members");
        let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
        assert!(res.status == 201 || res.status == 503, "{}", res.text);
        (res.status == 201).then_some(())
    })
    .await;
    eprintln!("writes resumed {:?} after readiness", started.elapsed());
    // Everything acknowledged is there.
    for id in stored {
        let res = world.call(&world.researcher_a, Method::GET, &format!("/api/v1/seeds/{id}"), None).await;
        assert_eq!(res.status, 200, "acknowledged seed {id} is missing: {}", res.text);
    }
}

/// Every published seed by `researcher_a` titled with `word`, as `company_c` finds them.
async fn found(world: &crate::world::World, word: &str) -> crate::helpers::Response {
    let q = form_urlencoded::byte_serialize(word.as_bytes()).collect::<String>();
    world.call(&world.company_c, Method::GET, &format!("/api/v1/search?q={q}&per_page=50"), None).await
}

async fn publish_titled(world: &crate::world::World, title: &str) -> String {
    let mut body = crate::world::seed_body(&crate::world::marker(), "members");
    body["title"] = json!(title);
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_owned();
    let res = world.call(&world.researcher_a, Method::POST, &format!("/api/v1/seeds/{id}/publish"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    id
}

/// The index's files with `extension`, every segment's.
fn index_files(dir: &std::path::Path, extension: &str) -> Vec<std::path::PathBuf> {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    assert!(!files.is_empty(), "no .{extension} file in {}", dir.display());
    files
}

/// Overwrites the first 4 KiB of `path` in place (as a bad block or a stray write would).
fn overwrite_4k(path: &std::path::Path) {
    use std::io::{Seek as _, Write as _};
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(std::io::SeekFrom::Start(0)).unwrap();
    file.write_all(&[0x01; 4096]).unwrap();
    file.sync_all().unwrap();
}

#[actix_web::test]
async fn damaged_index_files_found_at_start_are_rebuilt_from_the_database() {
    let world = crate::world::World::new().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(publish_titled(&world, &format!("抗体薬物複合体のリンカー技術 第{i}世代")).await);
    }
    crate::helpers::until("the seeds indexed", async || {
        (found(&world, "リンカー").await.body["total"] == 5).then_some(())
    })
    .await;

    // Stopped, a segment file deleted and 4 KiB of another overwritten, then started again.
    let world = world
        .restart_with(|s| {
            let dir = s.index_dir();
            std::fs::remove_file(&index_files(&dir, "pos")[0]).unwrap();
            for store in index_files(&dir, "store") {
                overwrite_4k(&store);
            }
        })
        .await;
    let ready = world.app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["search_documents"], 5);
    let res = found(&world, "リンカー").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut hits: Vec<String> =
        res.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    hits.sort();
    ids.sort();
    assert_eq!(hits, ids);
}

#[actix_web::test]
async fn an_index_damaged_while_serving_is_rebuilt_without_a_manual_step() {
    let world = crate::world::World::new().await;
    for i in 0..5 {
        publish_titled(&world, &format!("ゲノム編集による遺伝性疾患治療 候補{i}")).await;
    }
    // Indexed, but no search has read a stored document yet.
    crate::helpers::until("the seeds indexed", async || (world.app.services.search.num_docs() == 5).then_some(()))
        .await;

    for store in index_files(&world.app.settings.index_dir(), "store") {
        overwrite_4k(&store);
    }
    // The first search reads the damage: it and every search until the rebuild is done answer
    // 503, and readiness says why; then the index serves again, rebuilt from the database.
    let res = found(&world, "ゲノム編集").await;
    assert_problem(&res, 503, "unavailable");
    assert!(res.headers.get("retry-after").is_some());
    let answer = crate::helpers::until("searches served again", async || {
        let ready = world.app.get("/readyz", None).await;
        if ready.status != 200 {
            assert_problem(&ready, 503, "unavailable");
            assert!(ready.body["detail"].as_str().unwrap().contains("search index"), "{}", ready.text);
        }
        let res = found(&world, "ゲノム編集").await;
        assert!(res.status == 200 || res.status == 503, "{}", res.text);
        (res.status == 200 && ready.status == 200).then_some(res)
    })
    .await;
    assert_eq!(answer.body["total"], 5, "{}", answer.text);
    // A write after the rebuild is indexed as usual.
    publish_titled(&world, "ゲノム編集の新しい送達系").await;
    crate::helpers::until("a later seed indexed", async || {
        (found(&world, "ゲノム編集").await.body["total"] == 6).then_some(())
    })
    .await;
}

/// A transaction that wrote a seed's change and its change-log row, and commits long after the
/// indexer has moved past its position (even across a restart), is still indexed. `PostgreSQL`
/// only: `SQLite` serialises writers, so a position there is committed before the next is taken.
#[actix_web::test]
async fn a_change_that_commits_after_its_gap_was_passed_is_still_indexed() {
    let Ok(_) = std::env::var("KAKEHASHI_TEST_DATABASE_URL") else {
        eprintln!("SKIPPED on SQLite: its writers are serialised, a change-log gap cannot fill late");
        return;
    };
    use sea_orm::{ConnectionTrait as _, Statement};
    let world = crate::world::World::new().await;
    let late = publish_titled(&world, "腸内細菌叢を標的とする炎症性腸疾患治療").await;
    crate::helpers::until("the seed indexed", async || {
        (found(&world, "腸内細菌").await.body["total"] == 1).then_some(())
    })
    .await;

    // Another connection renames the seed and logs the change, then waits before committing.
    let writer = sea_orm::Database::connect(world.app.settings.database.url.as_str()).await.unwrap();
    let txn = writer.begin().await.unwrap();
    let pg = sea_orm::DbBackend::Postgres;
    txn.execute_raw(Statement::from_sql_and_values(
        pg,
        "UPDATE seeds SET title = $1, updated_at = now() WHERE id = $2::uuid",
        ["潰瘍性大腸炎に対する糞便微生物移植カプセル".into(), late.clone().into()],
    ))
    .await
    .unwrap();
    txn.execute_raw(Statement::from_sql_and_values(
        pg,
        "INSERT INTO record_changes (kind, record_id, changed_at) VALUES ('seed', $1::uuid, now())",
        [late.clone().into()],
    ))
    .await
    .unwrap();

    // Meanwhile a later change commits; the indexer waits at the gap, then moves past it.
    publish_titled(&world, "微生物由来代謝物による免疫調整").await;
    crate::helpers::until("the indexer moved past the gap", async || {
        (!world.app.services.search.gaps().is_empty() && found(&world, "免疫調整").await.body["total"] == 1)
            .then_some(())
    })
    .await;
    // It restarts before the late transaction commits.
    let world = world.restart_with(|_| {}).await;
    assert!(!world.app.services.search.gaps().is_empty(), "the skipped gap is kept across a restart");
    txn.commit().await.unwrap();

    let res = crate::helpers::until("the late change indexed", async || {
        let res = found(&world, "糞便微生物移植").await;
        (res.body["total"] == 1).then_some(res)
    })
    .await;
    assert_eq!(res.body["items"][0]["id"], late);
    assert_eq!(found(&world, "腸内細菌").await.body["total"], 0, "the old title is gone from the index");
    writer.close().await.unwrap();
}

/// A data directory that became read-only while the server was stopped: the next start fails
/// with a message naming the directory, not a lock held by another process. (While a server
/// runs its files are open for writing, so the filesystem cannot be remounted read-only under
/// it; the full-disk test covers readiness on storage that cannot be written.)
#[actix_web::test]
async fn a_read_only_data_directory_is_named_at_start() {
    let Some(disk) = SmallDisk::mount(16) else { return };
    let dir = disk.path().to_owned();
    let world = crate::world::World::with(move |s| s.data_dir = dir).await;
    publish_titled(&world, "神経変性疾患に対する遺伝子治療ベクター").await;
    let (settings, _data_dir) = world.app.stop().await;
    disk.remount_read_only().await;

    let err = match kakehashi::Application::build(&settings).await {
        Ok(_) => panic!("a server started on a read-only data directory"),
        Err(err) => format!("{err:#}"),
    };
    assert!(!err.contains("in use by another process"), "{err}");
    assert!(err.contains(&disk.path().display().to_string()), "the message names the directory: {err}");
    assert!(err.contains("cannot be written") || err.contains("cannot write"), "{err}");
}

/// A 20,000-row import killed after its first batches, then run again with the same file: every
/// row names its seed by the organisation's own reference (`external_ref`), so the second run
/// updates what the first stored and adds only the rest. Both runs are in the audit trail, the
/// killed one as started and never finished.
#[actix_web::test]
async fn an_import_killed_midway_and_sent_again_adds_nothing_twice_and_every_run_is_audited() {
    let world = crate::world::World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seeds.jsonl");
    const ROWS: u64 = 20_000;
    let rows = |revised: &str| -> String {
        (0..ROWS)
            .map(|i| {
                json!({
                    "external_ref": format!("TLO-2026-{i:05}"),
                    "title": format!("{revised}抗体医薬シーズ 整理番号{i}"),
                    "summary": "ヒト化抗体を用いた固形がんに対する新規治療法で、マウスモデルで腫瘍縮小を確認した。",
                    "confidential": { "details": "配列情報" },
                    "modalities": ["antibody"], "disease_areas": ["oncology"], "stage": "preclinical", "ip_status": "filed",
                })
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    std::fs::write(&file, rows("")).unwrap();
    let command = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"));
        cmd.env("KAKEHASHI__DATA_DIR", &world.app.settings.data_dir)
            .env("KAKEHASHI__DATABASE__URL", &world.app.settings.database.url)
            .env("KAKEHASHI__LOG__LEVEL", "warn")
            .args(["import", "seeds"])
            .arg(&file)
            .args(["--organization", &world.uni_a.to_string()]);
        cmd
    };
    let stored = async || -> u64 {
        let res = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true&per_page=1", None).await;
        res.body["total"].as_u64().unwrap_or(0)
    };
    let audited = async |action: &str| -> u64 {
        let res = world.call(&world.admin, Method::GET, &format!("/api/v1/admin/audit?action={action}"), None).await;
        res.body["total"].as_u64().unwrap()
    };

    // The first run is killed once some batches are stored.
    let mut child = command().stdout(std::process::Stdio::null()).spawn().unwrap();
    crate::helpers::until("the first batches stored", async || (stored().await > 0).then_some(())).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = stored().await;
    assert!(partial > 0 && partial < ROWS, "the import was not stopped midway: {partial} stored");
    assert_eq!(audited("seed.import_started").await, 1, "the killed run is on record");
    assert_eq!(audited("seed.imported").await, 0, "and never finished");

    // The same file again, with revised titles: nothing is added twice.
    std::fs::write(&file, rows("改訂版")).unwrap();
    let out = command().output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("{ROWS} rows: imported {ROWS}, 0 failed")), "{stdout}");
    assert!(stdout.contains(&format!("{partial} of them updated by their external_ref")), "{stdout}");
    assert_eq!(stored().await, ROWS);
    let listed = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true&per_page=100", None).await;
    assert!(
        listed.body["items"].as_array().unwrap().iter().all(|s| s["title"].as_str().unwrap().starts_with("改訂版")),
        "every seed carries the revised title"
    );
    assert_eq!(audited("seed.import_started").await, 2);
    assert_eq!(audited("seed.imported").await, 1);
}
