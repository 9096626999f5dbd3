//! Files that appear whole or not at all.
//!
//! Model packages, reports and scored outputs are written to a temporary
//! file beside the destination, flushed to disk, and renamed over it, so a
//! reader (or a crash) never sees half a file, and a failed job leaves any
//! previous file in place. The temporary file is removed if the write is
//! abandoned. Built on [`tempfile::NamedTempFile::persist`].
//!
//! ```
//! use std::io::Write;
//! use mlops_core::atomic_file::{self, AtomicFile};
//! # fn main() -> mlops_core::Result<()> {
//! let dir = tempfile::tempdir().expect("temp dir");
//! let path = dir.path().join("scores.csv");
//! let mut out = AtomicFile::create(&path)?;
//! writeln!(out, "id,score").expect("write");
//! assert!(!path.exists()); // nothing visible before commit
//! out.commit()?;
//! assert_eq!(std::fs::read_to_string(&path).expect("read"), "id,score\n");
//!
//! atomic_file::write(&path, b"replaced")?;
//! assert_eq!(std::fs::read(&path).expect("read"), b"replaced");
//! # Ok(()) }
//! ```

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// A file being written; it replaces its destination on [`commit`](Self::commit)
/// and vanishes if dropped before that.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: BufWriter<NamedTempFile>,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing the file that will replace `path` (a temporary file in
    /// the same directory, so the final rename cannot cross file systems).
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().ok_or_else(|| Error::InvalidParameter {
            name: "path",
            reason: format!("{} has no file name", path.display()),
        })?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".");
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        Ok(AtomicFile {
            tmp: BufWriter::with_capacity(1 << 20, tmp),
            path,
        })
    }

    /// The destination path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the content to disk and renames it over the destination.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let tmp = self.tmp.into_inner().map_err(|e| io(e.into_error()))?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        sync_parent(&path);
        tracing::debug!(path = %path.display(), "file written atomically");
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.tmp.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// Writes the file at `path` atomically with `write` (see the [module](self)
/// docs), committing it only when `write` succeeds. A write error becomes
/// [`Error::Io`] naming `path`.
pub(crate) fn write_with<T>(
    path: &Path,
    write: impl FnOnce(&mut AtomicFile) -> Result<T>,
) -> Result<T> {
    let mut file = AtomicFile::create(path)?;
    let value = write(&mut file).map_err(|e| match e {
        Error::Write { source, .. } => Error::Io {
            path: path.to_owned(),
            source,
        },
        other => other,
    })?;
    file.commit()?;
    Ok(value)
}

/// Writes `bytes` to `path` atomically (see the [module](self) docs).
pub fn write(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(|source| Error::Io {
        path: file.path.clone(),
        source,
    })?;
    file.commit()
}

/// Makes the rename itself durable where the platform allows it (a directory
/// can be opened and synced on Unix); best effort elsewhere.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn abandoned_file_leaves_the_old_one_and_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("model.mlpkg");
        write(&path, b"v1").expect("first");
        {
            let mut f = AtomicFile::create(&path).expect("create");
            f.write_all(b"half of v2").expect("write");
            // Dropped without commit, as when a job fails midway.
        }
        assert_eq!(std::fs::read(&path).expect("read"), b"v1");
        assert!(
            leftovers(dir.path()).is_empty(),
            "{:?}",
            leftovers(dir.path())
        );
    }

    #[test]
    fn missing_directory_is_an_io_error_naming_the_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("absent").join("out.csv");
        let err = write(&path, b"x").expect_err("no such directory");
        assert!(
            matches!(&err, Error::Io { path: p, .. } if p == &path),
            "{err:?}"
        );
    }

    #[test]
    fn a_path_without_file_name_is_rejected() {
        let err = AtomicFile::create("/").expect_err("no file name");
        assert!(matches!(err, Error::InvalidParameter { name: "path", .. }));
    }
}
