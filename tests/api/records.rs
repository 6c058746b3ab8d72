//! Seeds and needs: the disclosure tiers tried with every member's token, grants, concurrency,
//! mass assignment and bulk import.

use actix_web::http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::assert_problem;
use crate::world::{World, marker, seed_body};

fn access_of(name: &str, table: &[(&str, Option<&str>)]) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == name).and_then(|(_, a)| *a).map(|a| match a {
        "owner" => "owner",
        "confidential" => "confidential",
        _ => "summary",
    })
}

/// Reads the seed as everyone and checks each access level, that the marker appears exactly
/// where the confidential tier is open, and that hidden answers equal a missing seed's.
async fn check_seed_disclosure(world: &World, id: Uuid, marker: &str, table: &[(&str, Option<&str>)]) {
    for member in world.everyone() {
        let res = world.call(member, Method::GET, &format!("/api/v1/seeds/{id}"), None).await;
        match access_of(member.name, table) {
            None => {
                assert_problem(&res, 404, "not_found");
                let missing = world.call(member, Method::GET, &format!("/api/v1/seeds/{}", Uuid::new_v4()), None).await;
                assert_eq!(res.body, missing.body, "{}: a hidden seed must answer like a missing one", member.name);
            }
            Some(access) => {
                assert_eq!(res.status, 200, "{}: {}", member.name, res.text);
                assert_eq!(res.body["access"], access, "{}", member.name);
                let opens = access != "summary";
                assert_eq!(res.body.get("confidential").is_some(), opens, "{}: {}", member.name, res.text);
                assert_eq!(res.text.contains(marker), opens, "{}: marker presence", member.name);
            }
        }
        for path in ["/api/v1/seeds", "/api/v1/seeds?mine=true", "/api/v1/needs", "/api/v1/needs?mine=true"] {
            let list = world.call(member, Method::GET, path, None).await;
            assert_eq!(list.status, 200);
            assert!(!list.text.contains(marker), "{} saw the marker in {path}", member.name);
        }
    }
}

#[actix_web::test]
async fn a_published_seed_discloses_by_tier() {
    let world = World::new().await;
    let m = marker();
    let id = world.seed(&m, "members", true).await;
    let table = [
        ("researcher_a", Some("owner")),
        ("colleague_a", Some("confidential")),
        ("tto_a", Some("owner")),
        ("researcher_b", Some("summary")),
        ("tto_b", Some("summary")),
        ("company_c", Some("summary")),
        ("colleague_c", Some("summary")),
        ("company_d", Some("summary")),
        ("liaison", Some("confidential")),
        ("admin", Some("owner")),
    ];
    check_seed_disclosure(&world, id, &m, &table).await;
    // Summary viewers find it in the list, without the owner.
    let list = world.call(&world.company_c, Method::GET, "/api/v1/seeds", None).await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["access"], "summary");
    assert!(list.body["items"][0].get("owner_id").is_none());
    assert_eq!(list.body["items"][0]["organization"]["name"], "東都医科大学");
}

#[actix_web::test]
async fn drafts_and_liaison_only_seeds_stay_hidden() {
    let world = World::new().await;
    let m = marker();
    let draft = world.seed(&m, "members", false).await;
    let owners_only = [("researcher_a", Some("owner")), ("tto_a", Some("owner")), ("admin", Some("owner"))];
    check_seed_disclosure(&world, draft, &m, &owners_only).await;

    let m2 = marker();
    let quiet = world.seed(&m2, "liaison_only", true).await;
    let table = [
        ("researcher_a", Some("owner")),
        ("colleague_a", Some("confidential")),
        ("tto_a", Some("owner")),
        ("liaison", Some("confidential")),
        ("admin", Some("owner")),
    ];
    check_seed_disclosure(&world, quiet, &m2, &table).await;
    for member in [&world.company_c, &world.company_d, &world.researcher_b] {
        let list = world.call(member, Method::GET, "/api/v1/seeds", None).await;
        assert_eq!(list.body["total"], 0, "{}: {}", member.name, list.text);
    }
    let list = world.call(&world.liaison, Method::GET, "/api/v1/seeds", None).await;
    assert_eq!(list.body["total"], 1, "liaisons find liaison-only seeds");
    let mine = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true", None).await;
    assert_eq!(mine.body["total"], 2, "TTO staff list all their organisation's seeds");
}

#[actix_web::test]
async fn grants_open_the_confidential_tier_until_revoked() {
    let world = World::new().await;
    let m = marker();
    let id = world.seed(&m, "members", true).await;
    let path = format!("/api/v1/seeds/{id}");
    let grants = format!("{path}/grants");

    // Nobody outside the owner side may grant.
    for member in [&world.company_c, &world.researcher_b, &world.tto_b, &world.colleague_a] {
        let res =
            world.call(member, Method::POST, &grants, Some(json!({ "organization_id": member.organization_id }))).await;
        assert_problem(&res, 403, "forbidden");
        assert!(!res.text.contains(&m));
    }
    let res = world
        .call(&world.researcher_a, Method::POST, &grants, Some(json!({ "organization_id": world.pharma_c })))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    for member in [&world.company_c, &world.colleague_c] {
        let res = world.call(member, Method::GET, &path, None).await;
        assert_eq!(res.body["access"], "confidential", "{}", member.name);
        assert!(res.text.contains(&m));
    }
    let other = world.call(&world.company_d, Method::GET, &path, None).await;
    assert_eq!(other.body["access"], "summary");
    assert!(!other.text.contains(&m));

    let listed = world.call(&world.liaison, Method::GET, &grants, None).await;
    assert_eq!(listed.body["items"][0]["organization_id"], world.pharma_c.to_string());
    assert_problem(&world.call(&world.company_c, Method::GET, &grants, None).await, 403, "forbidden");

    // Reading it was audited, without the confidential text.
    let audit = world
        .call(
            &world.admin,
            Method::GET,
            &format!("/api/v1/admin/audit?action=seed.confidential_viewed&object_id={id}"),
            None,
        )
        .await;
    assert_eq!(audit.body["total"], 2, "both members of the company read it: {}", audit.text);
    let everything = world.call(&world.admin, Method::GET, "/api/v1/admin/audit?per_page=100", None).await;
    assert!(!everything.text.contains(&m), "the audit trail holds no confidential text");

    let res = world.call(&world.liaison, Method::DELETE, &format!("{grants}/{}", world.pharma_c), None).await;
    assert_eq!(res.status, 204, "{}", res.text);
    let res = world.call(&world.company_c, Method::GET, &path, None).await;
    assert_eq!(res.body["access"], "summary", "revocation takes effect on the next request");
    assert!(!res.text.contains(&m));
    assert_problem(
        &world.call(&world.liaison, Method::DELETE, &format!("{grants}/{}", world.pharma_c), None).await,
        404,
        "not_found",
    );

    // Bad grants.
    for (body, field) in [
        (json!({ "organization_id": world.uni_a }), "organization_id"),
        (json!({ "organization_id": Uuid::new_v4() }), "organization_id"),
        (json!({ "organization_id": world.pharma_d, "expires_at": "2001-01-01T00:00:00Z" }), "expires_at"),
    ] {
        let res = world.call(&world.tto_a, Method::POST, &grants, Some(body)).await;
        assert_problem(&res, 422, "validation_failed");
        assert_eq!(res.body["errors"][0]["field"], field);
    }
}

#[actix_web::test]
async fn a_grant_opens_a_liaison_only_seed() {
    let world = World::new().await;
    let m = marker();
    let id = world.seed(&m, "liaison_only", true).await;
    let path = format!("/api/v1/seeds/{id}");
    assert_problem(&world.call(&world.company_c, Method::GET, &path, None).await, 404, "not_found");
    let res = world
        .call(
            &world.liaison,
            Method::POST,
            &format!("{path}/grants"),
            Some(json!({ "organization_id": world.pharma_c, "expires_at": "2099-01-01T00:00:00Z" })),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let res = world.call(&world.company_c, Method::GET, &path, None).await;
    assert_eq!(res.body["access"], "confidential");
    let list = world.call(&world.company_c, Method::GET, "/api/v1/seeds", None).await;
    assert_eq!(list.body["total"], 1);
    assert_problem(&world.call(&world.company_d, Method::GET, &path, None).await, 404, "not_found");
}

#[actix_web::test]
async fn only_owners_change_a_seed() {
    let world = World::new().await;
    let m = marker();
    let published = world.seed(&m, "members", true).await;
    let draft = world.seed(&m, "members", false).await;
    for member in world.everyone() {
        let may_edit = matches!(member.name, "researcher_a" | "tto_a" | "admin");
        if may_edit {
            continue;
        }
        for (id, visible) in [(published, true), (draft, false)] {
            let path = format!("/api/v1/seeds/{id}");
            let attempts: Vec<(Method, String, Option<Value>)> = vec![
                (Method::PATCH, path.clone(), Some(json!({ "title": "hijacked" }))),
                (Method::POST, format!("{path}/publish"), None),
                (Method::DELETE, path.clone(), None),
            ];
            for (method, p, body) in attempts {
                let res = world.call(member, method.clone(), &p, body).await;
                let expected = if visible { 403 } else { 404 };
                assert_eq!(res.status.as_u16(), expected, "{} {method} {p}: {}", member.name, res.text);
                assert!(!res.text.contains(&m), "{}: marker in an error", member.name);
            }
        }
    }
    let res = world.call(&world.researcher_a, Method::GET, &format!("/api/v1/seeds/{published}"), None).await;
    assert_eq!(res.body["title"], "筋ジストロフィーに対するエクソンスキッピング核酸", "nothing was changed");
    assert_eq!(res.body["version"], 2);
    for member in [&world.tto_a, &world.admin] {
        let res = world
            .call(member, Method::PATCH, &format!("/api/v1/seeds/{published}"), Some(json!({ "keywords": ["DMD"] })))
            .await;
        assert_eq!(res.status, 200, "{}: {}", member.name, res.text);
    }
}

#[actix_web::test]
async fn clients_cannot_assign_owner_organization_status_version_or_access() {
    let world = World::new().await;
    for field in ["owner_id", "organization_id", "status", "version", "access", "id", "published_at"] {
        let mut body = seed_body("x", "members");
        body[field] = json!(Uuid::new_v4());
        let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
        assert_problem(&res, 422, "validation_failed");
        assert!(res.text.contains(field), "{field}: {}", res.text);
    }
    let id = world.seed("x", "members", false).await;
    for field in ["owner_id", "organization_id", "status", "access"] {
        let res = world
            .call(&world.researcher_a, Method::PATCH, &format!("/api/v1/seeds/{id}"), Some(json!({ field: "x" })))
            .await;
        assert_problem(&res, 422, "validation_failed");
    }
    let list = world.call(&world.researcher_a, Method::GET, "/api/v1/seeds?mine=true", None).await;
    assert_eq!(list.body["total"], 1, "refused creations left nothing behind");
    assert_eq!(list.body["items"][0]["status"], "draft");
}

#[actix_web::test]
async fn seeds_are_validated_against_the_taxonomy() {
    let world = World::new().await;
    let taxonomy = world.call(&world.company_c, Method::GET, "/api/v1/taxonomy", None).await;
    assert_eq!(taxonomy.status, 200);
    let antibody = taxonomy.body["modalities"].as_array().unwrap().iter().find(|t| t["value"] == "antibody").unwrap();
    assert_eq!(antibody["label_ja"], "抗体");
    assert_eq!(antibody["label_en"], "Antibody");
    assert_problem(&world.app.get("/api/v1/taxonomy", None).await, 401, "unauthorized");

    let mut body = seed_body("x", "members");
    body["modalities"] = json!(["antibody", "telepathy"]);
    body["stage"] = json!("someday");
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
    assert_problem(&res, 422, "validation_failed");
    let errors = res.body["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["field"] == "modalities[1]" && e["message"].as_str().unwrap().contains("telepathy")),
        "{}",
        res.text
    );
    assert!(errors.iter().any(|e| e["field"] == "stage"));

    let res = world.call(&world.company_c, Method::POST, "/api/v1/seeds", Some(seed_body("x", "members"))).await;
    assert_problem(&res, 403, "forbidden");
    let res = world
        .call(&world.researcher_a, Method::POST, "/api/v1/needs", Some(json!({ "title": "t", "description": "d" })))
        .await;
    assert_problem(&res, 403, "forbidden");

    let id = world.seed("x", "members", false).await;
    let seed = world.call(&world.researcher_a, Method::GET, &format!("/api/v1/seeds/{id}"), None).await;
    assert_eq!(seed.body["language"], "ja", "detected from the Japanese title");
}

#[actix_web::test]
async fn concurrent_edits_give_one_conflict() {
    let world = World::new().await;
    let id = world.seed("x", "members", false).await;
    let path = format!("/api/v1/seeds/{id}");
    let patch = |title: &'static str| {
        world
            .app
            .client
            .patch(format!("{}{path}", world.app.base))
            .bearer_auth(&world.researcher_a.token)
            .insert_header(("if-match", "\"1\""))
            .send_json(&json!({ "title": title }))
    };
    let (a, b) = futures_util::future::join(patch("first"), patch("second")).await;
    let mut statuses = vec![a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let res =
        world.call(&world.researcher_a, Method::PATCH, &path, Some(json!({ "title": "stale", "version": 1 }))).await;
    assert_problem(&res, 409, "conflict");
    let current = world.call(&world.researcher_a, Method::GET, &path, None).await;
    assert_eq!(current.body["version"], 2);
    assert_eq!(current.headers.get("etag").unwrap(), "\"2\"");
    let res =
        world.call(&world.researcher_a, Method::PATCH, &path, Some(json!({ "title": "third", "version": 2 }))).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["version"], 3);

    let updates = world
        .call(&world.admin, Method::GET, &format!("/api/v1/admin/audit?action=seed.updated&object_id={id}"), None)
        .await;
    assert_eq!(updates.body["total"], 2);
    assert_eq!(updates.body["items"][0]["details"]["fields"], json!(["title"]));
}

#[actix_web::test]
async fn publishing_and_archiving_follow_the_life_cycle() {
    let world = World::new().await;
    let id = world.seed("x", "members", true).await;
    let path = format!("/api/v1/seeds/{id}");
    let res = world.call(&world.researcher_a, Method::POST, &format!("{path}/publish"), None).await;
    assert_problem(&res, 409, "conflict");
    assert!(res.body["detail"].as_str().unwrap().contains("published"), "{}", res.text);
    let res = world.call(&world.researcher_a, Method::DELETE, &path, None).await;
    assert_eq!(res.body["status"], "archived");
    assert_problem(&world.call(&world.company_c, Method::GET, &path, None).await, 404, "not_found");
    assert_eq!(world.call(&world.company_c, Method::GET, "/api/v1/seeds", None).await.body["total"], 0);
    // Archived is closed until restored (the whole life cycle is walked in `lifecycle`).
    let res = world.call(&world.researcher_a, Method::POST, &format!("{path}/publish"), None).await;
    assert_problem(&res, 409, "conflict");
    let res = world.call(&world.researcher_a, Method::POST, &format!("{path}/restore"), None).await;
    assert_eq!(res.body["status"], "draft");
    let res = world.call(&world.researcher_a, Method::POST, &format!("{path}/publish"), None).await;
    assert_eq!(res.body["status"], "published");
}

#[actix_web::test]
async fn anonymous_needs_hide_the_company_from_academia() {
    let world = World::new().await;
    let anonymous = world.need(true, "members", true).await;
    let named = world.need(false, "members", true).await;
    let path = format!("/api/v1/needs/{anonymous}");
    for member in [&world.researcher_a, &world.tto_b] {
        let res = world.call(member, Method::GET, &path, None).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["organization"], Value::Null, "{}", member.name);
        assert!(res.body.get("owner_id").is_none());
        assert!(!res.text.contains("日本創薬") && !res.text.contains(&world.pharma_c.to_string()), "{}", res.text);
        let list = world.call(member, Method::GET, "/api/v1/needs", None).await;
        assert_eq!(list.body["total"], 2);
        for item in list.body["items"].as_array().unwrap() {
            let is_anonymous = item["id"] == anonymous.to_string();
            assert_eq!(item["organization"].is_null(), is_anonymous, "{item}");
        }
        let named_res = world.call(member, Method::GET, &format!("/api/v1/needs/{named}"), None).await;
        assert_eq!(named_res.body["organization"]["name"], "日本創薬");
    }
    for member in [&world.liaison, &world.admin, &world.colleague_c, &world.company_c] {
        let res = world.call(member, Method::GET, &path, None).await;
        assert_eq!(res.body["organization"]["id"], world.pharma_c.to_string(), "{}", member.name);
    }
    // Competitors never see a company's needs.
    assert_problem(&world.call(&world.company_d, Method::GET, &path, None).await, 404, "not_found");
    assert_eq!(world.call(&world.company_d, Method::GET, "/api/v1/needs", None).await.body["total"], 0);
    // Drafts and liaison-only needs stay away from academia.
    let draft = world.need(true, "members", false).await;
    let quiet = world.need(true, "liaison_only", true).await;
    for id in [draft, quiet] {
        assert_problem(
            &world.call(&world.researcher_a, Method::GET, &format!("/api/v1/needs/{id}"), None).await,
            404,
            "not_found",
        );
    }
    assert_eq!(world.call(&world.liaison, Method::GET, &format!("/api/v1/needs/{quiet}"), None).await.status, 200);
    // Only the owner (or an admin) edits.
    for member in [&world.colleague_c, &world.researcher_a, &world.liaison] {
        let res = world.call(member, Method::PATCH, &path, Some(json!({ "anonymous": false }))).await;
        assert_eq!(res.status, 403, "{}: {}", member.name, res.text);
    }
    let res = world
        .call(&world.company_c, Method::PATCH, &path, Some(json!({ "stages": ["phase_1", "basic_research"] })))
        .await;
    assert_eq!(res.body["stages"], json!(["basic_research", "phase_1"]));
}

fn jsonl_row(i: usize) -> String {
    let title = if i.is_multiple_of(2) { format!("抗体医薬シーズ {i}") } else { format!("Antibody seed {i}") };
    json!({
        "title": title, "summary": "A generated seed.", "confidential": { "details": "secret" },
        "modalities": ["antibody"], "disease_areas": ["oncology"], "stage": "preclinical", "ip_status": "filed",
    })
    .to_string()
}

#[actix_web::test]
async fn importing_ten_thousand_seeds_reports_bad_rows_by_line() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seeds.jsonl");
    let mut lines: Vec<String> = (0..10_000).map(jsonl_row).collect();
    lines[41] = r#"{"title":"missing fields"}"#.to_owned();
    lines[4_999] =
        r#"{"title":"x","summary":"s","stage":"preclinical","ip_status":"filed","modalities":["telepathy"]}"#
            .to_owned();
    lines[9_999] = "not json".to_owned();
    std::fs::write(&file, lines.join("\n")).unwrap();

    let run = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"));
        cmd.env("KAKEHASHI__DATA_DIR", &world.app.settings.data_dir)
            .env("KAKEHASHI__DATABASE__URL", &world.app.settings.database.url)
            .env("KAKEHASHI__LOG__LEVEL", "warn")
            .args(["import", "seeds"])
            .arg(&file)
            .args(["--organization", &world.uni_a.to_string()])
            .args(extra);
        cmd.output().unwrap()
    };
    let dry = run(&["--dry-run"]);
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(stdout.contains("10000 rows: would import 9997, 3 failed"), "{stdout}");
    assert_eq!(
        world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true", None).await.body["total"],
        0,
        "a dry run writes nothing"
    );

    let out = run(&["--publish"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "bad rows make the command fail");
    assert!(stdout.contains("line 42: "), "{stdout}");
    assert!(stdout.contains("line 5000: modalities[0]: unknown value `telepathy`"), "{stdout}");
    assert!(stdout.contains("line 10000: "), "{stdout}");
    assert!(stdout.contains("10000 rows: imported 9997, 3 failed"), "{stdout}");

    let mine = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true&per_page=1", None).await;
    assert_eq!(mine.body["total"], 9997);
    let found = world.call(&world.company_c, Method::GET, "/api/v1/seeds?per_page=1", None).await;
    assert_eq!(found.body["total"], 9997, "published on import");
    assert!(!found.text.contains("secret"));
}

#[actix_web::test]
async fn the_import_endpoint_takes_csv_from_tto_staff_and_admins() {
    let world = World::new().await;
    let csv = "title,summary,confidential_details,modalities,disease_areas,stage,ip_status,deal_types,keywords,visibility\n\
               がん抗体,概要,秘密,antibody;adc,oncology,preclinical,filed,license,HER2,members\n\
               Bad row,summary,,antibody,oncology,nowhere,filed,,,members\n";
    let post = |who: &crate::world::Member, query: &str, content_type: &str| {
        world
            .app
            .client
            .post(format!("{}/api/v1/seeds/import{query}", world.app.base))
            .bearer_auth(&who.token)
            .insert_header(("content-type", content_type.to_owned()))
            .send_body(csv)
    };
    let mut res = post(&world.tto_a, "?dry_run=true", "text/csv").await.unwrap();
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["rows"], 2, "{report}");
    assert_eq!(report["imported"], 0);
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["errors"][0]["field"], "stage");
    let outcomes = json!([{ "line": 2, "outcome": "valid" }, { "line": 3, "outcome": "failed" }]);
    assert_eq!(report["outcomes"], outcomes, "every row's fate, by line");

    let mut res = post(&world.tto_a, "", "text/csv").await.unwrap();
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(report["outcomes"], json!([{ "line": 2, "outcome": "created" }, { "line": 3, "outcome": "failed" }]));
    let mine = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true", None).await;
    assert_eq!(mine.body["items"][0]["modalities"], json!(["antibody", "adc"]));
    assert_eq!(mine.body["items"][0]["status"], "draft");

    assert_eq!(
        post(&world.tto_a, &format!("?organization_id={}", world.uni_b), "text/csv").await.unwrap().status(),
        403
    );
    assert_eq!(post(&world.researcher_a, "", "text/csv").await.unwrap().status(), 403);
    assert_eq!(post(&world.company_c, "", "text/csv").await.unwrap().status(), 403);
    assert_eq!(post(&world.admin, "", "text/csv").await.unwrap().status(), 422, "admins name the organization");
    assert_eq!(
        post(&world.admin, &format!("?organization_id={}", world.pharma_c), "text/csv").await.unwrap().status(),
        422
    );
    assert_eq!(post(&world.tto_a, "", "application/pdf").await.unwrap().status(), 415);
    // A file without rows (empty, or a header alone) is refused as such, not reported as done.
    for (body, content_type) in [("", "text/csv"), ("title,summary\n", "text/csv"), ("\n", "application/x-ndjson")] {
        let res = world
            .app
            .client
            .post(format!("{}/api/v1/seeds/import", world.app.base))
            .bearer_auth(&world.tto_a.token)
            .insert_header(("content-type", content_type))
            .send_body(body)
            .await
            .unwrap();
        let res = crate::helpers::TestApp::read_response(res).await;
        crate::helpers::assert_problem(&res, 422, "validation_failed");
        assert_eq!(res.body["errors"][0]["field"], "file", "{}", res.text);
    }
    let mut res =
        post(&world.admin, &format!("?organization_id={}&publish=true", world.uni_b), "text/csv").await.unwrap();
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["imported"], 1);
}

#[actix_web::test]
async fn a_seed_carries_its_organisations_reference_unique_there_and_seen_only_there() {
    let world = World::new().await;
    let reference = format!("IDF-{}", marker());
    let mut body = seed_body(&marker(), "members");
    body["external_ref"] = json!(format!("  {reference} "));
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body.clone())).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["external_ref"], reference.as_str(), "stored trimmed");
    let id = res.body["id"].as_str().unwrap().to_owned();

    // Unique within the organisation: a second seed with it is a 409 naming the field, and nothing is stored.
    let before = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true", None).await.body["total"].clone();
    let res = world.call(&world.tto_a, Method::POST, "/api/v1/seeds", Some(body.clone())).await;
    assert_problem(&res, 409, "conflict");
    assert_eq!(res.body["errors"][0]["field"], "external_ref", "{}", res.text);
    let after = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true", None).await.body["total"].clone();
    assert_eq!(before, after);
    // Another organisation may use the same reference for its own seed.
    let res = world.call(&world.researcher_b, Method::POST, "/api/v1/seeds", Some(body.clone())).await;
    assert_eq!(res.status, 201, "{}", res.text);

    // Through PATCH: taking another seed's reference is refused; a new one is set; null removes it.
    let mut other = seed_body(&marker(), "members");
    other["external_ref"] = Value::Null;
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(other)).await;
    assert!(res.body.get("external_ref").is_none(), "{}", res.text);
    let other_id = res.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/seeds/{other_id}");
    let res = world.call(&world.researcher_a, Method::PATCH, &path, Some(json!({ "external_ref": reference }))).await;
    assert_problem(&res, 409, "conflict");
    assert_eq!(res.body["errors"][0]["field"], "external_ref");
    let res = world.call(&world.tto_a, Method::PATCH, &path, Some(json!({ "external_ref": "IDF-2" }))).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["external_ref"], "IDF-2");
    assert_eq!(res.body["version"], 2);
    let res = world.call(&world.tto_a, Method::PATCH, &path, Some(json!({ "external_ref": null }))).await;
    assert!(res.body.get("external_ref").is_none(), "{}", res.text);
    let res = world.call(&world.tto_a, Method::PATCH, &path, Some(json!({ "external_ref": "x".repeat(201) }))).await;
    assert_problem(&res, 422, "validation_failed");

    // Published: the organisation's members see the reference, nobody else does, in any answer.
    let res = world.call(&world.researcher_a, Method::POST, &format!("/api/v1/seeds/{id}/publish"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    for member in [&world.researcher_a, &world.colleague_a, &world.tto_a] {
        let res = world.call(member, Method::GET, &format!("/api/v1/seeds/{id}"), None).await;
        assert_eq!(res.body["external_ref"], reference.as_str(), "{}", member.name);
    }
    let mine = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true", None).await;
    assert!(mine.text.contains(&reference), "the organisation's list carries it");
    for member in [&world.company_c, &world.researcher_b, &world.tto_b, &world.liaison, &world.admin] {
        for path in [
            format!("/api/v1/seeds/{id}"),
            "/api/v1/seeds?per_page=100".to_owned(),
            "/api/v1/search?q=dystrophin&per_page=100".to_owned(),
        ] {
            let res = world.call(member, Method::GET, &path, None).await;
            assert_eq!(res.status, 200, "{} {path}: {}", member.name, res.text);
            assert!(!res.text.contains(&reference), "{} sees the reference in {path}", member.name);
        }
    }
}

#[actix_web::test]
async fn a_need_carries_its_companys_reference_unique_there_and_seen_only_there() {
    let world = World::new().await;
    let reference = format!("BD-{}", marker());
    let body = json!({
        "title": "Looking for exon-skipping antisense for muscular dystrophy",
        "description": "Licensing or joint research on nucleic acid therapeutics for rare disease.",
        "modalities": ["nucleic_acid"], "disease_areas": ["rare_intractable"],
        "stages": ["preclinical"], "deal_types": ["license"], "external_ref": reference,
    });
    let res = world.call(&world.company_c, Method::POST, "/api/v1/needs", Some(body.clone())).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["external_ref"], reference.as_str());
    let id = res.body["id"].as_str().unwrap().to_owned();
    let res = world.call(&world.colleague_c, Method::POST, "/api/v1/needs", Some(body.clone())).await;
    assert_problem(&res, 409, "conflict");
    assert_eq!(res.body["errors"][0]["field"], "external_ref", "{}", res.text);
    let mine = world.call(&world.colleague_c, Method::GET, "/api/v1/needs?mine=true", None).await;
    assert_eq!(mine.body["total"], 1, "the refused need was not stored: {}", mine.text);
    let res = world.call(&world.company_d, Method::POST, "/api/v1/needs", Some(body)).await;
    assert_eq!(res.status, 201, "another company may use the same reference: {}", res.text);

    let path = format!("/api/v1/needs/{id}");
    let res = world.call(&world.company_c, Method::PATCH, &path, Some(json!({ "external_ref": "BD-2" }))).await;
    assert_eq!(res.body["external_ref"], "BD-2", "{}", res.text);
    let res = world.call(&world.company_c, Method::PATCH, &path, Some(json!({ "external_ref": reference }))).await;
    assert_eq!(res.body["external_ref"], reference.as_str(), "{}", res.text);
    let res = world.call(&world.company_c, Method::POST, &format!("{path}/publish"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = world.call(&world.colleague_c, Method::GET, &path, None).await;
    assert_eq!(res.body["external_ref"], reference.as_str(), "the company's members see it");
    for member in [&world.researcher_a, &world.tto_a, &world.liaison, &world.admin] {
        for path in [path.clone(), "/api/v1/needs?per_page=100".to_owned()] {
            let res = world.call(member, Method::GET, &path, None).await;
            assert_eq!(res.status, 200, "{} {path}: {}", member.name, res.text);
            assert!(!res.text.contains(&reference), "{} sees the reference in {path}", member.name);
        }
    }
}
