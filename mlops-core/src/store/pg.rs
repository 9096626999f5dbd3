//! [`PgStore`]: the [`Store`] trait on PostgreSQL, for many processes and
//! hosts sharing one store.
//!
//! One table `mlops_kv(tree text, key bytea, value bytea)` keyed by
//! `(tree, key)`; `bytea` orders byte-wise, so scans keep the trait's key
//! order. Values are the same codec envelopes sled stores. A table
//! `mlops_schema` holds the schema version; a newer one is refused.
//! `apply_if` and `compare_and_swap` take a transaction-scoped advisory lock
//! on the guard key (which also covers absent keys, unlike `FOR UPDATE`),
//! re-read the guard under it and write the batch in the same transaction.
//! Connections come from an `r2d2` pool with a 5 s connect timeout.

use std::time::Duration;

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

use super::{Entry, Store, WriteBatch, WriteOp};
use crate::error::{Error, Result};

/// The schema version this build creates and the newest it reads.
pub const PG_SCHEMA_VERSION: i32 = 1;

/// How long opening a connection may take before it fails.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

type Pool = r2d2_postgres::r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// A [`Store`] on a PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    host: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("host", &self.host).finish()
    }
}

fn one_line(e: impl std::fmt::Display) -> String {
    e.to_string().replace('\n', " ")
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`), creating or
    /// checking the schema. Errors: [`Error::StoreUrl`] for a bad URL,
    /// [`Error::Postgres`] naming the host for anything the server or network
    /// refuses, within [`CONNECT_TIMEOUT`]; [`Error::IncompatibleFormat`] for a
    /// schema written by a newer build.
    pub fn open(url: &str) -> Result<Self> {
        let mut config: postgres::Config = url.parse().map_err(|e| Error::StoreUrl {
            location: redact(url),
            reason: one_line(e),
        })?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let host = describe(&config);
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2_postgres::r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(CONNECT_TIMEOUT)
            .error_handler(Box::new(r2d2_postgres::r2d2::NopErrorHandler))
            .build(manager)
            .map_err(|e| Error::Postgres {
                host: host.clone(),
                reason: one_line(e),
            })?;
        let store = Self { pool, host };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Postgres {
            host: self.host.clone(),
            reason: one_line(e),
        }
    }

    fn conn(
        &self,
    ) -> Result<r2d2_postgres::r2d2::PooledConnection<PostgresConnectionManager<NoTls>>> {
        self.pool.get().map_err(|e| self.err(e))
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().map_err(|e| self.err(e))?;
        // One creator at a time: concurrent CREATE IF NOT EXISTS can race.
        tx.execute("SELECT pg_advisory_xact_lock(7236111)", &[])
            .map_err(|e| self.err(e))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS mlops_schema (version integer NOT NULL);
             CREATE TABLE IF NOT EXISTS mlops_kv (
                 tree text NOT NULL, key bytea NOT NULL, value bytea NOT NULL,
                 PRIMARY KEY (tree, key));",
        )
        .map_err(|e| self.err(e))?;
        let row = tx
            .query_one("SELECT max(version) FROM mlops_schema", &[])
            .map_err(|e| self.err(e))?;
        match row.get::<_, Option<i32>>(0) {
            None => {
                tx.execute(
                    "INSERT INTO mlops_schema (version) VALUES ($1)",
                    &[&PG_SCHEMA_VERSION],
                )
                .map_err(|e| self.err(e))?;
            }
            Some(v) if v > PG_SCHEMA_VERSION => {
                return Err(Error::IncompatibleFormat {
                    what: format!("PostgreSQL store at {}", self.host),
                    found: v as u32,
                    supported: PG_SCHEMA_VERSION as u32,
                });
            }
            Some(_) => {}
        }
        tx.commit().map_err(|e| self.err(e))
    }

    fn query_entries(
        &self,
        sql: &str,
        tree: &str,
        start: &[u8],
        end: Option<&[u8]>,
    ) -> Result<Vec<Entry>> {
        let mut c = self.conn()?;
        let rows = match end {
            Some(end) => c.query(sql, &[&tree, &start, &end]),
            None => c.query(&sql.replace(" AND key < $3", ""), &[&tree, &start]),
        }
        .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn guarded(
        &self,
        guard_tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        batch: WriteBatch,
    ) -> Result<bool> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().map_err(|e| self.err(e))?;
        let lock = lock_id(guard_tree, key);
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
            .map_err(|e| self.err(e))?;
        let current: Option<Vec<u8>> = tx
            .query_opt(
                "SELECT value FROM mlops_kv WHERE tree = $1 AND key = $2",
                &[&guard_tree, &key],
            )
            .map_err(|e| self.err(e))?
            .map(|r| r.get(0));
        if current.as_deref() != expected {
            return Ok(false);
        }
        write_ops(&mut tx, batch).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }
}

fn write_ops(
    tx: &mut postgres::Transaction<'_>,
    batch: WriteBatch,
) -> std::result::Result<(), postgres::Error> {
    if batch.is_empty() {
        return Ok(());
    }
    let ins = tx.prepare(
        "INSERT INTO mlops_kv (tree, key, value) VALUES ($1, $2, $3)
         ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value",
    )?;
    let del = tx.prepare("DELETE FROM mlops_kv WHERE tree = $1 AND key = $2")?;
    for op in batch.ops {
        match op {
            WriteOp::Insert { tree, key, value } => tx.execute(&ins, &[&tree, &key, &value])?,
            WriteOp::Remove { tree, key } => tx.execute(&del, &[&tree, &key])?,
        };
    }
    Ok(())
}

/// A 64-bit advisory lock id for a guard key.
fn lock_id(tree: &str, key: &[u8]) -> i64 {
    let mut h = blake3::Hasher::new();
    h.update(&(tree.len() as u64).to_le_bytes());
    h.update(tree.as_bytes());
    h.update(key);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.finalize().as_bytes()[..8]);
    i64::from_le_bytes(b)
}

/// The smallest key greater than every key starting with `prefix`, if any.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn describe(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{host}:{port}/{}",
        config.get_dbname().unwrap_or("postgres")
    )
}

/// `url` without its password.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

const RANGE: &str =
    "SELECT key, value FROM mlops_kv WHERE tree = $1 AND key >= $2 AND key < $3 ORDER BY key";
const RANGE_REV: &str =
    "SELECT key, value FROM mlops_kv WHERE tree = $1 AND key >= $2 AND key < $3 ORDER BY key DESC";

impl Store for PgStore {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut c = self.conn()?;
        Ok(c.query_opt(
            "SELECT value FROM mlops_kv WHERE tree = $1 AND key = $2",
            &[&tree, &key],
        )
        .map_err(|e| self.err(e))?
        .map(|r| r.get(0)))
    }

    fn scan_prefix<'a>(
        &'a self,
        tree: &str,
        prefix: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        let end = prefix_end(prefix);
        let v = self.query_entries(RANGE, tree, prefix, end.as_deref())?;
        Ok(Box::new(v.into_iter().map(Ok)))
    }

    fn scan_range<'a>(
        &'a self,
        tree: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        let v = self.query_entries(RANGE, tree, start, Some(end))?;
        Ok(Box::new(v.into_iter().map(Ok)))
    }

    fn scan_range_rev<'a>(
        &'a self,
        tree: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<Box<dyn Iterator<Item = Result<Entry>> + 'a>> {
        let v = self.query_entries(RANGE_REV, tree, start, Some(end))?;
        Ok(Box::new(v.into_iter().map(Ok)))
    }

    fn apply(&self, batch: WriteBatch) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().map_err(|e| self.err(e))?;
        write_ops(&mut tx, batch).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn compare_and_swap(
        &self,
        tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool> {
        let mut b = WriteBatch::new();
        match new {
            Some(v) => b.insert(tree, key, v),
            None => b.remove(tree, key),
        }
        self.guarded(tree, key, expected, b)
    }

    fn apply_if(
        &self,
        guard_tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        batch: WriteBatch,
    ) -> Result<bool> {
        self.guarded(guard_tree, key, expected, batch)
    }

    /// Every commit is already durable on the server.
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}
