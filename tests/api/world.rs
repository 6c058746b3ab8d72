//! A cast for record tests: two universities, two companies, the secretariat.

use actix_web::http::Method;
use kakehashi_domain::{OrganizationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Response, TestApp};

pub struct Member {
    pub name: &'static str,
    pub organization_id: Uuid,
    pub token: String,
}

pub struct World {
    pub app: TestApp,
    pub uni_a: Uuid,
    pub uni_b: Uuid,
    pub pharma_c: Uuid,
    pub pharma_d: Uuid,
    /// Owner of the seeds in most tests.
    pub researcher_a: Member,
    /// A colleague of `researcher_a` in the same university.
    pub colleague_a: Member,
    pub tto_a: Member,
    pub researcher_b: Member,
    pub tto_b: Member,
    pub company_c: Member,
    pub colleague_c: Member,
    pub company_d: Member,
    pub liaison: Member,
    pub admin: Member,
}

impl World {
    pub async fn new() -> World {
        World::with(|_| {}).await
    }

    pub async fn with(customize: impl FnOnce(&mut kakehashi::Settings)) -> World {
        let app = crate::helpers::spawn_app_with(customize).await;
        let uni_a = app.organization("東都医科大学", OrganizationKind::Academia).await;
        let uni_b = app.organization("浪速理工大学", OrganizationKind::Academia).await;
        let pharma_c = app.organization("日本創薬", OrganizationKind::Company).await;
        let pharma_d = app.organization("Global Biologics", OrganizationKind::Company).await;
        let funder = app.organization("事務局", OrganizationKind::Funder).await;
        let mut members = Vec::new();
        for (name, role, org) in [
            ("researcher_a", Role::Researcher, uni_a),
            ("colleague_a", Role::Researcher, uni_a),
            ("tto_a", Role::Tto, uni_a),
            ("researcher_b", Role::Researcher, uni_b),
            ("tto_b", Role::Tto, uni_b),
            ("company_c", Role::Company, pharma_c),
            ("colleague_c", Role::Company, pharma_c),
            ("company_d", Role::Company, pharma_d),
            ("liaison", Role::Liaison, funder),
            ("admin", Role::Admin, funder),
        ] {
            let email = format!("{name}@example.org");
            app.member(&email, role, org).await;
            members.push(Member { name, organization_id: org, token: app.token(&email).await });
        }
        let mut m = members.into_iter();
        let mut next = || m.next().unwrap();
        World {
            researcher_a: next(),
            colleague_a: next(),
            tto_a: next(),
            researcher_b: next(),
            tto_b: next(),
            company_c: next(),
            colleague_c: next(),
            company_d: next(),
            liaison: next(),
            admin: next(),
            app,
            uni_a,
            uni_b,
            pharma_c,
            pharma_d,
        }
    }

    /// The same world on a restarted server (same data directory and database); tokens stay valid.
    pub async fn restart_with(mut self, customize: impl FnOnce(&mut kakehashi::Settings)) -> World {
        self.app = self.app.restart_with(customize).await;
        self
    }

    pub fn everyone(&self) -> [&Member; 10] {
        [
            &self.researcher_a,
            &self.colleague_a,
            &self.tto_a,
            &self.researcher_b,
            &self.tto_b,
            &self.company_c,
            &self.colleague_c,
            &self.company_d,
            &self.liaison,
            &self.admin,
        ]
    }

    pub async fn call(&self, who: &Member, method: Method, path: &str, body: Option<Value>) -> Response {
        self.app.request(method, path, Some(&who.token), body).await
    }

    /// A seed by `researcher_a`, with `marker` in its confidential section, published unless
    /// `publish` is false.
    pub async fn seed(&self, marker: &str, visibility: &str, publish: bool) -> Uuid {
        let body = seed_body(marker, visibility);
        let res = self.call(&self.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id: Uuid = res.body["id"].as_str().unwrap().parse().unwrap();
        if publish {
            let res = self.call(&self.researcher_a, Method::POST, &format!("/api/v1/seeds/{id}/publish"), None).await;
            assert_eq!(res.status, 200, "{}", res.text);
        }
        id
    }

    /// A need by `company_c`.
    pub async fn need(&self, anonymous: bool, visibility: &str, publish: bool) -> Uuid {
        let body = json!({
            "title": "Looking for exon-skipping antisense for muscular dystrophy",
            "description": "Licensing or joint research on nucleic acid therapeutics for rare disease.",
            "modalities": ["nucleic_acid"], "disease_areas": ["rare_intractable"],
            "stages": ["preclinical", "phase_1"], "deal_types": ["license"],
            "anonymous": anonymous, "visibility": visibility,
        });
        let res = self.call(&self.company_c, Method::POST, "/api/v1/needs", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id: Uuid = res.body["id"].as_str().unwrap().parse().unwrap();
        if publish {
            let res = self.call(&self.company_c, Method::POST, &format!("/api/v1/needs/{id}/publish"), None).await;
            assert_eq!(res.status, 200, "{}", res.text);
        }
        id
    }
}

pub fn seed_body(marker: &str, visibility: &str) -> Value {
    json!({
        "title": "筋ジストロフィーに対するエクソンスキッピング核酸",
        "summary": "Antisense oligonucleotides that restore dystrophin expression in DMD models.",
        "confidential": { "details": format!("Sequence and in vivo data {marker}"), "patent_applications": [format!("PCT/JP2026/{marker}")] },
        "modalities": ["nucleic_acid"],
        "disease_areas": ["rare_intractable"],
        "stage": "preclinical",
        "ip_status": "pre_filing",
        "deal_types": ["license", "joint_research"],
        "keywords": ["DMD", "exon skipping"],
        "visibility": visibility,
    })
}

pub fn marker() -> String {
    format!("MARKER{}", Uuid::new_v4().simple())
}
