//! The shared vocabularies: modality, disease area, development stage, IP status and deal type.
//!
//! They are data (`config/taxonomy.toml`), not enums, so the secretariat can relabel a term without a
//! release. Values are stable identifiers stored on seeds, needs and matches; labels are for reading.
//! Every write path validates its tags here, so an unknown value is refused with the field it came
//! in, never stored.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The taxonomy shipped with the binary.
const BUILTIN: &str = include_str!("../../../config/taxonomy.toml");

/// One term of a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Term {
    /// Stable `snake_case` identifier; what records store and the API accepts.
    pub value: String,
    pub label_ja: String,
    pub label_en: String,
}

/// A development stage: a term with its place on the stage axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StageTerm {
    #[serde(flatten)]
    pub term: Term,
    /// Position from basic research (0) onwards; a need's stage range compares these.
    pub order: u32,
    /// Technology readiness level, where the TRL-style mapping defines one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trl: Option<u8>,
}

/// All five vocabularies. Stages are kept sorted by `order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    pub modalities: Vec<Term>,
    pub disease_areas: Vec<Term>,
    pub stages: Vec<StageTerm>,
    pub ip_statuses: Vec<Term>,
    pub deal_types: Vec<Term>,
}

/// Which vocabulary a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxonomyKind {
    Modality,
    DiseaseArea,
    Stage,
    IpStatus,
    DealType,
}

impl TaxonomyKind {
    pub const ALL: [TaxonomyKind; 5] = [
        TaxonomyKind::Modality,
        TaxonomyKind::DiseaseArea,
        TaxonomyKind::Stage,
        TaxonomyKind::IpStatus,
        TaxonomyKind::DealType,
    ];

    /// The name of the seed / need field that carries values of this kind, as API clients send it,
    /// so a rejection can point at the field they filled in.
    #[must_use]
    pub fn field_name(self) -> &'static str {
        match self {
            TaxonomyKind::Modality => "modalities",
            TaxonomyKind::DiseaseArea => "disease_areas",
            TaxonomyKind::Stage => "stage",
            TaxonomyKind::IpStatus => "ip_status",
            TaxonomyKind::DealType => "deal_types",
        }
    }

    /// The name of the list in `taxonomy.toml`, which is how configuration errors refer to it.
    #[must_use]
    pub fn list_name(self) -> &'static str {
        match self {
            TaxonomyKind::Modality => "modalities",
            TaxonomyKind::DiseaseArea => "disease_areas",
            TaxonomyKind::Stage => "stages",
            TaxonomyKind::IpStatus => "ip_statuses",
            TaxonomyKind::DealType => "deal_types",
        }
    }
}

/// Why a taxonomy file was refused. Raised at start-up, so the messages name the exact entry to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("taxonomy list `{list}` is empty")]
    EmptyList { list: &'static str },
    #[error("taxonomy list `{list}`: `{value}` is not a snake_case identifier")]
    InvalidValue { list: &'static str, value: String },
    #[error("taxonomy list `{list}`: value `{value}` appears more than once")]
    DuplicateValue { list: &'static str, value: String },
    #[error("taxonomy list `{list}`: `{value}` has an empty {label}")]
    EmptyLabel { list: &'static str, value: String, label: &'static str },
    #[error("taxonomy list `stages`: `{first}` and `{second}` share order {order}")]
    DuplicateStageOrder { order: u32, first: String, second: String },
    #[error("taxonomy list `stages`: `{value}` has TRL {trl}, outside 1..=9")]
    TrlOutOfRange { value: String, trl: u8 },
}

/// A value that is not in its vocabulary. `field` is the API field name, so the answer can be a 422
/// that says which field and which value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {field} `{value}`")]
pub struct UnknownTerm {
    pub field: &'static str,
    pub value: String,
}

impl Taxonomy {
    /// The taxonomy shipped in `config/taxonomy.toml`.
    ///
    /// # Errors
    /// When the shipped file does not parse or fails its checks (a build that changed it).
    pub fn builtin() -> Result<Taxonomy, TaxonomyError> {
        Taxonomy::from_toml(BUILTIN)
    }

    /// Parses and checks a taxonomy file. Refuses what would make lookups ambiguous (duplicate
    /// values, duplicate stage orders) or leave members with nothing to read (empty labels).
    ///
    /// # Errors
    /// [`TaxonomyError`] naming what does not parse or what the checks refuse.
    pub fn from_toml(text: &str) -> Result<Taxonomy, TaxonomyError> {
        let mut taxonomy: Taxonomy = toml::from_str(text)?;
        taxonomy.check()?;
        taxonomy.stages.sort_by_key(|stage| stage.order);
        Ok(taxonomy)
    }

    fn check(&self) -> Result<(), TaxonomyError> {
        for kind in TaxonomyKind::ALL {
            let list = kind.list_name();
            let mut terms = self.terms(kind).peekable();
            if terms.peek().is_none() {
                return Err(TaxonomyError::EmptyList { list });
            }
            let mut seen = HashSet::new();
            for term in terms {
                if !is_snake_case(&term.value) {
                    return Err(TaxonomyError::InvalidValue { list, value: term.value.clone() });
                }
                if !seen.insert(term.value.as_str()) {
                    return Err(TaxonomyError::DuplicateValue { list, value: term.value.clone() });
                }
                for (label, text) in [("label_ja", &term.label_ja), ("label_en", &term.label_en)] {
                    if text.trim().is_empty() {
                        return Err(TaxonomyError::EmptyLabel { list, value: term.value.clone(), label });
                    }
                }
            }
        }
        let mut orders = BTreeMap::new();
        for stage in &self.stages {
            if let Some(trl) = stage.trl.filter(|trl| !(1..=9).contains(trl)) {
                return Err(TaxonomyError::TrlOutOfRange { value: stage.term.value.clone(), trl });
            }
            if let Some(first) = orders.insert(stage.order, &stage.term.value) {
                return Err(TaxonomyError::DuplicateStageOrder {
                    order: stage.order,
                    first: first.clone(),
                    second: stage.term.value.clone(),
                });
            }
        }
        Ok(())
    }

    /// The terms of one vocabulary, in file order (stages by `order`).
    pub fn terms(&self, kind: TaxonomyKind) -> impl Iterator<Item = &Term> + '_ {
        let (plain, stages): (&[Term], &[StageTerm]) = match kind {
            TaxonomyKind::Modality => (&self.modalities, &[]),
            TaxonomyKind::DiseaseArea => (&self.disease_areas, &[]),
            TaxonomyKind::Stage => (&[], &self.stages),
            TaxonomyKind::IpStatus => (&self.ip_statuses, &[]),
            TaxonomyKind::DealType => (&self.deal_types, &[]),
        };
        plain.iter().chain(stages.iter().map(|stage| &stage.term))
    }

    #[must_use]
    pub fn contains(&self, kind: TaxonomyKind, value: &str) -> bool {
        self.label(kind, value).is_some()
    }

    /// The term for `value`, to show its labels.
    #[must_use]
    pub fn label(&self, kind: TaxonomyKind, value: &str) -> Option<&Term> {
        self.terms(kind).find(|term| term.value == value)
    }

    #[must_use]
    pub fn stage(&self, value: &str) -> Option<&StageTerm> {
        self.stages.iter().find(|stage| stage.term.value == value)
    }

    /// Where a stage sits on the stage axis; `None` for an unknown stage.
    #[must_use]
    pub fn stage_order(&self, value: &str) -> Option<u32> {
        self.stage(value).map(|stage| stage.order)
    }

    /// Checks submitted values of one kind.
    ///
    /// # Errors
    /// [`UnknownTerm`] naming the first value the taxonomy does not know.
    pub fn validate(&self, kind: TaxonomyKind, values: &[String]) -> Result<(), UnknownTerm> {
        match values.iter().find(|value| !self.contains(kind, value)) {
            Some(value) => Err(UnknownTerm { field: kind.field_name(), value: value.clone() }),
            None => Ok(()),
        }
    }
}

fn is_snake_case(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_lowercase())
        && !value.ends_with('_')
        && !value.contains("__")
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn builtin() -> Taxonomy {
        Taxonomy::builtin().unwrap()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    const MINIMAL: &str = r#"
        [[modalities]]
        value = "antibody"
        label_ja = "抗体"
        label_en = "Antibody"
        [[disease_areas]]
        value = "oncology"
        label_ja = "がん"
        label_en = "Oncology"
        [[stages]]
        value = "phase_1"
        order = 6
        trl = 6
        label_ja = "第I相試験"
        label_en = "Phase I"
        [[stages]]
        value = "basic_research"
        order = 0
        label_ja = "基礎研究"
        label_en = "Basic research"
        [[ip_statuses]]
        value = "pre_filing"
        label_ja = "出願前"
        label_en = "Pre-filing"
        [[deal_types]]
        value = "license"
        label_ja = "ライセンス"
        label_en = "Licence"
    "#;

    #[test]
    fn shipped_taxonomy_parses() {
        Taxonomy::builtin().unwrap();
    }

    #[test]
    fn shipped_taxonomy_has_the_documented_terms() {
        let taxonomy = builtin();
        let values = |kind| taxonomy.terms(kind).map(|t| t.value.as_str()).collect::<Vec<_>>();
        assert_eq!(taxonomy.modalities.len(), 15);
        assert_eq!(
            values(TaxonomyKind::DiseaseArea),
            [
                "oncology",
                "lifestyle",
                "psychiatric_neurological",
                "geriatrics_dementia",
                "rare_intractable",
                "child_maternal",
                "infectious",
                "other",
            ]
        );
        assert_eq!(
            values(TaxonomyKind::Stage),
            [
                "basic_research",
                "target_discovery",
                "hit_finding",
                "lead_optimization",
                "preclinical",
                "ind_enabling",
                "phase_1",
                "phase_2",
                "phase_3",
                "approved",
            ]
        );
        assert_eq!(
            values(TaxonomyKind::IpStatus),
            ["no_filing_planned", "pre_filing", "filed", "published_application", "granted"]
        );
        assert_eq!(
            values(TaxonomyKind::DealType),
            ["license", "joint_research", "sponsored_research", "material_transfer", "startup"]
        );
    }

    #[test]
    fn shipped_stages_are_numbered_from_zero_without_gaps() {
        let taxonomy = builtin();
        let orders: Vec<u32> = taxonomy.stages.iter().map(|s| s.order).collect();
        assert_eq!(orders, (0..10).collect::<Vec<u32>>());
    }

    #[test]
    fn shipped_trl_follows_the_mapping() {
        let taxonomy = builtin();
        let trl = |value: &str| taxonomy.stage(value).unwrap().trl;
        assert_eq!(trl("basic_research"), None);
        assert_eq!(trl("hit_finding"), Some(2));
        assert_eq!(trl("lead_optimization"), Some(4));
        assert_eq!(trl("preclinical"), Some(5));
        assert_eq!(trl("phase_1"), Some(6));
        assert_eq!(trl("phase_2"), Some(7));
        assert_eq!(trl("phase_3"), Some(8));
        assert_eq!(trl("approved"), None);
    }

    #[test]
    fn contains_looks_only_in_its_own_vocabulary() {
        let taxonomy = builtin();
        assert!(taxonomy.contains(TaxonomyKind::Modality, "antibody"));
        assert!(taxonomy.contains(TaxonomyKind::Stage, "phase_2"));
        assert!(!taxonomy.contains(TaxonomyKind::DiseaseArea, "antibody"));
        assert!(!taxonomy.contains(TaxonomyKind::Modality, "Antibody"));
        assert!(!taxonomy.contains(TaxonomyKind::Modality, ""));
    }

    #[test]
    fn label_gives_both_languages() {
        let taxonomy = builtin();
        let term = taxonomy.label(TaxonomyKind::Modality, "antibody").unwrap();
        assert_eq!(term.label_ja, "抗体");
        assert_eq!(term.label_en, "Antibody");
        let stage = taxonomy.label(TaxonomyKind::Stage, "phase_1").unwrap();
        assert_eq!(stage.label_ja, "第I相試験");
        assert_eq!(taxonomy.label(TaxonomyKind::DealType, "merger"), None);
    }

    #[test]
    fn stage_order_places_stages_on_one_axis() {
        let taxonomy = builtin();
        assert_eq!(taxonomy.stage_order("basic_research"), Some(0));
        assert_eq!(taxonomy.stage_order("approved"), Some(9));
        assert!(taxonomy.stage_order("hit_finding") < taxonomy.stage_order("preclinical"));
        assert_eq!(taxonomy.stage_order("antibody"), None);
    }

    #[test]
    fn validate_accepts_known_values_and_nothing() {
        let taxonomy = builtin();
        assert_eq!(taxonomy.validate(TaxonomyKind::Modality, &strings(&["antibody", "adc"])), Ok(()));
        assert_eq!(taxonomy.validate(TaxonomyKind::DealType, &[]), Ok(()));
    }

    #[test]
    fn validate_names_the_field_and_first_unknown_value() {
        let taxonomy = builtin();
        let err =
            taxonomy.validate(TaxonomyKind::DiseaseArea, &strings(&["oncology", "cancer", "tumour"])).unwrap_err();
        assert_eq!(err, UnknownTerm { field: "disease_areas", value: "cancer".to_owned() });
        assert_eq!(err.to_string(), "unknown disease_areas `cancer`");
        let err = taxonomy.validate(TaxonomyKind::Stage, &strings(&["phase_4"])).unwrap_err();
        assert_eq!(err.field, "stage");
        let err = taxonomy.validate(TaxonomyKind::IpStatus, &strings(&["patented"])).unwrap_err();
        assert_eq!(err.field, "ip_status");
    }

    #[test]
    fn field_names_match_the_api() {
        let names: Vec<_> = TaxonomyKind::ALL.iter().map(|k| k.field_name()).collect();
        assert_eq!(names, ["modalities", "disease_areas", "stage", "ip_status", "deal_types"]);
    }

    #[test]
    fn from_toml_sorts_stages_by_order() {
        let taxonomy = Taxonomy::from_toml(MINIMAL).unwrap();
        let stages: Vec<_> = taxonomy.stages.iter().map(|s| s.term.value.as_str()).collect();
        assert_eq!(stages, ["basic_research", "phase_1"]);
        assert_eq!(taxonomy.stage_order("phase_1"), Some(6));
    }

    #[test]
    fn from_toml_rejects_duplicate_values() {
        let text = MINIMAL.replace(
            "[[disease_areas]]",
            "[[modalities]]\nvalue = \"antibody\"\nlabel_ja = \"抗体\"\nlabel_en = \"Antibody\"\n[[disease_areas]]",
        );
        assert_eq!(
            Taxonomy::from_toml(&text),
            Err(TaxonomyError::DuplicateValue { list: "modalities", value: "antibody".to_owned() })
        );
    }

    #[test]
    fn the_same_value_may_appear_in_different_lists() {
        let text = MINIMAL.replace("value = \"oncology\"", "value = \"antibody\"");
        Taxonomy::from_toml(&text).unwrap();
    }

    #[test]
    fn from_toml_rejects_empty_labels() {
        let text = MINIMAL.replace("label_ja = \"ライセンス\"", "label_ja = \"\"");
        assert_eq!(
            Taxonomy::from_toml(&text),
            Err(TaxonomyError::EmptyLabel { list: "deal_types", value: "license".to_owned(), label: "label_ja" })
        );
        let text = MINIMAL.replace("label_en = \"Phase I\"", "label_en = \"  \"");
        assert_eq!(
            Taxonomy::from_toml(&text),
            Err(TaxonomyError::EmptyLabel { list: "stages", value: "phase_1".to_owned(), label: "label_en" })
        );
    }

    #[test]
    fn from_toml_rejects_values_that_are_not_snake_case() {
        for bad in ["", "Antibody", "small molecule", "_x", "x_", "a__b", "1st", "抗体"] {
            let text = MINIMAL.replace("value = \"antibody\"", &format!("value = \"{bad}\""));
            assert_eq!(
                Taxonomy::from_toml(&text),
                Err(TaxonomyError::InvalidValue { list: "modalities", value: bad.to_owned() }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn from_toml_rejects_shared_stage_orders() {
        let text = MINIMAL.replace("order = 6", "order = 0");
        assert_eq!(
            Taxonomy::from_toml(&text),
            Err(TaxonomyError::DuplicateStageOrder {
                order: 0,
                first: "phase_1".to_owned(),
                second: "basic_research".to_owned(),
            })
        );
    }

    #[test]
    fn from_toml_rejects_impossible_trl() {
        let text = MINIMAL.replace("trl = 6", "trl = 10");
        assert_eq!(
            Taxonomy::from_toml(&text),
            Err(TaxonomyError::TrlOutOfRange { value: "phase_1".to_owned(), trl: 10 })
        );
    }

    #[test]
    fn from_toml_rejects_empty_and_missing_lists() {
        let empty = format!("deal_types = []\n{}", MINIMAL.split("[[deal_types]]").next().unwrap());
        assert_eq!(Taxonomy::from_toml(&empty), Err(TaxonomyError::EmptyList { list: "deal_types" }));
        let missing = MINIMAL.split("[[deal_types]]").next().unwrap();
        assert!(matches!(Taxonomy::from_toml(missing), Err(TaxonomyError::Parse(_))));
    }

    #[test]
    fn from_toml_rejects_misspelled_lists_and_bad_syntax() {
        let text = format!("{MINIMAL}\n[[modality]]\nvalue = \"x\"\nlabel_ja = \"x\"\nlabel_en = \"x\"\n");
        assert!(matches!(Taxonomy::from_toml(&text), Err(TaxonomyError::Parse(_))));
        assert!(matches!(Taxonomy::from_toml("[[modalities]"), Err(TaxonomyError::Parse(_))));
    }

    #[test]
    fn serializes_back_to_the_same_taxonomy() {
        let taxonomy = builtin();
        let text = toml::to_string(&taxonomy).unwrap();
        assert_eq!(Taxonomy::from_toml(&text).unwrap(), taxonomy);
    }
}
