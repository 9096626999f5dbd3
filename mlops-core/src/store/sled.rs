//! [`SledStore`]: the embedded, on-disk [`Store`] (sled 0.34).
//!
//! # Layout
//!
//! Each [`Store`] tree is a sled tree of the same name. sled's default tree
//! holds only the store meta record under the key `mlops.store.meta`, so no
//! caller tree name can collide with it.
//!
//! # Format versions
//!
//! Two versions guard the data, because sled 0.34 is labelled beta and its own
//! on-disk format may change:
//! - every value carries the [`codec`](super::codec) envelope version;
//! - the store meta record carries [`STORE_FORMAT_VERSION`], written when the
//!   store is created and checked on every open. A store written by a newer
//!   build is refused with [`Error::IncompatibleFormat`] naming both versions.
//!
//! # Acknowledgement
//!
//! A write is *acknowledged* (it survives a crash or power loss) once
//! [`Store::flush`] has returned `Ok` after it. Higher layers flush at their
//! natural commit points (a run's `finish`, a registry change). Writes that
//! were not flushed may be lost in a crash, but [`Store::apply`] is atomic
//! across trees even then: recovery sees a whole batch or none of it. sled
//! also flushes on its own in the background every 500 ms by default
//! ([`SledStoreBuilder::flush_every_ms`]).
//!
//! # Locking
//!
//! sled takes an exclusive advisory file lock on open. A second process (or a
//! second open of the same path while a handle is alive in this process)
//! gets [`Error::StoreLocked`] at once; it never waits. Clone a
//! [`SledStore`] to share one open store between threads. Reopening a store
//! this process has closed (every clone dropped) waits up to 5 s for sled's
//! background threads to release the lock, which they do within
//! milliseconds; without that wait, `drop` then `open` would sometimes fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use serde::{Deserialize, Serialize};

use super::group_commit::GroupCommit;
use super::{Entry, Store, WriteBatch, WriteOp, codec, sled_lock};
use crate::error::{Error, Result};

/// The store layout version this build writes and the newest it opens.
///
/// 2: a metric with a one-point history has no history chunk (the run
/// summary holds the point). A version-1 store is upgraded on open by
/// rewriting its meta record, so that an older build, which would read such
/// a metric's history as empty, refuses it.
pub const STORE_FORMAT_VERSION: u32 = 2;

/// The `(tree, key, expected value)` an [`Store::apply_if`] checks.
type Guard<'a> = (&'a str, &'a [u8], Option<&'a [u8]>);

/// Key of the store meta record in sled's default tree.
const META_KEY: &[u8] = b"mlops.store.meta";

/// What a store says about itself; written once, when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoreMeta {
    /// Store layout version ([`STORE_FORMAT_VERSION`] of the creating build).
    pub(crate) format_version: u32,
    /// `mlops-core` version that created the store.
    pub(crate) created_by: String,
}

/// Options for opening a [`SledStore`]; see [`SledStore::builder`].
#[derive(Debug, Clone)]
pub struct SledStoreBuilder {
    path: PathBuf,
    cache_capacity: u64,
    flush_every_ms: Option<u64>,
}

impl SledStoreBuilder {
    /// Page cache size in bytes (default 64 MiB; must be at least 1 MiB).
    pub fn cache_capacity(mut self, bytes: u64) -> Self {
        self.cache_capacity = bytes;
        self
    }

    /// Background flush interval (default `Some(500)`); `None` turns it off so
    /// that only [`Store::flush`] makes writes durable. Must not be `Some(0)`.
    pub fn flush_every_ms(mut self, every: Option<u64>) -> Self {
        self.flush_every_ms = every;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.cache_capacity < 1 << 20 {
            return Err(Error::InvalidParameter {
                name: "cache_capacity",
                reason: format!("{} bytes; use at least 1 MiB", self.cache_capacity),
            });
        }
        if self.flush_every_ms == Some(0) {
            return Err(Error::InvalidParameter {
                name: "flush_every_ms",
                reason: "0 ms; use None to turn background flushing off".into(),
            });
        }
        Ok(())
    }

    /// Validates the options and opens (or creates) the store.
    pub fn open(self) -> Result<SledStore> {
        self.validate()?;
        let _span = tracing::debug_span!("sled_store_open", path = %self.path.display()).entered();
        let config = ::sled::Config::new()
            .path(&self.path)
            .cache_capacity(self.cache_capacity)
            .flush_every_ms(self.flush_every_ms);
        let db = config.open().map_err(|e| map_open_error(&self.path, e))?;
        let store = SledStore {
            db,
            commit: Arc::new(GroupCommit::default()),
            _release: Arc::new(sled_lock::ReleaseOnDrop::new(&self.path)),
            path: self.path,
        };
        store.check_meta()?;
        tracing::debug!(path = %store.path.display(), "sled store open");
        Ok(store)
    }
}

/// The embedded on-disk [`Store`], backed by sled.
///
/// Cloning is cheap (sled's `Db` is reference counted) and every clone shares
/// the same open store. Dropping the last clone releases the directory's
/// lock before the drop returns (it waits, at most a few seconds, for sled's
/// background threads to let go), so the store can be reopened at once, by
/// this process or another.
///
/// ```
/// use mlops_core::store::{SledStore, Store};
/// # fn main() -> mlops_core::Result<()> {
/// let dir = tempfile::tempdir().expect("temp dir");
/// let store = SledStore::open(dir.path())?;
/// store.insert("runs", b"r1", b"hello")?;
/// store.flush()?; // acknowledged: survives a crash from here on
/// assert_eq!(store.get("runs", b"r1")?.as_deref(), Some(&b"hello"[..]));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SledStore {
    db: ::sled::Db,
    path: PathBuf,
    /// Shared by every clone: concurrent flushes share one disk sync.
    commit: Arc<GroupCommit>,
    /// Declared last, so it drops after `db`: the last clone's drop waits
    /// here until sled has released the lock.
    _release: Arc<sled_lock::ReleaseOnDrop>,
}

impl SledStore {
    /// Opens (or creates) the store in directory `path` with default options.
    ///
    /// Errors: [`Error::StoreLocked`] when another process holds it,
    /// [`Error::IncompatibleFormat`] when a newer build wrote it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::builder(path).open()
    }

    /// Options for opening the store in directory `path`.
    pub fn builder(path: impl AsRef<Path>) -> SledStoreBuilder {
        SledStoreBuilder {
            path: path.as_ref().to_path_buf(),
            cache_capacity: 64 << 20,
            flush_every_ms: Some(500),
        }
    }

    /// The directory the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn what(&self) -> String {
        format!("store at {}", self.path.display())
    }

    /// Writes the meta record into a new store, or checks the existing one.
    fn check_meta(&self) -> Result<()> {
        let what = format!("{} meta record", self.what());
        match self.db.get(META_KEY).map_err(|e| self.backend(e))? {
            Some(bytes) => {
                let meta: StoreMeta = codec::decode(&bytes, &what)?;
                if meta.format_version > STORE_FORMAT_VERSION {
                    return Err(Error::IncompatibleFormat {
                        what: format!(
                            "{} (created by mlops-core {})",
                            self.what(),
                            meta.created_by
                        ),
                        found: meta.format_version,
                        supported: STORE_FORMAT_VERSION,
                    });
                }
                if meta.format_version < STORE_FORMAT_VERSION {
                    // Every older layout is readable as is; mark the store
                    // so older builds no longer open it.
                    self.write_meta()?;
                    tracing::info!(
                        from = meta.format_version,
                        to = STORE_FORMAT_VERSION,
                        "upgraded store format"
                    );
                }
                Ok(())
            }
            None => {
                // A store with data but no meta record was not written by us
                // (or lost its meta): refuse rather than guess its format.
                let has_data = self
                    .db
                    .tree_names()
                    .iter()
                    .filter(|n| n.as_ref() != b"__sled__default")
                    .any(|n| self.db.open_tree(n).map(|t| !t.is_empty()).unwrap_or(true));
                if has_data {
                    return Err(Error::Corrupt {
                        what,
                        reason: "missing, but the store holds data".into(),
                    });
                }
                self.write_meta()
            }
        }
    }

    /// Writes (and flushes) this build's meta record.
    fn write_meta(&self) -> Result<()> {
        let meta = StoreMeta {
            format_version: STORE_FORMAT_VERSION,
            created_by: env!("CARGO_PKG_VERSION").to_owned(),
        };
        self.db
            .insert(META_KEY, codec::encode(&meta)?)
            .map_err(|e| self.backend(e))?;
        self.db.flush().map_err(|e| self.backend(e))?;
        Ok(())
    }

    /// Applies per-tree batches in one sled transaction, first checking the
    /// optional guard `(tree, key, expected)`. Returns false when the guard
    /// did not match (nothing written).
    fn transact(
        &self,
        groups: BTreeMap<&str, ::sled::Batch>,
        guard: Option<Guard<'_>>,
    ) -> Result<bool> {
        let names: Vec<&str> = groups.keys().copied().collect();
        let guard_index = guard.and_then(|(t, _, _)| names.iter().position(|n| *n == t));
        let trees = names
            .iter()
            .map(|n| self.tree(n))
            .collect::<Result<Vec<_>>>()?;
        let batches: Vec<::sled::Batch> = groups.into_values().collect();
        let result: std::result::Result<(), TransactionError<()>> =
            trees.as_slice().transaction(|views| {
                if let (Some(i), Some((_, key, expected))) = (guard_index, guard) {
                    let current = views[i].get(key)?;
                    if current.as_deref() != expected {
                        return Err(ConflictableTransactionError::Abort(()));
                    }
                }
                for (view, b) in views.iter().zip(&batches) {
                    view.apply_batch(b)?;
                }
                Ok(())
            });
        match result {
            Ok(()) => Ok(true),
            Err(TransactionError::Abort(())) => Ok(false),
            Err(TransactionError::Storage(e)) => Err(self.backend(e)),
        }
    }

    fn tree(&self, name: &str) -> Result<::sled::Tree> {
        self.db.open_tree(name).map_err(|e| self.backend(e))
    }

    fn backend(&self, e: ::sled::Error) -> Error {
        map_error(&self.path, e)
    }
}

/// Opening errors: sled 0.34 reports a held lock as an `Io` error of kind
/// `Other` whose message starts "could not acquire lock on" (see
/// `Config::try_lock`); the lock test pins this down.
fn map_open_error(path: &Path, e: ::sled::Error) -> Error {
    if is_lock_error(&e) {
        return Error::StoreLocked {
            path: path.to_path_buf(),
        };
    }
    map_error(path, e)
}

fn is_lock_error(e: &::sled::Error) -> bool {
    matches!(e, ::sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

fn map_error(path: &Path, e: ::sled::Error) -> Error {
    match e {
        ::sled::Error::Io(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        ::sled::Error::Corruption { at, .. } => Error::Corrupt {
            what: format!("store at {}", path.display()),
            reason: format!("sled reports corruption at {at:?}"),
        },
        other => Error::Backend(format!("store at {}: {other}", path.display())),
    }
}

/// Splits a batch per tree, keeping the order of operations within each
/// tree (the only order that can matter: different trees never interact).
fn group_by_tree(batch: &WriteBatch) -> BTreeMap<&str, ::sled::Batch> {
    let mut groups: BTreeMap<&str, ::sled::Batch> = BTreeMap::new();
    for op in batch.ops() {
        match op {
            WriteOp::Insert { tree, key, value } => groups
                .entry(tree.as_str())
                .or_default()
                .insert(key.as_slice(), value.as_slice()),
            WriteOp::Remove { tree, key } => groups
                .entry(tree.as_str())
                .or_default()
                .remove(key.as_slice()),
        }
    }
    groups
}

fn collect_iter(
    iter: ::sled::Iter,
    path: PathBuf,
) -> Box<dyn Iterator<Item = Result<Entry>> + 'static> {
    Box::new(iter.map(move |r| {
        r.map(|(k, v)| (k.to_vec(), v.to_vec()))
            .map_err(|e| map_error(&path, e))
    }))
}

impl Store for SledStore {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .tree(tree)?
            .get(key)
            .map_err(|e| self.backend(e))?
            .map(|v| v.to_vec()))
    }

    fn scan_prefix<'a>(
        &'a self,
        tree: &str,
        prefix: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        Ok(collect_iter(
            self.tree(tree)?.scan_prefix(prefix),
            self.path.clone(),
        ))
    }

    fn scan_range<'a>(
        &'a self,
        tree: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        if start >= end {
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(collect_iter(
            self.tree(tree)?.range(start..end),
            self.path.clone(),
        ))
    }

    fn scan_range_rev<'a>(
        &'a self,
        tree: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        if start >= end {
            return Ok(Box::new(std::iter::empty()));
        }
        let path = self.path.clone();
        Ok(Box::new(self.tree(tree)?.range(start..end).rev().map(
            move |r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| map_error(&path, e))
            },
        )))
    }

    /// One tree: a sled `Batch`. Several trees: one sled transaction over
    /// all of them. Both are sealed in sled's log as one unit, so crash
    /// recovery replays all of it or none (sled `pin_log` + `seal_batch`).
    /// We keep one sled tree per store tree rather than one tree with key
    /// prefixes so that scans stay local to a tree and a tree can be dropped
    /// or compacted on its own.
    fn apply(&self, batch: WriteBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut groups = group_by_tree(&batch);
        if groups.len() == 1
            && let Some((name, b)) = groups.pop_first()
        {
            return self.tree(name)?.apply_batch(b).map_err(|e| self.backend(e));
        }
        self.transact(groups, None).map(|_| ())
    }

    /// A sled transaction that reads the guard key and aborts when it
    /// differs; sled validates the read at commit, so the check and the
    /// writes are one serializable step.
    fn apply_if(
        &self,
        guard_tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        batch: WriteBatch,
    ) -> Result<bool> {
        let mut groups = group_by_tree(&batch);
        groups.entry(guard_tree).or_default();
        self.transact(groups, Some((guard_tree, key, expected)))
    }

    fn compare_and_swap(
        &self,
        tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool> {
        Ok(self
            .tree(tree)?
            .compare_and_swap(key, expected, new)
            .map_err(|e| self.backend(e))?
            .is_ok())
    }

    /// Group commit: concurrent callers share one sled flush, and each
    /// returns only after a flush that began after its call.
    fn flush(&self) -> Result<()> {
        self.commit
            .flush(|| self.db.flush().map(|_| ()).map_err(|e| self.backend(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sled opened directly (to plant old or broken records); like a
    /// `SledStore`, dropping it waits until sled has released the lock.
    struct RawDb {
        db: ::sled::Db,
        _release: sled_lock::ReleaseOnDrop,
    }

    impl std::ops::Deref for RawDb {
        type Target = ::sled::Db;
        fn deref(&self) -> &::sled::Db {
            &self.db
        }
    }

    fn raw_open(path: &Path) -> RawDb {
        RawDb {
            db: ::sled::open(path).expect("raw open"),
            _release: sled_lock::ReleaseOnDrop::new(path),
        }
    }

    #[test]
    fn reopening_right_after_drop_never_reports_a_lock() {
        let dir = tempfile::tempdir().expect("temp dir");
        for i in 0..50u32 {
            let store = SledStore::open(dir.path()).expect("reopen after drop");
            store.insert("t", &i.to_be_bytes(), b"v").expect("insert");
            store.flush().expect("flush");
        }
        let store = SledStore::open(dir.path()).expect("reopen");
        assert_eq!(store.scan_prefix("t", b"").expect("scan").count(), 50);
        // A live handle in this process still fails at once.
        let started = std::time::Instant::now();
        let err = SledStore::open(dir.path()).expect_err("still open");
        assert!(matches!(err, Error::StoreLocked { .. }), "{err:?}");
        assert!(started.elapsed() < sled_lock::RELEASE_WAIT / 2);
    }

    fn open_temp() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SledStore::open(dir.path()).expect("open");
        (dir, store)
    }

    #[test]
    fn crud_scan_and_cas() {
        let (_dir, s) = open_temp();
        s.insert("a", b"k1", b"v1").expect("insert");
        s.insert("a", b"k2", b"v2").expect("insert");
        s.insert("a", b"x1", b"v3").expect("insert");
        s.insert("b", b"k1", b"other").expect("insert");
        assert_eq!(s.get("a", b"k1").expect("get").as_deref(), Some(&b"v1"[..]));
        assert_eq!(s.get("a", b"zz").expect("get"), None);
        let keys: Vec<Vec<u8>> = s
            .scan_prefix("a", b"k")
            .expect("scan")
            .map(|r| r.expect("entry").0)
            .collect();
        assert_eq!(keys, vec![b"k1".to_vec(), b"k2".to_vec()]);
        let range: Vec<Vec<u8>> = s
            .scan_range("a", b"k2", b"x2")
            .expect("range")
            .map(|r| r.expect("entry").0)
            .collect();
        assert_eq!(range, vec![b"k2".to_vec(), b"x1".to_vec()]);
        assert_eq!(s.scan_range("a", b"z", b"a").expect("range").count(), 0);

        assert!(
            !s.compare_and_swap("a", b"k1", Some(b"no"), Some(b"n"))
                .expect("cas")
        );
        assert!(
            s.compare_and_swap("a", b"k1", Some(b"v1"), Some(b"n"))
                .expect("cas")
        );
        assert!(
            s.compare_and_swap("a", b"new", None, Some(b"1"))
                .expect("cas")
        );
        assert!(
            !s.compare_and_swap("a", b"new", None, Some(b"2"))
                .expect("cas")
        );
        assert!(
            s.compare_and_swap("a", b"new", Some(b"1"), None)
                .expect("cas")
        );
        assert_eq!(s.get("a", b"new").expect("get"), None);
        s.remove("a", b"k2").expect("remove");
        assert_eq!(s.get("a", b"k2").expect("get"), None);
    }

    #[test]
    fn batch_across_trees_keeps_order_and_survives_reopen() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let s = SledStore::open(dir.path()).expect("open");
            let mut b = WriteBatch::new();
            b.insert("t1", b"a".to_vec(), b"1".to_vec());
            b.insert("t2", b"b".to_vec(), b"2".to_vec());
            b.insert("t1", b"c".to_vec(), b"3".to_vec());
            b.remove("t1", b"c".to_vec());
            b.insert("t3", b"d".to_vec(), b"4".to_vec());
            s.apply(b).expect("apply");
            s.flush().expect("flush");
        }
        let s = SledStore::open(dir.path()).expect("reopen");
        assert_eq!(s.get("t1", b"a").expect("get").as_deref(), Some(&b"1"[..]));
        assert_eq!(s.get("t1", b"c").expect("get"), None);
        assert_eq!(s.get("t2", b"b").expect("get").as_deref(), Some(&b"2"[..]));
        assert_eq!(s.get("t3", b"d").expect("get").as_deref(), Some(&b"4"[..]));
    }

    #[test]
    fn clones_share_one_store_across_threads() {
        let (_dir, s) = open_temp();
        let shared: crate::store::SharedStore = std::sync::Arc::new(s.clone());
        let handles: Vec<_> = (0..4u8)
            .map(|t| {
                let st = shared.clone();
                std::thread::spawn(move || {
                    for i in 0..50u8 {
                        st.insert("c", &[t, i], &[i]).expect("insert");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("join");
        }
        assert_eq!(s.scan_prefix("c", b"").expect("scan").count(), 200);
    }

    #[test]
    fn newer_store_format_is_refused_naming_both_versions() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(SledStore::open(dir.path()).expect("create"));
        {
            let db = raw_open(dir.path());
            let meta = StoreMeta {
                format_version: STORE_FORMAT_VERSION + 1,
                created_by: "9.9.9".into(),
            };
            db.insert(META_KEY, codec::encode(&meta).expect("encode"))
                .expect("insert");
            db.flush().expect("flush");
        }
        let err = SledStore::open(dir.path()).expect_err("newer format must be refused");
        match &err {
            Error::IncompatibleFormat {
                found, supported, ..
            } => {
                assert_eq!(*found, STORE_FORMAT_VERSION + 1);
                assert_eq!(*supported, STORE_FORMAT_VERSION);
            }
            other => panic!("wrong error: {other}"),
        }
        let msg = err.to_string();
        let found = format!("format version {}", STORE_FORMAT_VERSION + 1);
        assert!(msg.contains(&found), "{msg}");
        assert!(
            msg.contains(&format!("reads up to {STORE_FORMAT_VERSION}")),
            "{msg}"
        );
        assert!(msg.contains("9.9.9"), "{msg}");
    }

    #[test]
    fn older_store_format_is_upgraded_on_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(SledStore::open(dir.path()).expect("create"));
        {
            let db = raw_open(dir.path());
            let meta = StoreMeta {
                format_version: 1,
                created_by: "0.0.1".into(),
            };
            db.insert(META_KEY, codec::encode(&meta).expect("encode"))
                .expect("insert");
            db.flush().expect("flush");
        }
        drop(SledStore::open(dir.path()).expect("an older format opens"));
        let db = raw_open(dir.path());
        let bytes = db.get(META_KEY).expect("get").expect("meta");
        let meta: StoreMeta = codec::decode(&bytes, "meta").expect("decode");
        assert_eq!(meta.format_version, STORE_FORMAT_VERSION);
    }

    #[test]
    fn corrupt_meta_record_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(SledStore::open(dir.path()).expect("create"));
        {
            let db = raw_open(dir.path());
            db.insert(META_KEY, &b"mV\x01\x00garbage"[..])
                .expect("insert");
            db.flush().expect("flush");
        }
        let err = SledStore::open(dir.path()).expect_err("corrupt meta");
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("meta record"), "{err}");
    }

    #[test]
    fn invalid_options_are_rejected_before_opening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = SledStore::builder(dir.path())
            .cache_capacity(10)
            .open()
            .expect_err("tiny cache");
        assert!(matches!(
            err,
            Error::InvalidParameter {
                name: "cache_capacity",
                ..
            }
        ));
        let err = SledStore::builder(dir.path())
            .flush_every_ms(Some(0))
            .open()
            .expect_err("zero interval");
        assert!(matches!(
            err,
            Error::InvalidParameter {
                name: "flush_every_ms",
                ..
            }
        ));
    }

    #[test]
    fn second_open_in_process_is_locked_not_hung() {
        let (dir, _s) = open_temp();
        let err = SledStore::open(dir.path()).expect_err("locked");
        assert_eq!(
            err.to_string(),
            format!(
                "store at {} is locked by another process",
                dir.path().display()
            )
        );
    }

    const CHILD_ENV: &str = "MLOPS_TEST_LOCK_CHILD_STORE";

    /// Child half of `another_process_holding_the_store_gives_store_locked`:
    /// does nothing unless the parent started this binary with `CHILD_ENV`.
    #[test]
    fn lock_child_process() {
        let Ok(path) = std::env::var(CHILD_ENV) else {
            return;
        };
        let path = PathBuf::from(path);
        let store = SledStore::open(&path).expect("child open");
        std::fs::write(path.with_extension("ready"), b"1").expect("ready file");
        // Hold the lock until killed; give up after 60 s so an orphan cannot
        // linger.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        drop(store);
    }

    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn another_process_holding_the_store_gives_store_locked() {
        use std::time::{Duration, Instant};
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("store");
        let ready = path.with_extension("ready");
        let exe = std::env::current_exe().expect("test binary");
        let mut child = KillOnDrop(
            std::process::Command::new(exe)
                .args([
                    "--exact",
                    "store::sled::tests::lock_child_process",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(CHILD_ENV, &path)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn child"),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready.exists() {
            if let Some(status) = child.0.try_wait().expect("try_wait") {
                panic!("child exited early: {status}");
            }
            assert!(Instant::now() < deadline, "child never opened the store");
            std::thread::sleep(Duration::from_millis(10));
        }

        let started = Instant::now();
        let err = SledStore::open(&path).expect_err("store held by the child");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "open waited for the lock"
        );
        assert!(matches!(err, Error::StoreLocked { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("store at {} is locked by another process", path.display())
        );

        // The lock dies with the process: no stale lock file to clean up.
        drop(child);
        let store = SledStore::open(&path).expect("open after the child died");
        store.insert("t", b"k", b"v").expect("write");
    }
}
