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

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

// Reproduces a known fault, not yet fixed: on a full disk every refusal is a 503 and the service
// takes writes again by itself (about 20 s after space returns), but some seeds answered 201 are
// missing afterwards. Run it with `--ignored`.
#[ignore = "reproduces acknowledged writes lost on a full disk (not yet fixed)"]
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
