//! `serve --demo`: a small, complete cast of organisations and members, one per role, so a
//! newcomer can log in and try every part of the service at once. Passwords are new on every
//! start and printed once.

use base64::Engine as _;
use kakehashi_domain::{OrganizationKind, Role};
use kakehashi_service::Services;
use rand::RngCore;

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
        out.push_str(&format!("{:<11} {:<45} {:<32} {}\n", l.role.as_str(), l.email, l.organization, l.password));
    }
    out.push_str(&format!(
        "\nTry:  curl -s {base_url}/api/v1/auth/login -H 'content-type: application/json' \\\n        -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'\nDocs: {base_url}/api/docs/\n",
        logins.first().map_or("", |l| l.email.as_str()),
        logins.first().map_or("", |l| l.password.as_str()),
    ));
    out
}
