//! How well a seed fits a need, apart from their text: shared modality and disease area, the
//! seed's stage inside the range the need asks for, and a shared deal type. Pure; the text part
//! comes from the search index and is combined here with configured weights.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::record::{NeedContent, SeedContent};
use crate::taxonomy::{Taxonomy, TaxonomyKind};

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

#[must_use]
pub fn taxonomy_fit(seed: &SeedContent, need: &NeedContent) -> Fit {
    let modalities = shared(&seed.modalities, &need.modalities);
    let disease_areas = shared(&seed.disease_areas, &need.disease_areas);
    let deal_types = shared(&seed.deal_types, &need.deal_types);
    let stage_fits = need.stages.is_empty() || need.stages.contains(&seed.stage);
    let score = MODALITY * part(&modalities, &need.modalities)
        + DISEASE * part(&disease_areas, &need.disease_areas)
        + STAGE * if stage_fits { 1.0 } else { 0.0 }
        + DEAL * part(&deal_types, &need.deal_types);
    Fit { score, modalities, disease_areas, stage: stage_fits.then(|| seed.stage.clone()), deal_types }
}

/// Weights and the threshold a match must reach, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub text: f64,
    pub taxonomy: f64,
    pub threshold: f64,
    /// For a seed and a need written in different languages, whose words cannot be compared,
    /// the taxonomy fit times this is the least score they get.
    pub cross_language: f64,
}

impl Weights {
    /// The combined score, 0 to 1. `text` is the text relevance relative to the record's own
    /// score against itself (1 means the other side says everything this one says).
    #[must_use]
    pub fn combine(&self, text: f64, fit: &Fit) -> f64 {
        let total = self.text + self.taxonomy;
        if total <= 0.0 {
            return 0.0;
        }
        (self.text * text.clamp(0.0, 1.0) + self.taxonomy * fit.score) / total
    }

    /// The match score. Text relevance means little between a Japanese and an English record, so
    /// such a pair, when it shares both a modality and a disease area, is judged on its taxonomy fit
    /// (scaled by `cross_language`) where that is higher.
    #[must_use]
    pub fn score(&self, text: f64, fit: &Fit, same_language: bool) -> f64 {
        let combined = self.combine(text, fit);
        if same_language || fit.modalities.is_empty() || fit.disease_areas.is_empty() {
            return combined;
        }
        combined.max(self.cross_language.clamp(0.0, 1.0) * fit.score)
    }
}

/// One human-readable reason: what the two share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// `modality`, `disease_area`, `stage`, `deal_type` or `terms`.
    pub kind: String,
    pub values: Vec<String>,
    pub label_ja: String,
    pub label_en: String,
}

/// The reasons for a match, labelled from the taxonomy, with the terms both texts share.
#[must_use]
pub fn reasons(fit: &Fit, terms: &[String], taxonomy: &Taxonomy) -> Vec<Reason> {
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
    fn reasons_carry_both_labels_and_terms() {
        let taxonomy = Taxonomy::builtin().unwrap();
        let s = seed("antibody", "oncology", "preclinical");
        let fit = taxonomy_fit(&s, &need(&["antibody"], &["oncology"], &["preclinical"]));
        let reasons = reasons(&fit, &["HER2".into()], &taxonomy);
        let kinds: Vec<&str> = reasons.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["modality", "disease_area", "stage", "deal_type", "terms"]);
        assert_eq!(reasons[0].label_ja, "抗体");
        assert_eq!(reasons[0].label_en, "Antibody");
    }

    #[test]
    fn weights_combine_into_zero_to_one() {
        let w = Weights { text: 0.6, taxonomy: 0.4, threshold: 0.4, cross_language: 0.75 };
        let fit = taxonomy_fit(&seed("antibody", "oncology", "preclinical"), &need(&["antibody"], &["oncology"], &[]));
        assert!((w.combine(1.0, &fit) - 1.0).abs() < 1e-9);
        assert!((w.combine(0.0, &fit) - 0.4).abs() < 1e-9);
        assert!(w.combine(7.0, &fit) <= 1.0);
    }

    #[test]
    fn a_pair_across_languages_is_judged_on_its_taxonomy() {
        let w = Weights { text: 0.6, taxonomy: 0.4, threshold: 0.45, cross_language: 0.75 };
        let fit = taxonomy_fit(&seed("antibody", "oncology", "preclinical"), &need(&["antibody"], &["oncology"], &[]));
        assert!((w.score(0.0, &fit, false) - 0.75 * fit.score).abs() < 1e-9);
        assert!((w.score(0.0, &fit, true) - w.combine(0.0, &fit)).abs() < 1e-9, "same language: text counts");
        assert!((w.score(1.0, &fit, false) - 1.0).abs() < 1e-9, "shared words still count");
        let weak =
            taxonomy_fit(&seed("antibody", "infectious", "preclinical"), &need(&["antibody"], &["oncology"], &[]));
        assert!(w.score(0.0, &weak, false) < w.threshold, "a modality alone is not enough");
    }
}
