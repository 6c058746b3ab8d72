//! The HTTP load's query mix: well over a thousand distinct searches drawn from the corpus's own
//! words and the taxonomy, so that what the load measures is the engine, not how often an answer
//! repeats. English words and pairs of them, Japanese words, one- and two-character Japanese,
//! facets alone and with text, newest first, and pages deep into the results.

use std::collections::BTreeSet;

use kakehashi_domain::{Taxonomy, TaxonomyKind};

/// Distinct searches the mix holds at least.
pub const AT_LEAST: usize = 1_200;

/// A small deterministic generator (xorshift), so every run sends the same mix.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}')
}

/// The words of the corpus: English words of four letters or more, Japanese runs (kanji and
/// kana), their single characters and their two-character pieces.
#[derive(Debug, Default)]
pub struct Vocabulary {
    english: Vec<String>,
    japanese: Vec<String>,
    one: Vec<String>,
    two: Vec<String>,
}

impl Vocabulary {
    /// The vocabulary of these texts.
    #[must_use]
    pub fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vocabulary {
        let (mut english, mut japanese, mut one, mut two) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for text in texts {
            for word in text.split(|c: char| !c.is_ascii_alphabetic()) {
                if word.len() >= 4 {
                    english.insert(word.to_lowercase());
                }
            }
            let mut run = String::new();
            for c in text.chars().chain(std::iter::once(' ')) {
                if is_cjk(c) {
                    run.push(c);
                    continue;
                }
                let chars: Vec<char> = run.chars().collect();
                for c in &chars {
                    one.insert(c.to_string());
                }
                for pair in chars.windows(2) {
                    two.insert(pair.iter().collect::<String>());
                }
                if (2..=8).contains(&chars.len()) {
                    japanese.insert(run.clone());
                }
                run.clear();
            }
        }
        let list = |set: BTreeSet<String>| set.into_iter().collect::<Vec<_>>();
        Vocabulary { english: list(english), japanese: list(japanese), one: list(one), two: list(two) }
    }
}

/// One search of the mix: its class and its path.
#[derive(Debug, Clone)]
pub struct Search {
    pub class: &'static str,
    pub path: String,
}

/// The mix: at least [`AT_LEAST`] distinct searches, in a fixed order.
#[must_use]
pub fn mix(vocabulary: &Vocabulary, taxonomy: &Taxonomy) -> Vec<Search> {
    let values = |kind| taxonomy.terms(kind).map(|t| t.value.clone()).collect::<Vec<_>>();
    let (modalities, diseases, stages) =
        (values(TaxonomyKind::Modality), values(TaxonomyKind::DiseaseArea), values(TaxonomyKind::Stage));
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let classes: [&'static str; 8] = [
        "english",
        "english pair",
        "japanese",
        "japanese 1 char",
        "japanese 2 chars",
        "facets only",
        "text + facets",
        "deep page",
    ];
    let mut attempts = 0;
    while out.len() < AT_LEAST && attempts < AT_LEAST * 50 {
        attempts += 1;
        let class = classes[attempts % classes.len()];
        let mut query = form_urlencoded::Serializer::new(String::new());
        let text = match class {
            "english" => draw.pick(&vocabulary.english).cloned(),
            "english pair" => {
                let (a, b) = (draw.pick(&vocabulary.english), draw.pick(&vocabulary.english));
                a.zip(b).map(|(a, b)| format!("{a} {b}"))
            }
            "japanese" => draw.pick(&vocabulary.japanese).cloned(),
            "japanese 1 char" => draw.pick(&vocabulary.one).cloned(),
            "japanese 2 chars" => draw.pick(&vocabulary.two).cloned(),
            "facets only" => Some(String::new()),
            _ => draw.pick(&vocabulary.two).or(draw.pick(&vocabulary.english)).cloned(),
        };
        let Some(text) = text else { continue };
        query.append_pair("q", &text);
        if draw.below(3) > 0 {
            query.append_pair("kind", "seed");
        }
        if matches!(class, "facets only" | "text + facets") {
            for (name, values) in [("modality", &modalities), ("disease_area", &diseases), ("stage", &stages)] {
                for _ in 0..draw.below(3) {
                    if let Some(value) = draw.pick(values) {
                        query.append_pair(name, value);
                    }
                }
            }
        }
        if class == "deep page" {
            query.append_pair("page", &(2 + draw.below(49)).to_string());
        }
        if draw.below(5) == 0 {
            query.append_pair("sort", "newest");
        }
        let path = format!("/api/v1/search?{}", query.finish());
        if seen.insert(path.clone()) {
            out.push(Search { class, path });
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_distinct_and_draws_on_both_languages() {
        let texts = [
            "HER2陽性乳がんに対する抗体薬物複合体の前臨床研究",
            "Antisense oligonucleotides for Duchenne muscular dystrophy",
            "膵臓がんの血中バイオマーカーと早期診断",
            "Cyclic peptides targeting KRAS in pancreatic cancer",
        ];
        let vocabulary = Vocabulary::of(texts);
        assert!(vocabulary.one.contains(&"癌".to_owned()) || vocabulary.one.contains(&"が".to_owned()));
        assert!(vocabulary.english.contains(&"peptides".to_owned()));
        let taxonomy = Taxonomy::builtin().unwrap();
        let mix = mix(&vocabulary, &taxonomy);
        assert!(mix.len() >= AT_LEAST, "{} searches", mix.len());
        let distinct: BTreeSet<&str> = mix.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(distinct.len(), mix.len());
        for class in ["english", "japanese 1 char", "japanese 2 chars", "facets only", "deep page"] {
            assert!(mix.iter().any(|s| s.class == class), "{class}");
        }
    }
}
