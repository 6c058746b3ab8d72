//! Measuring search quality on a fixed set: documents, queries and the documents an expert wants
//! in the top ten for each (`tests/relevance/set.json`). Reports recall@10 and mean reciprocal
//! rank, so a change to analysis or scoring can be compared with the one before.

pub mod baseline;

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use kakehashi_domain::Visibility;
use serde::Deserialize;
use uuid::Uuid;

use crate::{Audience, Kind, NeedAudience, Op, Result, SearchDoc, SearchIndex, SearchRequest, SeedAudience};

#[derive(Debug, Clone, Deserialize)]
pub struct SetSeed {
    pub key: String,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub modalities: Vec<String>,
    #[serde(default)]
    pub disease_areas: Vec<String>,
    pub stage: String,
    pub ip_status: String,
    #[serde(default)]
    pub deal_types: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SetNeed {
    pub key: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub modalities: Vec<String>,
    #[serde(default)]
    pub disease_areas: Vec<String>,
    #[serde(default)]
    pub stages: Vec<String>,
    #[serde(default)]
    pub deal_types: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SetQuery {
    pub q: String,
    pub kind: Kind,
    pub relevant: Vec<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SetMatch {
    pub need: String,
    /// Seeds an expert wants in the need's top ten (grade 3 unless `grades` says otherwise).
    #[serde(default)]
    pub relevant: Vec<String>,
    /// Graded judgements of seeds for this need: 3 exactly what it asks for, 2 relevant, 1 a
    /// partial fit (same target or approach, another indication or modality), 0 judged not
    /// relevant although close (a hard negative: same modality and disease area, another
    /// mechanism or target).
    #[serde(default)]
    pub grades: BTreeMap<String, u8>,
}

impl SetMatch {
    /// The grade of a seed; `None` when it was not judged.
    #[must_use]
    pub fn grade(&self, seed: &str) -> Option<u8> {
        self.grades.get(seed).copied().or_else(|| self.relevant.iter().any(|r| r == seed).then_some(3))
    }

    /// Every judged seed with its grade.
    #[must_use]
    pub fn judged(&self) -> Vec<(&str, u8)> {
        let mut out: Vec<(&str, u8)> = self.grades.iter().map(|(k, g)| (k.as_str(), *g)).collect();
        for r in &self.relevant {
            if !self.grades.contains_key(r) {
                out.push((r.as_str(), 3));
            }
        }
        out
    }

    /// The seeds that count for recall and reciprocal rank: graded 2 or 3.
    #[must_use]
    pub fn relevant_seeds(&self) -> Vec<&str> {
        self.judged().into_iter().filter(|(_, g)| *g >= RELEVANT_GRADE).map(|(k, _)| k).collect()
    }
}

/// The lowest grade that counts as relevant for recall and reciprocal rank.
pub const RELEVANT_GRADE: u8 = 2;

/// One ranked list judged against graded relevance: recall@10 and the reciprocal rank over the
/// seeds graded 2 or more, nDCG@10 over all grades (gain 2^g − 1), and how many seeds judged
/// not relevant (grade 0) made the top ten.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub recall_at_10: f64,
    pub reciprocal_rank: f64,
    pub ndcg_at_10: f64,
    pub negatives_in_top_10: usize,
    /// The 1-based rank of each relevant seed, in the order of [`SetMatch::relevant_seeds`].
    pub ranks: Vec<Option<usize>>,
    /// The ranks of the seeds judged 0 that were returned.
    pub negative_ranks: Vec<usize>,
}

/// Judges `ranked` (best first; `None` for records outside the set) against `judgements`.
#[must_use]
pub fn judge(ranked: &[Option<&str>], judgements: &SetMatch) -> Judged {
    let relevant = judgements.relevant_seeds();
    let position = |key: &str| ranked.iter().position(|r| *r == Some(key)).map(|p| p + 1);
    let ranks: Vec<Option<usize>> = relevant.iter().map(|k| position(k)).collect();
    let in_top = ranks.iter().filter(|r| r.is_some_and(|r| r <= 10)).count();
    let recall_at_10 = if relevant.is_empty() { 1.0 } else { in_top as f64 / relevant.len() as f64 };
    let reciprocal_rank = ranks.iter().flatten().min().map_or(0.0, |r| 1.0 / *r as f64);
    let gain = |g: u8| f64::from((1u32 << g) - 1);
    let discount = |i: usize| (i as f64 + 2.0).log2();
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, r)| r.and_then(|k| judgements.grade(k)).map_or(0.0, |g| gain(g) / discount(i)))
        .sum();
    let mut ideal: Vec<u8> = judgements.judged().into_iter().map(|(_, g)| g).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(10).enumerate().map(|(i, g)| gain(*g) / discount(i)).sum();
    let negative_ranks: Vec<usize> = ranked
        .iter()
        .enumerate()
        .filter(|(_, r)| r.and_then(|k| judgements.grade(k)) == Some(0))
        .map(|(i, _)| i + 1)
        .collect();
    Judged {
        recall_at_10,
        reciprocal_rank,
        ndcg_at_10: if idcg > 0.0 { dcg / idcg } else { 0.0 },
        negatives_in_top_10: negative_ranks.iter().filter(|r| **r <= 10).count(),
        ranks,
        negative_ranks,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RelevanceSet {
    #[serde(default)]
    pub description: String,
    pub seeds: Vec<SetSeed>,
    pub needs: Vec<SetNeed>,
    pub queries: Vec<SetQuery>,
    #[serde(default)]
    pub matches: Vec<SetMatch>,
}

/// How one query did: the rank (1-based) of each relevant document in the top ten, if there.
#[derive(Debug, Clone)]
pub struct QueryOutcome {
    pub query: String,
    pub relevant: Vec<String>,
    pub ranks: Vec<Option<usize>>,
    pub returned: usize,
}

impl QueryOutcome {
    #[must_use]
    pub fn recall(&self) -> f64 {
        if self.relevant.is_empty() {
            return 1.0;
        }
        self.ranks.iter().filter(|r| r.is_some()).count() as f64 / self.relevant.len() as f64
    }

    #[must_use]
    pub fn reciprocal_rank(&self) -> f64 {
        self.ranks.iter().flatten().min().map_or(0.0, |r| 1.0 / *r as f64)
    }
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub outcomes: Vec<QueryOutcome>,
}

impl Evaluation {
    #[must_use]
    pub fn recall_at_10(&self) -> f64 {
        mean(self.outcomes.iter().map(QueryOutcome::recall))
    }

    #[must_use]
    pub fn mrr(&self) -> f64 {
        mean(self.outcomes.iter().map(QueryOutcome::reciprocal_rank))
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// A stable id per key, so results map back to the set's names.
#[must_use]
pub fn key_id(key: &str) -> Uuid {
    // FNV-1a, 128-bit: stable across runs and platforms.
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in key.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    Uuid::from_u128(hash)
}

impl RelevanceSet {
    /// # Errors
    /// When the text is not a relevance set.
    pub fn from_json(text: &str) -> std::result::Result<RelevanceSet, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The set's documents as index documents (seeds, then needs).
    #[must_use]
    pub fn documents(&self) -> Vec<SearchDoc> {
        let org = Uuid::nil();
        let seeds = self.seeds.iter().map(|s| SearchDoc {
            kind: Kind::Seed,
            id: key_id(&s.key),
            organization_id: org,
            visibility: Visibility::Members,
            anonymous: false,
            title: s.title.clone(),
            body: format!("{}\n{}", s.summary, s.keywords.join(" ")),
            modalities: s.modalities.clone(),
            disease_areas: s.disease_areas.clone(),
            stages: vec![s.stage.clone()],
            ip_status: Some(s.ip_status.clone()),
            deal_types: s.deal_types.clone(),
            language: kakehashi_domain::detect_language(&format!("{} {}", s.title, s.summary)),
            published_at: Utc::now(),
        });
        let needs = self.needs.iter().map(|n| SearchDoc {
            kind: Kind::Need,
            id: key_id(&n.key),
            organization_id: org,
            visibility: Visibility::Members,
            anonymous: false,
            title: n.title.clone(),
            body: format!("{}\n{}", n.description, n.keywords.join(" ")),
            modalities: n.modalities.clone(),
            disease_areas: n.disease_areas.clone(),
            stages: n.stages.clone(),
            ip_status: None,
            deal_types: n.deal_types.clone(),
            language: kakehashi_domain::detect_language(&format!("{} {}", n.title, n.description)),
            published_at: Utc::now(),
        });
        seeds.chain(needs).collect()
    }

    /// The set's documents in an index in memory.
    fn index(&self) -> Result<SearchIndex> {
        let index = SearchIndex::in_memory()?;
        let ops: Vec<Op> = self.documents().into_iter().map(|d| Op::Upsert(Box::new(d))).collect();
        index.apply(&ops, Some(0))?;
        Ok(index)
    }

    /// Indexes the set in memory and runs every query as an admin would.
    ///
    /// # Errors
    /// When the index fails.
    pub fn evaluate(&self) -> Result<Evaluation> {
        let index = self.index()?;
        let keys: HashMap<Uuid, &str> = self
            .seeds
            .iter()
            .map(|s| s.key.as_str())
            .chain(self.needs.iter().map(|n| n.key.as_str()))
            .map(|k| (key_id(k), k))
            .collect();
        let audience = Audience { seeds: SeedAudience::All, needs: NeedAudience::All };
        let mut outcomes = Vec::with_capacity(self.queries.len());
        for query in &self.queries {
            let request =
                SearchRequest { text: query.q.clone(), kind: Some(query.kind), limit: 10, ..Default::default() };
            let results = index.search(&request, &audience)?;
            let found: Vec<&str> = results.hits.iter().filter_map(|h| keys.get(&h.id).copied()).collect();
            let ranks = query.relevant.iter().map(|r| found.iter().position(|f| f == r).map(|p| p + 1)).collect();
            outcomes.push(QueryOutcome {
                query: query.q.clone(),
                relevant: query.relevant.clone(),
                ranks,
                returned: found.len(),
            });
        }
        Ok(Evaluation { outcomes })
    }
}

impl RelevanceSet {
    /// Ranks the seeds for every need in `matches` as matching does: the need's text as an
    /// any-word query, scores relative to the need's own, then `score(seed, need, text)` combines
    /// the text with the taxonomy. Reports recall@10 and MRR over the expected seeds.
    ///
    /// # Errors
    /// When the index fails.
    pub fn evaluate_matching(&self, score: impl Fn(&SetSeed, &SetNeed, f64) -> f64) -> Result<Evaluation> {
        let index = self.index()?;
        let seeds: HashMap<Uuid, &SetSeed> = self.seeds.iter().map(|s| (key_id(&s.key), s)).collect();
        let audience = Audience { seeds: SeedAudience::All, needs: NeedAudience::All };
        let mut outcomes = Vec::with_capacity(self.matches.len());
        for expected in &self.matches {
            let Some(need) = self.needs.iter().find(|n| n.key == expected.need) else { continue };
            let ranked = rank_seeds(&index, &audience, &seeds, need, &score)?;
            let found: Vec<&str> = ranked.iter().take(10).map(|r| r.0).collect();
            let relevant: Vec<String> = expected.relevant_seeds().into_iter().map(str::to_owned).collect();
            let ranks = relevant.iter().map(|r| found.iter().position(|f| f == r).map(|p| p + 1)).collect();
            outcomes.push(QueryOutcome {
                query: format!("{} {}", need.key, need.title),
                relevant,
                ranks,
                returned: found.len(),
            });
        }
        Ok(Evaluation { outcomes })
    }
}

/// The seeds for `need` as matching ranks them, best first: the need's text as an any-word
/// query, scores relative to the need's own, and the seeds sharing a modality and a disease area
/// without words in common; each scored by `score(seed, need, text)`.
fn rank_seeds<'s>(
    index: &SearchIndex,
    audience: &Audience,
    seeds: &HashMap<Uuid, &'s SetSeed>,
    need: &SetNeed,
    score: &impl Fn(&SetSeed, &SetNeed, f64) -> f64,
) -> Result<Vec<(&'s str, f64)>> {
    let id = key_id(&need.key);
    let text = format!("{}\n{}\n{}", need.title, need.description, need.keywords.join(" "));
    let own = SearchRequest { text: text.clone(), any_term: true, only: vec![id], limit: 1, ..Default::default() };
    let own = index.search(&own, audience)?.hits.first().and_then(|h| h.score).unwrap_or(0.0);
    let request = SearchRequest {
        text,
        kind: Some(Kind::Seed),
        any_term: true,
        limit: 50,
        ranking_only: true,
        ..Default::default()
    };
    let hits = index.search(&request, audience)?.hits;
    let top = hits.first().and_then(|h| h.score).unwrap_or(0.0);
    let yardstick = f64::from(if own > 0.0 { own.max(top) } else { top });
    let mut ranked: Vec<(&str, f64)> = hits
        .iter()
        .filter_map(|h| {
            let seed = seeds.get(&h.id)?;
            let relative = if yardstick > 0.0 { f64::from(h.score.unwrap_or(0.0)) / yardstick } else { 0.0 };
            Some((seed.key.as_str(), score(seed, need, relative)))
        })
        .collect();
    // As matching does: seeds sharing a modality and a disease area join without words.
    if !need.modalities.is_empty() && !need.disease_areas.is_empty() {
        let by_taxonomy = SearchRequest {
            kind: Some(Kind::Seed),
            filters: crate::FacetFilters {
                modality: need.modalities.clone(),
                disease_area: need.disease_areas.clone(),
                ..Default::default()
            },
            limit: 50,
            ranking_only: true,
            ..Default::default()
        };
        for h in index.search(&by_taxonomy, audience)?.hits {
            if let Some(seed) = seeds.get(&h.id)
                && !ranked.iter().any(|(key, _)| *key == seed.key)
            {
                ranked.push((seed.key.as_str(), score(seed, need, 0.0)));
            }
        }
    }
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(ranked)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A floor under search quality on the shipped set: a change that loses it fails here.
    #[test]
    fn the_shipped_set_is_found() {
        let set = RelevanceSet::from_json(include_str!("../../../tests/relevance/set.json")).unwrap();
        let evaluation = set.evaluate().unwrap();
        for o in &evaluation.outcomes {
            if o.recall() < 1.0 {
                eprintln!("{:<30} recall {:.2} ranks {:?}", o.query, o.recall(), o.ranks);
            }
        }
        assert!(evaluation.recall_at_10() >= 0.9, "recall@10 {:.3}", evaluation.recall_at_10());
        assert!(evaluation.mrr() >= 0.8, "MRR {:.3}", evaluation.mrr());
    }
}
