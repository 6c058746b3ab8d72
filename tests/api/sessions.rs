//! Sessions end their access tokens at once, also in another process on the same database, and
//! refusals do not tell members from strangers by their timing.

use std::time::{Duration, Instant};

use kakehashi_domain::{OrganizationKind, Role};
use kakehashi_service::RateSpec;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_problem, spawn_app, spawn_app_with};

async fn researcher(app: &TestApp) {
    let org = app.organization("大学", OrganizationKind::Academia).await;
    app.member("r@example.org", Role::Researcher, org).await;
}

async fn session(app: &TestApp) -> Value {
    let res = app.login("r@example.org", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body
}

async fn works(app: &TestApp, pair: &Value) -> bool {
    let res = app.get("/api/v1/me", pair["access_token"].as_str()).await;
    match res.status.as_u16() {
        200 => true,
        401 => false,
        other => panic!("unexpected {other}: {}", res.text),
    }
}

#[actix_web::test]
async fn logout_ends_the_access_token_of_its_session_at_once() {
    let app = spawn_app().await;
    researcher(&app).await;
    let pair = session(&app).await;
    let other = session(&app).await;
    assert!(works(&app, &pair).await);
    let res = app
        .post("/api/v1/auth/logout", pair["access_token"].as_str(), json!({ "refresh_token": pair["refresh_token"] }))
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(!works(&app, &pair).await, "the access token outlived its logout");
    assert!(works(&app, &other).await, "another session is not ended by this logout");

    // A logout without a refresh token ends every session.
    let res =
        app.request(actix_web::http::Method::POST, "/api/v1/auth/logout", other["access_token"].as_str(), None).await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(!works(&app, &other).await);
}

#[actix_web::test]
async fn a_password_reset_ends_every_earlier_access_token() {
    let app = spawn_app().await;
    researcher(&app).await;
    let first = session(&app).await;
    let second = session(&app).await;
    app.post("/api/v1/auth/password-reset", None, json!({ "email": "r@example.org" })).await;
    let token = app.await_token_from_mail("r@example.org").await;
    let res = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "a brand new password" }),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(!works(&app, &first).await, "an access token outlived the password reset");
    assert!(!works(&app, &second).await, "an access token outlived the password reset");
    let fresh = app.login("r@example.org", "a brand new password").await.body;
    assert!(works(&app, &fresh).await);
}

#[actix_web::test]
async fn refresh_token_reuse_ends_the_access_tokens_of_the_family() {
    let app = spawn_app().await;
    researcher(&app).await;
    let first = session(&app).await;
    let unrelated = session(&app).await;
    let second = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": first["refresh_token"] })).await.body;
    // Rotation keeps the session: both access tokens of it still work.
    assert!(works(&app, &first).await);
    assert!(works(&app, &second).await);
    // The rotated token presented again: the whole family ends, with its access tokens.
    let reuse = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": first["refresh_token"] })).await;
    assert_problem(&reuse, 401, "unauthorized");
    assert!(!works(&app, &first).await, "an access token outlived the revoked family");
    assert!(!works(&app, &second).await, "an access token outlived the revoked family");
    assert!(works(&app, &unrelated).await, "another session is untouched");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The median time of `member` attempts over that of `stranger` attempts, interleaved so that
/// whatever else the machine does weighs on both alike.
async fn timing_ratio(app: &TestApp, path: &str, member: &Value, stranger: &Value, rounds: usize) -> f64 {
    let mut known = Vec::with_capacity(rounds);
    let mut unknown = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        for (body, into) in [(member, &mut known), (stranger, &mut unknown)] {
            let started = Instant::now();
            let res = app.post(path, None, body.clone()).await;
            into.push(started.elapsed());
            assert!(res.status == 401 || res.status == 202, "{path}: {} {}", res.status, res.text);
            // Work a request leaves behind (a reset's write and e-mail) settles before the next
            // one is timed, so it weighs on neither side.
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        }
    }
    median(known).as_secs_f64() / median(unknown).as_secs_f64()
}

#[actix_web::test]
async fn members_and_strangers_take_the_same_time_to_refuse() {
    let generous = RateSpec { burst: 10_000, per_secs: 1 };
    let app = spawn_app_with(|s| {
        s.auth.login_per_ip = generous;
        s.auth.login_per_account = generous;
        s.auth.reset_per_ip = generous;
        s.auth.reset_per_account = generous;
        s.auth.lockout_threshold = 10_000;
    })
    .await;
    researcher(&app).await;
    // One of each first, so that nothing paid once (a first hash, a first connection) is measured.
    let wrong = json!({ "email": "r@example.org", "password": "not the password at all" });
    let stranger = json!({ "email": "nobody@example.org", "password": "not the password at all" });
    timing_ratio(&app, "/api/v1/auth/login", &wrong, &stranger, 2).await;

    // Bounds are generous on purpose: before, a member's refusal took about ten times as long.
    let login = timing_ratio(&app, "/api/v1/auth/login", &wrong, &stranger, 25).await;
    assert!((0.6..1.67).contains(&login), "login: a member's refusal takes {login:.2}× a stranger's");

    let reset = timing_ratio(
        &app,
        "/api/v1/auth/password-reset",
        &json!({ "email": "r@example.org" }),
        &json!({ "email": "nobody@example.org" }),
        25,
    )
    .await;
    assert!((0.6..1.67).contains(&reset), "password reset: a member's request takes {reset:.2}× a stranger's");
}

/// A second process on the world's database.
async fn beside(world: &crate::world::World) -> TestApp {
    beside_with(world, |_| {}).await
}

async fn beside_with(world: &crate::world::World, customize: impl FnOnce(&mut kakehashi::Settings)) -> TestApp {
    let shared_url = match world.app.settings.database.url.as_str() {
        "" => format!("sqlite://{}", world.app.settings.data_dir.join("kakehashi.db").display()),
        url => url.to_owned(),
    };
    spawn_app_with(|s| {
        s.database.url.clone_from(&shared_url);
        customize(s);
    })
    .await
}

/// What a cache in front of the database must never delay: each change made through one process
/// takes effect on the very next request answered by another process on the same database.
#[actix_web::test]
async fn another_process_honours_revocation_expiry_suspension_and_logout_on_the_next_request() {
    use actix_web::http::Method;

    use crate::world::{World, marker};

    let world = World::new().await;
    let other = beside(&world).await;
    let m = marker();
    let id = world.seed(&m, "members", true).await;
    let path = format!("/api/v1/seeds/{id}");
    let grants = format!("{path}/grants");
    let read = async |member: &crate::world::Member| other.get(&path, Some(&member.token)).await;

    // A grant made and revoked through the first process.
    let res = world
        .call(&world.researcher_a, Method::POST, &grants, Some(json!({ "organization_id": world.pharma_c })))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(read(&world.company_c).await.body["access"], "confidential");
    let res = world.call(&world.liaison, Method::DELETE, &format!("{grants}/{}", world.pharma_c), None).await;
    assert_eq!(res.status, 204, "{}", res.text);
    let res = read(&world.company_c).await;
    assert_eq!(res.body["access"], "summary", "revoked elsewhere: {}", res.text);
    assert!(!res.text.contains(&m));

    // A grant that runs out: closed from its end on, with nobody changing anything.
    let until = chrono::Utc::now() + chrono::Duration::seconds(2);
    let body = json!({ "organization_id": world.pharma_d, "expires_at": until.to_rfc3339() });
    let res = world.call(&world.researcher_a, Method::POST, &grants, Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(read(&world.company_d).await.body["access"], "confidential");
    let left = (until - chrono::Utc::now()).to_std().unwrap_or_default();
    actix_web::rt::time::sleep(left + Duration::from_millis(100)).await;
    let res = read(&world.company_d).await;
    assert_eq!(res.body["access"], "summary", "expired: {}", res.text);
    assert!(!res.text.contains(&m));

    // A suspension decided through the first process.
    assert_eq!(read(&world.colleague_c).await.status, 200);
    let me = world.call(&world.colleague_c, Method::GET, "/api/v1/me", None).await;
    let member_id = me.body["id"].as_str().expect("the member's id").to_owned();
    let res = world.call(&world.admin, Method::POST, &format!("/api/v1/admin/members/{member_id}/suspend"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_problem(&read(&world.colleague_c).await, 401, "unauthorized");

    // A logout through the first process ends the session in the second.
    assert_eq!(read(&world.company_d).await.status, 200);
    let res = world.call(&world.company_d, Method::POST, "/api/v1/auth/logout", None).await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_problem(&read(&world.company_d).await, 401, "unauthorized");
}

/// The grants a search filters by are never older than the request: a grant given, revoked or run
/// out through one process opens or closes a liaison-only seed in another process's search on the
/// very next request, hits, totals and facets alike.
#[actix_web::test]
async fn another_process_searches_with_grants_as_they_stand_on_the_next_request() {
    use actix_web::http::Method;

    use crate::world::{Member, World, marker};

    let world = World::new().await;
    let other = beside(&world).await;
    let id = world.seed(&marker(), "liaison_only", true).await;
    let grants = format!("/api/v1/seeds/{id}/grants");
    let finds = async |member: &Member| {
        let res = other.get("/api/v1/search?q=dystrophin&kind=seed", Some(&member.token)).await;
        assert_eq!(res.status, 200, "{}", res.text);
        let found = res.body["items"].as_array().unwrap().iter().any(|i| i["id"] == id.to_string());
        let counted: u64 =
            res.body["facets"]["modality"].as_array().unwrap().iter().map(|f| f["count"].as_u64().unwrap()).sum();
        assert_eq!(counted, res.body["total"].as_u64().unwrap(), "facets count the hits: {}", res.text);
        found
    };
    // The other process has indexed the seed once its liaison finds it.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !finds(&world.liaison).await {
        assert!(Instant::now() < deadline, "the other process never indexed the seed");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!finds(&world.company_c).await, "liaison-only, not granted");

    let res = world
        .call(&world.researcher_a, Method::POST, &grants, Some(json!({ "organization_id": world.pharma_c })))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert!(finds(&world.company_c).await, "granted elsewhere");
    let res = world.call(&world.liaison, Method::DELETE, &format!("{grants}/{}", world.pharma_c), None).await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert!(!finds(&world.company_c).await, "revoked elsewhere");

    // A grant that runs out: gone from search from its end on, with nobody changing anything.
    let until = chrono::Utc::now() + chrono::Duration::seconds(2);
    let body = json!({ "organization_id": world.pharma_d, "expires_at": until.to_rfc3339() });
    let res = world.call(&world.researcher_a, Method::POST, &grants, Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert!(finds(&world.company_d).await, "granted until {until}");
    let left = (until - chrono::Utc::now()).to_std().unwrap_or_default();
    actix_web::rt::time::sleep(left + Duration::from_millis(100)).await;
    assert!(!finds(&world.company_d).await, "expired");
}

/// Every hit is judged on the record as stored now, not as an index that trails the database
/// holds it: a process whose indexer has not run since the change leaves out a seed archived
/// through another process.
#[actix_web::test]
async fn a_process_whose_index_trails_the_database_leaves_out_a_seed_archived_elsewhere() {
    use actix_web::http::Method;

    use crate::world::{World, marker};

    let world = World::new().await;
    let id = world.seed(&marker(), "members", true).await;
    // Its index is built from the database at start; its indexer then waits a minute.
    let other = beside_with(&world, |s| s.search.poll_interval_ms = 60_000).await;
    let finds = async || {
        let res = other.get("/api/v1/search?q=dystrophin&kind=seed", Some(&world.company_d.token)).await;
        assert_eq!(res.status, 200, "{}", res.text);
        res.body["items"].as_array().unwrap().iter().any(|i| i["id"] == id.to_string())
    };
    assert!(finds().await, "published and indexed at start");
    let res = world.call(&world.researcher_a, Method::DELETE, &format!("/api/v1/seeds/{id}"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!finds().await, "archived elsewhere, still in this process's index");
}
