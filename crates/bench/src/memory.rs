//! The server's memory over its whole life, from its start (the index rebuild included) to the
//! end of the load: a thread samples `/proc/<pid>/status` every few milliseconds, and
//! `/proc/<pid>/smaps` less often, so the report can say what the peak was made of — heap and
//! other anonymous memory, the `SQLite` database and the index files mapped into memory, the
//! program's code — and in which phase it was reached. The kernel's own peak (`VmHWM`) is read
//! as well; it is the figure compared with the target.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Phases of the server's life, as the benchmark moves through them.
pub const PHASES: [&str; 4] = ["start (index rebuild)", "search load", "`/healthz` load", "web pages beside the API"];

/// How often the resident size is read, and how many of those reads also read the mappings.
const EVERY: Duration = Duration::from_millis(10);
const SMAPS_EVERY: usize = 10;

/// What the resident memory was made of at one moment, in bytes.
#[derive(Debug, Clone, Default)]
pub struct Breakdown {
    pub total: u64,
    pub phase: &'static str,
    /// `(what, bytes)`, largest first.
    pub parts: Vec<(&'static str, u64)>,
}

/// What the sampler found.
#[derive(Debug, Clone, Default)]
pub struct Peaks {
    /// The kernel's peak resident size over the whole life (`VmHWM`).
    pub hwm: u64,
    /// Resident size now.
    pub rss: u64,
    /// The largest anonymous (heap) and file-backed resident sizes seen, each with its phase.
    pub anon: (u64, &'static str),
    pub file: (u64, &'static str),
    /// The largest sampled resident size, by what it was made of.
    pub at_peak: Breakdown,
    /// The largest resident size seen in each phase.
    pub by_phase: Vec<(&'static str, u64)>,
}

/// A running sampler; dropping it stops it.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    phase: Arc<AtomicUsize>,
    found: Arc<Mutex<Peaks>>,
    thread: Option<std::thread::JoinHandle<()>>,
    pid: u32,
}

impl Sampler {
    /// Starts sampling process `pid`.
    #[must_use]
    pub fn start(pid: u32) -> Sampler {
        let (stop, phase) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let found =
            Arc::new(Mutex::new(Peaks { by_phase: PHASES.iter().map(|p| (*p, 0)).collect(), ..Peaks::default() }));
        let thread = {
            let (stop, phase, found) = (Arc::clone(&stop), Arc::clone(&phase), Arc::clone(&found));
            std::thread::spawn(move || {
                let mut round = 0usize;
                while !stop.load(Ordering::Acquire) {
                    let Some(status) = Status::read(pid) else { break };
                    let now = PHASES[phase.load(Ordering::Acquire).min(PHASES.len() - 1)];
                    let mut f = found.lock().unwrap_or_else(PoisonError::into_inner);
                    f.hwm = f.hwm.max(status.hwm);
                    f.rss = status.rss;
                    if status.anon > f.anon.0 {
                        f.anon = (status.anon, now);
                    }
                    if status.file > f.file.0 {
                        f.file = (status.file, now);
                    }
                    if let Some(slot) = f.by_phase.iter_mut().find(|(p, _)| *p == now) {
                        slot.1 = slot.1.max(status.rss);
                    }
                    // The mappings are read every so often, and whenever the size passes the
                    // largest one read so far by a fiftieth (reading them costs a little).
                    let grown = status.rss > f.at_peak.total + f.at_peak.total / 50;
                    drop(f);
                    if (grown || round.is_multiple_of(SMAPS_EVERY))
                        && let Some(parts) = smaps(pid)
                    {
                        let total = parts.iter().map(|(_, b)| b).sum();
                        let mut f = found.lock().unwrap_or_else(PoisonError::into_inner);
                        if total > f.at_peak.total {
                            f.at_peak = Breakdown { total, phase: now, parts };
                        }
                    }
                    round += 1;
                    std::thread::sleep(EVERY);
                }
            })
        };
        Sampler { stop, phase, found, thread: Some(thread), pid }
    }

    /// Marks the start of phase `index` of [`PHASES`].
    pub fn enter(&self, index: usize) {
        self.phase.store(index, Ordering::Release);
    }

    /// What was found so far, with the kernel's peak read now.
    #[must_use]
    pub fn peaks(&self) -> Peaks {
        let mut peaks = self.found.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(status) = Status::read(self.pid) {
            peaks.hwm = peaks.hwm.max(status.hwm);
            peaks.rss = status.rss;
        }
        peaks
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The sizes of `/proc/<pid>/status`, in bytes.
struct Status {
    rss: u64,
    hwm: u64,
    anon: u64,
    file: u64,
}

impl Status {
    fn read(pid: u32) -> Option<Status> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024)
        };
        let rss = field("VmRSS:");
        // A process that has exited (a zombie) has no sizes left.
        (rss > 0).then(|| Status {
            rss,
            hwm: field("VmHWM:"),
            anon: field("RssAnon:"),
            file: field("RssFile:") + field("RssShmem:"),
        })
    }
}

/// What a mapping of the server holds, by its path.
fn what(path: &str) -> &'static str {
    const INDEX: [&str; 8] = [".idx", ".pos", ".term", ".store", ".fast", ".fieldnorm", ".del", ".managed.json"];
    if path.is_empty() || path.starts_with("[heap]") || path.starts_with("[anon") {
        "heap and other anonymous memory"
    } else if path.starts_with("[stack") {
        "thread stacks"
    } else if path.contains(".db") {
        "the SQLite database file, memory-mapped"
    } else if INDEX.iter().any(|ext| path.ends_with(ext)) {
        "the index's files, memory-mapped"
    } else if path.starts_with('/') {
        "the program's code and libraries"
    } else {
        "other"
    }
}

/// Resident bytes by what the mappings hold, largest first.
fn smaps(pid: u32) -> Option<Vec<(&'static str, u64)>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    let mut parts: Vec<(&'static str, u64)> = Vec::new();
    let mut current = "other";
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first.contains('-') && first.chars().next().is_some_and(|c| c.is_ascii_hexdigit()) && !first.ends_with(':') {
            // A mapping's header: range, perms, offset, device, inode, then the path if any.
            let path = words.nth(4).unwrap_or("");
            current = what(path);
        } else if first == "Rss:" {
            let kb = words.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            match parts.iter_mut().find(|(w, _)| *w == current) {
                Some(slot) => slot.1 += kb * 1024,
                None => parts.push((current, kb * 1024)),
            }
        }
    }
    parts.sort_by_key(|part| std::cmp::Reverse(part.1));
    Some(parts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_heap_and_code() {
        let parts = smaps(std::process::id()).unwrap();
        assert!(parts.iter().any(|(w, b)| *w == "the program's code and libraries" && *b > 0), "{parts:?}");
        let sampler = Sampler::start(std::process::id());
        std::thread::sleep(Duration::from_millis(50));
        let peaks = sampler.peaks();
        assert!(peaks.hwm >= peaks.rss && peaks.rss > 0, "{peaks:?}");
        assert!(peaks.at_peak.total > 0, "{peaks:?}");
    }
}
