//! Makes dropping a store release sled's file lock before the drop returns.
//!
//! sled releases its file lock when the last of its internal references
//! drops, and some of those live on in background flush threads for a few
//! milliseconds after the last `Db` handle is dropped. Without waiting, a
//! `drop` followed at once by an `open` of the same directory, in this
//! process or in a process started right after (a CLI call after a library
//! call), fails with `StoreLocked` now and then.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long dropping a store waits for sled's background threads to release
/// its lock.
pub(super) const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// Owned by every clone of a store (behind an `Arc`) and dropped after the
/// store's last `Db` handle: waits, bounded, until sled's lock file can be
/// locked again, that is until sled has let go of it.
#[derive(Debug)]
pub(super) struct ReleaseOnDrop {
    lock_file: PathBuf,
}

impl ReleaseOnDrop {
    /// For the store in directory `dir` (sled locks `dir/db`).
    pub(super) fn new(dir: &Path) -> Self {
        ReleaseOnDrop {
            lock_file: dir.join("db"),
        }
    }
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        let deadline = Instant::now() + RELEASE_WAIT;
        let mut attempt = 0;
        loop {
            // A lock file that is gone (directory removed) holds nothing.
            let Ok(file) = File::open(&self.lock_file) else {
                return;
            };
            match file.try_lock() {
                // Free: dropping `file` gives our probe lock back at once.
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                Err(e) => {
                    tracing::warn!(
                        path = %self.lock_file.display(),
                        error = %e,
                        "sled store lock still held after the store was dropped"
                    );
                    return;
                }
            }
        }
        if attempt > 0 {
            tracing::debug!(retries = attempt, "waited for sled to release its lock");
        }
    }
}

/// Waits before retry `attempt` (0-based): 1, 2, 4 ... up to 50 ms.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(1u64 << attempt.min(6)).min(Duration::from_millis(50))
}
