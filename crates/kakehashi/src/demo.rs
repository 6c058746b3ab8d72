//! `serve --demo`: a small, complete cast of organisations and members, one per role, so a
//! newcomer can log in and try every part of the service at once. Passwords are new on every
//! start and printed once.

use base64::Engine as _;
use kakehashi_domain::{OrganizationKind, Role};
use kakehashi_service::Services;
use rand::RngCore;
use std::fmt::Write as _;

/// A member created for the demo, with the password to log in with.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: Role,
    pub email: String,
    pub organization: String,
    pub password: String,
}

const ORGANIZATIONS: &[(&str, &str, OrganizationKind)] = &[
    ("架け橋事務局", "Kakehashi Secretariat", OrganizationKind::Funder),
    ("東都医科大学", "Toto Medical University", OrganizationKind::Academia),
    ("浪速理工大学", "Naniwa Institute of Technology", OrganizationKind::Academia),
    ("日本創薬株式会社", "Nihon Drug Discovery K.K.", OrganizationKind::Company),
    ("Global Biologics Japan", "Global Biologics Japan", OrganizationKind::Company),
];

const MEMBERS: &[(&str, &str, Role, usize)] = &[
    ("admin@demo.kakehashi.invalid", "事務局 管理者", Role::Admin, 0),
    ("liaison@demo.kakehashi.invalid", "知財 リエゾン", Role::Liaison, 0),
    ("tto@toto-med.demo.kakehashi.invalid", "産学連携 担当", Role::Tto, 1),
    ("researcher@toto-med.demo.kakehashi.invalid", "研究 太郎", Role::Researcher, 1),
    ("researcher@naniwa.demo.kakehashi.invalid", "Hanako Naniwa", Role::Researcher, 2),
    ("bd@nihon-drug.demo.kakehashi.invalid", "事業開発 花子", Role::Company, 3),
    ("bd@global-bio.demo.kakehashi.invalid", "Alex Licensing", Role::Company, 4),
];

fn password() -> String {
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("demo-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates the demo organisations and members (or resets their passwords when they exist).
///
/// # Errors
/// When the database refuses a write.
pub async fn load(services: &Services) -> anyhow::Result<Vec<DemoLogin>> {
    let mut organizations = Vec::with_capacity(ORGANIZATIONS.len());
    for (name, name_en, kind) in ORGANIZATIONS {
        organizations.push(services.ensure_organization(name, name_en, *kind).await?);
    }
    let mut logins = Vec::with_capacity(MEMBERS.len());
    for (email, name, role, org) in MEMBERS {
        let organization = &organizations[*org];
        let password = password();
        services.ensure_member(email, name, *role, organization.id, password.clone()).await?;
        logins.push(DemoLogin {
            role: *role,
            email: (*email).to_owned(),
            organization: organization.name_en.clone(),
            password,
        });
    }
    Ok(logins)
}

/// The credentials as a table for the terminal.
#[must_use]
pub fn table(logins: &[DemoLogin], base_url: &str) -> String {
    let mut out = format!(
        "\nDemo members (passwords are new on every start):\n\n{:<11} {:<45} {:<32} password\n",
        "role", "e-mail", "organization"
    );
    for l in logins {
        let _ = writeln!(out, "{:<11} {:<45} {:<32} {}", l.role.as_str(), l.email, l.organization, l.password);
    }
    let _ = write!(
        out,
        "\nTry:  curl -s {base_url}/api/v1/auth/login -H 'content-type: application/json' \\\n        -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'\nDocs: {base_url}/api/docs/\n",
        logins.first().map_or("", |l| l.email.as_str()),
        logins.first().map_or("", |l| l.password.as_str()),
    );
    out
}

/// A story to walk through on a fresh demo: a seed of Toto Medical University's researcher, an
/// anonymous need of Nihon Drug Discovery, and the company's request for an introduction, which the
/// liaison has forwarded. The researcher can accept it; then the liaison records the CDA.
/// Returns the introduction's id.
///
/// # Errors
/// When a demo member is missing or a step is refused.
pub async fn story(services: &Services) -> anyhow::Result<uuid::Uuid> {
    use kakehashi_domain::{ConfidentialSection, Locale, NeedInput, RecordStatus, SeedInput, Visibility};
    use kakehashi_service::RequestContext;
    use kakehashi_service::introductions::{IntroductionRequest, StepRequest};

    let as_member = async |email: &str| -> anyhow::Result<kakehashi_service::auth::Authenticated> {
        let member = kakehashi_store::members::by_email(&services.db, email)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo member {email} is missing"))?;
        Ok(kakehashi_service::auth::Authenticated {
            id: member.id,
            organization_id: member.organization_id,
            role: member.role,
            email: member.email,
            name: member.name,
            locale: member.locale,
        })
    };
    let ctx = RequestContext::default();
    let researcher = as_member(MEMBERS[3].0).await?;
    let company = as_member(MEMBERS[5].0).await?;
    let liaison = as_member(MEMBERS[1].0).await?;

    let seed = SeedInput {
        title: "デュシェンヌ型筋ジストロフィーに対するエクソン53スキッピング核酸".into(),
        summary: "ジストロフィン遺伝子のエクソン53を標的とするモルフォリノ核酸を設計し、患者由来筋細胞と\
                  モデルマウスでジストロフィン発現の回復を確認した。"
            .into(),
        confidential: ConfidentialSection {
            details: "配列、投与量、モデルマウスでの定量データ（CDA締結後に開示）".into(),
            ..ConfidentialSection::default()
        },
        modalities: vec!["nucleic_acid".into()],
        disease_areas: vec!["rare_intractable".into()],
        stage: "preclinical".into(),
        ip_status: "filed".into(),
        deal_types: vec!["license".into(), "joint_research".into()],
        keywords: vec!["エクソンスキッピング".into(), "DMD".into()],
        visibility: Visibility::Members,
        language: Some(Locale::Ja),
        external_ref: None,
    }
    .into_content();
    let seed = services.create_seed(&researcher, seed, &ctx).await?;
    services.set_seed_status(&researcher, seed.id, RecordStatus::Published, None, &ctx).await?;

    let need = NeedInput {
        title: "Exon-skipping oligonucleotides for Duchenne muscular dystrophy".into(),
        description: "We in-license antisense and other nucleic-acid therapies for rare neuromuscular diseases, \
                      from preclinical proof of concept."
            .into(),
        modalities: vec!["nucleic_acid".into()],
        disease_areas: vec!["rare_intractable".into()],
        stages: vec!["preclinical".into(), "ind_enabling".into(), "phase_1".into()],
        deal_types: vec!["license".into()],
        keywords: vec!["DMD".into(), "antisense".into()],
        anonymous: true,
        visibility: Visibility::Members,
        language: Some(Locale::En),
        external_ref: None,
    }
    .into_content();
    let need = services.create_need(&company, need, &ctx).await?;
    services.set_need_status(&company, need.id, RecordStatus::Published, None, &ctx).await?;

    let request = IntroductionRequest {
        seed_id: seed.id,
        need_id: Some(need.id),
        message: "We would like to discuss a licence and would welcome the in vivo data under a CDA.".into(),
        anonymous: None,
    };
    let introduction = services.request_introduction(&company, request, &ctx).await?;
    let comment = Some("Strong fit with their DMD programme; please consider.".to_owned());
    services.take_step(&liaison, introduction.id, StepRequest::Forward { comment }, &ctx).await?;
    Ok(introduction.id)
}
