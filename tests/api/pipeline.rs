//! The matcher's pipeline: short lists per record, liaisons told only of what stays (one digest per
//! import), nothing left unmatched across a restart or a transient failure, and changes made through
//! the API ahead of a bulk backlog.

use actix_web::http::Method;
use kakehashi_domain::{OrganizationKind, Role};
use kakehashi_store::{changes::RecordKind, match_work};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::Stage;
use crate::world::{Member, World};

/// Seeds written as a TTO's export would be: the same field, each with its own angle.
const SEEDS: [(&str, &str); 6] = [
    (
        "Exon-skipping antisense oligonucleotides for Duchenne muscular dystrophy",
        "Phosphorodiamidate morpholino antisense that skips exon 51 and restores dystrophin in mdx mice; looking for a licensee.",
    ),
    (
        "Peptide-conjugated antisense for exon skipping in muscular dystrophy",
        "Cell-penetrating peptide conjugates raise exon-skipping antisense uptake in heart and skeletal muscle of DMD models.",
    ),
    (
        "Multi-exon skipping antisense cocktail for Duchenne muscular dystrophy",
        "A cocktail of antisense oligonucleotides skipping exons 45 to 55 covers most DMD patients; preclinical data in dogs.",
    ),
    (
        "Antisense exon skipping restores dystrophin in human myotubes",
        "Patient-derived myotubes from muscular dystrophy donors show dystrophin rescue after exon-skipping antisense treatment.",
    ),
    (
        "Oral delivery of antisense oligonucleotides for muscular dystrophy",
        "Lipid-conjugated antisense reaches muscle after oral dosing; exon skipping seen in mdx mice at low doses.",
    ),
    (
        "Nucleic acid therapeutics for a rare neuromuscular disease",
        "siRNA against a toxic gain-of-function transcript in a rare muscular disorder; licensing or joint research.",
    ),
];

fn seed_line(i: usize) -> String {
    let (title, summary) = SEEDS[i % SEEDS.len()];
    let title = if i < SEEDS.len() { title.to_owned() } else { format!("{title} (programme {})", i / SEEDS.len() + 1) };
    json!({
        "title": title, "summary": summary, "confidential": { "details": "sequences and dosing" },
        "modalities": ["nucleic_acid"], "disease_areas": ["rare_intractable"], "stage": "preclinical",
        "ip_status": "filed", "deal_types": ["license"],
    })
    .to_string()
}

/// Imports `n` published seeds into university A as its TTO, through the API.
async fn import(world: &World, n: usize) {
    let body: String = (0..n).map(|i| seed_line(i) + "\n").collect();
    let mut res = world
        .app
        .client
        .post(format!("{}/api/v1/seeds/import?publish=true", world.app.base))
        .bearer_auth(&world.tto_a.token)
        .insert_header(("content-type", "application/x-ndjson"))
        .send_body(body)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&res.body().await.unwrap()).into_owned();
    assert_eq!(res.status(), 200, "{text}");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["imported"], n, "{text}");
}

async fn waiting(world: &World) -> u64 {
    match_work::waiting(&world.app.services.db).await.unwrap()
}

/// Waits until the index has applied every change written so far; it then serves `docs` documents.
async fn indexed(world: &World, docs: u64) {
    world.app.settled(Stage::Indexed).await;
    assert!(world.app.services.search.num_docs() >= docs);
}

/// Waits until the matcher has nothing left to do.
async fn settled(world: &World) {
    world.app.settled(Stage::Matched).await;
}

async fn matches_of(world: &World, query: &str) -> Value {
    let res =
        world.call(&world.admin, Method::GET, &format!("/api/v1/matches?per_page=100&status=open{query}"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body
}

async fn notifications(world: &World, who: &Member) -> Vec<Value> {
    let res = world.call(who, Method::GET, "/api/v1/notifications?per_page=100", None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["items"].as_array().unwrap().clone()
}

async fn liaison_covering(world: &World, email: &str, organizations: &[Uuid]) -> Member {
    let funder = world.app.organization("事務局", OrganizationKind::Funder).await;
    let id = world.app.member(email, Role::Liaison, funder).await;
    let res = world
        .call(
            &world.admin,
            Method::PUT,
            &format!("/api/v1/admin/liaisons/{id}/coverage"),
            Some(json!({ "organization_ids": organizations })),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    Member { name: "extra liaison", organization_id: funder, token: world.app.token(email).await }
}

#[actix_web::test]
async fn each_record_keeps_only_its_best_matches() {
    let world = World::with(|s| s.matching.max_per_record = 2).await;
    let need = world.need(false, "members", true).await;
    for i in 0..SEEDS.len() {
        let mut body: Value = serde_json::from_str(&seed_line(i)).unwrap();
        body["visibility"] = json!("members");
        let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id = res.body["id"].as_str().unwrap().to_owned();
        let res = world.call(&world.researcher_a, Method::POST, &format!("/api/v1/seeds/{id}/publish"), None).await;
        assert_eq!(res.status, 200, "{}", res.text);
        settled(&world).await;
        let listed = matches_of(&world, &format!("&need_id={need}")).await;
        assert!(listed["total"].as_u64().unwrap() <= 2, "at most two per record, always: {listed}");
    }

    // Scored afresh, the need's candidates ranked: its list holds the two best of them. The
    // matcher may have matched the last seed from its own side before the index applied it, so
    // the need is scored only once the index holds every change.
    indexed(&world, SEEDS.len() as u64 + 1).await;
    let stored = kakehashi_store::needs::get(&world.app.services.db, need).await.unwrap().unwrap();
    let scored = world.app.services.score_need(&stored).await.unwrap();
    assert!(scored.len() >= 3, "the test needs more candidates than places: {}", scored.len());
    world.app.services.match_record(RecordKind::Need, need).await.unwrap();
    let listed = matches_of(&world, &format!("&need_id={need}")).await;
    let kept: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|m| m["seed"]["id"].as_str().unwrap()).collect();
    let best: Vec<String> = scored.iter().take(2).map(|s| s.seed_id.to_string()).collect();
    assert_eq!(kept, best, "{listed}");
    let all = matches_of(&world, "").await;
    assert!(all["total"].as_u64().unwrap() >= 2);
    for item in all["items"].as_array().unwrap() {
        let seed = item["seed"]["id"].as_str().unwrap();
        let of_seed = matches_of(&world, &format!("&seed_id={seed}")).await;
        assert!(of_seed["total"].as_u64().unwrap() <= 2, "{of_seed}");
    }

    // A dismissed pair keeps its dismissal through re-scoring and takes no place.
    let first = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let res = world.call(&world.liaison, Method::POST, &format!("/api/v1/matches/{first}/dismiss"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    world.app.services.match_record(RecordKind::Need, need).await.unwrap();
    let after = matches_of(&world, &format!("&need_id={need}")).await;
    assert_eq!(after["total"], 2, "the next best takes the free place: {after}");
    assert!(!after.to_string().contains(&first));
    let dismissed = world
        .call(&world.admin, Method::GET, &format!("/api/v1/matches?status=dismissed&need_id={need}"), None)
        .await
        .body;
    assert_eq!(dismissed["items"][0]["id"], first.as_str());
}

/// A candidate's taxonomy and language are read from the index, but whether it is still published
/// from the database: a seed withdrawn there is not paired, even while the index, which has not
/// applied the change, still finds it.
#[actix_web::test]
async fn a_candidate_the_database_no_longer_publishes_is_not_paired() {
    use kakehashi_store::entity::seed;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
    let world = World::new().await;
    let need = world.need(false, "members", true).await;
    let mut seeds = Vec::new();
    for i in 0..2 {
        let mut body: Value = serde_json::from_str(&seed_line(i)).unwrap();
        body["visibility"] = json!("members");
        let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id: Uuid = res.body["id"].as_str().unwrap().parse().unwrap();
        let res = world.call(&world.researcher_a, Method::POST, &format!("/api/v1/seeds/{id}/publish"), None).await;
        assert_eq!(res.status, 200, "{}", res.text);
        seeds.push(id);
    }
    indexed(&world, 3).await;
    settled(&world).await;
    let mut both = world.app.services.match_record(RecordKind::Need, need).await.unwrap().matched;
    both.sort_unstable();
    let mut expected = seeds.clone();
    expected.sort_unstable();
    assert_eq!(both, expected, "the test needs both seeds to match");

    // Archived behind the change log's back: the index keeps the seed and still finds it.
    seed::Entity::update_many()
        .col_expr(seed::Column::Status, Expr::value("archived"))
        .filter(seed::Column::Id.eq(seeds[0]))
        .exec(&world.app.services.db)
        .await
        .unwrap();
    let run = world.app.services.match_record(RecordKind::Need, need).await.unwrap();
    assert_eq!(run.matched, [seeds[1]], "the archived seed loses its pair");
    let listed = matches_of(&world, &format!("&need_id={need}")).await;
    assert_eq!(listed["total"], 1, "{listed}");
}

#[actix_web::test]
async fn an_import_tells_each_covering_liaison_once_and_never_of_a_pruned_pair() {
    let world = World::with(|s| s.matching.max_per_record = 2).await;
    let covering_a = liaison_covering(&world, "liaison-a@example.org", &[world.uni_a]).await;
    let covering_b = liaison_covering(&world, "liaison-b@example.org", &[world.uni_b]).await;
    world.need(false, "members", true).await;
    settled(&world).await;
    import(&world, 12).await;
    settled(&world).await;

    let open = matches_of(&world, "").await;
    let open_ids: Vec<&str> = open["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(open_ids.len(), 2, "the need keeps two: {open}");
    for who in [&world.liaison, &covering_a] {
        let told = notifications(&world, who).await;
        let about: Vec<&str> = told.iter().map(|n| n["object_id"].as_str().unwrap()).collect();
        assert_eq!(about.len(), 2, "one in-app notification per pair that stayed: {told:?}");
        for id in &about {
            assert!(open_ids.contains(id), "told of a pair that is not in the list: {id}");
        }
    }
    assert!(notifications(&world, &covering_b).await.is_empty(), "liaisons of other organisations hear nothing");

    let mail = world.app.await_mail("liaison@example.org").await;
    assert!(mail.contains("一括登録されたシーズ・ニーズから、担当する機関の新しいマッチが 2 件"), "{mail}");
    // Everything due has been sent: nothing more is on its way.
    assert_eq!(world.app.mails_to("liaison@example.org").len(), 1, "one e-mail for the whole import");
    assert_eq!(world.app.mails_to("liaison-a@example.org").len(), 1);
    assert!(world.app.mails_to("liaison-b@example.org").is_empty());
}

#[actix_web::test]
async fn a_restart_in_the_middle_of_a_backlog_leaves_nothing_unmatched() {
    // A first server indexes the records but stops before matching any of them.
    let world = World::with(|s| s.matching.enabled = false).await;
    world.need(false, "members", true).await;
    import(&world, 30).await;
    world.app.settled(Stage::Indexed).await;
    let res = world.call(&world.liaison, Method::GET, "/api/v1/search?kind=seed&per_page=1", None).await;
    assert_eq!(res.body["total"], 30, "the import indexed");
    assert_eq!(waiting(&world).await, 31, "every record is owed its matching");
    assert_eq!(matches_of(&world, "").await["total"], 0);

    let world = world.restart_with(|s| s.matching.enabled = true).await;
    settled(&world).await;
    assert_eq!(matches_of(&world, "").await["total"], 20, "the need's list is full");
    // The need goes first and names what it finds in one e-mail; the import's seeds add the rest
    // to its list, in the import's one digest.
    world.app.await_mail("liaison@example.org").await;
    let mails = world.app.mails_to("liaison@example.org");
    assert!((1..=2).contains(&mails.len()), "{} e-mails", mails.len());

    // Stopped again while it matches a second import, restarted: the rest is matched then.
    import(&world, 30).await;
    let world = world.restart_with(|_| {}).await;
    settled(&world).await;
    assert_eq!(waiting(&world).await, 0);
    let open = matches_of(&world, "").await;
    assert_eq!(open["total"], 20, "{open}");
}

#[actix_web::test]
async fn a_transient_failure_is_retried() {
    let world = World::new().await;
    world.app.services.matcher.inject_transient_failures(2);
    world.seed("unused", "members", true).await;
    world.need(false, "members", true).await;
    world
        .app
        .until("the match, after two failed attempts", async || {
            let body = matches_of(&world, "").await;
            (body["total"] == 1).then_some(())
        })
        .await;
    assert_eq!(world.app.services.matcher.injected_failures_left(), 0, "both failures happened");
    settled(&world).await;
    assert_eq!(notifications(&world, &world.liaison).await.len(), 1, "told once");
}

#[actix_web::test]
async fn a_change_made_through_the_api_goes_ahead_of_a_bulk_backlog() {
    let world = World::with(|s| s.matching.enabled = false).await;
    import(&world, 300).await;
    let need = world.need(false, "members", true).await;
    let db = &world.app.services.db;
    let claimed = match_work::claim(db, i64::MAX, 1, chrono::Duration::seconds(5), Uuid::now_v7()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].record_id, need, "the need published after 300 imported seeds comes first");
    assert_eq!(claimed[0].priority, match_work::INTERACTIVE);
    let rest = match_work::claim(db, i64::MAX, 1000, chrono::Duration::seconds(5), Uuid::now_v7()).await.unwrap();
    assert_eq!(rest.len(), 300, "a claimed record is not claimed twice");
    assert!(rest.iter().all(|w| w.priority == match_work::BULK && w.batch == rest[0].batch && w.batch.is_some()));
}
