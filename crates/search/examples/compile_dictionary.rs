//! Compiles the Japanese dictionary the search index uses (`crates/search/dictionary/ipadic.dic`,
//! then zstd-compressed by `crates/search/dictionary/build.sh`, which is the way to run this).
//!
//! Input: a directory of IPADIC sources already converted to UTF-8 (`*.csv`, `matrix.def`,
//! `char.def`, `unk.def`). Each entry keeps only the features the analyser reads — part of speech,
//! its first sub-division and the base form — which shrinks the compiled file about fivefold.
//! The output depends only on the input: the same sources give the same bytes.
//!
//! Usage: `cargo run --release -p kakehashi-search --example compile_dictionary -- SOURCES OUT`

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The kept features of one IPADIC entry (surface, left id, right id, cost, then nine features).
fn trim(line: &str) -> Option<String> {
    let fields: Vec<&str> = line.split(',').collect();
    if fields.len() < 11 {
        return None;
    }
    let base = fields.get(10).copied().unwrap_or("*");
    let mut out = fields[..6].join(",");
    let _ = write!(out, ",{base}");
    Some(out)
}

fn trimmed(path: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let mut out = String::with_capacity(text.len() / 2);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match trim(line) {
            Some(t) => {
                out.push_str(&t);
                out.push('\n');
            }
            None => return Err(std::io::Error::other(format!("{}: unexpected line {line:?}", path.display()))),
        }
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(sources), Some(out)) = (args.next().map(PathBuf::from), args.next().map(PathBuf::from)) else {
        return Err("usage: compile_dictionary SOURCES OUT".into());
    };
    let mut csvs: Vec<PathBuf> = std::fs::read_dir(&sources)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    // Sorted, so the output does not depend on the directory's order.
    csvs.sort();
    let mut lexicon = String::new();
    for csv in &csvs {
        lexicon.push_str(&trimmed(csv)?);
    }
    let unk = trimmed(&sources.join("unk.def"))?;
    eprintln!("{} entries from {} files", lexicon.lines().count(), csvs.len());
    let dictionary = vibrato::SystemDictionaryBuilder::from_readers(
        lexicon.as_bytes(),
        std::fs::File::open(sources.join("matrix.def"))?,
        std::fs::File::open(sources.join("char.def"))?,
        unk.as_bytes(),
    )?;
    let mut writer = std::io::BufWriter::new(std::fs::File::create(&out)?);
    let bytes = dictionary.write(&mut writer)?;
    std::io::Write::flush(&mut writer)?;
    eprintln!("wrote {} ({bytes} bytes)", out.display());
    Ok(())
}
