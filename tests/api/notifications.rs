//! Liaisons hear of new matches in-app and by e-mail through the outbox: exactly once per
//! recipient, also when the mail server is down for a while and the service restarts.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::{assert_problem, until};
use crate::world::{World, marker};

#[actix_web::test]
async fn a_new_match_tells_the_liaison_once_in_app_and_by_email() {
    let world = World::new().await;
    let m = marker();
    let seed = world.seed(&m, "members", true).await;
    world.need(true, "members", true).await;
    let unread = until("a notification", async || {
        let body = world.call(&world.liaison, Method::GET, "/api/v1/notifications?unread=true", None).await.body;
        (body["total"] == 1).then_some(body)
    })
    .await;
    let item = &unread["items"][0];
    assert_eq!(item["kind"], "match.new");
    assert!(item["title_en"].as_str().unwrap().starts_with("New match: 筋ジストロフィー"), "{item}");
    let id = item["id"].as_str().unwrap().to_owned();

    let mail = until("the e-mail", async || world.app.mails_to("liaison@example.org").pop()).await;
    assert!(
        mail.contains("シーズ: 筋ジストロフィーに対するエクソンスキッピング核酸"),
        "Japanese for a Japanese-speaking liaison: {mail}"
    );
    assert!(mail.contains("http://kakehashi.test/matches/"), "{mail}");
    assert!(!mail.contains(&m), "no confidential text in e-mail");
    assert!(!unread.to_string().contains(&m), "no confidential text in notifications");

    for who in [&world.researcher_a, &world.company_c, &world.admin] {
        let body = world.call(who, Method::GET, "/api/v1/notifications", None).await.body;
        assert_eq!(body["total"], 0, "{}", who.name);
    }
    assert_problem(
        &world.call(&world.company_c, Method::POST, &format!("/api/v1/notifications/{id}/read"), None).await,
        404,
        "not_found",
    );
    let res = world.call(&world.liaison, Method::POST, &format!("/api/v1/notifications/{id}/read"), None).await;
    assert_eq!(res.status, 204);
    let unread = world.call(&world.liaison, Method::GET, "/api/v1/notifications?unread=true", None).await.body;
    assert_eq!(unread["total"], 0);

    // Re-scoring the pair tells nobody again.
    world
        .call(
            &world.researcher_a,
            Method::PATCH,
            &format!("/api/v1/seeds/{seed}"),
            Some(json!({ "keywords": ["DMD", "antisense"] })),
        )
        .await;
    let rescored = until("re-scoring", async || {
        let body = world.call(&world.liaison, Method::GET, "/api/v1/matches", None).await.body;
        (body["items"][0]["updated_at"] != body["items"][0]["created_at"]).then_some(body)
    })
    .await;
    assert_eq!(rescored["total"], 1);
    let all = world.call(&world.liaison, Method::GET, "/api/v1/notifications", None).await.body;
    assert_eq!(all["total"], 1);
    assert_eq!(world.app.mails_to("liaison@example.org").len(), 1);
}

/// A real SMTP server on loopback: Python's aiosmtpd writing a maildir.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(port: u16, maildir: &Path) -> SmtpServer {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd) is needed for this test");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start (pip install aiosmtpd)");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer { child, maildir: maildir.to_owned() }
    }

    fn delivered(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        entries.filter_map(Result::ok).map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[actix_web::test]
async fn mail_waits_for_a_server_that_is_down_and_is_sent_once() {
    let port = free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let url = smtp.clone();
    let world = World::with(move |s| {
        s.mail.smtp_url = url;
        s.mail.retry_base_secs = 1;
        s.mail.poll_interval_ms = 50;
    })
    .await;
    world.seed(&marker(), "members", true).await;
    world.need(false, "members", true).await;

    // The server is down: the message waits, with its failed attempts on record.
    let failed = until("a failed attempt", async || {
        let queued =
            kakehashi_service::store::outbox::to_address(&world.app.services.db, "liaison@example.org").await.unwrap();
        queued.into_iter().find(|m| m.attempts >= 1)
    })
    .await;
    assert!(failed.sent_at.is_none());
    assert!(failed.last_error.is_some());

    let maildir = tempfile::tempdir().unwrap();
    // aiosmtpd creates the maildir itself (it must not exist yet).
    let server = SmtpServer::start(port, &maildir.path().join("box"));
    let mail = until("delivery once the server is up", async || server.delivered().pop()).await;
    assert!(mail.contains("liaison@example.org"), "{mail}");
    let sent =
        kakehashi_service::store::outbox::to_address(&world.app.services.db, "liaison@example.org").await.unwrap();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].sent_at.is_some());

    // A restarted service on the same database sends nothing again.
    let shared_url = match world.app.settings.database.url.as_str() {
        "" => format!("sqlite://{}", world.app.settings.data_dir.join("kakehashi.db").display()),
        other => other.to_owned(),
    };
    let restarted = crate::helpers::spawn_app_with(move |s| {
        s.database.url = shared_url;
        s.mail.smtp_url = smtp;
        s.mail.poll_interval_ms = 50;
    })
    .await;
    assert_eq!(restarted.get("/healthz", None).await.status, 200);
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.delivered().len(), 1, "nothing is sent twice");
}

#[actix_web::test]
async fn saved_searches_alert_their_owner_about_new_visible_records() {
    let world = World::new().await;
    let body = json!({ "name": "DMD 核酸", "q": "ジストロフィー", "kind": "seed", "modality": ["nucleic_acid"] });
    let res = world.call(&world.company_c, Method::POST, "/api/v1/saved-searches", Some(body.clone())).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let saved_id = res.body["id"].as_str().unwrap().to_owned();
    assert_eq!(world.call(&world.company_d, Method::POST, "/api/v1/saved-searches", Some(body)).await.status, 201);
    let bad = world
        .call(
            &world.company_c,
            Method::POST,
            "/api/v1/saved-searches",
            Some(json!({ "name": "x", "modality": ["telepathy"] })),
        )
        .await;
    assert_problem(&bad, 422, "validation_failed");
    let empty =
        world.call(&world.company_c, Method::POST, "/api/v1/saved-searches", Some(json!({ "name": "x" }))).await;
    assert_problem(&empty, 422, "validation_failed");

    // A liaison-only seed alerts nobody outside; a members-visible one alerts both companies.
    let m = marker();
    world.seed(&m, "liaison_only", true).await;
    let visible = world.seed(&m, "members", true).await;
    let alert = until("an alert", async || {
        let body = world.call(&world.company_c, Method::GET, "/api/v1/notifications", None).await.body;
        (body["total"] == 1).then_some(body)
    })
    .await;
    assert_eq!(alert["items"][0]["kind"], "saved_search.new");
    assert_eq!(alert["items"][0]["object_id"], visible.to_string());
    until("the other company's alert", async || {
        let body = world.call(&world.company_d, Method::GET, "/api/v1/notifications", None).await.body;
        (body["total"] == 1).then_some(())
    })
    .await;
    let mail = until("the e-mail", async || world.app.mails_to("company_c@example.org").pop()).await;
    assert!(mail.contains("DMD 核酸"), "{mail}");
    assert!(!mail.contains(&m));

    // Saved searches are private to their owner.
    let mine = world.call(&world.company_c, Method::GET, "/api/v1/saved-searches", None).await.body;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_problem(
        &world.call(&world.company_d, Method::DELETE, &format!("/api/v1/saved-searches/{saved_id}"), None).await,
        404,
        "not_found",
    );
    assert_eq!(
        world.call(&world.company_c, Method::DELETE, &format!("/api/v1/saved-searches/{saved_id}"), None).await.status,
        204
    );
    assert_eq!(
        world.call(&world.company_c, Method::GET, "/api/v1/saved-searches", None).await.body["items"],
        json!([])
    );
}

#[actix_web::test]
async fn a_liaison_who_chose_the_daily_digest_gets_the_days_matches_in_one_email() {
    let world = World::new().await;
    let res = world
        .call(&world.liaison, Method::PATCH, "/api/v1/me", Some(json!({ "match_mail": "daily", "locale": "en" })))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["match_mail"], "daily");
    assert_eq!(res.body["locale"], "en");
    let res = world.call(&world.liaison, Method::PATCH, "/api/v1/me", Some(json!({ "match_mail": "weekly" }))).await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "match_mail");

    world.seed(&marker(), "members", true).await;
    world.need(true, "members", true).await;
    // The in-app notification comes at once …
    let created = until("the in-app notification", async || {
        let res = world.call(&world.liaison, Method::GET, "/api/v1/notifications", None).await;
        (res.body["total"] == 1).then(|| res.body["items"][0]["created_at"].as_str().unwrap().to_owned())
    })
    .await;
    // … the e-mail waits for the digest.
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert!(world.app.mails_to("liaison@example.org").is_empty(), "no immediate e-mail");

    let next_day = chrono::DateTime::parse_from_rfc3339(&created).unwrap().to_utc() + chrono::Duration::days(1);
    assert_eq!(world.app.services.send_due_digests(next_day).await.unwrap(), 1);
    assert_eq!(world.app.services.send_due_digests(next_day).await.unwrap(), 0, "once per day");
    let mail = until("the digest", async || world.app.mails_to("liaison@example.org").pop()).await;
    assert!(mail.contains("1 new matches today"), "{mail}");
    assert!(mail.contains("筋ジストロフィー"), "the seed's title is listed: {mail}");
    assert!(!mail.contains("MARKER"), "no confidential text");
    // The next day has nothing new: no empty digest.
    let later = next_day + chrono::Duration::days(1);
    assert_eq!(world.app.services.send_due_digests(later).await.unwrap(), 0);
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(world.app.mails_to("liaison@example.org").len(), 1);
}
