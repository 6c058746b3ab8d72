//! The members' web application, driven as a browser would (cookies, forms, redirects) against
//! the real server: sessions and their cookie, CSRF and cross-site refusals, languages, headers,
//! and what every role's pages show and must not show.

use std::cell::RefCell;
use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use kakehashi_domain::{OrganizationKind, Role};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestApp, spawn_app, until};
use crate::world::{Member, World, marker};

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The form token of the page.
    pub fn csrf(&self) -> String {
        let start = self.text.find("name=\"csrf_token\" value=\"").expect("a form with a token") + 25;
        self.text[start..].split('"').next().unwrap().to_owned()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").map(|v| v.to_str().unwrap().to_owned()).collect()
    }
}

/// A browser: keeps cookies, sends what a same-site browser sends.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: RefCell<BTreeMap<String, String>>,
    pub extra: Vec<(&'static str, String)>,
    client: awc::Client,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        // Redirects are followed by hand, as a browser would, with the cookies they set.
        let client = awc::Client::builder().disable_redirects().timeout(std::time::Duration::from_secs(30)).finish();
        Browser { app, cookies: RefCell::new(BTreeMap::new()), extra: Vec::new(), client }
    }

    fn cookie_header(&self) -> String {
        self.cookies.borrow().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&self, headers: &HeaderMap) {
        for value in headers.get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, val) = pair.split_once('=').unwrap();
            let removed = value.to_ascii_lowercase().contains("max-age=0");
            if removed || val.is_empty() {
                self.cookies.borrow_mut().remove(name);
            } else {
                self.cookies.borrow_mut().insert(name.to_owned(), val.to_owned());
            }
        }
    }

    /// Sends `req` with the browser's cookies and headers, and a body of `(content type, bytes)`.
    async fn send(&self, req: awc::ClientRequest, body: Option<(String, Vec<u8>)>) -> Page {
        let mut req = req.insert_header(("cookie", self.cookie_header()));
        for (k, v) in &self.extra {
            req = req.insert_header((*k, v.clone()));
        }
        let res = match body {
            Some((content_type, body)) => req.insert_header(("content-type", content_type)).send_body(body).await,
            None => req.send().await,
        }
        .expect("request sent");
        self.finish(res).await
    }

    /// The page of an answer, keeping the cookies it sets.
    async fn finish(
        &self,
        mut res: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
        >,
    ) -> Page {
        let bytes = res.body().limit(8 * 1024 * 1024).await.unwrap();
        let page = Page {
            status: res.status(),
            headers: res.headers().clone(),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        };
        self.keep(&page.headers);
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.app.base));
        self.send(req, None).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let req = self.client.post(format!("{}{path}", self.app.base)).insert_header(("sec-fetch-site", "same-origin"));
        self.send(req, Some(("application/x-www-form-urlencoded".to_owned(), body.into_bytes()))).await
    }

    /// Posts a `multipart/form-data` form as a browser's file upload does: `fields`, then the
    /// file `(field, file name, content type, bytes)`.
    pub async fn upload(&self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &str, &[u8])) -> Page {
        const BOUNDARY: &str = "----KakehashiTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (field, file_name, content_type, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let req = self.client.post(format!("{}{path}", self.app.base)).insert_header(("sec-fetch-site", "same-origin"));
        self.send(req, Some((format!("multipart/form-data; boundary={BOUNDARY}"), body))).await
    }

    /// Posts a form with the token of the page at `from`.
    pub async fn submit(&self, from: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(from).await.csrf();
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post(action, &all).await
    }

    pub async fn login(app: &'a TestApp, email: &str) -> Browser<'a> {
        let browser = Browser::new(app);
        let res = browser.submit("/login", "/login", &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "login of {email}: {}", res.text);
        assert_eq!(res.location(), "/");
        browser
    }
}

fn email(member: &Member) -> String {
    format!("{}@example.org", member.name)
}

#[actix_web::test]
async fn login_sets_a_host_only_session_cookie_and_logout_ends_it_at_once() {
    let app = spawn_app().await;
    let org = app.organization("日本創薬", OrganizationKind::Company).await;
    app.member("bd@example.org", Role::Company, org).await;
    let browser = Browser::new(&app);

    let res = browser.get("/").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login");

    let form = browser.get("/login").await;
    assert_eq!(form.status, 200);
    for field in ["name=\"email\"", "name=\"password\"", "name=\"csrf_token\""] {
        assert!(form.text.contains(field), "{field}");
    }
    let res = browser
        .post("/login", &[("email", "bd@example.org"), ("password", PASSWORD), ("csrf_token", &form.csrf())])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(res.location(), "/");
    let cookie = res.set_cookies().into_iter().find(|c| c.starts_with("__Host-")).expect("a __Host- cookie");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let session = browser.cookies.borrow().clone();
    assert!(!format!("{session:?}").contains("eyJ"), "the browser holds no JWT: {session:?}");

    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("bd@example.org"), "the member's name is shown");

    // The session cookie opens nothing in the bearer API.
    let api = browser.get("/api/v1/me").await;
    assert_eq!(api.status, 401);

    // A new id at every login: the old session stays the old one.
    let again = Browser::login(&app, "bd@example.org").await;
    assert_ne!(
        again.cookies.borrow().get("__Host-kakehashi-session"),
        browser.cookies.borrow().get("__Host-kakehashi-session")
    );

    let stolen = browser.cookies.borrow().clone();
    let res = browser.submit("/", "/logout", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login");
    let replay = Browser::new(&app);
    *replay.cookies.borrow_mut() = stolen;
    let res = replay.get("/").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "the ended session opens nothing");
    assert_eq!(again.get("/").await.status, 200, "the other session goes on");
}

/// A hit on the search page names its modality, disease area and stage in the page's language, in
/// that order: labels of the taxonomy, not its stored values.
#[actix_web::test]
async fn a_search_hit_names_its_taxonomy_on_the_page() {
    let world = World::new().await;
    world.seed(&marker(), "members", true).await;
    world.app.settled(crate::helpers::Stage::Indexed).await;
    let browser = Browser::login(&world.app, "company_c@example.org").await;
    let page = browser.get("/search?q=%E3%82%A8%E3%82%AF%E3%82%BD%E3%83%B3").await;
    assert_eq!(page.status, StatusCode::OK);
    let hit = page.text.split("/seeds/").nth(1).expect("the seed is a hit");
    let at = |ja: &str, en: &str| hit.find(ja).or_else(|| hit.find(en));
    let modality = at("核酸医薬（アンチセンス・siRNA）", "Nucleic acid (antisense, siRNA)");
    let disease = at("難病", "Rare &amp; intractable diseases");
    let stage = at("前臨床（非臨床 POC）", "Preclinical");
    assert!(modality.is_some() && disease.is_some() && stage.is_some(), "{hit}");
    assert!(modality < disease && disease < stage, "modality, disease area, stage, as the facets are listed: {hit}");
    assert!(!hit.contains("nucleic_acid ·") && !hit.contains("· preclinical"), "labels, not stored values: {hit}");
}

#[actix_web::test]
async fn wrong_credentials_answer_401_without_saying_which_part_was_wrong() {
    let app = spawn_app().await;
    let org = app.organization("日本創薬", OrganizationKind::Company).await;
    app.member("bd@example.org", Role::Company, org).await;
    let browser = Browser::new(&app);
    let wrong_password = browser
        .submit("/login", "/login", &[("email", "bd@example.org"), ("password", "not the password at all")])
        .await;
    let unknown = browser.submit("/login", "/login", &[("email", "nobody@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(unknown.status, 401);
    let message = |p: &Page| p.text.split("role=\"alert\"").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(message(&wrong_password), message(&unknown));
    assert!(!browser.cookies.borrow().contains_key("__Host-kakehashi-session"));
}

#[actix_web::test]
async fn the_web_login_is_locked_out_exactly_as_the_api_login() {
    let app = crate::helpers::spawn_app_with(|s| s.auth.lockout_threshold = 3).await;
    let org = app.organization("日本創薬", OrganizationKind::Company).await;
    app.member("bd@example.org", Role::Company, org).await;
    let browser = Browser::new(&app);
    for _ in 0..3 {
        let res =
            browser.submit("/login", "/login", &[("email", "bd@example.org"), ("password", "wrong wrong wrong")]).await;
        assert_eq!(res.status, 401);
    }
    let res = browser.submit("/login", "/login", &[("email", "bd@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(res.status, 401, "locked after failed web logins");
    assert_eq!(app.login("bd@example.org", PASSWORD).await.status, 401, "and the API sees the same lock");
}

#[actix_web::test]
async fn state_changing_requests_without_the_token_or_from_another_site_are_refused() {
    let world = World::new().await;
    let app = &world.app;
    let seed = world.seed(&marker(), "members", true).await;

    // Before login: the form token is the form cookie's.
    let browser = Browser::new(app);
    let token = browser.get("/login").await.csrf();
    let creds = [("email", "company_c@example.org"), ("password", PASSWORD)];
    assert_eq!(browser.post("/login", &creds).await.status, 403, "no token");
    let mut forged = creds.to_vec();
    forged.push(("csrf_token", "csrf_forged"));
    assert_eq!(browser.post("/login", &forged).await.status, 403, "a wrong token");
    let mut good = creds.to_vec();
    good.push(("csrf_token", &token));
    let mut cross = Browser::new(app);
    *cross.cookies.borrow_mut() = browser.cookies.borrow().clone();
    cross.extra.push(("sec-fetch-site", "cross-site".into()));
    assert_eq!(cross.post("/login", &good).await.status, 403, "Sec-Fetch-Site: cross-site");
    let mut foreign = Browser::new(app);
    *foreign.cookies.borrow_mut() = browser.cookies.borrow().clone();
    foreign.extra.push(("origin", "https://evil.example".into()));
    assert_eq!(foreign.post("/login", &good).await.status, 403, "a foreign Origin");

    // Signed in: every form needs the session's token.
    let company = Browser::login(app, "company_c@example.org").await;
    let path = format!("/seeds/{seed}/introductions");
    let res = company.post(&path, &[("message", "Please introduce us.")]).await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = company.post(&path, &[("message", "Please introduce us."), ("csrf_token", &token)]).await;
    assert_eq!(res.status, 403, "the pre-login token is not the session's");
    let session_token = company.get("/").await.csrf();
    let mut cross = Browser::new(app);
    *cross.cookies.borrow_mut() = company.cookies.borrow().clone();
    cross.extra.push(("sec-fetch-site", "cross-site".into()));
    let res = cross.post(&path, &[("message", "Please introduce us."), ("csrf_token", &session_token)]).await;
    assert_eq!(res.status, 403, "cross-site even with the token");
    let listed = world.call(&world.company_c, actix_web::http::Method::GET, "/api/v1/introductions", None).await;
    assert_eq!(listed.body["total"], 0, "nothing was written: {}", listed.text);
    assert_eq!(company.post("/logout", &[]).await.status, 403);
    assert_eq!(company.get("/").await.status, 200, "a refused logout leaves the session");

    // The token may come in the header htmx sends.
    let mut scripted = Browser::new(app);
    *scripted.cookies.borrow_mut() = company.cookies.borrow().clone();
    scripted.extra.push(("x-csrf-token", session_token.clone()));
    let res = scripted.post(&path, &[("message", "Please introduce us, by script.")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
}

#[actix_web::test]
async fn suspension_and_password_reset_end_browser_sessions_at_once() {
    let world = World::new().await;
    let app = &world.app;
    let company = Browser::login(app, "company_c@example.org").await;
    let other = Browser::login(app, "company_d@example.org").await;
    assert_eq!(company.get("/").await.status, 200);
    let (id, token) = {
        let me = world.call(&world.company_c, actix_web::http::Method::GET, "/api/v1/me", None).await;
        (me.body["id"].as_str().unwrap().to_owned(), world.admin.token.clone())
    };
    let res = app.post(&format!("/api/v1/admin/members/{id}/suspend"), Some(&token), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = company.get("/search").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login");

    assert_eq!(other.get("/").await.status, 200);
    let res = app.post("/api/v1/auth/password-reset", None, json!({ "email": "company_d@example.org" })).await;
    assert_eq!(res.status, 202);
    let reset = app.await_token_from_mail("company_d@example.org").await;
    // The link of the e-mail is a page that finishes the step.
    let anonymous = Browser::new(app);
    let page = anonymous.get(&format!("/reset-password?token={reset}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&reset));
    let new_password = "a brand new password 2026";
    let res = anonymous
        .submit(
            &format!("/reset-password?token={reset}"),
            "/reset-password",
            &[("token", &reset), ("password", new_password), ("password_confirm", new_password)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(other.get("/").await.status, StatusCode::SEE_OTHER, "the reset ended the session");
}

#[actix_web::test]
async fn pages_speak_the_members_language_and_carry_strict_headers() {
    let world = World::new().await;
    let app = &world.app;
    let english = Browser::new(app);
    let mut english = english;
    english.extra.push(("accept-language", "en-GB,en;q=0.9".into()));
    let res = english.get("/login").await;
    assert!(res.text.contains("<html lang=\"en\">"), "Accept-Language");
    let res = english.get("/login?lang=ja").await;
    assert!(res.text.contains("<html lang=\"ja\">"));
    assert!(res.set_cookies().iter().any(|c| c.starts_with("lang=ja")));
    let res = english.get("/login").await;
    assert!(res.text.contains("<html lang=\"ja\">"), "the cookie wins over Accept-Language");

    let member = Browser::login(app, "company_d@example.org").await;
    let res = member.get("/?lang=en").await;
    assert!(res.text.contains("<html lang=\"en\">"));
    let again = Browser::login(app, "company_d@example.org").await;
    assert!(again.get("/").await.text.contains("<html lang=\"en\">"), "the switch became the member's locale");
    let me = world.call(&world.company_d, actix_web::http::Method::GET, "/api/v1/me", None).await;
    assert_eq!(me.body["locale"], "en", "{}", me.text);

    for path in ["/", "/login", "/search", "/no-such-page"] {
        let res = member.get(path).await;
        let csp = res.headers.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(res.headers.get("cache-control").unwrap(), "no-store", "{path}");
        assert!(
            !res.text.contains("<script>") && !res.text.contains(" style=\""),
            "no inline script or style on {path}"
        );
        assert!(
            !res.text.contains("src=\"http") && !res.text.contains("href=\"http"),
            "nothing from another origin on {path}"
        );
    }
    let css = member.get("/assets/pico.classless.min.css").await;
    assert_eq!(css.status, 200);
    assert!(css.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/css"));
    let missing = member.get("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    let api_missing = member.get("/api/v1/no-such-endpoint").await;
    assert_eq!(
        api_missing.headers.get("content-type").unwrap(),
        "application/problem+json",
        "the API keeps its errors"
    );
}

async fn match_exists(world: &World, seed: Uuid) {
    world
        .app
        .until("a match for the seed", async || {
            let res = world
                .call(&world.liaison, actix_web::http::Method::GET, &format!("/api/v1/matches?seed_id={seed}"), None)
                .await;
            (res.body["total"].as_u64().unwrap_or(0) > 0).then_some(())
        })
        .await;
}

/// Every page a member can reach for the world's objects.
fn pages(seed: Uuid, need: Uuid, intro: Option<&str>) -> Vec<String> {
    let mut pages = vec![
        "/".to_owned(),
        "/search?q=%E3%82%A8%E3%82%AF%E3%82%BD%E3%83%B3".to_owned(),
        "/search?q=exon&modality=nucleic_acid".to_owned(),
        "/search?q=Sequence".to_owned(),
        format!("/seeds/{seed}"),
        format!("/needs/{need}"),
        "/seeds".to_owned(),
        "/needs".to_owned(),
        "/matches".to_owned(),
        "/matches?status=dismissed".to_owned(),
        "/introductions".to_owned(),
        "/notifications".to_owned(),
        "/saved-searches".to_owned(),
        "/preferences".to_owned(),
        "/admin".to_owned(),
        format!("/seeds/{seed}/edit"),
        format!("/seeds/{seed}/access"),
        format!("/needs/{need}/edit"),
        "/seeds/new".to_owned(),
        "/needs/new".to_owned(),
    ];
    if let Some(id) = intro {
        pages.push(format!("/introductions/{id}"));
    }
    pages
}

#[actix_web::test]
async fn the_confidential_section_reaches_no_page_of_a_viewer_without_access() {
    let world = World::new().await;
    let app = &world.app;
    let secret = marker();
    let seed = world.seed(&secret, "members", true).await;
    let need = world.need(false, "members", true).await;
    match_exists(&world, seed).await;

    // A request and a thread whose pages the parties will read.
    let company = Browser::login(app, "company_c@example.org").await;
    let res = company
        .submit(
            &format!("/seeds/{seed}"),
            &format!("/seeds/{seed}/introductions"),
            &[("message", "Please introduce us."), ("need_id", &need.to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let intro_path = res.location().to_owned();
    let intro = intro_path.rsplit('/').next().unwrap().to_owned();
    let res =
        company.submit(&intro_path, &format!("{intro_path}/messages"), &[("body", "Looking forward to it.")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);

    let with_access = ["researcher_a", "colleague_a", "tto_a", "liaison", "admin"];
    for member in world.everyone() {
        let browser = Browser::login(app, &email(member)).await;
        for path in pages(seed, need, Some(&intro)) {
            let res = browser.get(&path).await;
            assert!(
                [200, 404].contains(&res.status.as_u16()),
                "{} on {path}: {} {}",
                member.name,
                res.status,
                res.text
            );
            let is_seed_page = path == format!("/seeds/{seed}");
            if with_access.contains(&member.name) && is_seed_page {
                assert!(res.text.contains(&secret), "{} reads the confidential section on the seed page", member.name);
            } else {
                assert!(!res.text.contains(&secret), "{} must not see the marker on {path}", member.name);
            }
        }
        // The htmx fragment of the search carries nothing more.
        let mut htmx = Browser::new(app);
        *htmx.cookies.borrow_mut() = browser.cookies.borrow().clone();
        htmx.extra.push(("hx-request", "true".into()));
        htmx.extra.push(("hx-target", "results".into()));
        let res = htmx.get("/search?q=Sequence").await;
        assert!(!res.text.contains(&secret) && !res.text.contains("<html"), "{}", member.name);
    }
}

#[actix_web::test]
async fn a_hidden_seed_answers_exactly_like_a_missing_one() {
    let world = World::new().await;
    let app = &world.app;
    let hidden = world.seed(&marker(), "liaison_only", true).await;
    let draft = world.seed(&marker(), "members", false).await;
    for who in ["company_c@example.org", "researcher_b@example.org"] {
        let browser = Browser::login(app, who).await;
        // The pages differ only in the address they were asked for (the language switch links it).
        let missing_id = Uuid::new_v4().to_string();
        let missing = browser.get(&format!("/seeds/{missing_id}")).await;
        assert_eq!(missing.status, 404);
        let missing_text = missing.text.replace(&missing_id, "ID");
        for id in [hidden, draft] {
            let res = browser.get(&format!("/seeds/{id}")).await;
            assert_eq!(res.status, 404);
            assert_eq!(
                res.text.replace(&id.to_string(), "ID"),
                missing_text,
                "{who}: a hidden seed's page is the missing one's"
            );
        }
        let garbage = browser.get("/seeds/not-an-id").await;
        assert_eq!(garbage.status, 404);
        assert_eq!(garbage.text.replace("not-an-id", "ID"), missing_text);
    }
    let liaison = Browser::login(app, "liaison@example.org").await;
    assert_eq!(liaison.get(&format!("/seeds/{hidden}")).await.status, 200, "liaisons see liaison-only seeds");
}

#[actix_web::test]
async fn the_story_runs_through_forms_and_an_anonymous_company_stays_unnamed_until_accepted() {
    let world = World::new().await;
    let app = &world.app;
    let secret = marker();
    let seed = world.seed(&secret, "members", true).await;
    let need = world.need(true, "members", true).await;
    let company_name = "日本創薬";

    let company = Browser::login(app, "company_c@example.org").await;
    let page = company.get(&format!("/seeds/{seed}")).await;
    assert!(!page.text.contains(&secret));
    assert!(page.text.contains("name=\"message\""), "companies get the request form");
    let res = company
        .submit(
            &format!("/seeds/{seed}"),
            &format!("/seeds/{seed}/introductions"),
            &[("message", ""), ("need_id", &need.to_string())],
        )
        .await;
    assert_eq!(res.status, 422, "an empty message is refused beside its field");
    assert!(res.text.contains("id=\"message-error\""), "{}", res.text);
    let res = company
        .submit(
            &format!("/seeds/{seed}"),
            &format!("/seeds/{seed}/introductions"),
            &[("message", "弊社の核酸プラットフォームと組み合わせたい。"), ("need_id", &need.to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let intro = res.location().to_owned();
    company.submit(&intro, &format!("{intro}/messages"), &[("body", "ご検討をお願いします。")]).await;

    let researcher = Browser::login(app, "researcher_a@example.org").await;
    assert_eq!(researcher.get(&intro).await.status, 404, "the seed's side sees nothing before forwarding");

    let liaison = Browser::login(app, "liaison@example.org").await;
    let page = liaison.get("/").await;
    assert!(page.text.contains(&intro), "the request waits in the liaison's queue");
    let page = liaison.get(&intro).await;
    assert!(page.text.contains(company_name), "liaisons always see the company");
    assert!(page.text.contains("value=\"forward\""));
    let res = liaison.submit(&intro, &format!("{intro}/steps"), &[("step", "accept")]).await;
    assert_eq!(res.status, 403, "accepting is the owner's step");
    let res = liaison.submit(&intro, &format!("{intro}/steps"), &[("step", "forward")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);

    for path in [intro.clone(), "/introductions".into(), "/".into(), "/notifications".into(), "/matches".into()] {
        let res = researcher.get(&path).await;
        assert_eq!(res.status, 200, "{path}");
        assert!(!res.text.contains(company_name), "the anonymous company is unnamed on {path}");
    }
    let page = researcher.get(&intro).await;
    assert!(page.text.contains("value=\"accept\"") && page.text.contains("value=\"decline\""));
    assert!(!page.text.contains("value=\"forward\""), "buttons are the caller's next steps only");
    let res = researcher.submit(&intro, &format!("{intro}/steps"), &[("step", "accept")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert!(researcher.get(&intro).await.text.contains(company_name), "named once accepted");

    let res = liaison.submit(&intro, &format!("{intro}/steps"), &[("step", "cda:signed")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = company.get(&format!("/seeds/{seed}")).await;
    assert!(page.text.contains(&secret), "the signed CDA opens the confidential section");
    assert!(page.text.contains("class=\"banner\""), "with a banner saying why");
}

/// The closing lines of the request spans that name a member, from every test of this binary
/// once the first caller installed the collector; `None` when another collector was installed
/// first (`TEST_LOG`).
fn member_request_logs() -> Option<&'static std::sync::Mutex<Vec<String>>> {
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{Layer as _, filter};

    struct Lines;
    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let text = String::from_utf8_lossy(buf);
            if text.contains("member_id=") {
                LOGS.lock().unwrap().push(text.into_owned());
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static LOGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_span_events(FmtSpan::CLOSE)
            .with_writer(|| Lines)
            .with_filter(filter::filter_fn(|meta| meta.is_span() && meta.name() == "HTTP request"));
        tracing_subscriber::registry().with(layer).try_init().is_ok()
    });
    installed.then_some(&LOGS)
}

#[actix_web::test]
async fn a_page_request_is_logged_with_the_member_who_asked() {
    let Some(logs) = member_request_logs() else {
        eprintln!("skipped: another log collector is installed (TEST_LOG)");
        return;
    };
    let app = spawn_app().await;
    let org = app.organization("日本創薬", OrganizationKind::Company).await;
    let id = app.member("logged@example.org", Role::Company, org).await;
    let browser = Browser::login(&app, "logged@example.org").await;
    assert_eq!(browser.get("/notifications").await.status, 200);
    let wanted = format!("member_id={id}");
    until("the request span naming the member", async || {
        let lines = logs.lock().unwrap();
        lines.iter().any(|l| l.contains(&wanted) && l.contains("http.target=/notifications")).then_some(())
    })
    .await;
}
