//! Matching through HTTP: a fitting seed and need become a match that each viewer sees within
//! their tier; dismissal survives re-scoring; liaison coverage narrows the list.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Stage, assert_problem};
use crate::world::{Member, World, marker};

/// The matches once every record written so far has been indexed and matched, checked by `ready`.
async fn matches_until(world: &World, who: &Member, query: &str, ready: impl Fn(&Value) -> bool) -> Value {
    world.app.settled(Stage::Matched).await;
    let res = world.call(who, Method::GET, &format!("/api/v1/matches{query}"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(ready(&res.body), "matches are not as expected for {query}: {}", res.text);
    res.body
}

fn total(body: &Value) -> u64 {
    body["total"].as_u64().unwrap()
}

#[actix_web::test]
async fn a_fitting_pair_is_matched_and_each_side_sees_its_part() {
    let world = World::new().await;
    let m = marker();
    let seed = world.seed(&m, "members", true).await;
    let need = world.need(true, "members", true).await;
    let liaison = matches_until(&world, &world.liaison, "", |b| total(b) == 1).await;
    let item = &liaison["items"][0];
    assert_eq!(item["seed"]["id"], seed.to_string());
    assert_eq!(item["need"]["id"], need.to_string());
    assert_eq!(item["need"]["organization"]["id"], world.pharma_c.to_string(), "liaisons know the company");
    assert_eq!(item["status"], "open");
    let score = item["score"].as_f64().unwrap();
    assert!((0.45..=1.0).contains(&score), "{score}");
    let kinds: Vec<&str> = item["reasons"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    for kind in ["modality", "disease_area", "stage", "deal_type", "terms"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let modality = item["reasons"].as_array().unwrap().iter().find(|r| r["kind"] == "modality").unwrap();
    assert_eq!(modality["label_en"], "Nucleic acid (antisense, siRNA)");

    for (who, sees) in [
        (&world.researcher_a, true),
        (&world.tto_a, true),
        (&world.company_c, true),
        (&world.colleague_c, true),
        (&world.admin, true),
        (&world.colleague_a, false),
        (&world.researcher_b, false),
        (&world.tto_b, false),
        (&world.company_d, false),
    ] {
        let body = world.call(who, Method::GET, "/api/v1/matches", None).await.body;
        assert_eq!(total(&body), u64::from(sees), "{}: {body}", who.name);
        assert!(!body.to_string().contains(&m), "{}: the confidential marker leaked into a match", who.name);
    }
    let owner_view = world.call(&world.researcher_a, Method::GET, "/api/v1/matches", None).await.body;
    assert_eq!(
        owner_view["items"][0]["need"]["organization"],
        Value::Null,
        "the anonymous company stays anonymous to academia"
    );
    let filtered = world.call(&world.liaison, Method::GET, &format!("/api/v1/matches?need_id={need}"), None).await.body;
    assert_eq!(total(&filtered), 1);
    assert_problem(
        &world.call(&world.liaison, Method::GET, "/api/v1/matches?status=maybe", None).await,
        422,
        "validation_failed",
    );
}

#[actix_web::test]
async fn liaison_only_seeds_are_matched_for_liaisons_alone() {
    let world = World::new().await;
    world.seed(&marker(), "liaison_only", true).await;
    world.need(false, "members", true).await;
    matches_until(&world, &world.liaison, "", |b| total(b) == 1).await;
    for who in [&world.company_c, &world.colleague_c, &world.company_d] {
        let body = world.call(who, Method::GET, "/api/v1/matches", None).await.body;
        assert_eq!(total(&body), 0, "{}", who.name);
    }
    assert_eq!(total(&world.call(&world.researcher_a, Method::GET, "/api/v1/matches", None).await.body), 1);
}

#[actix_web::test]
async fn dismissal_survives_rescoring_and_only_liaisons_dismiss() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    let need = world.need(false, "members", true).await;
    let body = matches_until(&world, &world.liaison, "", |b| total(b) == 1).await;
    let id = body["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/matches/{id}/dismiss");
    assert_problem(&world.call(&world.company_c, Method::POST, &path, None).await, 403, "forbidden");
    assert_problem(&world.call(&world.company_d, Method::POST, &path, None).await, 404, "not_found");
    let res = world.call(&world.liaison, Method::POST, &path, None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "dismissed");

    // An edit re-scores the seed: the pair is updated, not duplicated, and stays dismissed.
    let res = world
        .call(
            &world.researcher_a,
            Method::PATCH,
            &format!("/api/v1/seeds/{seed}"),
            Some(json!({ "keywords": ["DMD", "exon skipping", "antisense"] })),
        )
        .await;
    assert_eq!(res.status, 200);
    let dismissed_at =
        world.call(&world.liaison, Method::GET, "/api/v1/matches", None).await.body["items"][0]["updated_at"].clone();
    let after = matches_until(&world, &world.liaison, "", |b| b["items"][0]["updated_at"] != dismissed_at).await;
    assert_eq!(total(&after), 1, "{after}");
    assert_eq!(after["items"][0]["status"], "dismissed");
    assert_eq!(after["items"][0]["id"], id);

    // Archiving the need withdraws its open matches; a dismissed one stays on record.
    let res = world.call(&world.company_c, Method::DELETE, &format!("/api/v1/needs/{need}"), None).await;
    assert_eq!(res.status, 200);
    matches_until(&world, &world.liaison, "?status=open", |b| total(b) == 0).await;
    let kept = world.call(&world.liaison, Method::GET, "/api/v1/matches?status=dismissed", None).await.body;
    assert_eq!(total(&kept), 1);
    let audit = world
        .call(&world.admin, Method::GET, &format!("/api/v1/admin/audit?action=match.dismissed&object_id={id}"), None)
        .await;
    assert_eq!(audit.body["total"], 1);
}

#[actix_web::test]
async fn liaisons_see_the_organisations_they_cover() {
    let world = World::new().await;
    world.seed(&marker(), "members", true).await;
    world.need(false, "members", true).await;
    matches_until(&world, &world.liaison, "", |b| total(b) == 1).await;
    let liaison_id =
        world.app.get("/api/v1/me", Some(&world.liaison.token)).await.body["id"].as_str().unwrap().to_owned();
    let coverage = format!("/api/v1/admin/liaisons/{liaison_id}/coverage");
    let res = world
        .call(&world.admin, Method::PUT, &coverage, Some(json!({ "organization_ids": [world.uni_b, world.pharma_d] })))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(total(&world.call(&world.liaison, Method::GET, "/api/v1/matches", None).await.body), 0);
    world.call(&world.admin, Method::PUT, &coverage, Some(json!({ "organization_ids": [world.pharma_c] }))).await;
    assert_eq!(total(&world.call(&world.liaison, Method::GET, "/api/v1/matches", None).await.body), 1);
}

#[actix_web::test]
async fn a_japanese_seed_and_an_english_need_match_on_shared_concepts_not_on_their_taxonomy_alone() {
    let world = World::new().await;
    let seed = json!({
        "title": "人工多能性幹細胞由来ドパミン神経前駆細胞の移植によるパーキンソン病治療",
        "summary": "ヒト人工多能性幹細胞から作製したドパミン神経前駆細胞を移植し、霊長類モデルで運動機能の改善を確認した。",
        "confidential": { "details": "移植細胞数と投与経路の詳細" },
        "modalities": ["cell_therapy"], "disease_areas": ["psychiatric_neurological"],
        "stage": "preclinical", "ip_status": "filed", "deal_types": ["license"],
        "keywords": ["再生医療", "神経変性疾患"], "visibility": "members",
    });
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(seed)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let seed_id = res.body["id"].as_str().unwrap().to_owned();
    let res = world.call(&world.researcher_a, Method::POST, &format!("/api/v1/seeds/{seed_id}/publish"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let publish_need = async |title: &str, description: &str| {
        let need = json!({
            "title": title, "description": description,
            "modalities": ["cell_therapy"], "disease_areas": ["psychiatric_neurological"],
            "stages": ["preclinical", "phase_1"], "deal_types": ["license"],
            "anonymous": false, "visibility": "members",
        });
        let res = world.call(&world.company_c, Method::POST, "/api/v1/needs", Some(need)).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let need_id = res.body["id"].as_str().unwrap().to_owned();
        let res = world.call(&world.company_c, Method::POST, &format!("/api/v1/needs/{need_id}/publish"), None).await;
        assert_eq!(res.status, 200, "{}", res.text);
        need_id
    };
    // The same taxonomy and nothing said alike: no match across languages.
    let vague =
        publish_need("Partnering on sleep quality", "We look for wearables that measure sleep stages at home.").await;
    let need_id = publish_need(
        "Dopaminergic progenitor transplantation for Parkinson's disease",
        "We in-license iPS cell-derived dopaminergic neuron progenitors for cell transplantation in Parkinson's disease.",
    )
    .await;

    let body = matches_until(&world, &world.liaison, "", |b| total(b) == 1).await;
    let item = &body["items"][0];
    assert_eq!(item["seed"]["id"], seed_id.as_str());
    assert_eq!(item["need"]["id"], need_id.as_str());
    let reasons = item["reasons"].as_array().unwrap();
    let kinds: Vec<&str> = reasons.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"modality") && kinds.contains(&"disease_area"), "{kinds:?}");
    let concepts = reasons.iter().find(|r| r["kind"] == "concepts").expect("shared concepts are a reason");
    assert!(concepts["label_ja"].as_str().unwrap().contains("パーキンソン病"), "{concepts}");
    assert!(concepts["label_en"].as_str().unwrap().to_lowercase().contains("parkinson"), "{concepts}");
    let filtered = world.call(&world.liaison, Method::GET, &format!("/api/v1/matches?need_id={vague}"), None).await;
    assert_eq!(total(&filtered.body), 0, "{}", filtered.text);
}

/// Two processes on one database both run a matcher: every pair is made once, whichever side
/// and process wrote its records, and each pair is told to the liaison once.
#[actix_web::test]
async fn two_processes_matching_one_database_make_and_tell_each_pair_once() {
    let world = World::new().await;
    let shared_url = match world.app.settings.database.url.as_str() {
        "" => format!("sqlite://{}", world.app.settings.data_dir.join("kakehashi.db").display()),
        url => url.to_owned(),
    };
    let other = crate::helpers::spawn_app_with(|s| s.database.url = shared_url.clone()).await;
    let need_body = json!({
        "title": "Antisense oligonucleotides for Duchenne muscular dystrophy wanted",
        "description": "Exon-skipping nucleic acid therapeutics for rare muscle disease; license or joint research.",
        "modalities": ["nucleic_acid"], "disease_areas": ["rare_intractable"],
        "stages": ["preclinical", "phase_1"], "deal_types": ["license"],
        "anonymous": false, "visibility": "members",
    });
    const EACH: u64 = 4;
    for _ in 0..EACH {
        // Seeds through the first process, needs through the second, interleaved.
        world.seed(&marker(), "members", true).await;
        let res = other.post("/api/v1/needs", Some(&world.company_c.token), need_body.clone()).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id = res.body["id"].as_str().unwrap().to_owned();
        let res = other.post(&format!("/api/v1/needs/{id}/publish"), Some(&world.company_c.token), json!({})).await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    let listed = matches_until(&world, &world.liaison, "?per_page=100", |b| total(b) == EACH * EACH).await;
    // Neither matcher has anything left to go over.
    other.settled(Stage::Matched).await;
    let listed_again = world.call(&world.liaison, Method::GET, "/api/v1/matches?per_page=100", None).await.body;
    assert_eq!(total(&listed_again), EACH * EACH, "{listed_again}");
    let mut pairs: Vec<(String, String)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["seed"]["id"].as_str().unwrap().to_owned(), m["need"]["id"].as_str().unwrap().to_owned()))
        .collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len() as u64, EACH * EACH, "each pair once");
    let match_ids: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    let told = world.call(&world.liaison, Method::GET, "/api/v1/notifications?per_page=100", None).await.body;
    let mut told_of: Vec<&str> = told["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "match.new")
        .map(|n| n["object_id"].as_str().unwrap())
        .collect();
    assert!(!told_of.is_empty(), "the liaison is told of new matches: {told}");
    assert!(told_of.iter().all(|id| match_ids.contains(id)), "told only of listed matches: {told}");
    let before = told_of.len();
    told_of.sort_unstable();
    told_of.dedup();
    assert_eq!(told_of.len(), before, "no pair told twice: {told}");
}
