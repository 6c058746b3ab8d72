//! The story in a real browser: Debian's Chromium driven over `WebDriver` (fantoccini, plain HTTP to
//! a chromedriver this test starts on a free port) against the real server. A company logs in in
//! Japanese, searches, opens a seed and requests an introduction; the liaison forwards it; the
//! researcher accepts; the liaison marks the CDA signed; a TTO member imports a file and the
//! secretariat opens its screens; the company then reads the confidential section. Every screen
//! is photographed (kept in `e2e-screenshots/` under the target directory, whether the walk
//! passes or fails) and scanned with axe-core, which must find no serious or critical violation.
//!
//! Without Chromium and chromedriver the test says so and passes, unless
//! `KAKEHASHI_REQUIRE_BROWSER=1` is set (as CI does), when their absence fails it.

use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt as _;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::PASSWORD;
use crate::world::{World, marker};

/// axe-core from npm (MPL-2.0, its licence beside it), for the tests only: never served.
const AXE: &str = include_str!("../browser/axe.min.js");

/// What the company types.
const QUERY: &str = "エクソンスキッピング アンチセンス";

/// A published seed of `researcher_a`'s, written as a Japanese university writes, with `secret`
/// in its confidential section.
async fn japanese_seed(world: &World, secret: &str) -> Uuid {
    let mut body = crate::world::seed_body(secret, "members");
    body["title"] = json!("デュシェンヌ型筋ジストロフィーに対するエクソンスキッピング型アンチセンス核酸");
    body["summary"] = json!(
        "ジストロフィン遺伝子のエクソン51および53を標的とするモルフォリノ修飾アンチセンスオリゴヌクレオチドを設計し、\
         患者由来筋芽細胞およびmdxマウスにおいてジストロフィンタンパク質の発現回復を確認した。\
         週1回の静脈内投与で心筋への移行も認められ、既存品より低用量での有効性が期待される。"
    );
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id: Uuid = res.body["id"].as_str().unwrap().parse().unwrap();
    let res = world.call(&world.researcher_a, Method::POST, &format!("/api/v1/seeds/{id}/publish"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    id
}

/// The browser and its driver, found on `PATH` (or named by `KAKEHASHI_CHROMIUM` and
/// `KAKEHASHI_CHROMEDRIVER`).
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

fn find_tools() -> Result<Tools, String> {
    let named = |var: &str| std::env::var_os(var).map(PathBuf::from).filter(|p| p.is_file());
    let chromium = named("KAKEHASHI_CHROMIUM").or_else(|| on_path(&["chromium", "chromium-browser", "google-chrome"]));
    let chromedriver = named("KAKEHASHI_CHROMEDRIVER").or_else(|| on_path(&["chromedriver"]));
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Ok(Tools { chromium, chromedriver }),
        (chromium, chromedriver) => Err(format!(
            "Chromium {} and chromedriver {} (Debian: apt-get install chromium chromium-driver fonts-noto-cjk)",
            if chromium.is_some() { "found" } else { "missing" },
            if chromedriver.is_some() { "found" } else { "missing" },
        )),
    }
}

/// A chromedriver process, ended when dropped (its browsers go with their sessions).
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_driver(tools: &Tools) -> Driver {
    let port = free_port();
    let child = Command::new(&tools.chromedriver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver never listened on {port}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    driver
}

async fn open_browser(tools: &Tools, driver: &Driver) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": tools.chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--accept-lang=ja", "--lang=ja", "--window-size=1280,1000", "--no-first-run",
                "--disable-extensions", "--disable-background-networking",
            ],
            "prefs": { "intl.accept_languages": "ja" },
        },
    });
    let Value::Object(capabilities) = capabilities else { unreachable!() };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(capabilities).connect(&driver.url).await.expect("a browser session")
}

/// The screens of one walk: each is photographed and scanned.
struct Camera {
    dir: PathBuf,
    shots: usize,
}

impl Camera {
    fn new() -> Camera {
        let dir = std::env::var_os("KAKEHASHI_SCREENSHOT_DIR")
            .map_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-screenshots"), PathBuf::from);
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("the screenshot directory");
        Camera { dir, shots: 0 }
    }

    /// Photographs the screen, then fails the walk on any serious or critical axe violation.
    async fn screen(&mut self, browser: &Client, name: &str) {
        self.shots += 1;
        let png = browser.screenshot().await.expect("a screenshot");
        let file = self.dir.join(format!("{:02}-{name}.png", self.shots));
        std::fs::write(&file, png).expect("the screenshot is written");
        let violations = accessibility_violations(browser).await;
        let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        assert!(
            violations.is_empty(),
            "axe-core on {name} ({url}, {}): {}",
            file.display(),
            serde_json::to_string_pretty(&violations).unwrap()
        );
    }
}

/// The serious and critical violations axe-core finds on the current page.
async fn accessibility_violations(browser: &Client) -> Vec<Value> {
    browser.execute(AXE, vec![]).await.expect("axe-core loads");
    let scan = r"
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
          .then(r => done(r.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' + n.failureSummary) }))))
          .catch(e => done([{ id: 'axe-error', help: String(e) }]));
    ";
    let found = browser.execute_async(scan, vec![]).await.expect("axe-core runs");
    found.as_array().cloned().unwrap_or_default()
}

async fn source(browser: &Client) -> String {
    browser.source().await.expect("the page source")
}

async fn click(browser: &Client, css: &str) {
    browser.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Waits until the page at `path` (and its query, if given) is the one shown.
async fn wait_path(browser: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = browser.current_url().await.unwrap();
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "the browser stayed on {url}, not {path}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Fails the walk when the page is wider than a 360 px phone (wide tables scroll in their box).
async fn assert_fits_a_phone(browser: &Client, name: &str) {
    let width: Value = browser.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
    assert!(width.as_u64().unwrap() <= 360, "{name} overflows 360 px: {width}");
}

/// Photographs the current member's pages on a phone, in English, then goes back to the desktop
/// and Japanese. `pages` are `(path, name, element to wait for)`.
async fn on_a_phone_in_english(browser: &Client, base: &str, camera: &mut Camera, pages: &[(&str, &str, &str)]) {
    browser.set_window_size(360, 800).await.unwrap();
    for (path, name, ready) in pages {
        browser.goto(&format!("{base}{path}?lang=en")).await.unwrap();
        browser.wait().for_element(Locator::Css(ready)).await.unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(source(browser).await.contains("<html lang=\"en\">"), "{path} in English");
        assert_fits_a_phone(browser, name).await;
        // The first table, if any, is what a phone makes hard: photograph it.
        browser.execute("document.querySelector('.table-wrap')?.scrollIntoView()", vec![]).await.unwrap();
        camera.screen(browser, &format!("{name}-360px-en")).await;
    }
    browser.goto(&format!("{base}/?lang=ja")).await.unwrap();
    browser.set_window_size(1280, 1000).await.unwrap();
}

async fn log_in(browser: &Client, base: &str, camera: &mut Camera, who: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    let page = source(browser).await;
    assert!(page.contains("<html lang=\"ja\">"), "Chromium asked for Japanese: {page}");
    assert!(page.contains("ログイン"), "the login page speaks Japanese");
    if camera.shots == 0 {
        camera.screen(browser, "login").await;
    }
    fill(browser, "#email", &format!("{who}@example.org")).await;
    fill(browser, "#password", PASSWORD).await;
    click(browser, "main form button[type=submit]").await;
    wait_path(browser, "/").await;
    camera.screen(browser, &format!("dashboard-{who}")).await;
}

async fn log_out(browser: &Client) {
    click(browser, "form[action='/logout'] button").await;
    wait_path(browser, "/login").await;
}

async fn step(browser: &Client, base: &str, camera: &mut Camera, intro: &str, step: &str, name: &str) {
    browser.goto(&format!("{base}{intro}")).await.unwrap();
    camera.screen(browser, &format!("{name}-before")).await;
    click(browser, &format!("button[data-step='{step}']")).await;
    wait_path(browser, intro).await;
    browser.wait().for_element(Locator::Id("intro-status")).await.unwrap();
    camera.screen(browser, name).await;
}

#[allow(clippy::too_many_lines, reason = "the whole story in one walk, step after step, as a member takes it")]
async fn walk(world: &World, browser: &Client, camera: &mut Camera, seed: Uuid, secret: &str) {
    let base = &world.app.base;

    // The company, in Japanese: search, the seed, the request.
    log_in(browser, base, camera, "company_c").await;
    click(browser, "a[href='/search']").await;
    wait_path(browser, "/search").await;
    fill(browser, "#q", QUERY).await;
    click(browser, "search form button[type=submit]").await;
    // The empty search lists every seed already: wait for the answer to the query (htmx swaps
    // the results in), whose snippets mark the words.
    browser.wait().for_element(Locator::Css("#results mark")).await.expect("marked words in the results");
    let hit = format!("#results a[href='/seeds/{seed}']");
    browser.wait().for_element(Locator::Css(&hit)).await.expect("the seed among the hits");
    let page = source(browser).await;
    assert!(!page.contains(secret), "no confidential text in the results");
    camera.screen(browser, "search").await;
    click(browser, &hit).await;
    wait_path(browser, &format!("/seeds/{seed}")).await;
    let page = source(browser).await;
    assert!(!page.contains(secret), "the company reads no confidential text before a CDA");
    camera.screen(browser, "seed-before-cda").await;
    fill(
        browser,
        "#message",
        "弊社の核酸医薬プラットフォームとの共同研究を検討しております。ご紹介をお願いいたします。",
    )
    .await;
    click(browser, "form[action$='/introductions'] button[type=submit]").await;
    browser.wait().for_element(Locator::Id("intro-status")).await.expect("the introduction's page");
    let intro = browser.current_url().await.unwrap().path().to_owned();
    assert!(intro.starts_with("/introductions/"), "{intro}");
    camera.screen(browser, "introduction-requested").await;
    browser.goto(&format!("{base}/needs/new")).await.unwrap();
    browser.wait().for_element(Locator::Id("anonymous")).await.expect("the anonymity switch");
    camera.screen(browser, "new-need").await;
    log_out(browser).await;

    // The liaison forwards it.
    log_in(browser, base, camera, "liaison").await;
    assert!(source(browser).await.contains(&intro), "the request waits in the liaison's queue");
    step(browser, base, camera, &intro, "forward", "forwarded").await;
    log_out(browser).await;

    // The researcher accepts, after a look at the editors of the seed.
    log_in(browser, base, camera, "researcher_a").await;
    for (path, name) in [
        (format!("/seeds/{seed}/edit"), "seed-editor"),
        (format!("/seeds/{seed}/confidential"), "confidential-editor"),
        (format!("/seeds/{seed}/access"), "access-grants"),
        ("/seeds/new".to_owned(), "new-seed"),
    ] {
        browser.goto(&format!("{base}{path}")).await.unwrap();
        browser.wait().for_element(Locator::Css("main form[method=post]")).await.unwrap();
        camera.screen(browser, name).await;
    }
    click(browser, "form[action='/seeds/new'] button[type=submit]").await;
    browser.wait().for_element(Locator::Id("title-error")).await.expect("the error beside the title");
    camera.screen(browser, "new-seed-errors").await;
    step(browser, base, camera, &intro, "accept", "accepted").await;
    log_out(browser).await;

    // The liaison marks the CDA signed.
    log_in(browser, base, camera, "liaison").await;
    step(browser, base, camera, &intro, "cda:signed", "cda-signed").await;
    log_out(browser).await;

    // The TTO imports a file with one bad row and reads the report.
    log_in(browser, base, camera, "tto_a").await;
    click(browser, "nav a[href='/seeds']").await;
    wait_path(browser, "/seeds").await;
    click(browser, "a[href='/seeds/import']").await;
    wait_path(browser, "/seeds/import").await;
    camera.screen(browser, "import").await;
    let file = camera.dir.join("seeds.csv");
    std::fs::write(
        &file,
        "title,summary,stage,ip_status,external_ref\n\
         mRNAワクチンの熱安定化製剤,室温で半年保存できる脂質ナノ粒子製剤,preclinical,filed,TLO-9001\n\
         壊れた行,概要,phase9,filed,TLO-9002\n",
    )
    .unwrap();
    let file = std::fs::canonicalize(&file).unwrap();
    let input = browser.wait().for_element(Locator::Id("file")).await.expect("the file field");
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    click(browser, "form[action='/seeds/import'] button[type=submit]").await;
    browser.wait().for_element(Locator::Id("report-heading")).await.expect("the import report");
    assert!(source(browser).await.contains("<code>stage</code>"), "the bad row's field");
    camera.screen(browser, "import-report").await;
    // The report on a phone: the same file again, now updating the good row.
    browser.set_window_size(360, 800).await.unwrap();
    browser.goto(&format!("{base}/seeds/import?lang=en")).await.unwrap();
    let input = browser.wait().for_element(Locator::Id("file")).await.expect("the file field");
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    click(browser, "form[action='/seeds/import'] button[type=submit]").await;
    browser.wait().for_element(Locator::Id("report-heading")).await.expect("the import report");
    assert_fits_a_phone(browser, "import-report").await;
    browser.execute("document.getElementById('report-heading').scrollIntoView()", vec![]).await.unwrap();
    camera.screen(browser, "import-report-360px-en").await;
    on_a_phone_in_english(browser, base, camera, &[("/seeds/import", "import", "#file")]).await;
    log_out(browser).await;

    // The secretariat's screens.
    log_in(browser, base, camera, "admin").await;
    for (path, name) in [
        ("/admin", "admin"),
        ("/admin/organizations", "admin-organizations"),
        ("/admin/invitations", "admin-invitations"),
        ("/admin/coverage", "admin-coverage"),
        ("/admin/audit", "admin-audit"),
        ("/admin/funnel", "admin-funnel"),
    ] {
        browser.goto(&format!("{base}{path}")).await.unwrap();
        browser.wait().for_element(Locator::Css("nav.tabs")).await.unwrap();
        assert!(!source(browser).await.contains(secret), "{path} shows no confidential text");
        camera.screen(browser, name).await;
    }
    let tabs = "nav.tabs";
    on_a_phone_in_english(
        browser,
        base,
        camera,
        &[
            ("/admin", "admin", tabs),
            ("/admin/organizations", "admin-organizations", tabs),
            ("/admin/invitations", "admin-invitations", tabs),
            ("/admin/coverage", "admin-coverage", tabs),
            ("/admin/audit", "admin-audit", tabs),
            ("/admin/funnel", "admin-funnel", tabs),
        ],
    )
    .await;
    browser.goto(&format!("{base}/admin/invitations")).await.unwrap();
    click(browser, "form[action='/admin/invitations'] button[type=submit]").await;
    browser.wait().for_element(Locator::Id("email-error")).await.expect("the error beside the e-mail");
    camera.screen(browser, "admin-invitations-errors").await;
    log_out(browser).await;

    // The company now reads the confidential section, with the banner saying why.
    log_in(browser, base, camera, "company_c").await;
    browser.goto(&format!("{base}/seeds/{seed}")).await.unwrap();
    let banner = browser.wait().for_element(Locator::Css(".confidential .banner")).await.expect("the banner");
    assert!(!banner.text().await.unwrap().is_empty());
    assert!(source(browser).await.contains(secret), "the signed CDA opens the confidential section");
    camera.screen(browser, "seed-after-cda").await;

    // The same page on a phone.
    browser.set_window_size(360, 800).await.unwrap();
    browser.refresh().await.unwrap();
    browser.wait().for_element(Locator::Css(".confidential")).await.unwrap();
    assert_fits_a_phone(browser, "the seed's page").await;
    camera.screen(browser, "seed-after-cda-360px").await;
}

#[actix_web::test]
async fn the_story_in_chromium_from_search_to_the_confidential_section() {
    let tools = match find_tools() {
        Ok(tools) => tools,
        Err(missing) => {
            assert!(
                std::env::var("KAKEHASHI_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "KAKEHASHI_REQUIRE_BROWSER=1 but {missing}"
            );
            eprintln!("SKIPPED browser::the_story_in_chromium…: {missing}. The browser walk did not run.");
            return;
        }
    };
    let world = World::new().await;
    let secret = marker();
    let seed = japanese_seed(&world, &secret).await;
    world
        .app
        .until("the seed in the company's search", async || {
            let q: String = form_urlencoded::byte_serialize(QUERY.as_bytes()).collect();
            let res = world.call(&world.company_c, Method::GET, &format!("/api/v1/search?q={q}"), None).await;
            res.body["items"].as_array()?.iter().any(|h| h["id"] == seed.to_string()).then_some(())
        })
        .await;

    let driver = start_driver(&tools).await;
    let browser = open_browser(&tools, &driver).await;
    let mut camera = Camera::new();
    let outcome = AssertUnwindSafe(walk(&world, &browser, &mut camera, seed, &secret)).catch_unwind().await;
    if outcome.is_err() {
        // The screen the walk failed on, kept with the others.
        if let Ok(png) = browser.screenshot().await {
            std::fs::write(camera.dir.join("failure.png"), png).ok();
        }
        eprintln!("browser walk failed; screenshots in {}", camera.dir.display());
    }
    browser.close().await.ok();
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    eprintln!("browser walk: {} screens in {}", camera.shots, camera.dir.display());
}
