//! Filters that do not depend on a query's text — a viewer's audience, a facet selection — as one
//! bit set per segment, built on first use and kept while the segment lives. Building one walks
//! every posting of its terms (the members-visible records are most of the index), which a
//! term-set query otherwise does again for every search, however few records the text matches.
//!
//! Segments never change once written (deletions are applied by the collectors, from the
//! segment's own list), so a kept set is right for as long as its segment is searched; sets of
//! merged-away segments go when the cache starts over at its memory budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::query::{BitSetDocSet, ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TantivyError, Term};

/// Bytes of bit sets kept at most; beyond, the cache starts over.
const BUDGET_BYTES: usize = 32 * 1024 * 1024;

type Key = (SegmentId, Arc<[Term]>);

/// The kept bit sets, by segment and terms.
#[derive(Debug, Default)]
pub(crate) struct FilterCache(Mutex<Kept>);

#[derive(Debug, Default)]
struct Kept {
    sets: HashMap<Key, Arc<BitSet>>,
    bytes: usize,
}

impl FilterCache {
    /// The documents of `reader` holding any of `terms` (of one field).
    fn documents(&self, reader: &SegmentReader, field: Field, terms: &Arc<[Term]>) -> tantivy::Result<Arc<BitSet>> {
        let key = (reader.segment_id(), Arc::clone(terms));
        if let Some(set) = self.0.lock().unwrap_or_else(PoisonError::into_inner).sets.get(&key) {
            return Ok(Arc::clone(set));
        }
        let mut set = BitSet::with_max_value(reader.max_doc());
        let inverted = reader.inverted_index(field)?;
        for term in terms.iter() {
            if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? {
                let mut doc = postings.doc();
                while doc != tantivy::TERMINATED {
                    set.insert(doc);
                    doc = postings.advance();
                }
            }
        }
        let set = Arc::new(set);
        let bytes = reader.max_doc() as usize / 8 + 64;
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.bytes + bytes > BUDGET_BYTES {
            *kept = Kept::default();
        }
        kept.bytes += bytes;
        kept.sets.insert(key, Arc::clone(&set));
        Ok(set)
    }
}

/// Documents holding any of a set of terms of one field, from the cache; scores nothing.
#[derive(Clone)]
pub(crate) struct CachedTermSet {
    field: Field,
    terms: Arc<[Term]>,
    cache: Arc<FilterCache>,
}

impl std::fmt::Debug for CachedTermSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedTermSet").field("terms", &self.terms.len()).finish_non_exhaustive()
    }
}

impl CachedTermSet {
    pub(crate) fn new(field: Field, terms: impl IntoIterator<Item = Term>, cache: &Arc<FilterCache>) -> Self {
        let mut terms: Vec<Term> = terms.into_iter().collect();
        terms.sort_unstable();
        terms.dedup();
        CachedTermSet { field, terms: terms.into(), cache: Arc::clone(cache) }
    }
}

impl Query for CachedTermSet {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for CachedTermSet {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let set = self.cache.documents(reader, self.field, &self.terms)?;
        Ok(Box::new(ConstScorer::new(BitSetDocSet::from(BitSet::clone(&set)), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.cache.documents(reader, self.field, &self.terms)?.contains(doc) {
            Ok(Explanation::new("CachedTermSet", 1.0))
        } else {
            Err(TantivyError::InvalidArgument(format!("document {doc} does not match")))
        }
    }
}
