//! Where this process's background work stands. The indexer, the matcher and the e-mail delivery
//! each report a pass as they finish it, so whoever waits for them to catch up (the test suite,
//! a command that writes and then reads) waits on those reports, not on a clock.

use std::time::Duration;

use kakehashi_store::{changes, match_work, outbox};
use tokio::sync::watch;

use crate::{Result, Services};

/// Counts the passes of the background workers; every pass wakes those waiting.
#[derive(Debug)]
pub struct Progress(watch::Sender<u64>);

impl Default for Progress {
    fn default() -> Self {
        Progress(watch::Sender::new(0))
    }
}

impl Progress {
    /// A worker has finished a pass (applied a batch, matched one, sent what was due, or found
    /// nothing to do).
    pub fn passed(&self) {
        self.0.send_modify(|passes| *passes = passes.wrapping_add(1));
    }

    /// A receiver that sees each pass from now on.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// What [`Services::settled`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The index has applied every change written so far.
    Indexed,
    /// … and no record waits to be matched.
    Matched,
    /// … and no e-mail waits to be sent (one whose retry is later does not count).
    Delivered,
}

impl Services {
    /// Whether the background work has reached `stage` for everything written so far.
    ///
    /// # Errors
    /// On a storage failure.
    pub async fn reached(&self, stage: Stage) -> Result<bool> {
        let written = changes::last_seq(&self.db).await?;
        let applied =
            self.search.last_seq().map_err(|e| crate::ServiceError::internal("reading the index position", e))?;
        if applied.unwrap_or(0) < written {
            return Ok(false);
        }
        if stage != Stage::Indexed && match_work::waiting(&self.db).await? > 0 {
            return Ok(false);
        }
        if stage == Stage::Delivered && outbox::pending(&self.db).await? > 0 {
            return Ok(false);
        }
        Ok(true)
    }

    /// Waits until the background work reaches `stage` for everything written before the call,
    /// looking again each time a worker reports a pass; `false` when `patience` runs out first.
    ///
    /// # Errors
    /// On a storage failure.
    pub async fn settled(&self, stage: Stage, patience: Duration) -> Result<bool> {
        let reached = self.after_passes(patience, async || Ok(self.reached(stage).await?.then_some(()))).await?;
        Ok(reached.is_some())
    }

    /// Tries `probe` now and again after each pass of a background worker until it yields a
    /// value; `None` when `patience` runs out first. The indexer is woken each time, so a waiter
    /// does not wait out its polling interval.
    ///
    /// # Errors
    /// What `probe` returns.
    pub async fn after_passes<T>(
        &self,
        patience: Duration,
        mut probe: impl AsyncFnMut() -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let mut passes = self.progress.subscribe();
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            passes.mark_unchanged();
            if let Some(value) = probe().await? {
                return Ok(Some(value));
            }
            self.index_wake.notify_one();
            if tokio::time::timeout_at(deadline, passes.changed()).await.is_err() {
                return Ok(None);
            }
        }
    }
}
