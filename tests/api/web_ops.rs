//! The operations screens of the web application, driven as a browser would: the TTO's bulk
//! import and its per-row report, the secretariat's screens, and that nobody else finds them.

use actix_web::http::{Method, StatusCode};

use crate::web::{Browser, Page};
use crate::world::{World, marker};

/// The page at `path` is the missing page: the same as a page that does not exist beside it, but
/// for the address the language switch links.
pub async fn assert_missing(browser: &Browser<'_>, path: &str, who: &str) {
    let section = path.split('/').nth(1).unwrap_or("");
    let missing_path = format!("/{section}/no-such-page");
    let missing_path = missing_path.as_str();
    let missing = browser.get(missing_path).await;
    assert_eq!(missing.status, 404);
    let res = browser.get(path).await;
    assert_eq!(res.status, 404, "{who}: {path}");
    assert_eq!(res.text.replace(path, "PATH"), missing.text.replace(missing_path, "PATH"), "{who}: {path}");
}

fn csv(secret: &str, bad_stage: &str, title_suffix: &str) -> String {
    format!(
        "title,summary,confidential_details,modalities,disease_areas,stage,ip_status,deal_types,keywords,external_ref\n\
         膵がん間質を標的とするADC{title_suffix},線維芽細胞活性化タンパク質を標的とした抗体薬物複合体,{secret},adc;antibody,oncology,preclinical,filed,license,ADC,TLO-001\n\
         心筋再生を促す核酸医薬{title_suffix},心筋梗塞後の線維化を抑える核酸,{secret},nucleic_acid,lifestyle,preclinical,filed,license,心筋,TLO-002\n\
         壊れた行{title_suffix},概要,{secret},antibody,oncology,{bad_stage},filed,license,x,TLO-003\n"
    )
}

async fn own_seed_titles(world: &World) -> Vec<String> {
    let res = world.call(&world.tto_a, Method::GET, "/api/v1/seeds?mine=true&per_page=100", None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut titles: Vec<String> =
        res.body["items"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap().to_owned()).collect();
    titles.sort();
    titles
}

async fn import(browser: &Browser<'_>, fields: &[(&str, &str)], name: &str, kind: &str, body: &[u8]) -> Page {
    let token = browser.get("/seeds/import").await.csrf();
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    browser.upload("/seeds/import", &all, ("file", name, kind, body)).await
}

#[actix_web::test]
async fn a_tto_member_imports_a_file_sees_each_rows_fate_and_a_file_sent_again_updates() {
    let world = World::new().await;
    let app = &world.app;
    let secret = marker();
    let tto = Browser::login(app, "tto_a@example.org").await;

    assert!(tto.get("/seeds").await.text.contains("href=\"/seeds/import\""), "the seeds list links the import");
    let form = tto.get("/seeds/import").await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains("enctype=\"multipart/form-data\""), "{}", form.text);
    for control in ["<label for=\"file\">", "type=\"file\" id=\"file\" name=\"file\"", "<label for=\"publish\">"] {
        assert!(form.text.contains(control), "{control}");
    }
    assert!(!form.text.contains("name=\"organization_id\""), "TTO staff import into their own university");

    // In Japanese: two rows created, the third refused with its line and field.
    let res = import(&tto, &[], "seeds.csv", "text/csv", csv(&secret, "phase9", "").as_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains("登録結果"), "{}", res.text);
    assert!(res.text.contains("新規登録: 2") && res.text.contains("失敗: 1"), "{}", res.text);
    let bad = res.text.split("<th scope=\"row\">4</th>").nth(1).expect("line 4 in the report");
    let bad = bad.split("</tr>").next().unwrap();
    assert!(bad.contains("失敗") && bad.contains("<code>stage</code>"), "the bad row's field: {bad}");
    assert!(bad.contains("「phase9」は選択肢にありません"), "the problem in Japanese: {bad}");
    assert!(res.text.contains("<th scope=\"row\">2</th><td>新規登録</td>"), "{}", res.text);
    assert!(!res.text.contains(&secret), "the report shows no confidential section");
    assert_eq!(own_seed_titles(&world).await.len(), 2, "the bad row wrote nothing");

    // Sent again with changed titles, in English: the references update, nothing is added.
    tto.get("/seeds/import?lang=en").await;
    let res = import(&tto, &[], "seeds.csv", "text/csv", csv(&secret, "phase9", "（改訂）").as_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains("Import report") && res.text.contains("Updated: 2"), "{}", res.text);
    assert!(res.text.contains("Created: 0") && res.text.contains("<th scope=\"row\">3</th><td>Updated</td>"));
    let titles = own_seed_titles(&world).await;
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.iter().all(|t| t.ends_with("（改訂）")), "{titles:?}");

    // A check only stores nothing; JSON lines are understood by their name.
    let line = r#"{"title":"検査だけの行","summary":"概要","stage":"preclinical","ip_status":"filed"}"#;
    let res = import(&tto, &[("dry_run", "true")], "seeds.jsonl", "application/octet-stream", line.as_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains("nothing was stored") && res.text.contains("<td>Valid</td>"), "{}", res.text);
    assert_eq!(own_seed_titles(&world).await.len(), 2);

    // Problems with the upload itself go beside the file field.
    let res = import(&tto, &[], "seeds.xlsx", "application/vnd.ms-excel", b"PK\x03\x04").await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("id=\"file-error\"") && res.text.contains("aria-invalid=\"true\""), "{}", res.text);
    // A file without rows is the service's refusal, shown beside the file field too.
    let res = import(&tto, &[], "header-only.csv", "text/csv", b"title,summary\n").await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("id=\"file-error\"") && res.text.contains("no rows"), "{}", res.text);

    // A reference given twice in one file: the second row is refused, in Japanese too.
    tto.get("/seeds/import?lang=ja").await;
    let twice = "title,summary,stage,ip_status,external_ref\n\
                 一つ目,概要,preclinical,filed,TLO-100\n\
                 二つ目,概要,preclinical,filed,TLO-100\n";
    let res = import(&tto, &[], "twice.csv", "text/csv", twice.as_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let second = res.text.split("<th scope=\"row\">3</th>").nth(1).expect("line 3 in the report");
    assert!(second.split("</tr>").next().unwrap().contains("2行目ですでに使われています"), "{}", res.text);
}

#[actix_web::test]
async fn an_admin_names_the_university_and_nobody_else_finds_the_import() {
    let world = World::new().await;
    let app = &world.app;
    let admin = Browser::login(app, "admin@example.org").await;
    let form = admin.get("/seeds/import").await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains(&format!("value=\"{}\"", world.uni_a)), "academic organisations to choose");
    assert!(!form.text.contains(&format!("value=\"{}\"", world.pharma_c)), "no companies");
    let body = csv("x", "preclinical", "");
    let res = import(&admin, &[], "seeds.csv", "text/csv", body.as_bytes()).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("id=\"organization_id-error\""), "{}", res.text);
    let uni = world.uni_a.to_string();
    let res = import(&admin, &[("organization_id", &uni)], "seeds.csv", "text/csv", body.as_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(own_seed_titles(&world).await.len(), 3);

    for who in ["company_c@example.org", "researcher_a@example.org", "liaison@example.org"] {
        let browser = Browser::login(app, who).await;
        assert_missing(&browser, "/seeds/import", who).await;
        let res = browser.upload("/seeds/import", &[], ("file", "seeds.csv", "text/csv", body.as_bytes())).await;
        assert_eq!(res.status, 404, "{who}: an upload is refused as a missing page");
        if who.starts_with("researcher") {
            assert!(!browser.get("/seeds").await.text.contains("/seeds/import"), "no link for researchers");
        }
    }
    assert_eq!(own_seed_titles(&world).await.len(), 3, "nothing more was imported");
}

#[actix_web::test]
async fn an_import_without_the_token_or_from_another_site_is_refused() {
    let world = World::with(|s| s.server.import_limit_bytes = 64 * 1024).await;
    let tto = Browser::login(&world.app, "tto_a@example.org").await;
    let body = csv("x", "preclinical", "");
    let res = tto.upload("/seeds/import", &[], ("file", "seeds.csv", "text/csv", body.as_bytes())).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    let res = tto
        .upload("/seeds/import", &[("csrf_token", "forged")], ("file", "seeds.csv", "text/csv", body.as_bytes()))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let token = tto.get("/seeds/import").await.csrf();
    let mut cross = Browser::login(&world.app, "tto_a@example.org").await;
    cross.extra.push(("origin", "https://evil.example".to_owned()));
    let token2 = cross.get("/seeds/import").await.csrf();
    let res = cross
        .upload("/seeds/import", &[("csrf_token", &token2)], ("file", "seeds.csv", "text/csv", body.as_bytes()))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "another site's upload");
    assert!(own_seed_titles(&world).await.is_empty(), "nothing was imported");
    // A file beyond the import limit is refused whole.
    let big = "x".repeat(200 * 1024);
    let res =
        tto.upload("/seeds/import", &[("csrf_token", &token)], ("file", "seeds.csv", "text/csv", big.as_bytes())).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[actix_web::test]
async fn an_archived_record_offers_restore_instead_of_publish() {
    let world = World::new().await;
    let app = &world.app;
    let seed = world.seed(&marker(), "members", true).await;
    let need = world.need(false, "members", true).await;
    for (who, path) in
        [("researcher_a@example.org", format!("/seeds/{seed}")), ("company_c@example.org", format!("/needs/{need}"))]
    {
        let owner = Browser::login(app, who).await;
        let edit = format!("{path}/edit");
        let status = format!("{path}/status");
        let res = owner.submit(&edit, &status, &[("to", "archived")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        // A step the status does not allow is refused in the member's language.
        let res = owner.submit(&edit, &status, &[("to", "published")]).await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
        assert!(
            res.text.contains("この記録は「取り下げ」のため「公開」はできません。できる操作：下書きに戻す"),
            "{who}: {}",
            res.text
        );
        let page = owner.get(&edit).await;
        assert!(page.text.contains("data-to=\"draft\""), "{who}: restore is offered: {}", page.text);
        assert!(!page.text.contains("data-to=\"published\""), "{who}: an archived record is not published as it is");
        assert!(!page.text.contains("data-to=\"archived\""));
        assert!(
            !page.text.contains(">Save<") && !page.text.contains(">保存<"),
            "{who}: an archived record is read-only"
        );

        let res = owner.submit(&edit, &status, &[("to", "draft")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let member = if who.starts_with("researcher") { &world.researcher_a } else { &world.company_c };
        let api = world.call(member, Method::GET, &format!("/api/v1{path}"), None).await;
        assert_eq!(api.body["status"], "draft", "{who}: {}", api.text);
        let page = owner.get(&edit).await;
        assert!(page.text.contains("data-to=\"published\"") && !page.text.contains("data-to=\"draft\""), "{who}");
        // Restoring needs the token too.
        let res = owner.post(&status, &[("to", "draft")]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
}

const SECRETARIAT_PAGES: [&str; 5] =
    ["/admin", "/admin/invitations", "/admin/coverage", "/admin/audit", "/admin/funnel"];

async fn id_of(world: &World, member: &crate::world::Member) -> String {
    let me = world.call(member, Method::GET, "/api/v1/me", None).await;
    me.body["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn only_the_secretariat_finds_its_screens_and_none_shows_a_confidential_section() {
    let world = World::new().await;
    let app = &world.app;
    let secret = marker();
    world.seed(&secret, "members", true).await;
    let admin = Browser::login(app, "admin@example.org").await;
    for path in SECRETARIAT_PAGES.iter().copied().chain(["/admin/funnel.csv", "/admin/audit?page=2"]) {
        let page = admin.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        assert!(!page.text.contains(&secret), "{path} shows a confidential section");
    }
    let liaison_id = id_of(&world, &world.liaison).await;
    let coverage = format!("/admin/liaisons/{liaison_id}/coverage");
    for who in ["liaison@example.org", "company_c@example.org", "researcher_a@example.org", "tto_a@example.org"] {
        let browser = Browser::login(app, who).await;
        for path in SECRETARIAT_PAGES.iter().skip(1).copied().chain(["/admin/funnel.csv"]) {
            assert_missing(&browser, path, who).await;
        }
        let token = browser.get("/").await.csrf();
        let invite = [
            ("email", "intruder@example.org"),
            ("name", "Intruder"),
            ("role", "admin"),
            ("organization_id", &world.uni_a.to_string()),
            ("csrf_token", &token),
        ];
        assert_eq!(browser.post("/admin/invitations", &invite).await.status, 404, "{who} invites");
        let org = [("name", "侵入者"), ("name_en", "Intruder"), ("kind", "company"), ("csrf_token", &token)];
        assert_eq!(browser.post("/admin/organizations", &org).await.status, 404, "{who} adds an organisation");
        let cover = [("organization_ids", world.uni_b.to_string()), ("csrf_token", token.clone())];
        let cover: Vec<(&str, &str)> = cover.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(browser.post(&coverage, &cover).await.status, 404, "{who} sets coverage");
    }
    assert!(app.mails_to("intruder@example.org").is_empty(), "nobody was invited");
    assert!(!admin.get("/admin/organizations").await.text.contains("侵入者"), "no organisation was added");
    let res =
        world.call(&world.admin, Method::GET, &format!("/api/v1/admin/liaisons/{liaison_id}/coverage"), None).await;
    assert_eq!(res.body["organization_ids"], serde_json::json!([]), "the coverage is unchanged");
}

#[actix_web::test]
async fn the_secretariat_invites_members_with_errors_beside_the_fields() {
    let world = World::new().await;
    let app = &world.app;
    let admin = Browser::login(app, "admin@example.org").await;
    let uni = world.uni_a.to_string();
    let form = admin.get("/admin/invitations").await;
    for control in ["<label for=\"email\">", "<label for=\"role\">", "<label for=\"organization_id\">"] {
        assert!(form.text.contains(control), "{control}");
    }

    let res = admin
        .submit("/admin/invitations", "/admin/invitations", &[("email", "not-an-address"), ("name", "新人 研究者")])
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    for field in ["email", "role", "organization_id"] {
        assert!(res.text.contains(&format!("id=\"{field}-error\"")), "an error beside {field}");
    }
    assert!(!res.text.contains("id=\"name-error\"") && res.text.contains("新人 研究者"), "what was typed is kept");

    // A role the organisation cannot hold is refused by the service, beside the role.
    let fields = [("email", "newcomer@example.org"), ("name", "新人 研究者"), ("organization_id", uni.as_str())];
    let mut wrong = fields.to_vec();
    wrong.push(("role", "company"));
    let res = admin.submit("/admin/invitations", "/admin/invitations", &wrong).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("id=\"role-error\""), "{}", res.text);
    assert!(app.mails_to("newcomer@example.org").is_empty());

    let mut right = fields.to_vec();
    right.push(("role", "researcher"));
    let res = admin.submit("/admin/invitations", "/admin/invitations", &right).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(res.location(), "/admin/invitations?sent=1");
    assert_eq!(app.mails_to("newcomer@example.org").len(), 1, "the invitation e-mail");
    let listed = admin.get("/admin/invitations").await;
    let pending = listed.text.split("id=\"invited-heading\"").nth(1).unwrap();
    assert!(pending.contains("newcomer@example.org") && pending.contains("東都医科大学"), "{pending}");

    let res = admin.submit("/admin/invitations", "/admin/invitations", &right).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "the address is already a member");
    assert!(res.text.contains("role=\"alert\""));
    let res = admin.post("/admin/invitations", &right).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "an invitation needs the token");
}

#[actix_web::test]
async fn the_secretariat_sets_a_liaisons_coverage_through_the_service() {
    let world = World::new().await;
    let admin = Browser::login(&world.app, "admin@example.org").await;
    let liaison_id = id_of(&world, &world.liaison).await;
    let page = admin.get("/admin/coverage").await;
    assert!(page.text.contains("liaison@example.org"), "{}", page.text);
    assert!(page.text.contains("すべての組織"), "a liaison without coverage covers everyone");
    let path = format!("/admin/liaisons/{liaison_id}/coverage");
    let (a, b) = (world.uni_a.to_string(), world.pharma_c.to_string());
    let res = admin.submit("/admin/coverage", &path, &[("organization_ids", &a), ("organization_ids", &b)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let api =
        world.call(&world.admin, Method::GET, &format!("/api/v1/admin/liaisons/{liaison_id}/coverage"), None).await;
    let mut covered: Vec<String> =
        api.body["organization_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    covered.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(covered, expected);
    let page = admin.get("/admin/coverage").await;
    assert!(
        page.text.contains("東都医科大学, 日本創薬") || page.text.contains("日本創薬, 東都医科大学"),
        "{}",
        page.text
    );
    assert!(page.text.contains(&format!("value=\"{a}\" checked")));

    let unknown = uuid::Uuid::new_v4().to_string();
    let res = admin.submit("/admin/coverage", &path, &[("organization_ids", &unknown)]).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("role=\"alert\""));
    let company_id = id_of(&world, &world.company_c).await;
    let res = admin.submit("/admin/coverage", &format!("/admin/liaisons/{company_id}/coverage"), &[]).await;
    assert_eq!(res.status, 404, "only liaisons have coverage");
    let res = admin.post(&path, &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "coverage needs the token");
    // Clearing covers everyone again.
    let res = admin.submit("/admin/coverage", &path, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(admin.get("/admin/coverage").await.text.contains("すべての組織"));
}

#[actix_web::test]
async fn the_audit_log_filters_by_actor_action_and_dates() {
    let world = World::new().await;
    let admin = Browser::login(&world.app, "admin@example.org").await;
    admin.get("/?lang=en").await;
    let tto_id = id_of(&world, &world.tto_a).await;
    let all = admin.get("/admin/audit").await;
    assert_eq!(all.status, 200);
    assert!(all.text.contains("<code>auth.login</code>"), "{}", all.text);

    let logins = admin.get("/admin/audit?action=auth.login").await;
    let rows = logins.text.matches("<code>").count();
    assert!(rows >= 10 && logins.text.matches("<code>auth.login</code>").count() == rows, "only logins");
    let one = admin.get(&format!("/admin/audit?actor={tto_id}&action=auth.login")).await;
    assert_eq!(one.text.matches("<code>auth.login</code>").count(), 1, "{}", one.text);
    assert!(one.text.contains(&format!("value=\"{tto_id}\"")), "the filter is kept");
    let long_ago = admin.get("/admin/audit?from=2001-01-01&to=2001-12-31").await;
    assert!(long_ago.text.contains("Entries: 0"), "{}", long_ago.text);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let until_today = admin.get(&format!("/admin/audit?from={today}&to={today}&action=auth.login")).await;
    assert!(until_today.text.contains("<code>auth.login</code>"), "the end day is included");

    let bad = admin.get("/admin/audit?from=2026-13-40").await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("id=\"from-error\""), "{}", bad.text);

    // Pages of 50, newest first.
    let liaison_id = id_of(&world, &world.liaison).await;
    let path = format!("/api/v1/admin/liaisons/{liaison_id}/coverage");
    for _ in 0..55 {
        let res =
            world.call(&world.admin, Method::PUT, &path, Some(serde_json::json!({ "organization_ids": [] }))).await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    let first = admin.get("/admin/audit?action=liaison.coverage_set").await;
    assert_eq!(first.text.matches("<code>liaison.coverage_set</code>").count(), 50);
    let next = first.text.split("rel=\"next\"").next().unwrap().rsplit("href=\"").next().unwrap().to_owned();
    assert!(next.contains("page=2") && next.contains("action=liaison.coverage_set"), "{next}");
    let second = admin.get("/admin/audit?action=liaison.coverage_set&page=2").await;
    assert_eq!(second.status, 200);
    assert_eq!(second.text.matches("<code>liaison.coverage_set</code>").count(), 5);
    assert!(second.text.contains("rel=\"prev\""));
}

#[actix_web::test]
async fn the_funnel_report_takes_a_period_and_downloads_csv_without_formulas() {
    let world = World::new().await;
    let app = &world.app;
    let secret = marker();
    let seed = world.seed(&secret, "members", true).await;
    for (i, name) in crate::edges::FORMULAS.iter().enumerate() {
        let org = app.organization(name, kakehashi_domain::OrganizationKind::Company).await;
        let email = format!("bd{i}@example.org");
        app.member(&email, kakehashi_domain::Role::Company, org).await;
        let token = app.token(&email).await;
        let body = serde_json::json!({ "seed_id": seed, "message": "We would like to discuss a licence." });
        let res = app.post("/api/v1/introductions", Some(&token), body).await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let admin = Browser::login(app, "admin@example.org").await;
    admin.get("/?lang=en").await;
    let page = admin.get("/admin/funnel").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<svg role=\"img\"") && page.text.contains("<caption>Funnel report</caption>"));
    let total = page.text.split("<th scope=\"row\">Total</th>").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(total.starts_with("<td>0</td><td>6</td>"), "six introductions: {total}");
    assert!(page.text.contains("href=\"/admin/funnel.csv\""), "{}", page.text);

    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let grouped = admin.get(&format!("/admin/funnel?from={today}&to={today}&group_by=organization")).await;
    assert_eq!(grouped.status, 200, "{}", grouped.text);
    assert!(grouped.text.contains("&#61;HYPERLINK") || grouped.text.contains("=HYPERLINK"), "groups are listed");
    assert!(!grouped.text.contains(&secret));
    let href = format!("/admin/funnel.csv?from={today}&#38;to={today}&#38;group_by=organization");
    assert!(grouped.text.contains(&href), "the download takes the same period: {}", grouped.text);
    let past = admin.get("/admin/funnel?from=2001-01-01&to=2001-12-31").await;
    assert!(past.text.contains("<th scope=\"row\">Total</th><td>0</td><td>0</td>"), "{}", past.text);
    let bad = admin.get("/admin/funnel?from=2026-12-31&to=2026-01-01").await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("id=\"from-error\""));
    let bad = admin.get("/admin/funnel?group_by=colour").await;
    assert!(bad.status == 422 && bad.text.contains("id=\"group_by-error\""));

    let csv = admin.get(&format!("/admin/funnel.csv?from={today}&to={today}&group_by=organization")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/csv"));
    let disposition = csv.headers.get("content-disposition").unwrap().to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"funnel-"), "{disposition}");
    assert!(csv.text.starts_with("group,label_ja,label_en,matches"), "{}", csv.text);
    let cells = crate::edges::cells(&csv.text);
    for name in crate::edges::FORMULAS {
        assert!(cells.iter().any(|c| c == &format!("'{name}")), "{name:?} is kept as text in:\n{}", csv.text);
    }
    for cell in &cells {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a cell a spreadsheet runs: {cell:?}");
    }
    assert!(!csv.text.contains(&secret));
}

#[actix_web::test]
async fn the_secretariat_adds_organisations_with_errors_beside_the_fields() {
    let world = World::new().await;
    let admin = Browser::login(&world.app, "admin@example.org").await;
    let page = admin.get("/admin/organizations").await;
    assert!(page.text.contains("東都医科大学") && page.text.contains("<label for=\"kind\">"), "{}", page.text);
    let res = admin.submit("/admin/organizations", "/admin/organizations", &[("name", "北都薬科大学")]).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("id=\"name_en-error\"") && res.text.contains("id=\"kind-error\""));
    assert!(!res.text.contains("id=\"name-error\"") && res.text.contains("value=\"北都薬科大学\""));
    let fields = [("name", "北都薬科大学"), ("name_en", "Hokuto University of Pharmacy"), ("kind", "academia")];
    let res = admin.submit("/admin/organizations", "/admin/organizations", &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let listed = world.call(&world.admin, Method::GET, "/api/v1/admin/organizations?per_page=100", None).await;
    assert!(listed.text.contains("Hokuto University of Pharmacy"), "{}", listed.text);
    let res = admin.submit("/admin/organizations", "/admin/organizations", &fields).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.text.contains("id=\"name-error\""), "the taken name, beside the name");
    assert_eq!(admin.post("/admin/organizations", &fields).await.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_refused_member_decision_is_told_in_the_secretariats_language() {
    let world = World::new().await;
    let admin = Browser::login(&world.app, "admin@example.org").await;
    let me = id_of(&world, &world.admin).await;
    let res = admin.submit("/admin", &format!("/admin/members/{me}/suspend"), &[]).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert!(res.text.contains("管理者は自分自身を停止・却下できません"), "{}", res.text);
    let liaison = id_of(&world, &world.liaison).await;
    let res = admin.submit("/admin", &format!("/admin/members/{liaison}/approve"), &[]).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert!(res.text.contains("この会員は「有効」です。承認できるのは承認待ちか停止中の会員です"), "{}", res.text);
}

#[actix_web::test]
async fn the_audit_log_finds_any_of_many_members_by_address_or_name() {
    let world = World::new().await;
    let app = &world.app;
    // The cast's members are the oldest of more than a hundred.
    for i in 0..110 {
        app.member(&format!("member{i:03}@example.org"), kakehashi_domain::Role::Company, world.pharma_d).await;
    }
    let admin = Browser::login(app, "admin@example.org").await;
    admin.get("/?lang=en").await;
    let logins = admin.get("/admin/audit?action=auth.login").await;
    // Members of the cast are named by their address.
    let named = |email: &str| format!("<td>{email} &#60;{email}&#62;</td>");
    assert!(logins.text.contains(&named("admin@example.org")), "every actor is named: {}", logins.text);

    for (typed, who) in [("tto_a@example.org", "tto_a"), ("TTO_A@example.org ", "tto_a"), ("member109", "member109")] {
        if who.starts_with("member") {
            let res = app.login(&format!("{who}@example.org"), crate::helpers::PASSWORD).await;
            assert_eq!(res.status, 200, "{}", res.text);
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("actor", typed), ("action", "auth.login")])
            .finish();
        let page = admin.get(&format!("/admin/audit?{query}")).await;
        assert_eq!(page.status, 200, "{typed}: {}", page.text);
        assert_eq!(page.text.matches("<code>auth.login</code>").count(), 1, "{typed}: {}", page.text);
        assert!(page.text.contains(&named(&format!("{who}@example.org"))), "{typed}");
    }
    let several = admin.get("/admin/audit?actor=member10").await;
    assert_eq!(several.status, 422);
    assert!(several.text.contains("id=\"actor-error\"") && several.text.contains("member100@example.org"));
    let nobody = admin.get("/admin/audit?actor=nobody%40example.org").await;
    assert_eq!(nobody.status, 422);
    assert!(nobody.text.contains("No member has this e-mail address or name."), "{}", nobody.text);
    // A pattern's wildcards are the characters themselves.
    assert_eq!(admin.get("/admin/audit?actor=%25").await.status, 422, "% matches nobody");
}

#[actix_web::test]
async fn pickers_queues_and_threads_are_not_cut_at_the_largest_page() {
    use kakehashi_domain::{OrganizationKind, Role};
    let world = World::new().await;
    let app = &world.app;
    // More organisations and members than one page of the service holds; the ones looked for
    // sort last by name, or are the oldest.
    for i in 0..205 {
        app.organization(&format!("Aaa{i:03} 製薬"), OrganizationKind::Company).await;
    }
    let last_company = app.organization("Zzz 製薬", OrganizationKind::Company).await;
    let last_university = app.organization("Zzz 大学", OrganizationKind::Academia).await;
    let funder = app.organization("事務局", OrganizationKind::Funder).await;
    let late_liaison = app.member("zz-liaison@example.org", Role::Liaison, funder).await;
    for i in 0..105 {
        app.member(&format!("member{i:03}@example.org"), Role::Company, last_company).await;
    }

    let seed = world.seed(&marker(), "members", true).await;
    let owner = Browser::login(app, "researcher_a@example.org").await;
    let access = owner.get(&format!("/seeds/{seed}/access")).await;
    assert_eq!(access.status, 200, "{}", access.text);
    assert!(access.text.contains(&format!("value=\"{last_company}\"")), "the grant picker lists every company");

    let admin = Browser::login(app, "admin@example.org").await;
    let import = admin.get("/seeds/import").await;
    assert!(import.text.contains(&format!("value=\"{last_university}\"")), "the import lists every university");
    let coverage = admin.get("/admin/coverage").await;
    assert!(coverage.text.contains("zz-liaison@example.org"), "every liaison: {late_liaison}");
    assert!(coverage.text.contains(&format!("value=\"{last_company}\"")), "every organisation can be covered");
    let organizations = admin.get("/admin/organizations").await;
    assert!(organizations.text.contains("Zzz 大学"));
    // Active members a page at a time, newest first: the cast is on the last page.
    let first = admin.get("/admin").await;
    assert!(first.text.contains("Zzz 製薬") && first.text.contains("rel=\"next\""), "{}", first.text);
    assert!(!first.text.contains("researcher_a@example.org"));
    let last = admin.get("/admin?page=3").await;
    assert!(last.text.contains("researcher_a@example.org") && last.text.contains("rel=\"prev\""), "{}", last.text);

    // A thread longer than a page reads whole, oldest first.
    let body = serde_json::json!({ "seed_id": seed, "message": "We would like to discuss a licence." });
    let res = world.call(&world.company_c, Method::POST, "/api/v1/introductions", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_owned();
    let thread = format!("/api/v1/introductions/{id}/messages");
    for i in 0..101 {
        let body = serde_json::json!({ "body": format!("question number {i:03}") });
        let res = world.call(&world.company_c, Method::POST, &thread, Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let company = Browser::login(app, "company_c@example.org").await;
    let page = company.get(&format!("/introductions/{id}")).await;
    assert_eq!(page.status, 200);
    let (first, last) = (page.text.find("question number 000"), page.text.find("question number 100"));
    assert!(first.is_some() && last.is_some() && first < last, "the whole thread, oldest first");
}

#[actix_web::test]
async fn a_members_own_seeds_come_a_page_at_a_time() {
    let world = World::new().await;
    for _ in 0..55 {
        world.seed(&marker(), "members", false).await;
    }
    let owner = Browser::login(&world.app, "researcher_a@example.org").await;
    let first = owner.get("/seeds").await;
    assert_eq!(first.text.matches("/edit\" aria-label").count(), 50, "{}", first.text);
    assert!(first.text.contains("href=\"/seeds?page=2\" rel=\"next\""), "{}", first.text);
    let second = owner.get("/seeds?page=2").await;
    assert_eq!(second.text.matches("/edit\" aria-label").count(), 5);
    assert!(second.text.contains("rel=\"prev\"") && !second.text.contains("rel=\"next\""));
    let needs = Browser::login(&world.app, "company_c@example.org").await.get("/needs").await;
    assert_eq!(needs.status, 200);
    assert!(!needs.text.contains("rel=\"next\""), "one page needs no pager");
}

#[actix_web::test]
async fn the_introduction_form_offers_the_matched_needs_and_the_latest_ones_not_every_need() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    // The company's oldest need is the one that fits the seed …
    let matched = world.need(false, "members", true).await;
    world.app.settled(crate::helpers::Stage::Matched).await;
    // … and more needs about something else came after it than the form lists.
    for i in 0..101 {
        let body = serde_json::json!({
            "title": format!("抗体医薬の導入候補を探しています（{i}）"),
            "description": "固形がんに対する二重特異性抗体の導入を検討しています。",
            "modalities": ["antibody"], "disease_areas": ["oncology"],
            "stages": ["phase_1"], "deal_types": ["license"],
            "anonymous": false, "visibility": "members",
        });
        let res = world.call(&world.company_c, Method::POST, "/api/v1/needs", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id = res.body["id"].as_str().unwrap().to_owned();
        let res = world.call(&world.company_c, Method::POST, &format!("/api/v1/needs/{id}/publish"), None).await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    let company = Browser::login(&world.app, "company_c@example.org").await;
    let page = company.get(&format!("/seeds/{seed}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let form = &page.text[page.text.find("id=\"need_id\"").unwrap()..];
    let form = &form[..form.find("</select>").unwrap()];
    assert!(form.contains(&format!("<option value=\"{matched}\">")), "the matched need is offered: {form}");
    // "None", the matched need and the 100 latest of the 102: not the oldest of the others.
    assert_eq!(form.matches("<option ").count(), 102, "{form}");
    assert!(page.text.contains("need_id-hint"), "the form says what it leaves out");
}
