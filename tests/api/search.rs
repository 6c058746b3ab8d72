//! Search through HTTP: both languages, facets, the confidential tiers, and the index following
//! the database (read-your-writes, several processes, rebuilds).

use actix_web::http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Stage, TestApp, assert_problem, spawn_app_with};
use crate::world::{Member, World, marker};

/// Searches once the index has applied every change written so far (it follows the database
/// asynchronously), and checks the answer with `ready`. The delay is reported by the benchmark,
/// not asserted here.
async fn search_until(app: &TestApp, who: &Member, query: &str, ready: impl Fn(&Value) -> bool) -> Value {
    app.settled(Stage::Indexed).await;
    let res = app.get(&format!("/api/v1/search?{query}"), Some(&who.token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(ready(&res.body), "search did not return what was expected for {query}: {}", res.text);
    res.body
}

fn total(body: &Value) -> u64 {
    body["total"].as_u64().unwrap()
}

fn q(text: &str) -> String {
    format!("q={}", form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>())
}

async fn publish_seed(world: &World, title: &str, summary: &str, modality: &str, visibility: &str) -> Uuid {
    let body = json!({
        "title": title, "summary": summary,
        "confidential": { "details": "detail" },
        "modalities": [modality], "disease_areas": ["oncology"], "stage": "preclinical", "ip_status": "filed",
        "deal_types": ["license"], "visibility": visibility,
    });
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_owned();
    let res = world.call(&world.researcher_a, Method::POST, &format!("/api/v1/seeds/{id}/publish"), None).await;
    assert_eq!(res.status, 200);
    id.parse().unwrap()
}

#[actix_web::test]
async fn japanese_and_english_queries_of_any_length() {
    let world = World::new().await;
    publish_seed(&world, "HER2陽性乳癌に対する抗体薬物複合体", "新規ＡＤＣの前臨床データを有する。", "adc", "members")
        .await;
    publish_seed(
        &world,
        "筋ジストロフィーに対するエクソンスキッピング核酸",
        "アンチセンス核酸によりジストロフィンを回復。",
        "nucleic_acid",
        "members",
    )
    .await;
    publish_seed(
        &world,
        "Bispecific antibodies against solid tumours",
        "Engineered antibodies targeting tumour antigens.",
        "antibody",
        "members",
    )
    .await;
    let app = &world.app;
    let company = &world.company_c;
    search_until(app, company, "", |b| total(b) == 3).await;
    // The words as written first; the glossary finds the other language after them (癌 and 抗体
    // are cancer and antibody in the English seed).
    for (query, expected, total_found) in [
        ("癌", "HER2陽性乳癌に対する抗体薬物複合体", 2),
        ("抗体", "HER2陽性乳癌に対する抗体薬物複合体", 2),
        ("エクソンスキッピング", "筋ジストロフィーに対するエクソンスキッピング核酸", 1),
        ("antibody", "Bispecific antibodies against solid tumours", 2),
        ("ＡＤＣ", "HER2陽性乳癌に対する抗体薬物複合体", 1),
        ("her2 前臨床", "HER2陽性乳癌に対する抗体薬物複合体", 1),
    ] {
        let body = search_until(app, company, &q(query), |_| true).await;
        assert_eq!(total(&body), total_found, "{query}: {body}");
        assert_eq!(body["items"][0]["title"], expected, "{query}");
        assert_eq!(body["items"][0]["kind"], "seed");
        assert_eq!(body["items"][0]["organization"]["name"], "東都医科大学");
    }
    let body = search_until(app, company, &q("antibodies"), |_| true).await;
    assert!(body["items"][0]["snippet"].as_str().unwrap().contains("<mark>antibodies</mark>"), "{body}");
    assert_eq!(
        total(&search_until(app, company, &q("抗体 ジストロフィン"), |_| true).await),
        0,
        "every word must match"
    );
}

/// Each hit names its own taxonomy, read back from the index as it was written.
#[actix_web::test]
async fn a_hit_names_its_modalities_diseases_stage_ip_status_and_deal_types() {
    let world = World::new().await;
    let id = world.seed(&crate::world::marker(), "members", true).await;
    let body = search_until(&world.app, &world.company_c, &q("エクソンスキッピング"), |b| total(b) == 1).await;
    let hit = &body["items"][0];
    assert_eq!(hit["id"], id.to_string());
    assert_eq!(hit["modalities"], json!(["nucleic_acid"]), "{hit}");
    assert_eq!(hit["disease_areas"], json!(["rare_intractable"]), "{hit}");
    assert_eq!(hit["stages"], json!(["preclinical"]), "{hit}");
    assert_eq!(hit["ip_status"], "pre_filing", "{hit}");
    assert_eq!(hit["deal_types"], json!(["license", "joint_research"]), "{hit}");
}

#[actix_web::test]
async fn facets_count_only_what_the_viewer_may_find() {
    let world = World::new().await;
    publish_seed(&world, "抗体 A", "概要", "antibody", "members").await;
    publish_seed(&world, "抗体 B", "概要", "antibody", "members").await;
    publish_seed(&world, "抗体 C", "概要", "adc", "members").await;
    let quiet = publish_seed(&world, "抗体 quiet", "概要", "adc", "liaison_only").await;
    let app = &world.app;
    let liaison = search_until(app, &world.liaison, &q("抗体"), |b| total(b) == 4).await;
    let counts = |body: &Value| -> Vec<(String, u64)> {
        body["facets"]["modality"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["value"].as_str().unwrap().to_owned(), f["count"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(counts(&liaison), [("adc".to_owned(), 2), ("antibody".to_owned(), 2)]);
    let company = search_until(app, &world.company_c, &q("抗体"), |_| true).await;
    assert_eq!(total(&company), 3);
    assert_eq!(
        counts(&company),
        [("antibody".to_owned(), 2), ("adc".to_owned(), 1)],
        "the liaison-only seed changes no count"
    );
    assert!(!company.to_string().contains(&quiet.to_string()));
    let adc = &company["facets"]["modality"].as_array().unwrap()[1];
    assert_eq!(adc["label_ja"], "抗体薬物複合体（ADC）");
    assert_eq!(adc["label_en"], "Antibody–drug conjugate (ADC)");
    // Facet filters: OR within a facet, AND across facets.
    let both = search_until(app, &world.company_c, "modality=antibody&modality=adc", |_| true).await;
    assert_eq!(total(&both), 3);
    let none = search_until(app, &world.company_c, "modality=antibody&stage=phase_3", |_| true).await;
    assert_eq!(total(&none), 0);
    let one = search_until(app, &world.company_c, "modality=adc&stage=preclinical", |_| true).await;
    assert_eq!(total(&one), 1);
    // Pagination and date order.
    let page = search_until(app, &world.company_c, "sort=newest&per_page=2&page=2", |_| true).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["title"], "抗体 A", "the oldest comes last");
    assert_eq!(page["items"][0]["score"], Value::Null);
    // A grant lets the company find the liaison-only seed.
    let res = world
        .call(
            &world.liaison,
            Method::POST,
            &format!("/api/v1/seeds/{quiet}/grants"),
            Some(json!({ "organization_id": world.pharma_c })),
        )
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(total(&search_until(app, &world.company_c, &q("抗体"), |_| true).await), 4);
    assert_eq!(total(&search_until(app, &world.company_d, &q("抗体"), |_| true).await), 3);
}

#[actix_web::test]
async fn confidential_text_and_hidden_records_are_never_found() {
    let world = World::new().await;
    let m = marker();
    let id = world.seed(&m, "members", true).await;
    let draft_title = format!("draft{}", Uuid::new_v4().simple());
    let draft = json!({ "title": draft_title, "summary": "s", "stage": "preclinical", "ip_status": "filed" });
    assert_eq!(world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(draft)).await.status, 201);
    let app = &world.app;
    search_until(app, &world.admin, &q("エクソンスキッピング"), |b| total(b) == 1).await;
    for member in world.everyone() {
        for query in [q(&m), q(&draft_title)] {
            let body = search_until(app, member, &query, |_| true).await;
            assert_eq!(total(&body), 0, "{} found {query}", member.name);
        }
    }
    // Archived seeds leave the index.
    world.call(&world.researcher_a, Method::DELETE, &format!("/api/v1/seeds/{id}"), None).await;
    search_until(app, &world.admin, &q("エクソンスキッピング"), |b| total(b) == 0).await;

    // Needs: competitors never find them, academia does not learn an anonymous company.
    let need = world.need(true, "members", true).await;
    let found = search_until(app, &world.researcher_b, "kind=need", |b| total(b) == 1).await;
    assert_eq!(found["items"][0]["organization"], Value::Null);
    assert_eq!(found["items"][0]["id"], need.to_string());
    assert_eq!(total(&search_until(app, &world.company_d, "kind=need", |_| true).await), 0);
    let own = search_until(app, &world.colleague_c, "kind=need", |_| true).await;
    assert_eq!(own["items"][0]["organization"]["id"], world.pharma_c.to_string());
    assert_eq!(
        total(&search_until(app, &world.researcher_b, &q("日本創薬"), |_| true).await),
        0,
        "the company's name is not searchable"
    );

    assert_problem(&app.get("/api/v1/search?q=x", None).await, 401, "unauthorized");
    for bad in ["kind=both", "sort=random", "per_page=101", "page=0", "colour=red", "page=1000000&per_page=100"] {
        assert_problem(
            &app.get(&format!("/api/v1/search?{bad}"), Some(&world.admin.token)).await,
            422,
            "validation_failed",
        );
    }
}

#[actix_web::test]
async fn two_processes_on_one_database_see_each_others_writes() {
    let world = World::new().await;
    let shared_url = match world.app.settings.database.url.as_str() {
        "" => format!("sqlite://{}", world.app.settings.data_dir.join("kakehashi.db").display()),
        url => url.to_owned(),
    };
    let other = spawn_app_with(|s| s.database.url = shared_url.clone()).await;
    let id =
        publish_seed(&world, "iPS細胞由来心筋シート", "重症心不全に対する再生医療", "regenerative_medicine", "members")
            .await;
    // Written through the first process, found through the second.
    let found = search_until(&other, &world.company_c, &q("心筋"), |b| total(b) == 1).await;
    assert_eq!(found["items"][0]["id"], id.to_string());
    // Written through the second, found through the first.
    let res = other.post(&format!("/api/v1/seeds/{id}/publish"), Some(&world.researcher_a.token), json!({})).await;
    assert_eq!(res.status, 409, "already published");
    let res =
        other.request(Method::DELETE, &format!("/api/v1/seeds/{id}"), Some(&world.researcher_a.token), None).await;
    assert_eq!(res.status, 200);
    search_until(&world.app, &world.company_c, &q("心筋"), |b| total(b) == 0).await;
}

#[actix_web::test]
async fn the_index_is_rebuilt_from_the_database() {
    let world = World::new().await;
    for i in 0..5 {
        publish_seed(&world, &format!("核酸医薬シーズ {i}"), "siRNA delivery to the liver", "nucleic_acid", "members")
            .await;
    }
    let before = search_until(&world.app, &world.company_c, &q("核酸"), |b| total(b) == 5).await;

    // A fresh process whose index directory is gone rebuilds it and answers the same.
    let shared_url = match world.app.settings.database.url.as_str() {
        "" => format!("sqlite://{}", world.app.settings.data_dir.join("kakehashi.db").display()),
        url => url.to_owned(),
    };
    let dir = tempfile::tempdir().unwrap();
    let index_dir = dir.path().join("index");
    let settings_dir = index_dir.clone();
    let url = shared_url.clone();
    let fresh = spawn_app_with(move |s| {
        s.database.url = url;
        s.search.dir = settings_dir.to_string_lossy().into_owned();
    })
    .await;
    let after = fresh.get(&format!("/api/v1/search?{}", q("核酸")), Some(&world.company_c.token)).await;
    let ids = |b: &Value| -> Vec<String> {
        let mut v: Vec<String> =
            b["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&after.body), ids(&before));
    assert_eq!(after.body["facets"], before["facets"]);
    assert_eq!(fresh.get("/readyz", None).await.body["search_documents"], 5);
}

#[actix_web::test]
async fn changes_committed_before_a_crash_are_replayed() {
    let world = World::new().await;
    let url = match world.app.settings.database.url.as_str() {
        "" => format!("sqlite://{}", world.app.settings.data_dir.join("kakehashi.db").display()),
        url => url.to_owned(),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::test_settings(dir.path().to_owned(), url.clone());
    settings.search.dir = dir.path().join("index").to_string_lossy().into_owned();
    // A process opens its index, then stops before indexing what is written next.
    let (services, background) =
        kakehashi::startup::services(&settings, kakehashi::startup::IndexMode::Open).await.unwrap();
    let id =
        publish_seed(&world, "薬剤耐性菌に対する新規抗菌ペプチド", "AMR", "peptide_middle_molecule", "members").await;
    assert_eq!(services.search.num_docs(), 0);
    let stopped_at = background.indexer.last_seq;
    drop(services);
    // On restart it resumes from the position in its index and replays the change.
    let index_dir = settings.search.dir.clone();
    let restarted = spawn_app_with(move |s| {
        s.database.url = url;
        s.search.dir = index_dir;
    })
    .await;
    assert!(restarted.services.search.last_seq().unwrap().unwrap_or(0) >= stopped_at);
    let found = search_until(&restarted, &world.company_c, &q("抗菌"), |b| total(b) == 1).await;
    assert_eq!(found["items"][0]["id"], id.to_string());
}

/// The invariant any speed-up of search must keep: for every member, the hits are exactly the
/// published records that member may open, the total counts them, and each facet's counts add up
/// to the total (every record here has one disease area).
#[actix_web::test]
async fn hits_totals_and_facet_counts_agree_with_what_each_member_may_open() {
    let world = World::new().await;
    let mut published = Vec::new();
    for (title, modality, visibility) in [
        ("抗体 open 1", "antibody", "members"),
        ("抗体 open 2", "adc", "members"),
        ("抗体 open 3", "antibody", "members"),
        ("抗体 quiet", "adc", "liaison_only"),
        ("抗体 quiet granted", "antibody", "liaison_only"),
    ] {
        published.push(("seeds", publish_seed(&world, title, "概要", modality, visibility).await));
    }
    let granted = published[4].1;
    let res = world
        .call(
            &world.researcher_a,
            Method::POST,
            &format!("/api/v1/seeds/{granted}/grants"),
            Some(json!({ "organization_id": world.pharma_c })),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let archived = publish_seed(&world, "抗体 archived", "概要", "antibody", "members").await;
    let res = world.call(&world.researcher_a, Method::DELETE, &format!("/api/v1/seeds/{archived}"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    world.seed(&marker(), "members", false).await;
    published.push(("needs", world.need(false, "members", true).await));
    published.push(("needs", world.need(true, "members", true).await));
    published.push(("needs", world.need(false, "liaison_only", true).await));
    world.need(false, "members", false).await;
    search_until(&world.app, &world.liaison, "per_page=100", |b| total(b) == published.len() as u64).await;

    for member in world.everyone() {
        let mut may_open: Vec<String> = Vec::new();
        for (kind, id) in &published {
            let res = world.call(member, Method::GET, &format!("/api/v1/{kind}/{id}"), None).await;
            assert!(res.status == 200 || res.status == 404, "{}: {}", member.name, res.text);
            if res.status == 200 {
                may_open.push(id.to_string());
            }
        }
        may_open.sort();
        match member.name {
            "liaison" | "admin" => assert_eq!(may_open.len(), published.len(), "the secretariat opens everything"),
            "company_c" => assert!(may_open.contains(&granted.to_string()), "the grant opens the quiet seed"),
            "company_d" => assert_eq!(may_open.len(), 3, "the open seeds only: {may_open:?}"),
            _ => {}
        }
        for query in
            ["per_page=100", "per_page=100&kind=seed", "per_page=100&kind=need", "per_page=100&q=%E6%8A%97%E4%BD%93"]
        {
            let body = search_until(&world.app, member, query, |_| true).await;
            let mut hits: Vec<String> =
                body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
            hits.sort();
            let expected: Vec<String> = if query == "per_page=100" {
                may_open.clone()
            } else {
                let kind = if query.contains("kind=need") { "needs" } else { "seeds" };
                let ids: Vec<String> = published
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, id)| id.to_string())
                    .filter(|id| may_open.contains(id))
                    .collect();
                let mut ids = ids;
                ids.sort();
                ids
            };
            assert_eq!(hits, expected, "{} searching {query}", member.name);
            assert_eq!(total(&body), hits.len() as u64, "{} searching {query}", member.name);
            let counted: u64 =
                body["facets"]["disease_area"].as_array().unwrap().iter().map(|f| f["count"].as_u64().unwrap()).sum();
            assert_eq!(counted, total(&body), "{}: disease-area counts of {query}", member.name);
        }
    }
}
