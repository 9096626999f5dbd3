//! Group commit: concurrent [`Store::flush`](super::Store::flush) callers
//! share one disk sync.
//!
//! A caller whose write was applied before it called [`GroupCommit::flush`]
//! is acknowledged only by a sync that *began* after the call: while one
//! sync runs, newcomers wait for it to end and then one of them (the
//! leader) starts the next sync for all who waited (the followers). With
//! N threads finishing runs at once this turns N syncs into about two.

use std::sync::{Condvar, Mutex, MutexGuard};

use crate::error::{Error, Result};

#[derive(Debug, Default)]
struct Epochs {
    /// Syncs begun so far.
    begun: u64,
    /// Syncs ended so far (`done == begun` when none is running).
    done: u64,
    /// The error of the last ended sync, if it failed.
    last_error: Option<String>,
}

/// The leader/follower flush coordinator shared by every clone of a store.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
    epochs: Mutex<Epochs>,
    ended: Condvar,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, Epochs> {
        // The counters are updated in single assignments: a poisoned lock
        // still holds consistent values.
        self.epochs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns once a call of `sync` that began after this call has ended;
    /// runs `sync` itself when no other caller is running it. A failed sync
    /// fails every caller it was meant to acknowledge.
    pub(super) fn flush(&self, sync: impl FnOnce() -> Result<()>) -> Result<()> {
        let mut e = self.lock();
        // A sync running now may have begun before our write: we need the
        // next one.
        let target = e.begun + 1;
        loop {
            if e.done >= target {
                return match (&e.last_error, e.done == target) {
                    (Some(msg), true) => Err(Error::Backend(msg.clone())),
                    // A later sync than ours succeeded, or ours did.
                    _ => Ok(()),
                };
            }
            if e.begun == e.done {
                e.begun += 1;
                let epoch = e.begun;
                drop(e);
                let result = sync();
                let mut after = self.lock();
                after.done = epoch;
                after.last_error = result.as_ref().err().map(ToString::to_string);
                drop(after);
                self.ended.notify_all();
                return result;
            }
            e = self.ended.wait(e).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[test]
    fn concurrent_callers_share_syncs_and_each_is_covered_by_a_later_sync() {
        let gc = Arc::new(GroupCommit::default());
        // `written` counts applied writes; a sync records how many writes
        // existed when it began (what it makes durable).
        let written = Arc::new(AtomicU64::new(0));
        let durable = Arc::new(AtomicU64::new(0));
        let syncs = Arc::new(AtomicU64::new(0));
        let calls = 8 * 200;
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (gc, written, durable, syncs) =
                    (gc.clone(), written.clone(), durable.clone(), syncs.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let mine = written.fetch_add(1, Ordering::SeqCst) + 1;
                        gc.flush(|| {
                            let covered = written.load(Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_micros(200));
                            syncs.fetch_add(1, Ordering::SeqCst);
                            durable.fetch_max(covered, Ordering::SeqCst);
                            Ok(())
                        })
                        .expect("flush");
                        assert!(durable.load(Ordering::SeqCst) >= mine, "acknowledged early");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("join");
        }
        let syncs = syncs.load(Ordering::SeqCst);
        assert!(syncs < calls, "{syncs} syncs for {calls} calls");
    }

    #[test]
    fn a_failed_sync_fails_its_callers_and_the_next_one_succeeds() {
        let gc = GroupCommit::default();
        let err = gc
            .flush(|| Err(Error::Backend("disk full".into())))
            .expect_err("failed sync");
        assert!(err.to_string().contains("disk full"), "{err}");
        gc.flush(|| Ok(())).expect("next sync");
    }
}
