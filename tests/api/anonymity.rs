//! An anonymous company tried against every path the seed's side can read: the introduction and
//! its list, thread and notifications, the need by id, search, matches and the web pages — before
//! acceptance nothing names the company or leads to something that does (the need it asked for);
//! after acceptance every path names it alike, and to nobody else.

use actix_web::http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::web::Browser;
use crate::world::{Member, World, marker};

const COMPANY: &str = "日本創薬";

async fn request(world: &World, seed: Uuid, need: Uuid, anonymous: Option<bool>) -> String {
    let mut body = json!({
        "seed_id": seed,
        "need_id": need,
        "message": "弊社の核酸プラットフォームとの組み合わせでライセンスを検討したく、ご紹介をお願いいたします。",
    });
    if let Some(anonymous) = anonymous {
        body["anonymous"] = json!(anonymous);
    }
    let res = world.call(&world.company_c, Method::POST, "/api/v1/introductions", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["anonymous"], true);
    assert_eq!(res.body["need"]["id"], need.to_string(), "the company sees its own need");
    let id = res.body["id"].as_str().unwrap().to_owned();
    let res = world.call(&world.liaison, Method::POST, &format!("/api/v1/introductions/{id}/forward"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    id
}

async fn accept(world: &World, id: &str) {
    let body = json!({ "comment": "ぜひ一度お話しさせてください。" });
    let res =
        world.call(&world.researcher_a, Method::POST, &format!("/api/v1/introductions/{id}/accept"), Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// Everything the member reads through the API about the introduction, as one text.
async fn introduction_paths(world: &World, who: &Member, id: &str) -> String {
    let mut all = String::new();
    for path in [
        format!("/api/v1/introductions/{id}"),
        "/api/v1/introductions".to_owned(),
        format!("/api/v1/introductions/{id}/messages"),
        "/api/v1/notifications".to_owned(),
    ] {
        let res = world.call(who, Method::GET, &path, None).await;
        assert_eq!(res.status, 200, "{} {path}: {}", who.name, res.text);
        all.push_str(&res.text);
    }
    all
}

/// The need's company as `who` reads it on the need, in search and in matches (`None`: anonymous).
async fn named_company(world: &World, who: &Member, need: Uuid) -> [Option<String>; 3] {
    let name = |v: &Value| v["name"].as_str().map(ToOwned::to_owned);
    let page = world.call(who, Method::GET, &format!("/api/v1/needs/{need}"), None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let hit = world
        .app
        .until("the need in search", async || {
            let res = world.call(who, Method::GET, "/api/v1/search?kind=need&q=exon", None).await;
            res.body["items"].as_array()?.iter().find(|h| h["id"] == need.to_string()).cloned()
        })
        .await;
    let matched = world
        .app
        .until("the need's match", async || {
            let res = world.call(who, Method::GET, "/api/v1/matches", None).await;
            res.body["items"].as_array()?.iter().find(|m| m["need"]["id"] == need.to_string()).cloned()
        })
        .await;
    [name(&page.body["organization"]), name(&hit["organization"]), name(&matched["need"]["organization"])]
}

async fn web_text(world: &World, who: &str, paths: &[String]) -> String {
    let browser = Browser::login(&world.app, &format!("{who}@example.org")).await;
    let mut all = String::new();
    for path in paths {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{who} {path}: {}", page.text);
        all.push_str(&page.text);
    }
    all
}

#[actix_web::test]
async fn an_anonymous_request_for_a_named_need_does_not_lead_to_the_need_before_acceptance() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    let need = world.need(false, "members", true).await;
    let id = request(&world, seed, need, Some(true)).await;
    let need_title =
        world.call(&world.company_c, Method::GET, &format!("/api/v1/needs/{need}"), None).await.body["title"]
            .as_str()
            .unwrap()
            .to_owned();

    for who in [&world.researcher_a, &world.tto_a] {
        let intro = world.call(who, Method::GET, &format!("/api/v1/introductions/{id}"), None).await;
        assert_eq!(intro.body["party"], "seed_owner");
        assert_eq!(intro.body["need"], Value::Null, "{}", intro.text);
        let read = introduction_paths(&world, who, &id).await;
        for leak in [need.to_string(), need_title.clone(), COMPANY.to_owned(), world.pharma_c.to_string()] {
            assert!(!read.contains(&leak), "{} learns {leak} from the introduction: {read}", who.name);
        }
    }
    let web = web_text(
        &world,
        "researcher_a",
        &[format!("/introductions/{id}"), "/introductions".into(), "/notifications".into()],
    )
    .await;
    for leak in [need.to_string(), need_title.clone(), COMPANY.to_owned()] {
        assert!(!web.contains(&leak), "the web pages of the introduction show {leak}");
    }

    // The liaison and the company itself always see the link.
    for who in [&world.liaison, &world.company_c, &world.admin] {
        let intro = world.call(who, Method::GET, &format!("/api/v1/introductions/{id}"), None).await;
        assert_eq!(intro.body["need"]["id"], need.to_string(), "{}", who.name);
    }

    // Once accepted, the seed's side reads the need it was asked for.
    accept(&world, &id).await;
    let intro = world.call(&world.researcher_a, Method::GET, &format!("/api/v1/introductions/{id}"), None).await;
    assert_eq!(intro.body["need"]["id"], need.to_string(), "{}", intro.text);
    assert_eq!(intro.body["need"]["title"], need_title);
    assert_eq!(intro.body["requester_organization"]["name"], COMPANY);
    let web = web_text(&world, "researcher_a", &[format!("/introductions/{id}")]).await;
    assert!(web.contains(&need_title) && web.contains(COMPANY));
}

#[actix_web::test]
async fn an_anonymous_need_names_its_company_on_every_path_once_an_introduction_is_accepted_and_only_then() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    let need = world.need(true, "members", true).await;
    // The request takes the need's anonymity.
    let id = request(&world, seed, need, None).await;

    let web_paths = [
        format!("/needs/{need}"),
        "/search?q=exon".to_owned(),
        "/matches".to_owned(),
        format!("/introductions/{id}"),
        "/introductions".to_owned(),
        "/notifications".to_owned(),
        "/".to_owned(),
    ];
    for who in [&world.researcher_a, &world.tto_a] {
        assert_eq!(named_company(&world, who, need).await, [None, None, None], "{} before acceptance", who.name);
        let read = introduction_paths(&world, who, &id).await;
        assert!(!read.contains(COMPANY) && !read.contains(&need.to_string()), "{}: {read}", who.name);
    }
    let web = web_text(&world, "researcher_a", &web_paths).await;
    assert!(!web.contains(COMPANY), "a web page names the anonymous company before acceptance");

    accept(&world, &id).await;

    // The seed's organisation now knows the company, and every path says so.
    let named = Some(COMPANY.to_owned());
    for who in [&world.researcher_a, &world.tto_a] {
        assert_eq!(
            named_company(&world, who, need).await,
            [named.clone(), named.clone(), named.clone()],
            "{}",
            who.name
        );
        let intro = world.call(who, Method::GET, &format!("/api/v1/introductions/{id}"), None).await;
        assert_eq!(intro.body["requester_organization"]["name"], COMPANY);
        assert_eq!(intro.body["need"]["id"], need.to_string());
    }
    let need_page = web_text(&world, "researcher_a", &[format!("/needs/{need}")]).await;
    assert!(need_page.contains(COMPANY), "the need page names the company after acceptance");
    let matches_page = web_text(&world, "researcher_a", &["/matches".to_owned()]).await;
    assert!(matches_page.contains(COMPANY), "the matches page names the company after acceptance");

    // Another university accepted nothing: the company stays anonymous to it everywhere.
    let seed_b = {
        let res = world
            .call(
                &world.researcher_b,
                Method::POST,
                "/api/v1/seeds",
                Some(crate::world::seed_body(&marker(), "members")),
            )
            .await;
        let id: Uuid = res.body["id"].as_str().unwrap().parse().unwrap();
        let res = world.call(&world.researcher_b, Method::POST, &format!("/api/v1/seeds/{id}/publish"), None).await;
        assert_eq!(res.status, 200, "{}", res.text);
        id
    };
    assert_ne!(seed_b, seed);
    assert_eq!(named_company(&world, &world.researcher_b, need).await, [None, None, None]);
    let web = web_text(
        &world,
        "researcher_b",
        &[format!("/needs/{need}"), "/search?q=exon".to_owned(), "/matches".to_owned()],
    )
    .await;
    assert!(!web.contains(COMPANY), "another university's pages name the company");
}
