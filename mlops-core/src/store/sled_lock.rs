//! Which store directories this process has open, so that reopening one it
//! has just closed waits for sled to let go of the lock.
//!
//! sled releases its file lock when the last of its internal references
//! drops, and some of those live on in background flush threads for a few
//! milliseconds after the last `Db` handle is dropped. Without this, `drop`
//! followed at once by `open` of the same directory in one process fails
//! with `StoreLocked` now and then. A lock held by *another* process, or by a
//! handle still alive in this one, still fails at once: only a lock we know
//! we released is waited for, and only for a bounded time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How long a reopen waits for sled's background threads to release a lock
/// this process held.
pub(super) const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// Keeps a directory marked as open in this process while any clone lives.
#[derive(Debug, Clone)]
pub(super) struct OpenMark(#[allow(dead_code)] Arc<()>);

fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<()>>> {
    static OPEN: std::sync::OnceLock<Mutex<HashMap<PathBuf, Weak<()>>>> =
        std::sync::OnceLock::new();
    OPEN.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The key for `path`: canonical when the directory exists.
fn key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether this process opened `path` and has since dropped every handle,
/// so that a lock still held on it is sled's delayed release.
pub(super) fn closed_here(path: &Path) -> bool {
    let open = registry().lock().unwrap_or_else(|e| e.into_inner());
    open.get(&key(path))
        .is_some_and(|weak| weak.strong_count() == 0)
}

/// Marks `path` open in this process until the returned mark (and every
/// clone of it) drops.
pub(super) fn mark_open(path: &Path) -> OpenMark {
    let mark = Arc::new(());
    let mut open = registry().lock().unwrap_or_else(|e| e.into_inner());
    open.insert(key(path), Arc::downgrade(&mark));
    OpenMark(mark)
}

/// Waits before retry `attempt` (0-based): 1, 2, 4 ... up to 50 ms.
pub(super) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(1u64 << attempt.min(6)).min(Duration::from_millis(50))
}
