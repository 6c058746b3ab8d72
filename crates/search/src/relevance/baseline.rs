//! The naive baseline the evaluation compares with: cosine similarity of TF-IDF vectors, where a
//! document's terms are its English words (lower-cased, no stemming, no stop words) and the
//! character bigrams of its Japanese runs (a single character when a run has only one). No
//! taxonomy, no glossary, no dictionary: what anyone would build first.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

fn is_japanese(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF        // hiragana, katakana
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xF900..=0xFAFF) // CJK compatibility ideographs
}

/// The baseline's terms of `text`, with repeats.
#[must_use]
pub fn terms(text: &str) -> Vec<String> {
    let text: String = text.nfkc().flat_map(char::to_lowercase).collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<String>| {
        match run.len() {
            0 => {}
            1 => out.push(run[0].to_string()),
            _ => out.extend(run.windows(2).map(|w| w.iter().collect::<String>())),
        }
        run.clear();
    };
    for c in text.chars() {
        if is_japanese(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.push(c);
        } else {
            flush_run(&mut run, &mut out);
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        }
    }
    flush_run(&mut run, &mut out);
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Documents as unit-length TF-IDF vectors in an inverted index.
#[derive(Debug, Default)]
pub struct TfIdf {
    ids: Vec<uuid::Uuid>,
    /// term → (document number, weight), weights of unit-length document vectors.
    postings: HashMap<String, Vec<(u32, f32)>>,
    idf: HashMap<String, f32>,
}

fn counts(text: &str) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    for t in terms(text) {
        *counts.entry(t).or_insert(0) += 1;
    }
    counts
}

impl TfIdf {
    /// Builds the index over `(id, text)` pairs.
    #[must_use]
    pub fn build<'a>(docs: impl IntoIterator<Item = (uuid::Uuid, &'a str)>) -> TfIdf {
        let mut ids = Vec::new();
        let mut per_doc: Vec<HashMap<String, u32>> = Vec::new();
        let mut df: HashMap<String, u32> = HashMap::new();
        for (id, text) in docs {
            let c = counts(text);
            for t in c.keys() {
                *df.entry(t.clone()).or_insert(0) += 1;
            }
            ids.push(id);
            per_doc.push(c);
        }
        let n = ids.len().max(1) as f32;
        let idf: HashMap<String, f32> = df.into_iter().map(|(t, d)| (t, (n / d as f32).ln() + 1.0)).collect();
        let mut postings: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        for (doc, c) in per_doc.into_iter().enumerate() {
            let weighted: Vec<(String, f32)> = c
                .into_iter()
                .map(|(t, tf)| (t.clone(), (1.0 + (tf as f32).ln()) * idf.get(&t).copied().unwrap_or(0.0)))
                .collect();
            let norm = weighted.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm <= 0.0 {
                continue;
            }
            for (t, w) in weighted {
                postings.entry(t).or_default().push((u32::try_from(doc).unwrap_or(u32::MAX), w / norm));
            }
        }
        TfIdf { ids, postings, idf }
    }

    /// The `limit` documents most similar to `text`, best first, with their cosine, leaving out
    /// `exclude`.
    #[must_use]
    pub fn rank(&self, text: &str, limit: usize, exclude: Option<uuid::Uuid>) -> Vec<(uuid::Uuid, f32)> {
        let query: Vec<(String, f32)> = counts(text)
            .into_iter()
            .filter_map(|(t, tf)| self.idf.get(&t).map(|idf| (t, (1.0 + (tf as f32).ln()) * idf)))
            .collect();
        let norm = query.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm <= 0.0 {
            return Vec::new();
        }
        let mut scores = vec![0f32; self.ids.len()];
        for (t, w) in &query {
            for (doc, dw) in self.postings.get(t).into_iter().flatten() {
                scores[*doc as usize] += w / norm * dw;
            }
        }
        let mut ranked: Vec<(uuid::Uuid, f32)> = scores
            .into_iter()
            .enumerate()
            .filter(|(i, s)| *s > 0.0 && Some(self.ids[*i]) != exclude)
            .map(|(i, s)| (self.ids[i], s))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit);
        ranked
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_runs_become_bigrams_and_latin_words_stay_whole() {
        assert_eq!(terms("膵がんのADC"), ["膵が", "がん", "んの", "adc"]);
        assert_eq!(terms("ＨＥＲ２陽性 breast-cancer"), ["her2", "陽性", "breast", "cancer"]);
        assert_eq!(terms("癌"), ["癌"]);
    }

    #[test]
    fn the_closest_text_ranks_first() {
        let (a, b, c) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2), uuid::Uuid::from_u128(3));
        let index = TfIdf::build([
            (a, "antisense oligonucleotide for Duchenne muscular dystrophy exon skipping"),
            (b, "antibody for breast cancer"),
            (c, "膵がんの血中バイオマーカー"),
        ]);
        let ranked = index.rank("exon skipping antisense for Duchenne", 10, None);
        assert_eq!(ranked.first().map(|r| r.0), Some(a));
        assert!(ranked.iter().all(|r| r.0 != c), "no shared term, no score");
        assert_eq!(index.rank("膵がん", 10, None).first().map(|r| r.0), Some(c));
        assert!(index.rank("膵がん", 10, Some(c)).is_empty());
    }
}
