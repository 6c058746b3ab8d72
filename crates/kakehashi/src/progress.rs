//! The progress bar of the long commands (reindex, demo data, import, relevance), on stderr.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps labelled `what` (a verb: "indexing"), counting `unit` ("records"; empty
/// for none), with rate and time left.
#[must_use]
pub fn bar(len: u64, what: &str, unit: &str) -> ProgressBar {
    let counted = if unit.is_empty() { String::new() } else { format!(" {unit}") };
    let template = format!("{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}}{counted} ({{per_sec}}, {{eta}} left)");
    ProgressBar::new(len).with_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "),
    )
}
