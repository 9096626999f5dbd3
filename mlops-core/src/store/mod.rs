//! A backend-neutral key-value [`Store`] and the value [`codec`] every
//! persisted record goes through.
//!
//! Keys live in named trees (keyspaces). Values are opaque bytes at this
//! layer; higher layers (tracking, registry) encode typed records with
//! [`codec::encode`], which adds a format version and a checksum, and decode
//! them with [`codec::decode`], which returns a typed error for a newer
//! format, a bad checksum or truncated bytes instead of panicking.
//!
//! Higher layers hold a store as `Arc<dyn Store>` ([`SharedStore`]): the
//! trait is object safe, `Send + Sync`, and cloning the `Arc` is cheap.

pub mod codec;
mod group_commit;
mod memory;
#[cfg(feature = "postgres")]
mod pg;
mod sled;
mod sled_lock;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use pg::{CONNECT_TIMEOUT, PG_SCHEMA_VERSION, PgStore};
pub use sled::{STORE_FORMAT_VERSION, SledStore, SledStoreBuilder};

use std::sync::Arc;

use crate::error::Result;

/// A store shared between threads and components.
pub type SharedStore = Arc<dyn Store>;

/// One write in a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Set `key` in `tree` to `value`.
    Insert {
        /// The tree.
        tree: String,
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Remove `key` from `tree`.
    Remove {
        /// The tree.
        tree: String,
        /// The key.
        key: Vec<u8>,
    },
}

/// Writes applied atomically by [`Store::apply`]: after a crash either all of
/// them are visible or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<WriteOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an insert.
    pub fn insert(&mut self, tree: &str, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(WriteOp::Insert {
            tree: tree.to_owned(),
            key: key.into(),
            value: value.into(),
        });
    }

    /// Adds a removal.
    pub fn remove(&mut self, tree: &str, key: impl Into<Vec<u8>>) {
        self.ops.push(WriteOp::Remove {
            tree: tree.to_owned(),
            key: key.into(),
        });
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[WriteOp] {
        &self.ops
    }

    /// True when the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// A key and its value, as returned by scans.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An ordered key-value store with named trees.
///
/// Durability contract: a write is *acknowledged* once [`Store::flush`]
/// returns `Ok` after it. Unflushed writes may be lost in a crash, but a crash
/// never leaves a store that cannot be reopened, and a batch is never half
/// applied.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The value of `key` in `tree`.
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// All entries of `tree` whose key starts with `prefix`, in key order.
    fn scan_prefix<'a>(
        &'a self,
        tree: &str,
        prefix: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>>;

    /// Entries of `tree` with `start <= key < end`, in key order.
    fn scan_range<'a>(
        &'a self,
        tree: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>>;

    /// Entries of `tree` with `start <= key < end`, in *descending* key
    /// order. The default collects [`Store::scan_range`]; backends that can
    /// walk backwards lazily override it, so that a caller that stops early
    /// reads only what it consumes.
    fn scan_range_rev<'a>(
        &'a self,
        tree: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        let entries = self.scan_range(tree, start, end)?.collect::<Vec<_>>();
        Ok(Box::new(entries.into_iter().rev()))
    }

    /// Applies a batch atomically.
    fn apply(&self, batch: WriteBatch) -> Result<()>;

    /// Sets `key` to `new` (or removes it for `None`) only if its current
    /// value equals `expected` (`None`: absent). Returns whether it swapped.
    fn compare_and_swap(
        &self,
        tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool>;

    /// Applies `batch` atomically only if `key` in `guard_tree` still holds
    /// `expected` (`None`: absent) at the moment of applying; returns whether
    /// it applied. This is the optimistic-concurrency primitive: read a
    /// record, prepare every write that depends on it, and commit them only
    /// if no one changed the record meanwhile (else re-read and retry).
    fn apply_if(
        &self,
        guard_tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        batch: WriteBatch,
    ) -> Result<bool>;

    /// Makes every write so far durable: the acknowledgement point.
    fn flush(&self) -> Result<()>;

    /// Sets one key (a one-operation batch).
    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<()> {
        let mut b = WriteBatch::new();
        b.insert(tree, key, value);
        self.apply(b)
    }

    /// Removes one key.
    fn remove(&self, tree: &str, key: &[u8]) -> Result<()> {
        let mut b = WriteBatch::new();
        b.remove(tree, key);
        self.apply(b)
    }
}

/// Opens a store from a location: a `postgres://` or `postgresql://` URL
/// opens a `PgStore` (cargo feature `postgres`), anything else is a sled
/// directory.
pub fn open(url_or_path: &str) -> Result<SharedStore> {
    if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Arc::new(PgStore::open(url_or_path)?));
        #[cfg(not(feature = "postgres"))]
        return Err(crate::error::Error::StoreUrl {
            location: url_or_path.split('@').next_back().unwrap_or("").to_owned(),
            reason: "this build lacks the `postgres` cargo feature".into(),
        });
    }
    Ok(Arc::new(SledStore::open(url_or_path)?))
}

#[cfg(test)]
mod conformance_tests;
