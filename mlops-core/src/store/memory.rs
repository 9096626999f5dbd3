//! An in-memory [`Store`] for tests and ephemeral use.

use std::collections::BTreeMap;
use std::sync::RwLock;

use super::{Entry, Store, WriteBatch, WriteOp};
use crate::error::{Error, Result};

type Trees = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// A [`Store`] kept in memory; nothing survives the process. `flush` is a
/// no-op.
#[derive(Debug, Default)]
pub struct MemoryStore {
    trees: RwLock<Trees>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Trees>> {
        self.trees
            .read()
            .map_err(|_| Error::Backend("memory store lock poisoned".into()))
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Trees>> {
        self.trees
            .write()
            .map_err(|_| Error::Backend("memory store lock poisoned".into()))
    }
}

impl Store for MemoryStore {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.read()?.get(tree).and_then(|t| t.get(key)).cloned())
    }

    fn scan_prefix<'a>(
        &'a self,
        tree: &str,
        prefix: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        let entries: Vec<Entry> = self
            .read()?
            .get(tree)
            .map(|t| {
                t.range(prefix.to_vec()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Box::new(entries.into_iter().map(Ok)))
    }

    fn scan_range<'a>(
        &'a self,
        tree: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        let entries: Vec<Entry> = match self.read()?.get(tree) {
            Some(t) if start < end => t
                .range(start.to_vec()..end.to_vec())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Box::new(entries.into_iter().map(Ok)))
    }

    fn apply(&self, batch: WriteBatch) -> Result<()> {
        let mut trees = self.write()?;
        apply_ops(&mut trees, batch);
        Ok(())
    }

    fn apply_if(
        &self,
        guard_tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        batch: WriteBatch,
    ) -> Result<bool> {
        let mut trees = self.write()?;
        let current = trees.get(guard_tree).and_then(|t| t.get(key));
        if current.map(Vec::as_slice) != expected {
            return Ok(false);
        }
        apply_ops(&mut trees, batch);
        Ok(true)
    }

    fn compare_and_swap(
        &self,
        tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool> {
        let mut trees = self.write()?;
        let t = trees.entry(tree.to_owned()).or_default();
        if t.get(key).map(Vec::as_slice) != expected {
            return Ok(false);
        }
        match new {
            Some(v) => t.insert(key.to_vec(), v.to_vec()),
            None => t.remove(key),
        };
        Ok(true)
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

fn apply_ops(trees: &mut Trees, batch: WriteBatch) {
    for op in batch.ops {
        match op {
            WriteOp::Insert { tree, key, value } => {
                trees.entry(tree).or_default().insert(key, value);
            }
            WriteOp::Remove { tree, key } => {
                if let Some(t) = trees.get_mut(&tree) {
                    t.remove(&key);
                }
            }
        }
    }
}
