//! Matching and search that understand real text: a Japanese need written as one unspaced
//! sentence with no keywords finds the Japanese and the English seed that say the same thing and
//! not an English seed that only shares its taxonomy; search finds synonyms and the other
//! language through the glossary; confidential text reaches no concept, reason or snippet.

use actix_web::http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::Stage;
use crate::world::{Member, World, marker};

async fn publish(world: &World, who: &Member, kind: &str, body: Value) -> Uuid {
    let res = world.call(who, Method::POST, &format!("/api/v1/{kind}"), Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id: Uuid = res.body["id"].as_str().unwrap().parse().unwrap();
    let res = world.call(who, Method::POST, &format!("/api/v1/{kind}/{id}/publish"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    id
}

fn seed(title: &str, summary: &str, confidential: &str) -> Value {
    json!({
        "title": title, "summary": summary,
        "confidential": { "details": confidential },
        "modalities": ["diagnostic_biomarker"], "disease_areas": ["oncology"],
        "stage": "preclinical", "ip_status": "filed", "deal_types": ["license"],
        "visibility": "members",
    })
}

/// Polls `path` as `who` until `ready` accepts the body (matching and indexing run in the
/// background), and returns the body.
async fn until(world: &World, who: &Member, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    world.app.settled(Stage::Matched).await;
    let res = world.call(who, Method::GET, path, None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(ready(&res.body), "{path} is not as expected: {}", res.text);
    res.body
}

fn seed_ids(body: &Value) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|m| m["seed"]["id"].as_str().unwrap().to_owned()).collect()
}

fn q(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[actix_web::test]
async fn a_japanese_need_without_keywords_matches_what_says_the_same_in_either_language() {
    let world = World::new().await;
    let secret = marker();
    let ja = publish(
        &world,
        &world.researcher_a,
        "seeds",
        seed(
            "血中タンパク質による膵がんの早期診断法",
            "血液中の微量なタンパク質を測定し、膵がんを早期に検出する診断法を開発した。",
            &format!("測定系の詳細 {secret}"),
        ),
    )
    .await;
    let en = publish(
        &world,
        &world.researcher_a,
        "seeds",
        seed(
            "Blood biomarkers for the early detection of pancreatic cancer",
            "A panel of serum proteins that detects pancreatic ductal adenocarcinoma at an early, resectable stage, validated on banked patient samples.",
            &format!("Assay details {secret}"),
        ),
    )
    .await;
    // Same modality and disease area, nothing else in common; its confidential section says
    // everything the need asks for.
    let unrelated = publish(
        &world,
        &world.researcher_a,
        "seeds",
        seed(
            "Companion imaging agent for radiotherapy planning",
            "A PET tracer that visualises hypoxic regions of head and neck tumours to guide dose painting.",
            &format!("膵臓がんの早期発見につながる血中バイオマーカー pancreatic cancer early detection {secret}"),
        ),
    )
    .await;
    let need = publish(
        &world,
        &world.company_c,
        "needs",
        json!({
            "title": "膵臓がんの早期発見",
            "description": "膵臓がんの早期発見につながる血中バイオマーカーを探しています。",
            "modalities": ["diagnostic_biomarker"], "disease_areas": ["oncology"],
            "stages": [], "deal_types": ["license"], "anonymous": false, "visibility": "members",
        }),
    )
    .await;
    let path = format!("/api/v1/matches?need_id={need}");
    let body = until(&world, &world.liaison, &path, |b| {
        let ids = seed_ids(b);
        ids.contains(&ja.to_string()) && ids.contains(&en.to_string())
    })
    .await;
    assert!(!seed_ids(&body).contains(&unrelated.to_string()), "the taxonomy alone is no match: {body}");
    let text = body.to_string();
    assert!(!text.contains(&secret), "confidential text in a match: {text}");
    let english = body["items"].as_array().unwrap().iter().find(|m| m["seed"]["id"] == en.to_string()).unwrap();
    let concepts = english["reasons"].as_array().unwrap().iter().find(|r| r["kind"] == "concepts").unwrap();
    assert!(concepts["values"].as_array().unwrap().contains(&json!("pancreatic-cancer")), "{concepts}");
    assert!(concepts["label_ja"].as_str().unwrap().contains("膵臓がん"), "{concepts}");
    assert!(concepts["label_en"].as_str().unwrap().contains("pancreatic cancer"), "{concepts}");

    // Matching the seeds again (an edit) keeps the pairs: the score is the same from either side.
    let res = world
        .call(&world.researcher_a, Method::PATCH, &format!("/api/v1/seeds/{en}"), Some(json!({ "keywords": ["PDAC"] })))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = until(&world, &world.liaison, &path, |b| seed_ids(b).contains(&en.to_string())).await;
    assert!(seed_ids(&body).contains(&ja.to_string()), "{body}");

    // Nobody finds a seed through what only its confidential section says.
    for query in ["膵臓がん", "pancreatic cancer", "バイオマーカー"] {
        let found = until(&world, &world.company_d, &format!("/api/v1/search?q={}", q(query)), |_| true).await;
        let text = found.to_string();
        assert!(!text.contains(&unrelated.to_string()), "{query} found the confidential text: {text}");
        assert!(!text.contains(&secret), "{query}: {text}");
    }
}

#[actix_web::test]
async fn search_finds_synonyms_and_the_other_language_and_marks_them() {
    let world = World::new().await;
    let secret = marker();
    let kana = publish(
        &world,
        &world.researcher_a,
        "seeds",
        seed(
            "がん悪液質に対する抗体医薬",
            "がん患者の体重減少と筋萎縮を引き起こすGDF15を中和する抗体を創製し、担がんマウスで体重を維持した。",
            &format!("配列情報 {secret}"),
        ),
    )
    .await;
    let english = publish(
        &world,
        &world.researcher_a,
        "seeds",
        seed(
            "Gene therapy for heart failure",
            "AAV-mediated delivery of SERCA2a to failing cardiomyocytes.",
            &format!("抗体 antibody 癌 {secret}"),
        ),
    )
    .await;
    let search = |text: &str| format!("/api/v1/search?kind=seed&q={}", q(text));
    let found = until(&world, &world.company_c, &search("癌"), |b| b["total"].as_u64() == Some(1)).await;
    assert_eq!(found["items"][0]["id"], kana.to_string(), "癌 finds がん: {found}");
    let snippet = found["items"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>がん</mark>"), "{snippet}");
    let found = until(&world, &world.company_c, &search("antibody"), |b| b["total"].as_u64() == Some(1)).await;
    assert_eq!(found["items"][0]["id"], kana.to_string(), "antibody finds 抗体: {found}");
    assert!(found["items"][0]["snippet"].as_str().unwrap().contains("<mark>抗体</mark>"), "{found}");
    let found = until(&world, &world.company_c, &search("cancer cachexia"), |b| b["total"].as_u64() == Some(1)).await;
    assert_eq!(found["items"][0]["id"], kana.to_string(), "{found}");
    for query in ["癌", "antibody", "抗体", &secret] {
        let text = until(&world, &world.admin, &search(query), |_| true).await.to_string();
        assert!(!text.contains(&english.to_string()), "{query} found a seed through its confidential text: {text}");
        assert!(!text.contains(&secret), "{text}");
    }
}
