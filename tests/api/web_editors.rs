//! The seed and need editors through their forms, as a browser posts them: drafting, the
//! confidential section edited on its own page, publishing and archiving, access grants, errors
//! beside their fields, and that nobody but those who may edit finds an editor at all.

use actix_web::http::{Method, StatusCode};
use uuid::Uuid;

use crate::web::{Browser, Page};
use crate::world::{World, marker};

const TITLE: &str = "膵臓がん微小環境を標的とする抗体薬物複合体の前臨床開発";
const SUMMARY: &str = "膵管腺癌の間質に高発現する線維芽細胞活性化タンパク質を標的とした抗体薬物複合体を作製し、\
    同所移植マウスモデルで腫瘍増殖の有意な抑制を確認した。GMP製造の委託先と共同研究先を探している。";

fn seed_fields<'a>(title: &'a str, summary: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("summary", summary),
        ("modalities", "adc"),
        ("modalities", "antibody"),
        ("disease_areas", "oncology"),
        ("stage", "preclinical"),
        ("ip_status", "filed"),
        ("deal_types", "license"),
        ("deal_types", "joint_research"),
        ("keywords", "ADC、FAP, 膵がん"),
        ("visibility", "members"),
    ]
}

fn id_after(prefix: &str, location: &str) -> Uuid {
    location.strip_prefix(prefix).unwrap().split('/').next().unwrap().parse().unwrap()
}

/// Creates a seed through the forms as `browser` (a researcher or TTO member) and fills its
/// confidential section with `secret`; returns its id.
async fn draft_seed(browser: &Browser<'_>, secret: &str) -> Uuid {
    let res = browser.submit("/seeds/new", "/seeds/new", &seed_fields(TITLE, SUMMARY)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let id = id_after("/seeds/", res.location());
    assert_eq!(res.location(), format!("/seeds/{id}/confidential"), "the confidential section comes next");
    let details = format!("FAP抗体クローン7B2のVH/VL配列と同所移植モデルの用量反応データ {secret}");
    let res = browser
        .submit(
            &format!("/seeds/{id}/confidential"),
            &format!("/seeds/{id}/confidential"),
            &[("details", &details), ("patent_applications", "特願2026-123456\nPCT/JP2026/012345"), ("notes", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    id
}

async fn publish(browser: &Browser<'_>, path: &str) -> Page {
    browser.submit(&format!("{path}/edit"), &format!("{path}/status"), &[("to", "published")]).await
}

#[actix_web::test]
async fn a_researcher_drafts_fills_the_confidential_section_publishes_edits_and_archives_a_seed() {
    let world = World::new().await;
    let app = &world.app;
    let secret = marker();
    let researcher = Browser::login(app, "researcher_a@example.org").await;
    let company = Browser::login(app, "company_c@example.org").await;

    let form = researcher.get("/seeds/new").await;
    assert_eq!(form.status, 200);
    for field in ["name=\"title\"", "name=\"summary\"", "name=\"modalities\"", "name=\"stage\"", "name=\"visibility\""]
    {
        assert!(form.text.contains(field), "{field}");
    }
    assert!(form.text.contains("IP liaisons") || form.text.contains("知財リエゾン"), "visibility is explained");
    assert!(researcher.get("/seeds").await.text.contains("href=\"/seeds/new\""), "my seeds link the editor");

    let id = draft_seed(&researcher, &secret).await;
    let path = format!("/seeds/{id}");
    assert_eq!(company.get(&path).await.status, 404, "a draft is nobody else's");
    let own = researcher.get(&path).await;
    assert!(own.text.contains(&secret) && own.text.contains("特願2026-123456"), "the owner reads the section");
    assert!(own.text.contains(&format!("href=\"{path}/edit\"")), "the owner's page links the editor");

    let res = publish(&researcher, &path).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = company.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(TITLE) && !page.text.contains(&secret), "published: the summary, not the section");
    assert!(!page.text.contains("/edit\""), "no editor link for a company");

    // Editing the public part leaves the confidential section as it was.
    let new_title = "膵臓がん間質を標的とするFAP抗体薬物複合体";
    let res =
        researcher.submit(&format!("{path}/edit"), &format!("{path}/edit"), &seed_fields(new_title, SUMMARY)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert!(company.get(&path).await.text.contains(new_title));
    assert!(researcher.get(&path).await.text.contains(&secret), "the section survived the edit");
    let edit = researcher.get(&format!("{path}/edit")).await;
    assert!(edit.text.contains("value=\"adc\" checked"), "the pickers show what is chosen");
    assert!(!edit.text.contains(&secret), "the public editor does not carry the section");

    // A stale version is refused with a message, nothing is written.
    let stale = researcher.get(&format!("{path}/edit")).await.csrf();
    let mut fields = seed_fields("古い版からの変更", SUMMARY);
    fields.push(("version", "1"));
    fields.push(("csrf_token", &stale));
    let res = researcher.post(&format!("{path}/edit"), &fields).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert!(res.text.contains("role=\"alert\""));
    assert!(res.text.contains("再読み込みしてからやり直してください"), "in the member's language: {}", res.text);
    assert!(!res.text.contains("reload and retry"), "{}", res.text);
    assert!(company.get(&path).await.text.contains(new_title));

    let res = researcher.submit(&format!("{path}/edit"), &format!("{path}/status"), &[("to", "archived")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(company.get(&path).await.status, 404, "archived seeds leave the market place");
}

#[actix_web::test]
async fn errors_appear_beside_the_field_they_concern_and_nothing_is_written() {
    let world = World::new().await;
    let researcher = Browser::login(&world.app, "researcher_a@example.org").await;
    let mut fields = seed_fields("", SUMMARY);
    fields.retain(|(k, _)| *k != "stage");
    fields.push(("modalities", "telepathy"));
    let res = researcher.submit("/seeds/new", "/seeds/new", &fields).await;
    assert_eq!(res.status, 422, "{}", res.text);
    for field in ["title", "stage", "modalities"] {
        assert!(res.text.contains(&format!("id=\"{field}-error\"")), "an error beside {field}: {}", res.text);
    }
    assert!(res.text.contains("aria-describedby=\"title-error\""), "the field names its error");
    assert!(!res.text.contains("id=\"summary-error\""), "no error where none is");
    assert!(res.text.contains(SUMMARY), "what was typed is kept");
    // In the member's language: Japanese here, English once they switch.
    assert!(res.text.contains("「telepathy」は選択肢にありません"), "{}", res.text);
    assert!(res.text.contains("入力してください"), "{}", res.text);
    assert!(!res.text.contains("unknown value"), "{}", res.text);
    researcher.get("/seeds/new?lang=en").await;
    let res = researcher.submit("/seeds/new", "/seeds/new", &fields).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("unknown value `telepathy`"), "{}", res.text);
    researcher.get("/seeds/new?lang=ja").await;
    let listed = researcher.get("/seeds").await;
    assert!(!listed.text.contains("/seeds/0") && !listed.text.contains(SUMMARY), "no half-written seed");
    let mine = world.call(&world.researcher_a, actix_web::http::Method::GET, "/api/v1/seeds?mine=true", None).await;
    assert_eq!(mine.body["total"], 0, "{}", mine.text);

    // The confidential section's limits are reported beside its own fields.
    let id = draft_seed(&researcher, &marker()).await;
    let long = "あ".repeat(50_001);
    let path = format!("/seeds/{id}/confidential");
    let res = researcher.submit(&path, &path, &[("details", &long)]).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("id=\"confidential.details-error\""), "{}", res.text);
    let huge = "あ".repeat(400_000);
    let res = researcher.submit(&path, &path, &[("details", &huge)]).await;
    assert_eq!(res.status, 413, "a form over the limit gets the too-large page");

    let need = Browser::login(&world.app, "company_c@example.org").await;
    let res = need
        .submit(
            "/needs/new",
            "/needs/new",
            &[("title", "核酸医薬の導入"), ("description", ""), ("visibility", "members")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text.contains("id=\"description-error\""), "{}", res.text);
}

#[actix_web::test]
async fn nobody_but_its_editors_finds_an_editor_and_forms_need_the_token() {
    let world = World::new().await;
    let app = &world.app;
    let secret = marker();
    let seed = world.seed(&secret, "members", true).await;
    let need = world.need(true, "members", true).await;
    let missing = Uuid::new_v4();

    let seed_editors = ["researcher_a", "tto_a", "admin"];
    let need_editors = ["company_c", "admin"];
    for member in world.everyone() {
        let browser = Browser::login(app, &format!("{}@example.org", member.name)).await;
        for page in ["edit", "confidential"] {
            let path = format!("/seeds/{seed}/{page}");
            let missing_page = browser.get(&format!("/seeds/{missing}/{page}")).await;
            assert_eq!(missing_page.status, 404);
            let res = browser.get(&path).await;
            if seed_editors.contains(&member.name) {
                assert_eq!(res.status, 200, "{} on {path}", member.name);
            } else {
                assert_eq!(res.status, 404, "{} on {path}", member.name);
                assert_eq!(
                    res.text.replace(&seed.to_string(), "ID"),
                    missing_page.text.replace(&missing.to_string(), "ID"),
                    "{}: no editor looks like a missing one",
                    member.name
                );
                assert!(!res.text.contains(&secret));
                // Posting with a good token changes nothing either.
                let token = browser.get("/").await.csrf();
                let mut fields = seed_fields("乗っ取られたタイトル", SUMMARY);
                fields.push(("csrf_token", &token));
                assert_eq!(browser.post(&path, &fields).await.status, 404, "{} posting {path}", member.name);
                let status = [("to", "archived"), ("csrf_token", &token)];
                assert_eq!(browser.post(&format!("/seeds/{seed}/status"), &status).await.status, 404);
            }
        }
        let res = browser.get(&format!("/needs/{need}/edit")).await;
        let expected = if need_editors.contains(&member.name) { 200 } else { 404 };
        assert_eq!(res.status.as_u16(), expected, "{} on the need's editor", member.name);
    }
    let res =
        world.call(&world.researcher_a, actix_web::http::Method::GET, &format!("/api/v1/seeds/{seed}"), None).await;
    assert_eq!(res.body["title"], crate::world::seed_body("", "members")["title"], "nothing was changed");
    assert_eq!(res.body["status"], "published");

    // Forms without the session's token, or from another site, are refused.
    let researcher = Browser::login(app, "researcher_a@example.org").await;
    assert_eq!(researcher.post("/seeds/new", &seed_fields(TITLE, SUMMARY)).await.status, 403);
    let token = researcher.get("/").await.csrf();
    let mut cross = Browser::new(app);
    *cross.cookies.borrow_mut() = researcher.cookies.borrow().clone();
    cross.extra.push(("sec-fetch-site", "cross-site".into()));
    let mut fields = seed_fields(TITLE, SUMMARY);
    fields.push(("csrf_token", &token));
    assert_eq!(cross.post("/seeds/new", &fields).await.status, 403);
    assert_eq!(
        cross.post(&format!("/seeds/{seed}/status"), &[("to", "archived"), ("csrf_token", &token)]).await.status,
        403
    );
    let mine = world.call(&world.researcher_a, actix_web::http::Method::GET, "/api/v1/seeds?mine=true", None).await;
    assert_eq!(mine.body["total"], 1, "only the world's seed: {}", mine.text);
}

#[actix_web::test]
async fn a_grant_opens_the_confidential_section_until_it_is_revoked() {
    let world = World::new().await;
    let app = &world.app;
    let secret = marker();
    let seed = world.seed(&secret, "members", true).await;
    let researcher = Browser::login(app, "researcher_a@example.org").await;
    let other = Browser::login(app, "company_d@example.org").await;
    let access = format!("/seeds/{seed}/access");
    let page = researcher.get(&access).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Global Biologics"), "companies to choose from");
    assert!(!page.text.contains("東都医科大学</option>"), "not the seed's own organisation");
    assert_eq!(other.get(&access).await.status, 404, "companies do not grant");
    assert_eq!(Browser::login(app, "colleague_a@example.org").await.get(&access).await.status, 404);

    let org = world.pharma_d.to_string();
    let res = researcher.submit(&access, &access, &[("organization_id", &org), ("expires", "2020-01-01")]).await;
    assert_eq!(res.status, 422, "an expiry in the past");
    assert!(res.text.contains("id=\"expires_at-error\""), "{}", res.text);
    let res = researcher.submit(&access, &access, &[("organization_id", &org), ("expires", "someday")]).await;
    assert!(res.text.contains("id=\"expires_at-error\""));
    let res = researcher.submit(&access, &access, &[("organization_id", &org), ("expires", "2099-03-31")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = researcher.get(&access).await;
    assert!(page.text.contains("Global Biologics") && page.text.contains("2099"), "the grant is listed");
    let seed_page = other.get(&format!("/seeds/{seed}")).await;
    assert!(seed_page.text.contains(&secret), "the grant opens the section");
    assert!(seed_page.text.contains("class=\"banner\""));
    assert!(
        !Browser::login(app, "company_c@example.org").await.get(&format!("/seeds/{seed}")).await.text.contains(&secret)
    );

    let revoke = format!("/seeds/{seed}/access/{org}/revoke");
    let res = researcher.submit(&access, &revoke, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert!(!other.get(&format!("/seeds/{seed}")).await.text.contains(&secret), "revoked at once");
    assert_eq!(researcher.submit(&access, &revoke, &[]).await.status, 404, "nothing left to revoke");
}

#[actix_web::test]
async fn a_company_drafts_an_anonymous_need_whose_name_academia_never_reads() {
    let world = World::new().await;
    let app = &world.app;
    let company = Browser::login(app, "company_c@example.org").await;
    let form = company.get("/needs/new").await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains("name=\"anonymous\""), "the anonymity switch");
    assert!(form.text.contains("id=\"anonymous-hint\""), "explained beside it");
    assert_eq!(Browser::login(app, "researcher_a@example.org").await.get("/needs/new").await.status, 404);

    let title = "筋疾患向け核酸医薬のライセンス導入先を探しています";
    let res = company
        .submit(
            "/needs/new",
            "/needs/new",
            &[
                ("title", title),
                ("description", "エクソンスキッピング型アンチセンス核酸の前臨床〜第I相段階の導入を検討しています。"),
                ("modalities", "nucleic_acid"),
                ("disease_areas", "rare_intractable"),
                ("stages", "preclinical"),
                ("stages", "phase_1"),
                ("deal_types", "license"),
                ("anonymous", "true"),
                ("visibility", "members"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let id = id_after("/needs/", res.location());
    let path = format!("/needs/{id}");
    let res = company.submit(&format!("{path}/edit"), &format!("{path}/status"), &[("to", "published")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let own = company.get(&path).await;
    assert!(own.text.contains(title) && own.text.contains(&format!("href=\"{path}/edit\"")));

    let researcher = Browser::login(app, "researcher_a@example.org").await;
    let page = researcher.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(title) && !page.text.contains("日本創薬"), "anonymous to academia");
    assert_eq!(Browser::login(app, "company_d@example.org").await.get(&path).await.status, 404, "other companies");

    // Switching anonymity off names the company.
    let edit = company.get(&format!("{path}/edit")).await;
    assert!(edit.text.contains("name=\"anonymous\" value=\"true\" aria-describedby=\"anonymous-hint\" checked"));
    let res = company
        .submit(
            &format!("{path}/edit"),
            &format!("{path}/edit"),
            &[
                ("title", title),
                ("description", "条件を更新しました。"),
                ("modalities", "nucleic_acid"),
                ("visibility", "members"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert!(researcher.get(&path).await.text.contains("日本創薬"), "named once no longer anonymous");
}

/// The pages a member of another organisation (or the secretariat) reads about `path`'s record.
async fn assert_reference_unseen(browser: &Browser<'_>, path: &str, reference: &str, who: &str) {
    let lists = ["/", "/search?q=FAP", "/matches", "/introductions", "/notifications", "/seeds", "/needs"];
    for page in [path.to_owned(), format!("{path}/edit")].into_iter().chain(lists.map(str::to_owned)) {
        let res = browser.get(&page).await;
        assert!(!res.text.contains(reference), "{who} reads the reference on {page}");
    }
}

#[actix_web::test]
async fn the_organisations_reference_is_edited_by_its_own_and_a_clash_is_told_beside_it() {
    let world = World::new().await;
    let app = &world.app;
    let researcher = Browser::login(app, "researcher_a@example.org").await;
    let reference = format!("TTO-{}", marker());
    let form = researcher.get("/seeds/new").await;
    assert!(form.text.contains("name=\"external_ref\"") && form.text.contains("id=\"external_ref-hint\""));
    let mut fields = seed_fields(TITLE, SUMMARY);
    fields.push(("external_ref", &reference));
    let res = researcher.submit("/seeds/new", "/seeds/new", &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let id = id_after("/seeds/", res.location());
    let path = format!("/seeds/{id}");
    assert!(researcher.get(&format!("{path}/edit")).await.text.contains(&format!("value=\"{reference}\"")));
    let api = world.call(&world.researcher_a, Method::GET, &format!("/api/v1{path}"), None).await;
    assert_eq!(api.body["external_ref"], reference.as_str(), "{}", api.text);
    assert_eq!(publish(&researcher, &path).await.status, StatusCode::SEE_OTHER);

    // Another seed of the organisation with the same reference: refused beside the field.
    let res = researcher.submit("/seeds/new", "/seeds/new", &fields).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert!(
        res.text.contains("id=\"external_ref-error\">この管理番号は所属組織の別のシーズですでに使われています<"),
        "{}",
        res.text
    );
    assert!(res.text.contains("aria-invalid=\"true\""));
    let mine = world.call(&world.researcher_a, Method::GET, "/api/v1/seeds?mine=true", None).await;
    assert_eq!(mine.body["total"], 1, "{}", mine.text);

    for who in ["company_c", "researcher_b", "liaison", "admin"] {
        let browser = Browser::login(app, &format!("{who}@example.org")).await;
        assert_reference_unseen(&browser, &path, &reference, who).await;
    }
    // The secretariat edits the seed without the field, and the reference stays.
    let admin = Browser::login(app, "admin@example.org").await;
    let edit = format!("{path}/edit");
    assert!(!admin.get(&edit).await.text.contains("name=\"external_ref\""));
    let res = admin.submit(&edit, &edit, &seed_fields("事務局が直したタイトル", SUMMARY)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let api = world.call(&world.researcher_a, Method::GET, &format!("/api/v1{path}"), None).await;
    assert_eq!(api.body["external_ref"], reference.as_str(), "{}", api.text);

    // The owner clears it.
    let mut cleared = seed_fields(TITLE, SUMMARY);
    cleared.push(("external_ref", " "));
    let res = researcher.submit(&edit, &edit, &cleared).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let api = world.call(&world.researcher_a, Method::GET, &format!("/api/v1{path}"), None).await;
    assert!(api.body["external_ref"].is_null(), "{}", api.text);
}

#[actix_web::test]
async fn a_companys_reference_for_a_need_stays_with_the_company() {
    let world = World::new().await;
    let app = &world.app;
    let company = Browser::login(app, "company_c@example.org").await;
    let reference = format!("BD-{}", marker());
    let fields = [
        ("title", "筋疾患向け核酸医薬の導入"),
        ("description", "エクソンスキッピング型アンチセンス核酸の導入を検討しています。"),
        ("modalities", "nucleic_acid"),
        ("visibility", "members"),
        ("external_ref", reference.as_str()),
    ];
    let res = company.submit("/needs/new", "/needs/new", &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let path = format!("/needs/{}", id_after("/needs/", res.location()));
    let edit = company.get(&format!("{path}/edit")).await;
    assert!(edit.text.contains(&format!("value=\"{reference}\"")) && edit.text.contains("管理番号"));
    assert_eq!(publish(&company, &path).await.status, StatusCode::SEE_OTHER);

    let res = company.submit("/needs/new", "/needs/new", &fields).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert!(res.text.contains("id=\"external_ref-error\">この管理番号は自社の別のニーズですでに使われています<"));
    company.get("/needs/new?lang=en").await;
    let res = company.submit("/needs/new", "/needs/new", &fields).await;
    assert!(res.text.contains("another need of your organisation already carries this reference"), "{}", res.text);

    for who in ["researcher_a", "liaison", "admin"] {
        let browser = Browser::login(app, &format!("{who}@example.org")).await;
        assert_reference_unseen(&browser, &path, &reference, who).await;
    }
}
