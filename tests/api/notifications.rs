//! Liaisons hear of new matches in-app and by e-mail through the outbox: exactly once per
//! recipient, also when the mail server is down for a while and the service restarts.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

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
    let unread = world
        .app
        .until("a notification", async || {
            let body = world.call(&world.liaison, Method::GET, "/api/v1/notifications?unread=true", None).await.body;
            (body["total"] == 1).then_some(body)
        })
        .await;
    let item = &unread["items"][0];
    assert_eq!(item["kind"], "match.new");
    assert!(item["title_en"].as_str().unwrap().starts_with("New match: 筋ジストロフィー"), "{item}");
    let id = item["id"].as_str().unwrap().to_owned();

    let mail = world.app.until("the e-mail", async || world.app.mails_to("liaison@example.org").pop()).await;
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
    let rescored = world
        .app
        .until("re-scoring", async || {
            let body = world.call(&world.liaison, Method::GET, "/api/v1/matches", None).await.body;
            (body["items"][0]["updated_at"] != body["items"][0]["created_at"]).then_some(body)
        })
        .await;
    assert_eq!(rescored["total"], 1);
    let all = world.call(&world.liaison, Method::GET, "/api/v1/notifications", None).await.body;
    assert_eq!(all["total"], 1);
    assert_eq!(world.app.mails_to("liaison@example.org").len(), 1);
}

/// A real SMTP server on loopback, in this process: `mailin` speaks the protocol (the library
/// under `mailin-embedded`, without its TLS stack), a thread per connection here, and every
/// accepted message is kept in memory. It listens until the test binary exits.
struct SmtpServer {
    delivered: Arc<Mutex<Vec<String>>>,
}

/// One connection's message as it arrives.
struct Mailbox {
    delivered: Arc<Mutex<Vec<String>>>,
    current: Vec<u8>,
}

impl mailin::Handler for Mailbox {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> mailin::Response {
        self.current.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        let message = String::from_utf8_lossy(&std::mem::take(&mut self.current)).into_owned();
        self.delivered.lock().unwrap().push(message);
        mailin::response::OK
    }
}

impl SmtpServer {
    fn start(port: u16) -> SmtpServer {
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the SMTP test port is free");
        let shared = delivered.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mailbox = Mailbox { delivered: shared.clone(), current: Vec::new() };
                std::thread::spawn(move || {
                    // A pooled client may drop its connection without QUIT: that is no failure.
                    if let Err(err) = converse(stream, mailbox)
                        && err.kind() != std::io::ErrorKind::ConnectionReset
                    {
                        eprintln!("SMTP test server: {err}");
                    }
                });
            }
        });
        SmtpServer { delivered }
    }

    fn delivered(&self) -> Vec<String> {
        self.delivered.lock().unwrap().clone()
    }
}

/// One SMTP session: a line in, the protocol's answer out, until the client quits.
fn converse(stream: TcpStream, mailbox: Mailbox) -> std::io::Result<()> {
    let mut session = mailin::SessionBuilder::new("smtp.kakehashi.test").build(stream.peer_addr()?.ip(), mailbox);
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    session.greeting().write_to(&mut writer)?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            mailin::Action::NoReply => {}
            mailin::Action::Close => return response.write_to(&mut writer),
            mailin::Action::Reply | mailin::Action::UpgradeTls => response.write_to(&mut writer)?,
        }
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
        let queued = kakehashi_store::outbox::to_address(&world.app.services.db, "liaison@example.org").await.unwrap();
        queued.into_iter().find(|m| m.attempts >= 1)
    })
    .await;
    assert!(failed.sent_at.is_none());
    assert!(failed.last_error.is_some());

    let server = SmtpServer::start(port);
    let mail = until("delivery once the server is up", async || server.delivered().pop()).await;
    assert!(mail.contains("liaison@example.org"), "{mail}");
    // The service records the delivery once the server has answered.
    let sent = until("the delivery on record", async || {
        let sent = kakehashi_store::outbox::to_address(&world.app.services.db, "liaison@example.org").await.unwrap();
        sent.iter().all(|m| m.sent_at.is_some()).then_some(sent)
    })
    .await;
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
    restarted.settled(crate::helpers::Stage::Delivered).await;
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
    let alert = world
        .app
        .until("an alert", async || {
            let body = world.call(&world.company_c, Method::GET, "/api/v1/notifications", None).await.body;
            (body["total"] == 1).then_some(body)
        })
        .await;
    assert_eq!(alert["items"][0]["kind"], "saved_search.new");
    assert_eq!(alert["items"][0]["object_id"], visible.to_string());
    world
        .app
        .until("the other company's alert", async || {
            let body = world.call(&world.company_d, Method::GET, "/api/v1/notifications", None).await.body;
            (body["total"] == 1).then_some(())
        })
        .await;
    let mail = world.app.until("the e-mail", async || world.app.mails_to("company_c@example.org").pop()).await;
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
    let created = world
        .app
        .until("the in-app notification", async || {
            let res = world.call(&world.liaison, Method::GET, "/api/v1/notifications", None).await;
            (res.body["total"] == 1).then(|| res.body["items"][0]["created_at"].as_str().unwrap().to_owned())
        })
        .await;
    // … the e-mail waits for the digest.
    world.app.settled(crate::helpers::Stage::Delivered).await;
    assert!(world.app.mails_to("liaison@example.org").is_empty(), "no immediate e-mail");

    let next_day = chrono::DateTime::parse_from_rfc3339(&created).unwrap().to_utc() + chrono::Duration::days(1);
    assert_eq!(world.app.services.send_due_digests(next_day).await.unwrap(), 1);
    assert_eq!(world.app.services.send_due_digests(next_day).await.unwrap(), 0, "once per day");
    let mail = world.app.until("the digest", async || world.app.mails_to("liaison@example.org").pop()).await;
    assert!(mail.contains("1 new matches today"), "{mail}");
    assert!(mail.contains("筋ジストロフィー"), "the seed's title is listed: {mail}");
    assert!(!mail.contains("MARKER"), "no confidential text");
    // The next day has nothing new: no empty digest.
    let later = next_day + chrono::Duration::days(1);
    assert_eq!(world.app.services.send_due_digests(later).await.unwrap(), 0);
    world.app.settled(crate::helpers::Stage::Delivered).await;
    assert_eq!(world.app.mails_to("liaison@example.org").len(), 1);
}
