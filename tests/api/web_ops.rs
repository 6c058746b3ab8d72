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
        let page = owner.get(&edit).await;
        assert!(page.text.contains("data-to=\"draft\""), "{who}: restore is offered: {}", page.text);
        assert!(!page.text.contains("data-to=\"published\""), "{who}: an archived record is not published as it is");
        assert!(!page.text.contains("data-to=\"archived\""));

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
