//! Introductions through HTTP: the whole flow from a company's request to a deal, walked by real
//! members; every illegal step; who may see what; the grant that opens on a signed CDA; the
//! secretariat's funnel counting exactly what happened.

use actix_web::http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Response, assert_problem};
use crate::world::{Member, World, marker};

async fn request(world: &World, who: &Member, seed: Uuid, need: Option<Uuid>) -> Response {
    let mut body = json!({ "seed_id": seed, "message": "We would like to discuss a licence for DMD." });
    if let Some(need) = need {
        body["need_id"] = json!(need);
    }
    world.call(who, Method::POST, "/api/v1/introductions", Some(body)).await
}

async fn step(world: &World, who: &Member, id: &str, step: &str, body: Option<Value>) -> Response {
    world.call(who, Method::POST, &format!("/api/v1/introductions/{id}/{step}"), body).await
}

async fn show(world: &World, who: &Member, id: &str) -> Response {
    world.call(who, Method::GET, &format!("/api/v1/introductions/{id}"), None).await
}

fn steps(body: &Value) -> Vec<String> {
    body["next_steps"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

fn allowed(res: &Response) -> Vec<String> {
    res.body["allowed_steps"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

fn ok(res: Response) -> Value {
    assert_eq!(res.status, 200, "{}", res.text);
    res.body
}

/// The seed's confidential marker as `who` reads the seed.
async fn confidential(world: &World, who: &Member, seed: Uuid) -> Option<String> {
    let res = world.call(who, Method::GET, &format!("/api/v1/seeds/{seed}"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body.get("confidential").map(|c| c["details"].as_str().unwrap().to_owned())
}

#[actix_web::test]
async fn a_request_goes_from_the_company_through_the_liaison_to_a_signed_cda_and_a_deal() {
    let world = World::new().await;
    let m = marker();
    let seed = world.seed(&m, "members", true).await;
    let need = world.need(true, "members", true).await;

    let owners_match = async || {
        world
            .app
            .until("the owner's match", async || {
                let res = world.call(&world.researcher_a, Method::GET, "/api/v1/matches", None).await;
                (res.body["total"] == 1).then(|| res.body["items"][0]["need"]["organization"].clone())
            })
            .await
    };
    assert_eq!(owners_match().await, Value::Null, "the matched need's company is anonymous");

    let res = request(&world, &world.company_c, seed, Some(need)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_owned();
    assert_eq!(res.body["status"], "requested");
    assert_eq!(res.body["party"], "requester");
    assert_eq!(res.body["anonymous"], true, "an anonymous need's request is anonymous");
    assert_eq!(steps(&res.body), ["withdraw"]);

    // Before a liaison forwards it, the seed's side does not know it exists.
    for who in [&world.researcher_a, &world.tto_a] {
        assert_problem(&show(&world, who, &id).await, 404, "not_found");
        let list = world.call(who, Method::GET, "/api/v1/introductions", None).await;
        assert_eq!(list.body["total"], 0, "{}", list.text);
    }
    let liaison = ok(show(&world, &world.liaison, &id).await);
    assert_eq!(steps(&liaison), ["forward", "decline"]);
    assert_eq!(liaison["requester_organization"]["id"], world.pharma_c.to_string());

    // The company cannot forward its own request; the owner cannot see it yet.
    assert_problem(&step(&world, &world.company_c, &id, "forward", None).await, 403, "forbidden");
    assert_problem(&step(&world, &world.researcher_a, &id, "accept", None).await, 404, "not_found");

    let forwarded =
        ok(step(&world, &world.liaison, &id, "forward", Some(json!({ "comment": "A good fit, please consider." })))
            .await);
    assert_eq!(forwarded["status"], "forwarded");

    // The owner now sees it, without the anonymous company's name.
    let owner = ok(show(&world, &world.researcher_a, &id).await);
    assert_eq!(owner["party"], "seed_owner");
    assert_eq!(owner["requester"], Value::Null);
    assert_eq!(owner["requester_organization"], Value::Null);
    assert_eq!(steps(&owner), ["accept", "decline"]);
    assert!(!owner.to_string().contains("日本創薬") && !owner.to_string().contains(&world.pharma_c.to_string()));
    let tto = ok(show(&world, &world.tto_a, &id).await);
    assert_eq!(tto["party"], "seed_owner");

    // Nobody else takes part.
    for who in [&world.colleague_a, &world.researcher_b, &world.tto_b, &world.company_d] {
        assert_problem(&show(&world, who, &id).await, 404, "not_found");
        assert_problem(&step(&world, who, &id, "accept", None).await, 404, "not_found");
        let messages = world.call(who, Method::GET, &format!("/api/v1/introductions/{id}/messages"), None).await;
        assert_problem(&messages, 404, "not_found");
    }
    // A company cannot act as the owner, nor the liaison decline for the owner once forwarded.
    assert_problem(&step(&world, &world.company_c, &id, "accept", None).await, 403, "forbidden");
    assert_problem(&step(&world, &world.colleague_c, &id, "accept", None).await, 403, "forbidden");
    let res = step(&world, &world.liaison, &id, "decline", Some(json!({ "reason_code": "other" }))).await;
    assert_problem(&res, 403, "forbidden");
    assert!(res.body["detail"].as_str().unwrap().contains("seed owner"), "{}", res.text);

    // The thread: the company's name stays hidden from the owner's side until it accepts.
    let thread = format!("/api/v1/introductions/{id}/messages");
    let res = world.call(&world.company_c, Method::POST, &thread, Some(json!({ "body": "Any in vivo data?" }))).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let res =
        world.call(&world.researcher_a, Method::POST, &thread, Some(json!({ "body": "Yes, in mdx mice." }))).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let seen_by_owner = ok(world.call(&world.researcher_a, Method::GET, &thread, None).await);
    let items = seen_by_owner["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "the liaison's comment, the company's and the owner's messages");
    assert_eq!(items[0]["party"], "liaison");
    assert_eq!(items[1]["party"], "requester");
    assert_eq!(items[1]["author"], Value::Null, "the anonymous company's author is hidden");
    assert!(!seen_by_owner.to_string().contains("company_c"));
    let seen_by_company = ok(world.call(&world.company_c, Method::GET, &thread, None).await);
    assert_eq!(seen_by_company["items"][2]["author"]["name"], "researcher_a@example.org");

    let accepted = ok(step(&world, &world.researcher_a, &id, "accept", None).await);
    assert_eq!(accepted["status"], "accepted");
    let owner = ok(show(&world, &world.researcher_a, &id).await);
    assert_eq!(owner["requester_organization"]["id"], world.pharma_c.to_string(), "named once accepted");
    let seen_by_owner = ok(world.call(&world.researcher_a, Method::GET, &thread, None).await);
    assert_eq!(seen_by_owner["items"][1]["author"]["name"], "company_c@example.org");
    assert_eq!(owners_match().await["id"], world.pharma_c.to_string(), "and in the owner's matches too");

    // Outcome before a signed CDA is illegal and names what is possible.
    let res = step(&world, &world.liaison, &id, "outcome", Some(json!({ "outcome": "license" }))).await;
    assert_problem(&res, 409, "conflict");
    assert_eq!(allowed(&res), ["cda:sent", "cda:negotiating", "cda:signed", "cda:not_concluded"]);
    // The company does not record the CDA.
    let res = step(&world, &world.company_c, &id, "cda", Some(json!({ "status": "signed" }))).await;
    assert_problem(&res, 403, "forbidden");
    // Accepting twice is illegal.
    assert_problem(&step(&world, &world.researcher_a, &id, "accept", None).await, 409, "conflict");

    ok(step(&world, &world.liaison, &id, "cda", Some(json!({ "status": "sent" }))).await);
    let res = step(&world, &world.liaison, &id, "cda", Some(json!({ "status": "sent" }))).await;
    assert_problem(&res, 409, "conflict");
    assert_eq!(allowed(&res), ["cda:negotiating", "cda:signed", "cda:not_concluded"]);
    ok(step(&world, &world.researcher_a, &id, "cda", Some(json!({ "status": "negotiating" }))).await);
    assert_eq!(confidential(&world, &world.company_c, seed).await, None, "not before signing");

    let signed = ok(step(&world, &world.liaison, &id, "cda", Some(json!({ "status": "signed" }))).await);
    assert_eq!(signed["cda_status"], "signed");
    assert!(signed["cda_signed_at"].is_string());
    for who in [&world.company_c, &world.colleague_c] {
        let details = confidential(&world, who, seed).await.expect("the confidential tier opens on signing");
        assert!(details.contains(&m));
    }
    assert_eq!(confidential(&world, &world.company_d, seed).await, None, "only the requesting organisation");
    let audit = ok(world.call(&world.admin, Method::GET, "/api/v1/admin/audit?action=seed.access_granted", None).await);
    assert_eq!(audit["total"], 1, "{audit}");
    assert_eq!(audit["items"][0]["details"]["introduction_id"], id.as_str());

    let done = ok(step(&world, &world.researcher_a, &id, "outcome", Some(json!({ "outcome": "license" }))).await);
    assert_eq!(done["outcome"], "license");
    assert_eq!(done["closed"], true);
    assert_eq!(steps(&done), Vec::<String>::new());
    let history: Vec<&str> = done["history"].as_array().unwrap().iter().map(|h| h["step"].as_str().unwrap()).collect();
    assert_eq!(
        history,
        ["request", "forward", "accept", "cda:sent", "cda:negotiating", "cda:signed", "outcome:license"]
    );
    // Nothing follows a closed introduction.
    let res = step(&world, &world.liaison, &id, "cda", Some(json!({ "status": "not_concluded" }))).await;
    assert_problem(&res, 409, "conflict");
    assert_eq!(allowed(&res), Vec::<String>::new());
    // … and the company may ask again.
    assert_eq!(request(&world, &world.company_c, seed, None).await.status, 201);

    let steps_audited =
        ok(world.call(&world.admin, Method::GET, "/api/v1/admin/audit?action=introduction.step", None).await);
    assert_eq!(steps_audited["total"], 6);
}

#[actix_web::test]
async fn declines_carry_their_reason_and_a_failed_cda_after_signing_closes_the_tier_again() {
    let world = World::new().await;
    let m = marker();
    let seed = world.seed(&m, "members", true).await;

    // The reasons are listed with the taxonomies, for forms.
    let taxonomy = ok(world.call(&world.researcher_a, Method::GET, "/api/v1/taxonomy", None).await);
    let reasons: Vec<&str> =
        taxonomy["decline_reasons"].as_array().unwrap().iter().map(|r| r["value"].as_str().unwrap()).collect();
    assert!(reasons.contains(&"needs_more_data") && reasons.contains(&"already_licensed"), "{reasons:?}");
    assert!(taxonomy["modalities"].is_array(), "the taxonomies themselves are still there");

    // The liaison screens one out, with a reason the company reads.
    let id = request(&world, &world.company_c, seed, None).await.body["id"].as_str().unwrap().to_owned();
    assert_eq!(request(&world, &world.colleague_c, seed, None).await.status, 409, "one open request per organisation");
    let res = step(&world, &world.liaison, &id, "decline", Some(json!({ "reason_code": "maybe_later" }))).await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "reason_code");
    let declined = ok(step(
        &world,
        &world.liaison,
        &id,
        "decline",
        Some(json!({ "reason_code": "needs_more_data", "comment": "Ask again after the PoC study." })),
    )
    .await);
    assert_eq!(declined["status"], "declined");
    let company = ok(show(&world, &world.company_c, &id).await);
    assert_eq!(company["decline"]["reason_code"], "needs_more_data");
    assert_eq!(company["decline"]["label_en"], "Not yet: needs more data");
    assert_eq!(company["decline"]["comment"], "Ask again after the PoC study.");
    assert_eq!(company["decline"]["by"], "liaison");
    assert_problem(&show(&world, &world.researcher_a, &id).await, 404, "not_found");

    // The owner declines another, and the company reads why.
    let id = request(&world, &world.company_c, seed, None).await.body["id"].as_str().unwrap().to_owned();
    ok(step(&world, &world.liaison, &id, "forward", None).await);
    let owner = ok(show(&world, &world.researcher_a, &id).await);
    assert_eq!(owner["requester_organization"]["id"], world.pharma_c.to_string(), "not anonymous: named at once");
    ok(step(&world, &world.tto_a, &id, "decline", Some(json!({ "reason_code": "already_licensed" }))).await);
    let company = ok(show(&world, &world.company_c, &id).await);
    assert_eq!(company["decline"]["by"], "seed_owner");
    assert_eq!(company["closed"], true);
    assert_problem(&step(&world, &world.company_c, &id, "withdraw", None).await, 409, "conflict");

    // A company withdraws before an answer.
    let id = request(&world, &world.company_d, seed, None).await.body["id"].as_str().unwrap().to_owned();
    assert_problem(&step(&world, &world.company_c, &id, "withdraw", None).await, 404, "not_found");
    let withdrawn = ok(step(&world, &world.company_d, &id, "withdraw", None).await);
    assert_eq!(withdrawn["status"], "withdrawn");

    // The owner had granted pharma_c access by hand; a CDA that fails after signing revokes only
    // the grant the CDA opened.
    let grant = world
        .call(
            &world.researcher_a,
            Method::POST,
            &format!("/api/v1/seeds/{seed}/grants"),
            Some(json!({ "organization_id": world.pharma_d })),
        )
        .await;
    assert_eq!(grant.status, 201, "{}", grant.text);
    let id = request(&world, &world.company_c, seed, None).await.body["id"].as_str().unwrap().to_owned();
    ok(step(&world, &world.liaison, &id, "forward", None).await);
    ok(step(&world, &world.researcher_a, &id, "accept", None).await);
    ok(step(&world, &world.researcher_a, &id, "cda", Some(json!({ "status": "signed" }))).await);
    assert!(confidential(&world, &world.company_c, seed).await.is_some());
    let failed = ok(step(&world, &world.liaison, &id, "cda", Some(json!({ "status": "not_concluded" }))).await);
    assert_eq!(failed["closed"], true);
    assert_eq!(confidential(&world, &world.company_c, seed).await, None, "revoked with the failed CDA");
    assert!(confidential(&world, &world.company_d, seed).await.is_some(), "the hand-made grant stays");
    let revoked =
        ok(world.call(&world.admin, Method::GET, "/api/v1/admin/audit?action=seed.access_revoked", None).await);
    assert_eq!(revoked["total"], 1);
}

#[actix_web::test]
async fn requests_are_refused_where_the_company_may_not_ask() {
    let world = World::new().await;
    let m = marker();
    let hidden = world.seed(&m, "liaison_only", true).await;
    let draft = world.seed(&m, "members", false).await;
    let seed = world.seed(&m, "members", true).await;
    let need = world.need(false, "members", true).await;

    for who in [&world.researcher_a, &world.tto_b, &world.liaison, &world.admin] {
        assert_problem(&request(&world, who, seed, None).await, 403, "forbidden");
    }
    // A seed the company cannot see answers like a missing one.
    for target in [hidden, draft, Uuid::now_v7()] {
        assert_problem(&request(&world, &world.company_c, target, None).await, 404, "not_found");
    }
    // Another company's need is not the caller's to name.
    let res = request(&world, &world.company_d, seed, Some(need)).await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "need_id");
    // Malformed and oversized input.
    let res = world
        .call(&world.company_c, Method::POST, "/api/v1/introductions", Some(json!({ "seed_id": seed, "message": "" })))
        .await;
    assert_problem(&res, 422, "validation_failed");
    let long = "あ".repeat(5001);
    let res = world
        .call(
            &world.company_c,
            Method::POST,
            "/api/v1/introductions",
            Some(json!({ "seed_id": seed, "message": long })),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    let res = world
        .call(
            &world.company_c,
            Method::POST,
            "/api/v1/introductions",
            Some(json!({ "seed_id": seed, "message": "hi", "status": "accepted" })),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    // Nothing was written by any of the refusals.
    let list = ok(world.call(&world.liaison, Method::GET, "/api/v1/introductions", None).await);
    assert_eq!(list["total"], 0);
    assert_eq!(ok(world.call(&world.company_c, Method::GET, "/api/v1/notifications", None).await)["total"], 0);
    let id = request(&world, &world.company_c, seed, None).await.body["id"].as_str().unwrap().to_owned();
    let res = step(&world, &world.liaison, &id, "cda", Some(json!({ "status": "done" }))).await;
    assert_problem(&res, 422, "validation_failed");
    let res = world
        .call(
            &world.liaison,
            Method::POST,
            &format!("/api/v1/introductions/{id}/messages"),
            Some(json!({ "body": " " })),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    assert_problem(&show(&world, &world.liaison, "not-a-uuid").await, 404, "not_found");
}

#[actix_web::test]
async fn each_step_tells_the_parties_who_must_act_without_naming_an_anonymous_company() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    let need = world.need(true, "members", true).await;
    let id = request(&world, &world.company_c, seed, Some(need)).await.body["id"].as_str().unwrap().to_owned();

    let liaison_mail = world
        .app
        .until("the liaison's e-mail", async || {
            world.app.mails_to("liaison@example.org").into_iter().find(|m| m.contains(&id))
        })
        .await;
    assert!(liaison_mail.contains("日本創薬"), "the liaison knows the company: {liaison_mail}");
    assert!(world.app.mails_to("researcher_a@example.org").is_empty(), "the owner hears nothing yet");

    ok(step(&world, &world.liaison, &id, "forward", None).await);
    let owner_mail = world
        .app
        .until("the owner's e-mail", async || {
            world.app.mails_to("researcher_a@example.org").into_iter().find(|m| m.contains(&id))
        })
        .await;
    assert!(!owner_mail.contains("日本創薬"), "the anonymous company stays unnamed: {owner_mail}");
    let notes = ok(world.call(&world.researcher_a, Method::GET, "/api/v1/notifications", None).await);
    assert_eq!(notes["total"], 1);
    assert!(!notes.to_string().contains("日本創薬"));
    assert!(world.app.mails_to("tto_a@example.org").is_empty(), "the owner answers, not the TTO");
    world
        .app
        .until("the company's e-mail", async || {
            world.app.mails_to("company_c@example.org").into_iter().find(|m| m.contains(&id))
        })
        .await;

    ok(step(&world, &world.researcher_a, &id, "accept", None).await);
    world
        .app
        .until("the acceptance e-mail", async || {
            world.app.mails_to("company_c@example.org").into_iter().filter(|m| m.contains(&id)).nth(1)
        })
        .await;
    // The actor is not told of their own step.
    let company = ok(world.call(&world.company_c, Method::GET, "/api/v1/notifications", None).await);
    assert_eq!(company["total"], 2, "forwarded and accepted: {company}");
    let owner = ok(world.call(&world.researcher_a, Method::GET, "/api/v1/notifications", None).await);
    assert_eq!(owner["total"], 1, "{owner}");
}

#[actix_web::test]
async fn the_funnel_counts_exactly_what_happened() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    world.need(false, "members", true).await;
    // The seed and the need fit each other: one match.
    world
        .app
        .until("the match", async || {
            let res = world.call(&world.admin, Method::GET, "/api/v1/matches", None).await;
            (res.body["total"] == 1).then_some(())
        })
        .await;
    // Three requests: one stops at the liaison, one is accepted, one reaches a licence.
    let screened = request(&world, &world.company_d, seed, None).await.body["id"].as_str().unwrap().to_owned();
    ok(step(&world, &world.liaison, &screened, "decline", Some(json!({ "reason_code": "not_a_fit" }))).await);
    let accepted = request(&world, &world.company_c, seed, None).await.body["id"].as_str().unwrap().to_owned();
    ok(step(&world, &world.liaison, &accepted, "forward", None).await);
    ok(step(&world, &world.researcher_a, &accepted, "accept", None).await);
    ok(step(&world, &world.researcher_a, &accepted, "cda", Some(json!({ "status": "signed" }))).await);
    ok(step(&world, &world.liaison, &accepted, "outcome", Some(json!({ "outcome": "license" }))).await);
    let again = request(&world, &world.company_d, seed, None).await.body["id"].as_str().unwrap().to_owned();
    ok(step(&world, &world.liaison, &again, "forward", None).await);
    ok(step(&world, &world.researcher_a, &again, "accept", None).await);

    let report = ok(world.call(&world.admin, Method::GET, "/api/v1/admin/reports/funnel", None).await);
    assert_eq!(
        report["totals"],
        json!({ "matches": 1, "introductions": 3, "forwarded": 2, "accepted": 2, "cda_signed": 1, "deals": 1 })
    );
    assert_eq!(report["rates"]["forwarded"], 0.6667);
    assert_eq!(report["rates"]["deals"], 1.0);
    assert_eq!(report["groups"], json!([]));

    let by_modality =
        ok(world.call(&world.admin, Method::GET, "/api/v1/admin/reports/funnel?group_by=modality", None).await);
    let groups = by_modality["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["key"], "nucleic_acid");
    assert_eq!(groups[0]["counts"], report["totals"]);

    let by_org =
        ok(world.call(&world.admin, Method::GET, "/api/v1/admin/reports/funnel?group_by=organization", None).await);
    let count = |org: Uuid, stage: &str| {
        by_org["groups"].as_array().unwrap().iter().find(|g| g["key"] == org.to_string()).unwrap()["counts"][stage]
            .clone()
    };
    assert_eq!(count(world.uni_a, "introductions"), 3);
    assert_eq!(count(world.pharma_d, "introductions"), 2);
    assert_eq!(count(world.pharma_d, "deals"), 0);
    assert_eq!(count(world.pharma_c, "deals"), 1);
    assert_eq!(count(world.pharma_c, "matches"), 1);

    // A period before any of it counts nothing.
    let past = ok(world
        .call(&world.admin, Method::GET, "/api/v1/admin/reports/funnel?from=2020-01-01&to=2020-12-31", None)
        .await);
    assert_eq!(past["totals"]["introductions"], 0);
    assert_eq!(past["from"], "2020-01-01T00:00:00Z");
    assert_eq!(past["to"], "2021-01-01T00:00:00Z");

    // CSV, the same figures.
    let res = world
        .app
        .client
        .get(format!("{}/api/v1/admin/reports/funnel?group_by=modality", world.app.base))
        .bearer_auth(&world.admin.token)
        .insert_header(("Accept", "text/csv"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let csv = String::from_utf8(res.to_vec()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("group,label_ja,label_en,matches,introductions,forwarded,accepted,cda_signed,deals"));
    assert!(lines[1].starts_with("total,合計,Total,1,3,2,2,1,1,"), "{csv}");
    assert!(lines[2].starts_with("nucleic_acid,"), "{csv}");
    assert_eq!(lines.len(), 3);

    for (query, field) in
        [("group_by=stage", "group_by"), ("from=yesterday", "from"), ("from=2026-02-01&to=2026-01-01", "from")]
    {
        let res = world.call(&world.admin, Method::GET, &format!("/api/v1/admin/reports/funnel?{query}"), None).await;
        assert_problem(&res, 422, "validation_failed");
        assert_eq!(res.body["errors"][0]["field"], field);
    }
    for who in [&world.liaison, &world.company_c, &world.researcher_a] {
        let res = world.call(who, Method::GET, "/api/v1/admin/reports/funnel", None).await;
        assert_problem(&res, 403, "forbidden");
    }
}

#[actix_web::test]
async fn introductions_list_only_what_each_member_takes_part_in() {
    let world = World::new().await;
    let seed_a = world.seed(&marker(), "members", true).await;
    let by_c = request(&world, &world.company_c, seed_a, None).await.body["id"].as_str().unwrap().to_owned();
    let by_d = request(&world, &world.company_d, seed_a, None).await.body["id"].as_str().unwrap().to_owned();
    ok(step(&world, &world.liaison, &by_c, "forward", None).await);

    let ids = async |who: &Member, query: &str| -> Vec<String> {
        let res = world.call(who, Method::GET, &format!("/api/v1/introductions{query}"), None).await;
        assert_eq!(res.status, 200, "{}", res.text);
        res.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&world.company_c, "").await, vec![by_c.clone()]);
    assert_eq!(ids(&world.colleague_c, "").await, vec![by_c.clone()], "colleagues share their organisation's requests");
    assert_eq!(ids(&world.company_d, "").await, vec![by_d.clone()]);
    assert_eq!(ids(&world.researcher_a, "").await, vec![by_c.clone()], "only forwarded ones");
    assert_eq!(ids(&world.tto_a, "").await, vec![by_c.clone()]);
    assert!(ids(&world.colleague_a, "").await.is_empty());
    assert!(ids(&world.tto_b, "").await.is_empty());
    assert_eq!(ids(&world.liaison, "").await.len(), 2);
    assert_eq!(ids(&world.liaison, "?status=requested").await, vec![by_d.clone()]);
    assert_eq!(ids(&world.admin, "?open=true").await.len(), 2);
    let res = world.call(&world.liaison, Method::GET, "/api/v1/introductions?status=nope", None).await;
    assert_problem(&res, 422, "validation_failed");

    // A liaison covering only other organisations sees none of them.
    let uni_b = world.uni_b;
    let res = world
        .call(
            &world.admin,
            Method::PUT,
            &format!("/api/v1/admin/liaisons/{}/coverage", liaison_id(&world).await),
            Some(json!({ "organization_ids": [uni_b] })),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(ids(&world.liaison, "").await.is_empty());
    assert_problem(&show(&world, &world.liaison, &by_c).await, 404, "not_found");
}

async fn liaison_id(world: &World) -> String {
    let me = world.call(&world.liaison, Method::GET, "/api/v1/me", None).await;
    me.body["id"].as_str().unwrap().to_owned()
}
