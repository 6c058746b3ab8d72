//! `kakehashi relevance`: quality figures from the project's own code, printed beside their
//! targets and a naive baseline measured in the same run.
//!
//! Two sets. The small one (`tests/relevance/set.json`) is searched in an in-memory index. The
//! real-style one (`tests/relevance/real.json`: AMED-style Japanese summaries, company needs in
//! both languages, graded judgements with hard negatives) is evaluated the way the network would
//! meet it: its records are written into a scratch database among thousands of synthetic
//! distractors from `demo-data`, the index is rebuilt by the service, every need is matched by
//! [`Services::match_record`] (the matcher's own ranking and cut), and every query goes through
//! [`Services::search`] as a member would send it. Whatever changes in analysis, scoring or the
//! matcher pipeline shows up here without this module changing.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::Context as _;
use indicatif::ProgressBar;
use kakehashi_domain::{
    ConfidentialSection, Locale, NeedContent, OrganizationKind, Page, RecordStatus, Role, SeedContent, Visibility,
    detect_language,
};
use kakehashi_search::Kind;
use kakehashi_search::relevance::baseline::TfIdf;
use kakehashi_search::relevance::{Judged, QueryOutcome, RelevanceSet, SetMatch, SetNeed, SetSeed, judge};
use kakehashi_service::Services;
use kakehashi_service::auth::Authenticated;
use kakehashi_service::search::SearchQuery;
use kakehashi_store::changes::RecordKind;
use kakehashi_store::{needs, seeds};
use uuid::Uuid;

use crate::settings::Settings;
use crate::startup::{self, IndexMode};

/// How the real-style set is evaluated.
#[derive(Debug, Clone)]
pub struct Options {
    /// Synthetic distractor seeds written around the set; a fifth as many distractor needs.
    pub distractors: usize,
    /// The demo-data generator's seed: the same value writes the same distractors.
    pub rng_seed: u64,
    /// Distractor seeds and needs (each) also matched, for the matches-per-record figures.
    pub sample: usize,
    /// Show progress bars on the terminal.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { distractors: 30_000, rng_seed: 1, sample: 100, progress: false }
    }
}

/// A need's language and the language of the seeds it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    JaJa,
    EnEn,
    JaEn,
    EnJa,
}

impl Direction {
    pub const ALL: [Direction; 4] = [Direction::JaJa, Direction::EnEn, Direction::JaEn, Direction::EnJa];

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Direction::JaJa => "ja→ja",
            Direction::EnEn => "en→en",
            Direction::JaEn => "ja→en",
            Direction::EnJa => "en→ja",
        }
    }
}

fn seed_language(seed: &SetSeed) -> Locale {
    detect_language(&format!("{} {}", seed.title, seed.summary))
}

fn need_language(need: &SetNeed) -> Locale {
    detect_language(&format!("{} {}", need.title, need.description))
}

/// The direction of a judged need: its own language, and the one language its relevant seeds
/// (graded 2 or 3) are written in. `None` when those seeds mix languages or are missing.
#[must_use]
pub fn direction(set: &RelevanceSet, judgements: &SetMatch) -> Option<Direction> {
    let need = set.needs.iter().find(|n| n.key == judgements.need)?;
    let mut languages = judgements
        .relevant_seeds()
        .into_iter()
        .map(|k| set.seeds.iter().find(|s| s.key == k).map(seed_language))
        .collect::<Option<Vec<Locale>>>()?;
    languages.dedup();
    let [seeds] = languages.as_slice() else { return None };
    Some(match (need_language(need), seeds) {
        (Locale::Ja, Locale::Ja) => Direction::JaJa,
        (Locale::En, Locale::En) => Direction::EnEn,
        (Locale::Ja, Locale::En) => Direction::JaEn,
        (Locale::En, Locale::Ja) => Direction::EnJa,
    })
}

/// Problems that make a set unusable: judgements naming records it does not hold, needs
/// without a single direction, grades outside 0–3, taxonomy values the service would refuse.
#[must_use]
pub fn check(set: &RelevanceSet, taxonomy: &kakehashi_domain::Taxonomy) -> Vec<String> {
    let mut problems = Vec::new();
    let mut keys = std::collections::HashSet::new();
    for key in set.seeds.iter().map(|s| &s.key).chain(set.needs.iter().map(|n| &n.key)) {
        if !keys.insert(key.as_str()) {
            problems.push(format!("{key}: the key is used twice"));
        }
    }
    for seed in &set.seeds {
        if let Err(e) = seed_content(seed).normalize_and_validate(taxonomy) {
            problems.push(format!("{}: {e:?}", seed.key));
        }
    }
    for need in &set.needs {
        if let Err(e) = need_content(need).normalize_and_validate(taxonomy) {
            problems.push(format!("{}: {e:?}", need.key));
        }
    }
    for m in &set.matches {
        if !set.needs.iter().any(|n| n.key == m.need) {
            problems.push(format!("judgements for {}: no such need", m.need));
        }
        for (seed, grade) in m.judged() {
            if !set.seeds.iter().any(|s| s.key == seed) {
                problems.push(format!("{}: judged seed {seed} is not in the set", m.need));
            }
            if grade > 3 {
                problems.push(format!("{}: grade {grade} of {seed} is outside 0–3", m.need));
            }
        }
        if m.relevant_seeds().is_empty() {
            problems.push(format!("{}: no seed graded 2 or 3", m.need));
        } else if direction(set, m).is_none() {
            problems.push(format!("{}: its relevant seeds are written in more than one language", m.need));
        }
    }
    for q in &set.queries {
        for key in &q.relevant {
            let known = match q.kind {
                Kind::Seed => set.seeds.iter().any(|s| &s.key == key),
                Kind::Need => set.needs.iter().any(|n| &n.key == key),
            };
            if !known {
                problems.push(format!("query {:?}: relevant {key} is not in the set", q.q));
            }
        }
    }
    problems
}

fn seed_content(seed: &SetSeed) -> SeedContent {
    SeedContent {
        title: seed.title.clone(),
        summary: seed.summary.clone(),
        confidential: ConfidentialSection::default(),
        modalities: seed.modalities.clone(),
        disease_areas: seed.disease_areas.clone(),
        stage: seed.stage.clone(),
        ip_status: seed.ip_status.clone(),
        deal_types: seed.deal_types.clone(),
        keywords: seed.keywords.clone(),
        visibility: Visibility::Members,
        language: seed_language(seed),
    }
}

fn need_content(need: &SetNeed) -> NeedContent {
    NeedContent {
        title: need.title.clone(),
        description: need.description.clone(),
        modalities: need.modalities.clone(),
        disease_areas: need.disease_areas.clone(),
        stages: need.stages.clone(),
        deal_types: need.deal_types.clone(),
        keywords: need.keywords.clone(),
        anonymous: false,
        visibility: Visibility::Members,
        language: need_language(need),
    }
}

/// How matching and the baseline did for one judged need.
#[derive(Debug, Clone)]
pub struct NeedOutcome {
    pub key: String,
    pub title: String,
    pub direction: Direction,
    pub relevant: Vec<String>,
    pub matching: Judged,
    /// How many seeds the matcher kept for the need.
    pub kept: usize,
    /// The first seeds the matcher ranked: the set's key and grade, or `None` for a distractor.
    pub top: Vec<Option<(String, Option<u8>)>>,
    pub baseline: Judged,
}

/// Everything one run of the real-style set measured.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub distractor_seeds: usize,
    pub distractor_needs: usize,
    pub set_seeds: usize,
    pub set_needs: usize,
    /// Published seeds in the corpus (distractors include a few drafts).
    pub corpus_seeds: usize,
    pub needs: Vec<NeedOutcome>,
    /// Matches kept per record, over the set's needs and seeds and the sampled distractors.
    pub matches_per_record: Vec<usize>,
    /// Records matched per second, one at a time through `match_record` (scoring and writing
    /// each list in its own transaction), over the sample: a floor for the batched matcher.
    pub records_per_second: f64,
    pub queries: Vec<QueryOutcome>,
    pub baseline_queries: Vec<QueryOutcome>,
}

fn bar(len: u64, what: &str, enabled: bool) -> ProgressBar {
    if enabled { crate::progress::bar(len, what, "") } else { ProgressBar::hidden() }
}

fn svc(e: kakehashi_service::ServiceError) -> anyhow::Error {
    e.into()
}

/// Writes the set among distractors in a scratch directory and measures matching, search and
/// the baseline.
///
/// # Errors
/// When the set is unusable or a step of the service fails.
pub async fn evaluate(settings: &Settings, set: &RelevanceSet, options: &Options) -> anyhow::Result<Evaluation> {
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let mut settings = settings.clone();
    settings.data_dir = scratch.path().to_owned();
    settings.database.url = String::new();
    settings.search.dir = String::new();
    // Matching runs below, record by record; no background matcher races it.
    settings.matching.enabled = false;
    let (services, _background) = startup::services(&settings, IndexMode::InMemory).await?;
    let problems = check(set, &services.taxonomy);
    anyhow::ensure!(problems.is_empty(), "the relevance set is unusable:\n  {}", problems.join("\n  "));

    let distractor_needs = options.distractors / 5;
    write_distractors(&services, options, distractor_needs).await?;
    let written = Written::write(&services, set).await?;
    rebuild_index(&services, options.progress).await?;
    let corpus = Corpus::read(&services).await?;
    let (outcomes, mut matches_per_record) = match_judged_needs(&services, set, &written, &corpus, options).await?;
    let records_per_second = match_sample(&services, set, &written, options, &mut matches_per_record).await?;
    let (queries, baseline_queries) = run_queries(&services, set, &written, &corpus).await?;

    Ok(Evaluation {
        distractor_seeds: options.distractors,
        distractor_needs,
        set_seeds: set.seeds.len(),
        set_needs: set.needs.len(),
        corpus_seeds: corpus.seeds.len(),
        needs: outcomes,
        matches_per_record,
        records_per_second,
        queries,
        baseline_queries,
    })
}

async fn write_distractors(services: &Services, options: &Options, distractor_needs: usize) -> anyhow::Result<()> {
    let writing = bar((options.distractors + distractor_needs) as u64, "writing distractors", options.progress);
    crate::demo_data::generate(services, options.distractors, distractor_needs, options.rng_seed, &|done| {
        writing.set_position(done as u64);
    })
    .await?;
    writing.finish_and_clear();
    Ok(())
}

/// The set's records as written: their organisations and the ids they were given.
struct Written<'a> {
    university: Uuid,
    company: Uuid,
    /// The set's key of every record written, by id.
    keys: HashMap<Uuid, &'a str>,
    seed_ids: HashMap<&'a str, Uuid>,
    need_ids: HashMap<&'a str, Uuid>,
}

impl<'a> Written<'a> {
    /// Writes the set's records, belonging to organisations of their own and published as
    /// members would see them.
    async fn write(services: &Services, set: &'a RelevanceSet) -> anyhow::Result<Written<'a>> {
        let university = services
            .ensure_organization("評価用医科大学", "Evaluation Medical University", OrganizationKind::Academia)
            .await
            .map_err(svc)?;
        let company = services
            .ensure_organization("評価用製薬株式会社", "Evaluation Pharma K.K.", OrganizationKind::Company)
            .await
            .map_err(svc)?;
        let news: Vec<seeds::NewSeed> = set
            .seeds
            .iter()
            .map(|s| {
                let mut content = seed_content(s);
                let _ = content.normalize_and_validate(&services.taxonomy);
                seeds::NewSeed {
                    organization_id: university.id,
                    owner_id: None,
                    content,
                    status: RecordStatus::Published,
                    external_ref: None,
                }
            })
            .collect();
        let txn = services.write_txn().await.map_err(svc)?;
        let ids = seeds::insert_many(&txn, &news).await?;
        let mut new_needs = Vec::new();
        for n in &set.needs {
            let mut content = need_content(n);
            let _ = content.normalize_and_validate(&services.taxonomy);
            let stored =
                needs::insert(&txn, needs::NewNeed { organization_id: company.id, owner_id: None, content }).await?;
            new_needs.push(stored.id);
        }
        needs::publish_all(&txn, &new_needs).await?;
        txn.commit().await?;
        let mut written = Written {
            university: university.id,
            company: company.id,
            keys: HashMap::new(),
            seed_ids: HashMap::new(),
            need_ids: HashMap::new(),
        };
        for (s, id) in set.seeds.iter().zip(ids) {
            written.keys.insert(id, &s.key);
            written.seed_ids.insert(&s.key, id);
        }
        for (n, id) in set.needs.iter().zip(new_needs) {
            written.keys.insert(id, &n.key);
            written.need_ids.insert(&n.key, id);
        }
        Ok(written)
    }

    /// The set's keys of `ids` in their order, `None` for a distractor.
    fn keys_of(&self, ids: impl IntoIterator<Item = Uuid>) -> Vec<Option<&'a str>> {
        ids.into_iter().map(|id| self.keys.get(&id).copied()).collect()
    }
}

async fn rebuild_index(services: &Services, progress: bool) -> anyhow::Result<()> {
    let indexing = bar(0, "indexing", progress);
    services
        .rebuild_index(&|done, total| {
            indexing.set_length(total);
            indexing.set_position(done);
        })
        .await
        .map_err(svc)?;
    indexing.finish_and_clear();
    Ok(())
}

/// The baseline over the same corpus as the index: every published seed and need.
struct Corpus {
    seeds: TfIdf,
    needs: TfIdf,
}

impl Corpus {
    async fn read(services: &Services) -> anyhow::Result<Corpus> {
        let (mut seed_texts, mut need_texts) = (Vec::new(), Vec::new());
        let mut after = None;
        loop {
            let page = seeds::published_after(&services.db, after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            seed_texts.extend(page.into_iter().map(|s| {
                let c = s.content;
                (s.id, format!("{}\n{}\n{}", c.title, c.summary, c.keywords.join(" ")))
            }));
        }
        let mut after = None;
        loop {
            let page = needs::published_after(&services.db, after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            need_texts.extend(page.into_iter().map(|n| {
                let c = n.content;
                (n.id, format!("{}\n{}\n{}", c.title, c.description, c.keywords.join(" ")))
            }));
        }
        Ok(Corpus {
            seeds: TfIdf::build(seed_texts.iter().map(|(id, t)| (*id, t.as_str()))),
            needs: TfIdf::build(need_texts.iter().map(|(id, t)| (*id, t.as_str()))),
        })
    }
}

/// Matches every judged need and the baseline ranks seeds for it; also returns how many
/// matches the matcher kept for each.
async fn match_judged_needs(
    services: &Services,
    set: &RelevanceSet,
    written: &Written<'_>,
    corpus: &Corpus,
    options: &Options,
) -> anyhow::Result<(Vec<NeedOutcome>, Vec<usize>)> {
    let matching = bar(set.matches.len() as u64, "matching the set's needs", options.progress);
    let mut outcomes = Vec::with_capacity(set.matches.len());
    let mut matches_per_record = Vec::new();
    for m in &set.matches {
        let (Some(need), Some(id), Some(direction)) =
            (set.needs.iter().find(|n| n.key == m.need), written.need_ids.get(m.need.as_str()), direction(set, m))
        else {
            continue;
        };
        let outcome = services.match_record(RecordKind::Need, *id).await.map_err(svc)?;
        let ranked = written.keys_of(outcome.matched.iter().copied());
        matches_per_record.push(outcome.matched.len());
        let text = format!("{}\n{}\n{}", need.title, need.description, need.keywords.join(" "));
        let base = written.keys_of(corpus.seeds.rank(&text, 50, None).into_iter().map(|(id, _)| id));
        outcomes.push(NeedOutcome {
            key: need.key.clone(),
            title: need.title.clone(),
            direction,
            relevant: m.relevant_seeds().into_iter().map(str::to_owned).collect(),
            matching: judge(&ranked, m),
            kept: outcome.matched.len(),
            top: ranked.iter().take(10).map(|k| k.map(|k| (k.to_owned(), m.grade(k)))).collect(),
            baseline: judge(&base, m),
        });
        matching.inc(1);
    }
    matching.finish_and_clear();
    Ok((outcomes, matches_per_record))
}

/// Matches the set's seeds, its needs without judgements and a sample of distractors of each
/// kind, adding the matches kept per record; returns the records matched per second.
async fn match_sample(
    services: &Services,
    set: &RelevanceSet,
    written: &Written<'_>,
    options: &Options,
    matches_per_record: &mut Vec<usize>,
) -> anyhow::Result<f64> {
    let mut others: Vec<(RecordKind, Uuid)> = set
        .seeds
        .iter()
        .filter_map(|s| written.seed_ids.get(s.key.as_str()).map(|id| (RecordKind::Seed, *id)))
        .chain(
            set.needs
                .iter()
                .filter(|n| !set.matches.iter().any(|m| m.need == n.key))
                .filter_map(|n| written.need_ids.get(n.key.as_str()).map(|id| (RecordKind::Need, *id))),
        )
        .collect();
    let sample = u64::try_from(options.sample).unwrap_or(u64::MAX);
    others.extend(
        seeds::published_after(&services.db, None, sample + 1)
            .await?
            .into_iter()
            .filter(|s| !written.keys.contains_key(&s.id))
            .take(options.sample)
            .map(|s| (RecordKind::Seed, s.id)),
    );
    others.extend(
        needs::published_after(&services.db, None, sample + 1)
            .await?
            .into_iter()
            .filter(|n| !written.keys.contains_key(&n.id))
            .take(options.sample)
            .map(|n| (RecordKind::Need, n.id)),
    );
    let counting = bar(others.len() as u64, "matching a sample of records", options.progress);
    let started = std::time::Instant::now();
    let sampled = others.len();
    for (kind, id) in others {
        matches_per_record.push(services.match_record(kind, id).await.map_err(svc)?.matched.len());
        counting.inc(1);
    }
    let records_per_second = sampled as f64 / started.elapsed().as_secs_f64().max(1e-9);
    counting.finish_and_clear();
    Ok(records_per_second)
}

/// Runs every query as members send them (seeds searched by a company member, needs by a
/// researcher), and through the baseline.
async fn run_queries(
    services: &Services,
    set: &RelevanceSet,
    written: &Written<'_>,
    corpus: &Corpus,
) -> anyhow::Result<(Vec<QueryOutcome>, Vec<QueryOutcome>)> {
    let searcher = |kind: Kind| Authenticated {
        id: Uuid::nil(),
        organization_id: if kind == Kind::Seed { written.company } else { written.university },
        role: if kind == Kind::Seed { Role::Company } else { Role::Researcher },
        email: "relevance@evaluation.invalid".into(),
        name: "relevance".into(),
        locale: Locale::Ja,
    };
    let mut queries = Vec::with_capacity(set.queries.len());
    let mut baseline_queries = Vec::with_capacity(set.queries.len());
    for q in &set.queries {
        let page = services
            .search(
                &searcher(q.kind),
                SearchQuery {
                    text: q.q.clone(),
                    kind: Some(q.kind),
                    page: Page { page: 1, per_page: 10 },
                    ..Default::default()
                },
            )
            .await
            .map_err(svc)?;
        let found = written.keys_of(page.items.iter().map(|i| i.hit.id));
        queries.push(query_outcome(&q.q, &q.relevant, &found));
        let baseline = if q.kind == Kind::Seed { &corpus.seeds } else { &corpus.needs };
        let found = written.keys_of(baseline.rank(&q.q, 10, None).into_iter().map(|(id, _)| id));
        baseline_queries.push(query_outcome(&q.q, &q.relevant, &found));
    }
    Ok((queries, baseline_queries))
}

fn query_outcome(q: &str, relevant: &[String], found: &[Option<&str>]) -> QueryOutcome {
    QueryOutcome {
        query: q.to_owned(),
        relevant: relevant.to_vec(),
        ranks: relevant.iter().map(|r| found.iter().position(|f| *f == Some(r.as_str())).map(|p| p + 1)).collect(),
        returned: found.len(),
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// The nearest-rank percentile of `values` (sorted here).
#[must_use]
pub fn percentile(values: &[usize], p: f64) -> usize {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return 0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a rank between 0 and the list's length"
    )]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Means over a group of needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub needs: usize,
    pub recall_at_10: f64,
    pub mrr: f64,
    pub ndcg_at_10: f64,
    pub negatives_in_top_10: usize,
}

fn summary<'a>(judged: impl Iterator<Item = &'a Judged> + Clone) -> Summary {
    Summary {
        needs: judged.clone().count(),
        recall_at_10: mean(judged.clone().map(|j| j.recall_at_10)),
        mrr: mean(judged.clone().map(|j| j.reciprocal_rank)),
        ndcg_at_10: mean(judged.clone().map(|j| j.ndcg_at_10)),
        negatives_in_top_10: judged.map(|j| j.negatives_in_top_10).sum(),
    }
}

fn ratio(value: f64, target: f64) -> String {
    if target > 0.0 { format!("{:.2}×", value / target) } else { "—".into() }
}

fn ranks(ranks: &[Option<usize>]) -> String {
    ranks.iter().map(|r| r.map_or_else(|| "-".to_owned(), |r| r.to_string())).collect::<Vec<_>>().join(" ")
}

impl Evaluation {
    /// Matching figures of one direction (`None`: all needs).
    #[must_use]
    pub fn matching(&self, direction: Option<Direction>) -> Summary {
        summary(self.needs.iter().filter(|n| direction.is_none_or(|d| n.direction == d)).map(|n| &n.matching))
    }

    /// The baseline's figures of one direction (`None`: all needs).
    #[must_use]
    pub fn baseline(&self, direction: Option<Direction>) -> Summary {
        summary(self.needs.iter().filter(|n| direction.is_none_or(|d| n.direction == d)).map(|n| &n.baseline))
    }

    #[must_use]
    pub fn search_recall(&self) -> f64 {
        mean(self.queries.iter().map(QueryOutcome::recall))
    }

    #[must_use]
    pub fn baseline_search_recall(&self) -> f64 {
        mean(self.baseline_queries.iter().map(QueryOutcome::recall))
    }

    /// The report: per need where matching missed, per direction beside the baseline, the
    /// search queries that missed, and the targets with ratios.
    #[must_use]
    pub fn report(&self, command: &str) -> String {
        let mut out = String::new();
        self.write_corpus(&mut out, command);
        self.write_matching_misses(&mut out);
        self.write_directions(&mut out);
        self.write_search_misses(&mut out);
        self.write_targets(&mut out);
        out
    }

    /// What was measured, on what corpus, and how.
    fn write_corpus(&self, out: &mut String, command: &str) {
        let _ = writeln!(
            out,
            "Real-style set: {} needs and {} seeds written among {} distractor seeds and {} distractor needs from demo-data ({} published seeds in all); `{command}`.",
            self.set_needs, self.set_seeds, self.distractor_seeds, self.distractor_needs, self.corpus_seeds
        );
        let _ = writeln!(
            out,
            "Matching is Services::match_record on each need (its ranking and its cut); the baseline is TF-IDF cosine over English words and Japanese character bigrams (no taxonomy, no glossary) over the same corpus.\n"
        );
    }

    /// Each need where matching missed a relevant seed or ranked a hard negative in its top ten.
    fn write_matching_misses(&self, out: &mut String) {
        let misses: Vec<&NeedOutcome> =
            self.needs.iter().filter(|n| n.matching.recall_at_10 < 1.0 || n.matching.negatives_in_top_10 > 0).collect();
        if misses.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "Needs where matching missed a relevant seed or ranked a hard negative in its top ten (top ten: set key:grade, · a distractor):"
        );
        for n in misses {
            let title: String = n.title.chars().take(40).collect();
            let top: Vec<String> = n
                .top
                .iter()
                .map(|t| match t {
                    Some((k, Some(g))) => format!("{k}:{g}"),
                    Some((k, None)) => k.clone(),
                    None => "·".into(),
                })
                .collect();
            let _ = writeln!(
                out,
                "  {} {} {title} — wants {} at {} (baseline {}), kept {}; top: {}",
                n.key,
                n.direction.label(),
                n.relevant.join(","),
                ranks(&n.matching.ranks),
                ranks(&n.baseline.ranks),
                n.kept,
                top.join(" ")
            );
        }
        let _ = writeln!(out);
    }

    /// Matching beside the baseline, per direction and over all needs.
    fn write_directions(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "| direction | needs | recall@10 | MRR | nDCG@10 | hard negatives in top 10 | baseline recall@10 | baseline MRR | baseline nDCG@10 | recall vs baseline |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        let rows = Direction::ALL.iter().map(|d| (d.label(), Some(*d))).chain([("all", None)]);
        for (label, d) in rows {
            let (m, b) = (self.matching(d), self.baseline(d));
            let _ = writeln!(
                out,
                "| {label} | {} | {:.3} | {:.3} | {:.3} | {} | {:.3} | {:.3} | {:.3} | {} |",
                m.needs,
                m.recall_at_10,
                m.mrr,
                m.ndcg_at_10,
                m.negatives_in_top_10,
                b.recall_at_10,
                b.mrr,
                b.ndcg_at_10,
                ratio(m.recall_at_10, b.recall_at_10)
            );
        }
    }

    /// The search queries and those that missed a relevant record, beside the baseline's ranks.
    fn write_search_misses(&self, out: &mut String) {
        let missed: Vec<&QueryOutcome> = self.queries.iter().filter(|q| q.recall() < 1.0).collect();
        let _ = writeln!(
            out,
            "\nSearch: {} queries through Services::search (seeds as a company member, needs as a researcher), ten results each.",
            self.queries.len()
        );
        for q in missed {
            let base =
                self.baseline_queries.iter().find(|b| b.query == q.query).map_or_else(String::new, |b| ranks(&b.ranks));
            let _ = writeln!(
                out,
                "  missed: {:?} wants {} at {} (baseline {base})",
                q.query,
                q.relevant.join(","),
                ranks(&q.ranks)
            );
        }
    }

    /// Every figure against its target.
    fn write_targets(&self, out: &mut String) {
        let _ = writeln!(out, "\nTargets:\n");
        let _ = writeln!(out, "| figure | value | target | ratio |");
        let _ = writeln!(out, "|---|---|---|---|");
        for d in Direction::ALL {
            let m = self.matching(Some(d));
            let _ = writeln!(
                out,
                "| matching recall@10, {} | {:.3} | ≥ 0.9 | {} |",
                d.label(),
                m.recall_at_10,
                ratio(m.recall_at_10, 0.9)
            );
            let _ = writeln!(out, "| matching MRR, {} | {:.3} | ≥ 0.8 | {} |", d.label(), m.mrr, ratio(m.mrr, 0.8));
        }
        let (all, base) = (self.matching(None), self.baseline(None));
        let times = if base.recall_at_10 > 0.0 { all.recall_at_10 / base.recall_at_10 } else { f64::INFINITY };
        let _ = writeln!(
            out,
            "| matching recall@10 against the baseline's ({:.3} / {:.3}) | {times:.2}× | ≥ 1.5× | {:.2}× |",
            all.recall_at_10,
            base.recall_at_10,
            times / 1.5
        );
        self.write_matches_per_record(out);
        let _ = writeln!(
            out,
            "| records matched per second, one at a time through match_record (the set's seeds and the sample; a debug build is slower) | {:.0} | ≥ 1,000 (bulk) | {} |",
            self.records_per_second,
            ratio(self.records_per_second, 1000.0)
        );
        let recall = self.search_recall();
        let _ = writeln!(
            out,
            "| search recall@10 (baseline {:.3}) | {recall:.3} | ≥ 0.9 | {} |",
            self.baseline_search_recall(),
            ratio(recall, 0.9)
        );
    }

    /// The median and 95th percentile of the matches kept per record, against the cap.
    fn write_matches_per_record(&self, out: &mut String) {
        let median = percentile(&self.matches_per_record, 50.0);
        let p95 = percentile(&self.matches_per_record, 95.0);
        let _ = writeln!(
            out,
            "| median matches per record ({} records; 95th percentile {p95}) | {median} | ≤ 20 | {} |",
            self.matches_per_record.len(),
            ratio(median as f64, 20.0)
        );
        let _ = writeln!(
            out,
            "| 95th percentile matches per record | {p95} | ≤ 20 (the cap, matching.max_per_record) | {} |",
            ratio(p95 as f64, 20.0)
        );
    }
}

/// The small set's report, as `relevance` has always printed it: search per query, and the
/// matching of its judged needs scored with the configured weights.
///
/// # Errors
/// When the index fails.
pub fn small_set_report(settings: &Settings, set: &RelevanceSet) -> anyhow::Result<String> {
    let mut out = String::new();
    let evaluation = set.evaluate()?;
    let _ = writeln!(out, "{:<36} {:>8} {:>6}  ranks of the relevant documents", "query", "recall", "RR");
    for o in &evaluation.outcomes {
        let _ = writeln!(out, "{:<36} {:>8.2} {:>6.2}  {}", o.query, o.recall(), o.reciprocal_rank(), ranks(&o.ranks));
    }
    let _ = writeln!(
        out,
        "\n{} queries over {} seeds and {} needs: recall@10 {:.3}, MRR {:.3}",
        evaluation.outcomes.len(),
        set.seeds.len(),
        set.needs.len(),
        evaluation.recall_at_10(),
        evaluation.mrr()
    );
    let weights = settings.matching_config().weights;
    let matching = set.evaluate_matching(|seed, need, text| {
        let (seed, need) = (seed_content(seed), need_content(need));
        let fit = kakehashi_domain::matching::taxonomy_fit(&seed, &need);
        weights.combine(text, &fit)
    })?;
    let _ =
        writeln!(out, "\n{:<60} {:>8} {:>6}  ranks of the expected seeds", "need → seeds (matching)", "recall", "RR");
    for o in &matching.outcomes {
        let label: String = o.query.chars().take(58).collect();
        let _ = writeln!(out, "{label:<60} {:>8.2} {:>6.2}  {}", o.recall(), o.reciprocal_rank(), ranks(&o.ranks));
    }
    let _ = writeln!(
        out,
        "\n{} needs: matching recall@10 {:.3}, MRR {:.3} (weights text {} / taxonomy {})",
        matching.outcomes.len(),
        matching.recall_at_10(),
        matching.mrr(),
        weights.text,
        weights.taxonomy
    );
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../../tests/relevance/real.json");

    #[test]
    fn the_real_set_is_whole_and_covers_every_direction() {
        let set = RelevanceSet::from_json(REAL).unwrap();
        let taxonomy = kakehashi_domain::Taxonomy::builtin().unwrap();
        let problems = check(&set, &taxonomy);
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(set.matches.len() >= 60, "{} judged needs", set.matches.len());
        for d in Direction::ALL {
            let n = set.matches.iter().filter(|m| direction(&set, m) == Some(d)).count();
            assert!(n >= 15, "{}: {n} needs", d.label());
        }
        let graded = |g: u8| set.matches.iter().flat_map(SetMatch::judged).filter(|(_, x)| *x == g).count();
        assert!(graded(0) >= 30 && graded(1) >= 15, "hard negatives and partial fits are judged");
        assert!(set.queries.len() >= 30, "{} queries", set.queries.len());
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[5, 1, 3], 50.0), 3);
        assert_eq!(percentile(&(1..=100).collect::<Vec<_>>(), 95.0), 95);
    }

    /// The whole evaluation on a few distractors: every figure is produced (no quality floor).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_evaluation_runs_among_distractors() {
        let set = RelevanceSet::from_json(REAL).unwrap();
        let settings = Settings::load(None).unwrap();
        let options = Options { distractors: 100, rng_seed: 3, sample: 2, progress: false };
        let evaluation = evaluate(&settings, &set, &options).await.unwrap();
        assert_eq!(evaluation.needs.len(), set.matches.len());
        assert_eq!(evaluation.queries.len(), set.queries.len());
        assert!(evaluation.corpus_seeds >= set.seeds.len() + 80, "{} published seeds", evaluation.corpus_seeds);
        assert!(evaluation.matches_per_record.len() >= set.matches.len() + set.seeds.len() + 4);
        let report = evaluation.report("relevance --distractors 100");
        for d in Direction::ALL {
            assert!(report.contains(&format!("| matching recall@10, {} |", d.label())), "{report}");
        }
        for figure in [
            "median matches per record",
            "95th percentile",
            "records matched per second",
            "search recall@10",
            "against the baseline's",
        ] {
            assert!(report.contains(figure), "{figure}: {report}");
        }
    }
}
