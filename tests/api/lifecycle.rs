//! The record life cycle through HTTP: a draft is edited and published, a published record is
//! edited and archived, an archived record is closed until its owner restores it (back to draft,
//! audited). Every other move answers 409 naming the steps that are possible; another
//! organisation's restore answers like a missing record.

use actix_web::http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Response, assert_problem};
use crate::world::{Member, World, marker};

fn allowed(res: &Response) -> Vec<String> {
    res.body["allowed_steps"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// Every move on one record, by its owner; `path` is `/api/v1/seeds/{id}` or `/api/v1/needs/{id}`.
async fn walk_the_life_cycle(world: &World, owner: &Member, path: &str, kind: &str) {
    let edit = |title: &str| json!({ "title": title });
    let call = async |method: Method, suffix: &str, body: Option<Value>| {
        world.call(owner, method, &format!("{path}{suffix}"), body).await
    };
    let refused = |res: &Response, steps: &[&str]| {
        assert_problem(res, 409, "conflict");
        assert_eq!(allowed(res), steps, "{}", res.text);
    };

    // Draft: edit, publish, archive; nothing to restore.
    refused(&call(Method::POST, "/restore", None).await, &["edit", "publish", "archive"]);
    assert_eq!(call(Method::PATCH, "", Some(edit("再生医療用の足場材料（改訂）"))).await.status, 200);
    let res = call(Method::POST, "/publish", None).await;
    assert_eq!(res.body["status"], "published", "{}", res.text);

    // Published: edit and archive; publishing twice is refused.
    refused(&call(Method::POST, "/publish", None).await, &["edit", "archive"]);
    refused(&call(Method::POST, "/restore", None).await, &["edit", "archive"]);
    assert_eq!(call(Method::PATCH, "", Some(edit("Scaffold materials for regenerative medicine"))).await.status, 200);
    let res = call(Method::DELETE, "", None).await;
    assert_eq!(res.body["status"], "archived", "{}", res.text);
    let archived_version = res.body["version"].as_i64().unwrap();

    // Archived: closed. Edits, publishing and archiving again all name the one way back.
    for (method, suffix, body) in [
        (Method::PATCH, "", Some(edit("edited while archived"))),
        (Method::POST, "/publish", None),
        (Method::DELETE, "", None),
    ] {
        let res = call(method.clone(), suffix, body).await;
        refused(&res, &["restore"]);
        assert!(res.body["detail"].as_str().unwrap().contains("archived"), "{}", res.text);
    }
    let unchanged = call(Method::GET, "", None).await;
    assert_eq!(unchanged.body["version"], archived_version, "a refused step changes nothing");
    assert_ne!(unchanged.body["title"], "edited while archived");

    // A stale restore is a conflict like any stale write.
    let stale = world
        .app
        .client
        .post(format!("{}{path}/restore", world.app.base))
        .insert_header(("authorization", format!("Bearer {}", owner.token)))
        .insert_header(("if-match", format!("\"{}\"", archived_version - 1)))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);

    // Restore: a draft again, to edit and publish.
    let res = call(Method::POST, "/restore", None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "draft");
    assert_eq!(res.body["version"], archived_version + 1);
    assert_eq!(call(Method::PATCH, "", Some(edit("再公開に向けた改訂版"))).await.status, 200);
    assert_eq!(call(Method::POST, "/publish", None).await.body["status"], "published");

    let id = path.rsplit('/').next().unwrap();
    let audit = world
        .call(&world.admin, Method::GET, &format!("/api/v1/admin/audit?action={kind}.restored&object_id={id}"), None)
        .await;
    assert_eq!(audit.body["total"], 1, "{}", audit.text);
    assert_eq!(audit.body["items"][0]["details"]["from"], "archived");
}

#[actix_web::test]
async fn a_seed_is_closed_once_archived_until_its_owner_restores_it() {
    let world = World::new().await;
    let id = world.seed(&marker(), "members", false).await;
    walk_the_life_cycle(&world, &world.researcher_a, &format!("/api/v1/seeds/{id}"), "seed").await;
}

#[actix_web::test]
async fn a_need_is_closed_once_archived_until_its_owner_restores_it() {
    let world = World::new().await;
    let id = world.need(false, "members", false).await;
    walk_the_life_cycle(&world, &world.company_c, &format!("/api/v1/needs/{id}"), "need").await;
}

#[actix_web::test]
async fn only_those_who_edit_a_record_restore_it_and_strangers_are_told_it_does_not_exist() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    let need = world.need(false, "members", true).await;
    let seed_path = format!("/api/v1/seeds/{seed}");
    let need_path = format!("/api/v1/needs/{need}");
    assert_eq!(world.call(&world.researcher_a, Method::DELETE, &seed_path, None).await.status, 200);
    assert_eq!(world.call(&world.company_c, Method::DELETE, &need_path, None).await.status, 200);

    let missing_seed =
        world.call(&world.researcher_b, Method::POST, &format!("/api/v1/seeds/{}/restore", Uuid::new_v4()), None).await;
    assert_problem(&missing_seed, 404, "not_found");
    // Other organisations do not see an archived record at all: the answer is the missing one's.
    for who in [&world.researcher_b, &world.tto_b, &world.company_c, &world.company_d] {
        let res = world.call(who, Method::POST, &format!("{seed_path}/restore"), None).await;
        assert_problem(&res, 404, "not_found");
        assert_eq!(res.body, missing_seed.body, "{}", who.name);
    }
    for who in [&world.researcher_a, &world.researcher_b, &world.tto_a, &world.company_d] {
        let res = world.call(who, Method::POST, &format!("{need_path}/restore"), None).await;
        assert_problem(&res, 404, "not_found");
    }
    // Those who may read it but not change it are refused.
    for who in [&world.colleague_a, &world.liaison] {
        assert_problem(&world.call(who, Method::POST, &format!("{seed_path}/restore"), None).await, 403, "forbidden");
    }
    for who in [&world.colleague_c, &world.liaison] {
        assert_problem(&world.call(who, Method::POST, &format!("{need_path}/restore"), None).await, 403, "forbidden");
    }
    assert_eq!(world.call(&world.researcher_a, Method::GET, &seed_path, None).await.body["status"], "archived");
    assert_eq!(world.call(&world.company_c, Method::GET, &need_path, None).await.body["status"], "archived");

    // The seed's organisation's TTO answers for it; admins for anything.
    let res = world.call(&world.tto_a, Method::POST, &format!("{seed_path}/restore"), None).await;
    assert_eq!(res.body["status"], "draft", "{}", res.text);
    let res = world.call(&world.admin, Method::POST, &format!("{need_path}/restore"), None).await;
    assert_eq!(res.body["status"], "draft", "{}", res.text);
    let res = world.app.request(Method::POST, &format!("{seed_path}/restore"), None, None).await;
    assert_problem(&res, 401, "unauthorized");
}
