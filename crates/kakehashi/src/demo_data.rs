//! `kakehashi demo-data`: deterministic synthetic organisations, members, seeds and needs, half
//! Japanese and half English, built from domain vocabulary with realistic taxonomy mixes, some
//! liaison-only and every seed with a confidential section. The same `--rng-seed` writes the
//! same content. Used to try the service at scale and by the benchmark.

use kakehashi_domain::{
    ConfidentialSection, Locale, NeedContent, OrganizationKind, RecordStatus, Role, SeedContent, Visibility,
};
use kakehashi_service::Services;
use kakehashi_store::changes::{self, RecordKind};
use kakehashi_store::{needs, seeds};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// The password of every member demo-data creates.
pub const PASSWORD: &str = "demo-data-password";
const BATCH: usize = 2_000;

const UNIVERSITIES: &[(&str, &str)] = &[
    ("東都医科大学", "Toto Medical University"),
    ("浪速理工大学", "Naniwa Institute of Technology"),
    ("北辰大学", "Hokushin University"),
    ("九州臨床医学研究所", "Kyushu Institute of Clinical Medicine"),
    ("湘南生命科学大学", "Shonan University of Life Sciences"),
    ("みちのく医療大学", "Michinoku Medical University"),
    ("京阪薬科大学", "Keihan Pharmaceutical University"),
    ("瀬戸内再生医療センター", "Setouchi Regenerative Medicine Center"),
];
const COMPANIES: &[(&str, &str)] = &[
    ("日本創薬株式会社", "Nihon Drug Discovery K.K."),
    ("さくらファーマ株式会社", "Sakura Pharma K.K."),
    ("Global Biologics Japan", "Global Biologics Japan"),
    ("大和メディカルデバイス", "Yamato Medical Devices"),
    ("Pacific Oncology Partners", "Pacific Oncology Partners"),
];

// (modality, Japanese phrase, English phrase)
const MODALITIES: &[(&str, &str, &str)] = &[
    ("small_molecule", "低分子阻害剤", "small-molecule inhibitors"),
    ("peptide_middle_molecule", "環状ペプチド", "cyclic peptides"),
    ("antibody", "抗体医薬", "therapeutic antibodies"),
    ("adc", "抗体薬物複合体", "antibody–drug conjugates"),
    ("nucleic_acid", "アンチセンス核酸", "antisense oligonucleotides"),
    ("mrna", "mRNA医薬", "mRNA therapeutics"),
    ("vaccine", "次世代ワクチン", "next-generation vaccines"),
    ("gene_therapy", "AAV遺伝子治療", "AAV gene therapy"),
    ("cell_therapy", "CAR-T細胞療法", "CAR-T cell therapy"),
    ("regenerative_medicine", "iPS細胞由来細胞シート", "iPSC-derived cell sheets"),
    ("diagnostic_biomarker", "血中バイオマーカー", "blood biomarkers"),
    ("medical_device_software", "AI画像診断ソフトウェア", "AI imaging software"),
    ("drug_delivery_system", "脂質ナノ粒子DDS", "lipid nanoparticle delivery"),
    ("research_tool_platform", "オルガノイド評価系", "organoid screening platforms"),
];
// (disease area, Japanese targets, English targets)
const DISEASES: &[(&str, &[&str], &[&str])] = &[
    (
        "oncology",
        &["HER2陽性乳がん", "膵臓がん", "非小細胞肺がん", "肝細胞癌", "急性骨髄性白血病"],
        &[
            "HER2-positive breast cancer",
            "pancreatic cancer",
            "non-small cell lung cancer",
            "hepatocellular carcinoma",
            "acute myeloid leukemia",
        ],
    ),
    (
        "lifestyle",
        &["2型糖尿病", "心不全", "非アルコール性脂肪肝炎", "慢性腎臓病"],
        &["type 2 diabetes", "heart failure", "NASH", "chronic kidney disease"],
    ),
    (
        "psychiatric_neurological",
        &["うつ病", "パーキンソン病", "てんかん", "神経障害性疼痛"],
        &["depression", "Parkinson's disease", "epilepsy", "neuropathic pain"],
    ),
    (
        "geriatrics_dementia",
        &["アルツハイマー病", "認知症", "サルコペニア"],
        &["Alzheimer's disease", "dementia", "sarcopenia"],
    ),
    (
        "rare_intractable",
        &["デュシェンヌ型筋ジストロフィー", "筋萎縮性側索硬化症", "ファブリー病"],
        &["Duchenne muscular dystrophy", "amyotrophic lateral sclerosis", "Fabry disease"],
    ),
    (
        "child_maternal",
        &["早産", "小児喘息", "新生児低酸素性虚血性脳症"],
        &["preterm birth", "pediatric asthma", "neonatal hypoxic-ischemic encephalopathy"],
    ),
    (
        "infectious",
        &["薬剤耐性菌感染症", "RSウイルス感染症", "結核"],
        &["drug-resistant bacterial infections", "RSV infection", "tuberculosis"],
    ),
];
const MECHANISMS_JA: &[&str] = &[
    "新規標的を同定し",
    "独自のスクリーニング系により",
    "患者由来検体を用いて",
    "構造生物学的解析に基づき",
    "マウスモデルで有効性を確認し",
];
const MECHANISMS_EN: &[&str] = &[
    "targeting a newly identified pathway",
    "discovered with a proprietary screening platform",
    "validated in patient-derived samples",
    "designed from structural biology",
    "effective in mouse models",
];
const STAGES: &[(&str, u32)] = &[
    ("basic_research", 10),
    ("target_discovery", 12),
    ("hit_finding", 12),
    ("lead_optimization", 14),
    ("preclinical", 22),
    ("ind_enabling", 10),
    ("phase_1", 9),
    ("phase_2", 6),
    ("phase_3", 3),
    ("approved", 2),
];
const IP_STATUSES: &[(&str, u32)] =
    &[("no_filing_planned", 5), ("pre_filing", 25), ("filed", 35), ("published_application", 20), ("granted", 15)];
const DEAL_TYPES: &[&str] = &["license", "joint_research", "sponsored_research", "material_transfer", "startup"];

fn weighted<'a>(rng: &mut StdRng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut pick = rng.gen_range(0..total);
    for (value, weight) in items {
        if pick < *weight {
            return value;
        }
        pick -= weight;
    }
    items[0].0
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn deals(rng: &mut StdRng) -> Vec<String> {
    let n = rng.gen_range(1..=2);
    DEAL_TYPES.choose_multiple(rng, n).map(|s| (*s).to_owned()).collect()
}

/// One synthetic seed, content only.
#[must_use]
pub fn seed(rng: &mut StdRng, i: usize) -> SeedContent {
    let (modality, m_ja, m_en) = *pick(rng, MODALITIES);
    let (area, targets_ja, targets_en) = *pick(rng, DISEASES);
    let t = rng.gen_range(0..targets_ja.len());
    let japanese = i.is_multiple_of(2);
    let stage = weighted(rng, STAGES);
    let (title, summary) = if japanese {
        let mech = pick(rng, MECHANISMS_JA);
        (
            format!("{}に対する{}の開発", targets_ja[t], m_ja),
            format!(
                "{mech}、{}に対する{m_ja}を開発した。既存治療に比べ高い選択性と安全性が期待される。導出先・共同研究先を募集する。",
                targets_ja[t]
            ),
        )
    } else {
        let mech = pick(rng, MECHANISMS_EN);
        (
            format!("{} for {}", capitalise(m_en), targets_en[t]),
            format!(
                "We develop {m_en} for {} {mech}. The approach improves selectivity and safety over current treatments; we seek licensing or research partners.",
                targets_en[t]
            ),
        )
    };
    let visibility = if rng.gen_ratio(1, 10) { Visibility::LiaisonOnly } else { Visibility::Members };
    SeedContent {
        title,
        summary,
        confidential: ConfidentialSection {
            details: format!("Unpublished data set #{i}: dose-response, PK and toxicology summaries."),
            patent_applications: if rng.gen_ratio(1, 2) {
                vec![format!("JP2026-{:06}", rng.gen_range(0..1_000_000))]
            } else {
                Vec::new()
            },
            notes: String::new(),
        },
        modalities: vec![modality.to_owned()],
        disease_areas: vec![area.to_owned()],
        stage: stage.to_owned(),
        ip_status: weighted(rng, IP_STATUSES).to_owned(),
        deal_types: deals(rng),
        keywords: vec![if japanese { targets_ja[t].to_owned() } else { targets_en[t].to_owned() }],
        visibility,
        language: if japanese { Locale::Ja } else { Locale::En },
    }
}

/// One synthetic need, content only.
#[must_use]
pub fn need(rng: &mut StdRng, i: usize) -> NeedContent {
    let (modality, m_ja, m_en) = *pick(rng, MODALITIES);
    let (area, targets_ja, targets_en) = *pick(rng, DISEASES);
    let t = rng.gen_range(0..targets_ja.len());
    let from = rng.gen_range(2..7);
    let stages: Vec<String> = STAGES[from..(from + 3).min(STAGES.len())].iter().map(|s| s.0.to_owned()).collect();
    let japanese = i.is_multiple_of(2);
    let (title, description) = if japanese {
        (
            format!("{}領域の{}を探しています", targets_ja[t], m_ja),
            format!(
                "{}に対する{}のライセンス導入または共同研究を検討しています。前臨床以降のデータがあるシーズを歓迎します。",
                targets_ja[t], m_ja
            ),
        )
    } else {
        (
            format!("Seeking {} in {}", m_en, targets_en[t]),
            format!(
                "We in-license or co-develop {m_en} for {}. Assets with preclinical proof of concept are preferred.",
                targets_en[t]
            ),
        )
    };
    NeedContent {
        title,
        description,
        modalities: vec![modality.to_owned()],
        disease_areas: vec![area.to_owned()],
        stages,
        deal_types: deals(rng),
        keywords: Vec::new(),
        anonymous: rng.gen_ratio(1, 3),
        visibility: if rng.gen_ratio(1, 10) { Visibility::LiaisonOnly } else { Visibility::Members },
        language: if japanese { Locale::Ja } else { Locale::En },
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// What `generate` wrote.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub seeds: usize,
    pub needs: usize,
    pub members: usize,
}

/// Writes organisations, one researcher and one TTO per university, one member per company,
/// then `n_seeds` seeds and `n_needs` needs, reporting progress after each batch.
///
/// # Errors
/// When the database refuses a write.
pub async fn generate(
    services: &Services,
    n_seeds: usize,
    n_needs: usize,
    rng_seed: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> anyhow::Result<Written> {
    let mut rng = StdRng::seed_from_u64(rng_seed);
    let mut universities = Vec::new();
    let mut members = 0;
    for (i, (name, name_en)) in UNIVERSITIES.iter().enumerate() {
        let org = services.ensure_organization(name, name_en, OrganizationKind::Academia).await?;
        let researcher = services
            .ensure_member(
                &format!("researcher{i}@demo-data.invalid"),
                &format!("研究者 {i}"),
                Role::Researcher,
                org.id,
                PASSWORD.into(),
            )
            .await?;
        services
            .ensure_member(
                &format!("tto{i}@demo-data.invalid"),
                &format!("TTO {i}"),
                Role::Tto,
                org.id,
                PASSWORD.into(),
            )
            .await?;
        members += 2;
        universities.push((org.id, researcher.id));
    }
    let mut companies = Vec::new();
    for (i, (name, name_en)) in COMPANIES.iter().enumerate() {
        let org = services.ensure_organization(name, name_en, OrganizationKind::Company).await?;
        let member = services
            .ensure_member(
                &format!("company{i}@demo-data.invalid"),
                &format!("BD {i}"),
                Role::Company,
                org.id,
                PASSWORD.into(),
            )
            .await?;
        members += 1;
        companies.push((org.id, member.id));
    }
    let funder =
        services.ensure_organization("架け橋事務局", "Kakehashi Secretariat", OrganizationKind::Funder).await?;
    services
        .ensure_member("liaison@demo-data.invalid", "知財リエゾン", Role::Liaison, funder.id, PASSWORD.into())
        .await?;
    members += 1;

    // One batch for the matcher: the liaisons hear of the run's matches in one digest.
    let run = uuid::Uuid::now_v7();
    let mut done = 0;
    for start in (0..n_seeds).step_by(BATCH) {
        let batch: Vec<seeds::NewSeed> = (start..(start + BATCH).min(n_seeds))
            .map(|i| {
                let content = seed(&mut rng, i);
                let (organization_id, owner) = universities[rng.gen_range(0..universities.len())];
                let status = if rng.gen_ratio(1, 20) { RecordStatus::Draft } else { RecordStatus::Published };
                seeds::NewSeed { organization_id, owner_id: Some(owner), content, status, external_ref: None }
            })
            .collect();
        let txn = services.write_txn().await?;
        let ids = seeds::insert_many(&txn, &batch).await?;
        changes::record_many(&txn, RecordKind::Seed, &ids, run).await?;
        txn.commit().await?;
        done += batch.len();
        progress(done);
    }
    for start in (0..n_needs).step_by(BATCH) {
        let txn = services.write_txn().await?;
        let mut ids = Vec::new();
        for i in start..(start + BATCH).min(n_needs) {
            let content = need(&mut rng, i);
            let (organization_id, owner) = companies[rng.gen_range(0..companies.len())];
            let stored =
                needs::insert(&txn, needs::NewNeed { organization_id, owner_id: Some(owner), content }).await?;
            ids.push(stored.id);
        }
        needs::publish_all(&txn, &ids).await?;
        changes::record_many(&txn, RecordKind::Need, &ids, run).await?;
        txn.commit().await?;
        done += ids.len();
        progress(done);
    }
    Ok(Written { seeds: n_seeds, needs: n_needs, members })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_rng_seed_writes_the_same_content_in_both_languages() {
        let mut a = StdRng::seed_from_u64(7);
        let mut b = StdRng::seed_from_u64(7);
        let first: Vec<SeedContent> = (0..50).map(|i| seed(&mut a, i)).collect();
        let second: Vec<SeedContent> = (0..50).map(|i| seed(&mut b, i)).collect();
        assert_eq!(first, second);
        assert!(first.iter().any(|s| s.language == Locale::Ja) && first.iter().any(|s| s.language == Locale::En));
        let taxonomy = kakehashi_domain::Taxonomy::builtin().unwrap_or_else(|e| panic!("{e}"));
        for mut s in first {
            assert!(s.normalize_and_validate(&taxonomy).is_ok(), "{s:?}");
        }
        let mut c = StdRng::seed_from_u64(7);
        for i in 0..20 {
            let mut n = need(&mut c, i);
            assert!(n.normalize_and_validate(&taxonomy).is_ok(), "{n:?}");
        }
    }
}
