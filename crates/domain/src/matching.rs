//! How well a seed fits a need, apart from their text: shared modality and disease area, the
//! seed's stage inside the range the need asks for, and a shared deal type. Pure; the text part
//! comes from the search index and is combined here with configured weights.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::record::{NeedContent, SeedContent};
use crate::taxonomy::{Taxonomy, TaxonomyKind};

/// Where a match stands: open until a liaison dismisses it, and dismissed through re-scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    Open,
    Dismissed,
}

names!(MatchStatus, "match status", { Open => "open", Dismissed => "dismissed" });

/// Parts of the taxonomy fit and their weights (they sum to 1).
const MODALITY: f64 = 0.35;
const DISEASE: f64 = 0.35;
const STAGE: f64 = 0.2;
const DEAL: f64 = 0.1;

#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// 0 (nothing in common) to 1.
    pub score: f64,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    /// The seed's stage, when the need asks for it (or asks for any stage).
    pub stage: Option<String>,
    pub deal_types: Vec<String>,
}

fn shared(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|x| b.contains(x)).cloned().collect()
}

/// A part scores 1 when the two share a value, 0.5 when the need leaves it open, 0 otherwise.
fn part(shared: &[String], need_values: &[String]) -> f64 {
    if !shared.is_empty() {
        1.0
    } else if need_values.is_empty() {
        0.5
    } else {
        0.0
    }
}

/// The taxonomy of one record as matching weighs it: a seed's stage (one), or the stages a need
/// asks for (none for any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms<'a> {
    pub modalities: &'a [String],
    pub disease_areas: &'a [String],
    pub stages: &'a [String],
    pub deal_types: &'a [String],
}

impl<'a> Terms<'a> {
    /// Modalities, disease areas, stages and deal types, in that order.
    #[must_use]
    pub fn of(
        modalities: &'a [String],
        disease_areas: &'a [String],
        stages: &'a [String],
        deal_types: &'a [String],
    ) -> Self {
        Terms { modalities, disease_areas, stages, deal_types }
    }
}

impl SeedContent {
    #[must_use]
    pub fn terms(&self) -> Terms<'_> {
        Terms::of(&self.modalities, &self.disease_areas, std::slice::from_ref(&self.stage), &self.deal_types)
    }
}

impl NeedContent {
    #[must_use]
    pub fn terms(&self) -> Terms<'_> {
        Terms::of(&self.modalities, &self.disease_areas, &self.stages, &self.deal_types)
    }
}

#[must_use]
pub fn taxonomy_fit(seed: &SeedContent, need: &NeedContent) -> Fit {
    fit(seed.terms(), need.terms())
}

/// [`taxonomy_fit`] of a seed's terms and a need's, wherever they were read from.
#[must_use]
pub fn fit(seed: Terms<'_>, need: Terms<'_>) -> Fit {
    let modalities = shared(seed.modalities, need.modalities);
    let disease_areas = shared(seed.disease_areas, need.disease_areas);
    let deal_types = shared(seed.deal_types, need.deal_types);
    let stage = seed.stages.iter().find(|s| need.stages.is_empty() || need.stages.contains(s));
    let score = MODALITY * part(&modalities, need.modalities)
        + DISEASE * part(&disease_areas, need.disease_areas)
        + STAGE * if stage.is_some() { 1.0 } else { 0.0 }
        + DEAL * part(&deal_types, need.deal_types);
    Fit { score, modalities, disease_areas, stage: stage.cloned(), deal_types }
}

/// Weights and the threshold a match must reach, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub text: f64,
    pub taxonomy: f64,
    pub threshold: f64,
    /// The least text relevance ([`TextEvidence::relevance`]) a pair needs, whatever its taxonomy:
    /// a seed and a need sharing a modality and a disease area but no word and no concept are not
    /// a match, in one language or across two.
    pub min_evidence: f64,
}

/// What the texts of a seed and a need have in common, as cosines (0 to 1) of their weighted
/// words and of the glossary concepts they name. Symmetric: the same for either side.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TextEvidence {
    pub words: f64,
    pub concepts: f64,
}

/// The concepts' share of the text relevance in one language; across two, where few words
/// can be shared, the concepts carry it.
const CONCEPT_SHARE: f64 = 0.5;
const CONCEPT_SHARE_ACROSS: f64 = 0.85;

impl TextEvidence {
    /// The text relevance, 0 to 1. Cosines of real pairs rarely pass 0.6, so the square root
    /// spreads them over the scale the taxonomy fit uses.
    #[must_use]
    pub fn relevance(&self, same_language: bool) -> f64 {
        let share = if same_language { CONCEPT_SHARE } else { CONCEPT_SHARE_ACROSS };
        let (words, concepts) = (self.words.clamp(0.0, 1.0), self.concepts.clamp(0.0, 1.0));
        // Across languages shared words are names and abbreviations (HER2, siRNA): worth as much
        // as concepts when there are more of them.
        let blended = if same_language {
            (1.0 - share) * words + share * concepts
        } else {
            ((1.0 - share) * words + share * concepts).max(words)
        };
        blended.sqrt()
    }
}

impl Weights {
    /// The combined score, 0 to 1, of a text relevance and a taxonomy fit.
    #[must_use]
    pub fn combine(&self, text: f64, fit: &Fit) -> f64 {
        let total = self.text + self.taxonomy;
        if total <= 0.0 {
            return 0.0;
        }
        (self.text * text.clamp(0.0, 1.0) + self.taxonomy * fit.score) / total
    }

    /// The match score: 0 without enough text evidence (see [`Weights::min_evidence`]), else the
    /// text relevance combined with the taxonomy fit.
    #[must_use]
    pub fn score(&self, evidence: &TextEvidence, fit: &Fit, same_language: bool) -> f64 {
        let text = evidence.relevance(same_language);
        if text < self.min_evidence {
            return 0.0;
        }
        self.combine(text, fit)
    }
}

/// A glossary concept two records share, with its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedConcept {
    pub id: String,
    pub label_ja: String,
    pub label_en: String,
}

/// One human-readable reason: what the two share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// `modality`, `disease_area`, `stage`, `deal_type`, `concepts` (glossary concepts both texts
    /// name, in either language) or `terms` (words both texts use).
    pub kind: String,
    pub values: Vec<String>,
    pub label_ja: String,
    pub label_en: String,
}

/// The reasons for a match, labelled from the taxonomy, with the concepts (labelled in both
/// languages) and the terms both texts share.
#[must_use]
pub fn reasons(fit: &Fit, concepts: &[SharedConcept], terms: &[String], taxonomy: &Taxonomy) -> Vec<Reason> {
    let labelled = |kind: TaxonomyKind, name: &str, values: &[String]| -> Option<Reason> {
        if values.is_empty() {
            return None;
        }
        let label = |ja: bool| {
            values
                .iter()
                .map(|v| {
                    taxonomy
                        .label(kind, v)
                        .map_or_else(|| v.clone(), |t| if ja { t.label_ja.clone() } else { t.label_en.clone() })
                })
                .collect::<Vec<_>>()
                .join(if ja { "、" } else { ", " })
        };
        Some(Reason { kind: name.to_owned(), values: values.to_vec(), label_ja: label(true), label_en: label(false) })
    };
    let stage: Vec<String> = fit.stage.iter().cloned().collect();
    let mut out: Vec<Reason> = [
        labelled(TaxonomyKind::Modality, "modality", &fit.modalities),
        labelled(TaxonomyKind::DiseaseArea, "disease_area", &fit.disease_areas),
        labelled(TaxonomyKind::Stage, "stage", &stage),
        labelled(TaxonomyKind::DealType, "deal_type", &fit.deal_types),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !concepts.is_empty() {
        out.push(Reason {
            kind: "concepts".into(),
            values: concepts.iter().map(|c| c.id.clone()).collect(),
            label_ja: concepts.iter().map(|c| c.label_ja.as_str()).collect::<Vec<_>>().join("、"),
            label_en: concepts.iter().map(|c| c.label_en.as_str()).collect::<Vec<_>>().join(", "),
        });
    }
    if !terms.is_empty() {
        out.push(Reason {
            kind: "terms".into(),
            values: terms.to_vec(),
            label_ja: terms.join("、"),
            label_en: terms.join(", "),
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::disclosure::Visibility;
    use crate::member::Locale;
    use crate::record::ConfidentialSection;

    fn seed(modality: &str, disease: &str, stage: &str) -> SeedContent {
        SeedContent {
            title: "t".into(),
            summary: "s".into(),
            confidential: ConfidentialSection::default(),
            modalities: vec![modality.into()],
            disease_areas: vec![disease.into()],
            stage: stage.into(),
            ip_status: "filed".into(),
            deal_types: vec!["license".into()],
            keywords: vec![],
            visibility: Visibility::Members,
            language: Locale::En,
        }
    }

    fn need(modalities: &[&str], diseases: &[&str], stages: &[&str]) -> NeedContent {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect();
        NeedContent {
            title: "t".into(),
            description: "d".into(),
            modalities: v(modalities),
            disease_areas: v(diseases),
            stages: v(stages),
            deal_types: vec!["license".into()],
            keywords: vec![],
            anonymous: false,
            visibility: Visibility::Members,
            language: Locale::En,
        }
    }

    #[test]
    fn a_full_fit_scores_one_and_nothing_in_common_scores_little() {
        let s = seed("antibody", "oncology", "preclinical");
        let full = taxonomy_fit(&s, &need(&["antibody"], &["oncology"], &["preclinical", "phase_1"]));
        assert!((full.score - 1.0).abs() < 1e-9);
        let none = taxonomy_fit(&s, &need(&["vaccine"], &["infectious"], &["phase_3"]));
        assert!((none.score - DEAL).abs() < 1e-9, "only the deal type is shared");
        let open = taxonomy_fit(&s, &need(&[], &[], &[]));
        assert!((open.score - (0.5 * MODALITY + 0.5 * DISEASE + STAGE + DEAL)).abs() < 1e-9);
    }

    #[test]
    fn reasons_carry_both_labels_concepts_and_terms() {
        let taxonomy = Taxonomy::builtin().unwrap();
        let s = seed("antibody", "oncology", "preclinical");
        let fit = taxonomy_fit(&s, &need(&["antibody"], &["oncology"], &["preclinical"]));
        let cancer = SharedConcept { id: "cancer".into(), label_ja: "がん".into(), label_en: "cancer".into() };
        let reasons = reasons(&fit, &[cancer], &["HER2".into()], &taxonomy);
        let kinds: Vec<&str> = reasons.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["modality", "disease_area", "stage", "deal_type", "concepts", "terms"]);
        assert_eq!(reasons[0].label_ja, "抗体");
        assert_eq!(reasons[0].label_en, "Antibody");
        assert_eq!((reasons[4].label_ja.as_str(), reasons[4].label_en.as_str()), ("がん", "cancer"));
    }

    fn weights() -> Weights {
        Weights { text: 0.6, taxonomy: 0.4, threshold: 0.45, min_evidence: 0.2 }
    }

    #[test]
    fn weights_combine_into_zero_to_one() {
        let w = weights();
        let fit = taxonomy_fit(&seed("antibody", "oncology", "preclinical"), &need(&["antibody"], &["oncology"], &[]));
        assert!((w.combine(1.0, &fit) - 1.0).abs() < 1e-9);
        assert!((w.combine(0.0, &fit) - 0.4).abs() < 1e-9);
        assert!(w.combine(7.0, &fit) <= 1.0);
        let all = TextEvidence { words: 1.0, concepts: 1.0 };
        assert!((w.score(&all, &fit, true) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_pair_needs_text_or_concept_evidence_in_any_language() {
        let w = weights();
        let fit = taxonomy_fit(&seed("antibody", "oncology", "preclinical"), &need(&["antibody"], &["oncology"], &[]));
        let nothing = TextEvidence::default();
        assert_eq!(w.score(&nothing, &fit, false), 0.0, "the taxonomy alone is no match across languages");
        assert_eq!(w.score(&nothing, &fit, true), 0.0, "nor in one language");
        let concepts = TextEvidence { words: 0.0, concepts: 0.4 };
        assert!(w.score(&concepts, &fit, false) > w.threshold, "shared concepts carry a pair across languages");
        assert!(
            w.score(&concepts, &fit, false) > w.score(&concepts, &fit, true),
            "in one language, words are expected too"
        );
        let names = TextEvidence { words: 0.5, concepts: 0.0 };
        assert!(w.score(&names, &fit, false) >= w.score(&names, &fit, true), "shared names count across languages");
    }

    #[test]
    fn more_evidence_scores_higher() {
        let w = weights();
        let fit = taxonomy_fit(&seed("antibody", "oncology", "preclinical"), &need(&["antibody"], &["oncology"], &[]));
        let mut last = 0.0;
        for x in [0.05, 0.1, 0.2, 0.4, 0.8] {
            let s = w.score(&TextEvidence { words: x, concepts: x }, &fit, true);
            assert!(s >= last, "{x}: {s} < {last}");
            last = s;
        }
    }
}
