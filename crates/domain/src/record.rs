//! The content of seeds and needs, and the rules it must satisfy before it is stored.
//!
//! Validation checks every field against the taxonomy and sensible bounds and reports each
//! problem with the field's path, so an API can answer 422 naming them and an import can report a
//! row by line. Nothing here decides who may see what: that is [`crate::disclosure`].
//!
//! The life cycle of both kinds is one state machine ([`RecordStatus::apply`]): a draft is edited
//! and published, a published record is edited and archived, and an archived record is closed —
//! nothing changes it until its owner restores it, which makes it a draft again.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::disclosure::{RecordStatus, Visibility};
use crate::member::Locale;
use crate::taxonomy::{Taxonomy, TaxonomyKind};

pub const MAX_TITLE: usize = 300;
pub const MAX_SUMMARY: usize = 5_000;
pub const MAX_CONFIDENTIAL: usize = 50_000;
pub const MAX_TERMS: usize = 20;
pub const MAX_KEYWORDS: usize = 30;
pub const MAX_KEYWORD: usize = 100;

/// A problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem { field: field.into(), message: message.into() }
    }
}

/// The confidential tier of a seed: shown only to those [`crate::disclosure`] allows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfidentialSection {
    /// Data, mechanism, structures: the detail behind the summary.
    pub details: String,
    /// Patent application or publication numbers.
    #[serde(default)]
    pub patent_applications: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

/// What a seed says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedContent {
    pub title: String,
    pub summary: String,
    pub confidential: ConfidentialSection,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    pub stage: String,
    pub ip_status: String,
    pub deal_types: Vec<String>,
    pub keywords: Vec<String>,
    pub visibility: Visibility,
    pub language: Locale,
}

/// What a need says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedContent {
    pub title: String,
    pub description: String,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    /// The development stages the company is interested in (a range on the stage scale).
    pub stages: Vec<String>,
    pub deal_types: Vec<String>,
    pub keywords: Vec<String>,
    pub anonymous: bool,
    pub visibility: Visibility,
    pub language: Locale,
}

/// Japanese when the text has kana or kanji, English otherwise.
#[must_use]
pub fn detect_language(text: &str) -> Locale {
    let japanese = text.chars().any(|c| {
        matches!(c as u32,
            0x3040..=0x30FF      // hiragana, katakana
            | 0x3400..=0x4DBF    // CJK extension A
            | 0x4E00..=0x9FFF    // CJK unified ideographs
            | 0xFF66..=0xFF9F) // half-width katakana
    });
    if japanese { Locale::Ja } else { Locale::En }
}

fn check_text(field: &str, value: &str, min: usize, max: usize, out: &mut Vec<FieldProblem>) {
    // Blank means nothing visible: spaces and zero-width characters alone are not a title.
    if min > 0 && crate::text::is_blank(value) {
        out.push(FieldProblem::new(field, "must not be empty"));
    } else if value.chars().count() > max {
        out.push(FieldProblem::new(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        out.push(FieldProblem::new(field, "must not contain control characters"));
    }
}

fn check_terms(taxonomy: &Taxonomy, kind: TaxonomyKind, field: &str, values: &[String], out: &mut Vec<FieldProblem>) {
    if values.len() > MAX_TERMS {
        out.push(FieldProblem::new(field, format!("at most {MAX_TERMS} values")));
        return;
    }
    for (i, value) in values.iter().enumerate() {
        if !taxonomy.contains(kind, value) {
            out.push(FieldProblem::new(format!("{field}[{i}]"), format!("unknown value `{value}`")));
        }
    }
}

fn check_keywords(values: &[String], out: &mut Vec<FieldProblem>) {
    if values.len() > MAX_KEYWORDS {
        out.push(FieldProblem::new("keywords", format!("at most {MAX_KEYWORDS} keywords")));
        return;
    }
    for (i, k) in values.iter().enumerate() {
        check_text(&format!("keywords[{i}]"), k, 1, MAX_KEYWORD, out);
    }
}

/// Sorts nothing, drops repeats and surrounding blanks, keeping the first occurrence.
fn tidy(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    values.retain_mut(|v| {
        *v = v.trim().to_owned();
        !v.is_empty() && seen.insert(v.clone())
    });
}

impl SeedContent {
    /// Trims and de-duplicates lists, then checks every field.
    ///
    /// # Errors
    /// Every problem found, by field path.
    pub fn normalize_and_validate(&mut self, taxonomy: &Taxonomy) -> Result<(), Vec<FieldProblem>> {
        for list in [&mut self.modalities, &mut self.disease_areas, &mut self.deal_types, &mut self.keywords] {
            tidy(list);
        }
        tidy(&mut self.confidential.patent_applications);
        self.title = crate::text::trim_invisible(&self.title).to_owned();
        let mut out = Vec::new();
        check_text("title", &self.title, 1, MAX_TITLE, &mut out);
        check_text("summary", &self.summary, 1, MAX_SUMMARY, &mut out);
        check_text("confidential.details", &self.confidential.details, 0, MAX_CONFIDENTIAL, &mut out);
        check_text("confidential.notes", &self.confidential.notes, 0, MAX_CONFIDENTIAL, &mut out);
        if self.confidential.patent_applications.len() > MAX_KEYWORDS {
            out.push(FieldProblem::new("confidential.patent_applications", format!("at most {MAX_KEYWORDS} numbers")));
        }
        check_terms(taxonomy, TaxonomyKind::Modality, "modalities", &self.modalities, &mut out);
        check_terms(taxonomy, TaxonomyKind::DiseaseArea, "disease_areas", &self.disease_areas, &mut out);
        if !taxonomy.contains(TaxonomyKind::Stage, &self.stage) {
            out.push(FieldProblem::new("stage", format!("unknown value `{}`", self.stage)));
        }
        if !taxonomy.contains(TaxonomyKind::IpStatus, &self.ip_status) {
            out.push(FieldProblem::new("ip_status", format!("unknown value `{}`", self.ip_status)));
        }
        check_terms(taxonomy, TaxonomyKind::DealType, "deal_types", &self.deal_types, &mut out);
        check_keywords(&self.keywords, &mut out);
        if out.is_empty() { Ok(()) } else { Err(out) }
    }
}

impl NeedContent {
    /// Trims and de-duplicates lists, then checks every field.
    ///
    /// # Errors
    /// Every problem found, by field path.
    pub fn normalize_and_validate(&mut self, taxonomy: &Taxonomy) -> Result<(), Vec<FieldProblem>> {
        for list in
            [&mut self.modalities, &mut self.disease_areas, &mut self.stages, &mut self.deal_types, &mut self.keywords]
        {
            tidy(list);
        }
        self.title = crate::text::trim_invisible(&self.title).to_owned();
        let mut out = Vec::new();
        check_text("title", &self.title, 1, MAX_TITLE, &mut out);
        check_text("description", &self.description, 1, MAX_SUMMARY, &mut out);
        check_terms(taxonomy, TaxonomyKind::Modality, "modalities", &self.modalities, &mut out);
        check_terms(taxonomy, TaxonomyKind::DiseaseArea, "disease_areas", &self.disease_areas, &mut out);
        check_terms(taxonomy, TaxonomyKind::Stage, "stages", &self.stages, &mut out);
        check_terms(taxonomy, TaxonomyKind::DealType, "deal_types", &self.deal_types, &mut out);
        check_keywords(&self.keywords, &mut out);
        // Keep stages in the scale's order, so "the range a need asks for" reads naturally.
        self.stages.sort_by_key(|s| taxonomy.stage_order(s).unwrap_or(u32::MAX));
        if out.is_empty() { Ok(()) } else { Err(out) }
    }
}

/// One move in a record's life cycle; each is one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordStep {
    /// Change the content (`PATCH`).
    Edit,
    Publish,
    Archive,
    /// Bring an archived record back as a draft.
    Restore,
}

names!(RecordStep, "record step", { Edit => "edit", Publish => "publish", Archive => "archive", Restore => "restore" });

/// A step the record's status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the record is {from}; `{step}` is not possible now; possible next steps: {}", list(.allowed))]
pub struct IllegalRecordStep {
    pub from: RecordStatus,
    pub step: RecordStep,
    /// The steps that are possible from `from`.
    pub allowed: Vec<RecordStep>,
}

fn list(steps: &[RecordStep]) -> String {
    steps.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

impl RecordStatus {
    /// Every step that may follow.
    #[must_use]
    pub fn next_steps(self) -> Vec<RecordStep> {
        match self {
            RecordStatus::Draft => vec![RecordStep::Edit, RecordStep::Publish, RecordStep::Archive],
            RecordStatus::Published => vec![RecordStep::Edit, RecordStep::Archive],
            // Archived is closed: what was withdrawn is not changed behind the backs of those
            // still in conversation about it; the owner restores it first, deliberately.
            RecordStatus::Archived => vec![RecordStep::Restore],
        }
    }

    /// The status after `step`.
    ///
    /// # Errors
    /// [`IllegalRecordStep`], naming the possible steps, when `step` does not follow from here.
    pub fn apply(self, step: RecordStep) -> Result<RecordStatus, IllegalRecordStep> {
        let allowed = self.next_steps();
        if !allowed.contains(&step) {
            return Err(IllegalRecordStep { from: self, step, allowed });
        }
        Ok(match step {
            RecordStep::Edit => self,
            RecordStep::Publish => RecordStatus::Published,
            RecordStep::Archive => RecordStatus::Archived,
            RecordStep::Restore => RecordStatus::Draft,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn seed() -> SeedContent {
        SeedContent {
            title: " 抗体による筋ジストロフィー治療 ".into(),
            summary: "exon skipping".into(),
            confidential: ConfidentialSection { details: "secret".into(), ..Default::default() },
            modalities: vec!["antibody".into(), "antibody".into(), " nucleic_acid ".into()],
            disease_areas: vec!["rare_intractable".into()],
            stage: "preclinical".into(),
            ip_status: "pre_filing".into(),
            deal_types: vec!["license".into()],
            keywords: vec!["DMD".into(), String::new()],
            visibility: Visibility::Members,
            language: Locale::Ja,
        }
    }

    #[test]
    fn a_good_seed_is_tidied_and_accepted() {
        let taxonomy = Taxonomy::builtin().unwrap();
        let mut s = seed();
        s.normalize_and_validate(&taxonomy).unwrap();
        assert_eq!(s.title, "抗体による筋ジストロフィー治療");
        assert_eq!(s.modalities, ["antibody", "nucleic_acid"]);
        assert_eq!(s.keywords, ["DMD"]);
    }

    #[test]
    fn every_problem_is_named() {
        let taxonomy = Taxonomy::builtin().unwrap();
        let mut s = seed();
        s.title = "   ".into();
        s.modalities = vec!["antibody".into(), "telepathy".into()];
        s.stage = "someday".into();
        s.summary = "x".repeat(MAX_SUMMARY + 1);
        let fields: Vec<String> =
            s.normalize_and_validate(&taxonomy).unwrap_err().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["title", "summary", "modalities[1]", "stage"]);
    }

    #[test]
    fn need_stages_follow_the_scale() {
        let taxonomy = Taxonomy::builtin().unwrap();
        let mut n = NeedContent {
            title: "ADC".into(),
            description: "looking for ADC payloads".into(),
            modalities: vec!["adc".into()],
            disease_areas: vec![],
            stages: vec!["phase_1".into(), "preclinical".into()],
            deal_types: vec![],
            keywords: vec![],
            anonymous: true,
            visibility: Visibility::Members,
            language: Locale::En,
        };
        n.normalize_and_validate(&taxonomy).unwrap();
        assert_eq!(n.stages, ["preclinical", "phase_1"]);
    }

    #[test]
    fn every_record_step_is_legal_exactly_as_the_life_cycle_says() {
        use RecordStatus::{Archived, Draft, Published};
        use RecordStep::{Archive, Edit, Publish, Restore};
        // (from, step, to): every legal move; anything else is refused.
        let legal = [
            (Draft, Edit, Draft),
            (Draft, Publish, Published),
            (Draft, Archive, Archived),
            (Published, Edit, Published),
            (Published, Archive, Archived),
            (Archived, Restore, Draft),
        ];
        for from in RecordStatus::ALL {
            for step in RecordStep::ALL {
                let expected = legal.iter().find(|(f, s, _)| f == from && s == step).map(|(_, _, to)| *to);
                match from.apply(*step) {
                    Ok(to) => assert_eq!(Some(to), expected, "{from} {step}"),
                    Err(refusal) => {
                        assert_eq!(expected, None, "{from} {step}");
                        assert_eq!(refusal.allowed, from.next_steps());
                        assert!(!refusal.allowed.contains(step));
                    }
                }
            }
            let listed: Vec<RecordStep> = legal.iter().filter(|(f, _, _)| f == from).map(|(_, s, _)| *s).collect();
            assert_eq!(from.next_steps(), listed, "{from}");
        }
    }

    #[test]
    fn an_archived_record_is_closed_until_restored() {
        let refusal = RecordStatus::Archived.apply(RecordStep::Edit).unwrap_err();
        assert_eq!(refusal.allowed, [RecordStep::Restore]);
        assert_eq!(
            refusal.to_string(),
            "the record is archived; `edit` is not possible now; possible next steps: restore"
        );
        assert!(RecordStatus::Archived.apply(RecordStep::Publish).is_err());
        assert_eq!(RecordStatus::Archived.apply(RecordStep::Restore).unwrap(), RecordStatus::Draft);
        assert!(RecordStatus::Published.apply(RecordStep::Publish).is_err(), "publishing twice is a mistake");
        assert!(RecordStatus::Draft.apply(RecordStep::Restore).is_err());
    }

    #[test]
    fn language_detection() {
        assert_eq!(detect_language("抗体"), Locale::Ja);
        assert_eq!(detect_language("ｶﾀｶﾅ"), Locale::Ja);
        assert_eq!(detect_language("antibody"), Locale::En);
    }
}

fn members() -> Visibility {
    Visibility::Members
}

/// A seed as a client submits it: the API's create body and an import row.
/// Unknown fields are refused, so owner, organisation, status or version cannot be smuggled in.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedInput {
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub confidential: ConfidentialSection,
    #[serde(default)]
    pub modalities: Vec<String>,
    #[serde(default)]
    pub disease_areas: Vec<String>,
    pub stage: String,
    pub ip_status: String,
    #[serde(default)]
    pub deal_types: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// `members` (default) or `liaison_only`.
    #[serde(default = "members")]
    pub visibility: Visibility,
    /// Detected from the title and summary when absent.
    #[serde(default)]
    pub language: Option<Locale>,
    /// The organisation's own reference (e.g. its invention-disclosure number), unique within the
    /// organisation; shown only to its members. Not part of the content.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub external_ref: Option<String>,
}

impl SeedInput {
    #[must_use]
    pub fn into_content(self) -> SeedContent {
        let language = self.language.unwrap_or_else(|| detect_language(&format!("{} {}", self.title, self.summary)));
        SeedContent {
            title: self.title,
            summary: self.summary,
            confidential: self.confidential,
            modalities: self.modalities,
            disease_areas: self.disease_areas,
            stage: self.stage,
            ip_status: self.ip_status,
            deal_types: self.deal_types,
            keywords: self.keywords,
            visibility: self.visibility,
            language,
        }
    }
}

/// A need as a client submits it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedInput {
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub modalities: Vec<String>,
    #[serde(default)]
    pub disease_areas: Vec<String>,
    /// Development stages of interest.
    #[serde(default)]
    pub stages: Vec<String>,
    #[serde(default)]
    pub deal_types: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Hide the company from academia until an introduction is accepted.
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default = "members")]
    pub visibility: Visibility,
    #[serde(default)]
    pub language: Option<Locale>,
    /// The company's own reference, unique within it; shown only to its members. Not part of
    /// the content.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub external_ref: Option<String>,
}

impl NeedInput {
    #[must_use]
    pub fn into_content(self) -> NeedContent {
        let language =
            self.language.unwrap_or_else(|| detect_language(&format!("{} {}", self.title, self.description)));
        NeedContent {
            title: self.title,
            description: self.description,
            modalities: self.modalities,
            disease_areas: self.disease_areas,
            stages: self.stages,
            deal_types: self.deal_types,
            keywords: self.keywords,
            anonymous: self.anonymous,
            visibility: self.visibility,
            language,
        }
    }
}
