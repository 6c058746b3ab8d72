//! Facet counts over every matching record. Each segment's facet values are laid out once, when
//! the segment is first searched, as one short list of value numbers per document; counting a
//! match is then adding one for each number in its list, without walking the facet column's
//! multi-valued index for every document of every search. Segments never change once written, so
//! a layout is right for as long as its segment is searched (deletions are left out by the
//! collector, from the segment's own list).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::FACETS;

/// Segments laid out at most; beyond, the cache starts over.
const MAX_SEGMENTS: usize = 256;

/// One segment's facet values: `values[starts[doc]..starts[doc + 1]]` are the numbers of the
/// document's values in `names`.
#[derive(Debug)]
struct Layout {
    /// For each value number, its facet (an index into [`FACETS`]) and value.
    names: Vec<(usize, String)>,
    starts: Vec<u32>,
    values: Vec<u16>,
}

impl Layout {
    fn of(reader: &SegmentReader) -> tantivy::Result<Layout> {
        let facets = reader.facet_reader("facet")?;
        // The segment's facet ordinals numbered as values of the known facets; others left out.
        let mut names = Vec::new();
        let mut numbers: Vec<Option<u16>> = Vec::with_capacity(facets.num_facets());
        let mut facet = Facet::root();
        for ord in 0..facets.num_facets() as u64 {
            facets.facet_from_ord(ord, &mut facet)?;
            let number = match facet.to_path().as_slice() {
                [name, value] => FACETS.iter().position(|(n, _)| n == name).and_then(|index| {
                    let number = u16::try_from(names.len()).ok()?;
                    names.push((index, (*value).to_owned()));
                    Some(number)
                }),
                _ => None,
            };
            numbers.push(number);
        }
        let max_doc = reader.max_doc();
        let mut starts = Vec::with_capacity(max_doc as usize + 1);
        let mut values = Vec::with_capacity(max_doc as usize * 6);
        for doc in 0..max_doc {
            starts.push(u32::try_from(values.len()).unwrap_or(u32::MAX));
            let from = values.len();
            values.extend(
                facets
                    .facet_ords(doc)
                    .filter_map(|ord| numbers.get(usize::try_from(ord).unwrap_or(usize::MAX)).copied().flatten()),
            );
            values[from..].sort_unstable();
            let mut kept = from;
            for i in from..values.len() {
                if kept == from || values[kept - 1] != values[i] {
                    values[kept] = values[i];
                    kept += 1;
                }
            }
            values.truncate(kept);
        }
        starts.push(u32::try_from(values.len()).unwrap_or(u32::MAX));
        Ok(Layout { names, starts, values })
    }
}

/// The layouts of the segments searched, by segment.
#[derive(Debug, Default)]
pub(crate) struct FacetLayouts(Mutex<HashMap<SegmentId, Arc<Layout>>>);

impl FacetLayouts {
    fn of(&self, reader: &SegmentReader) -> tantivy::Result<Arc<Layout>> {
        let id = reader.segment_id();
        if let Some(layout) = self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&id) {
            return Ok(Arc::clone(layout));
        }
        let layout = Arc::new(Layout::of(reader)?);
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= MAX_SEGMENTS {
            kept.clear();
        }
        kept.insert(id, Arc::clone(&layout));
        Ok(layout)
    }
}

/// Counts, for each facet, how many matching records hold each value.
pub(crate) struct FacetCounter(pub(crate) Arc<FacetLayouts>);

/// Counts by (facet index, value).
pub(crate) type Counts = HashMap<(usize, String), u64>;

pub(crate) struct SegmentCounter {
    layout: Arc<Layout>,
    counts: Vec<u64>,
}

impl Collector for FacetCounter {
    type Fruit = Counts;
    type Child = SegmentCounter;

    fn for_segment(&self, _: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentCounter> {
        let layout = self.0.of(reader)?;
        let counts = vec![0; layout.names.len()];
        Ok(SegmentCounter { layout, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut all = Counts::new();
        for fruit in fruits {
            for (key, count) in fruit {
                *all.entry(key).or_default() += count;
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentCounter {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _: Score) {
        let (layout, doc) = (&*self.layout, doc as usize);
        let (Some(&from), Some(&to)) = (layout.starts.get(doc), layout.starts.get(doc + 1)) else { return };
        for &number in &layout.values[from as usize..to as usize] {
            self.counts[usize::from(number)] += 1;
        }
    }

    fn harvest(self) -> Counts {
        let names = &self.layout.names;
        self.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| (names[i].clone(), *c)).collect()
    }
}

/// Each facet's `(value, count)` pairs, largest first.
pub(crate) fn by_facet(counts: Counts) -> BTreeMap<&'static str, Vec<(String, u64)>> {
    let mut facets: BTreeMap<&'static str, Vec<(String, u64)>> =
        FACETS.iter().map(|(name, _)| (*name, Vec::new())).collect();
    for ((index, value), count) in counts {
        if let Some(list) = facets.get_mut(FACETS[index].0) {
            list.push((value, count));
        }
    }
    for list in facets.values_mut() {
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    facets
}
