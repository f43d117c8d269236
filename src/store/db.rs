//! The durable part of the store: `data_dir/driftwatch.db`, one SQLite
//! database that holds what the daemon must not lose across a crash — the
//! alert state (a small key → JSON table), the notification outbox and its
//! dead letters, and the history of window reports and alert transitions.
//! It owns the connection, its settings, the schema and every query; it
//! knows nothing of alerts or notifiers: states, payloads and reports are
//! JSON text chosen by the caller.
//!
//! Whatever one step of the pipeline decides (new states, a report, its
//! transitions, the notifications they cause) is written as one [`Commit`],
//! in one transaction, so a crash never leaves a transition without its
//! notification or a notification without its state. With WAL and
//! `synchronous=FULL` a returned commit survives SIGKILL and power loss.
//!
//! Times are stored as integer Unix milliseconds; finer parts are dropped.
//! The API is synchronous: async callers wrap calls in `spawn_blocking`.

mod history;
mod outbox;
mod schema;

pub use history::{NewReport, NewTransition, StoredReport, StoredTransition};
pub use outbox::{NewOutboxEntry, ORPHAN_REASON, OutboxEntry, OutboxStats};

use super::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The database's file name inside the data directory.
pub const FILE_NAME: &str = "driftwatch.db";

/// How long a statement waits for a lock held by another connection (a
/// second process on the same directory, an operator's `sqlite3` shell)
/// before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The database of a data directory. Cheap to clone: clones share one
/// connection, so calls are serialised.
#[derive(Debug, Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// Everything one step decides, written all or nothing by [`Db::commit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    /// State upserts: key → JSON text.
    pub states: Vec<(String, String)>,
    /// A window report to add to the history.
    pub report: Option<NewReport>,
    /// Alert transitions to add to the history.
    pub transitions: Vec<NewTransition>,
    /// Notifications to deliver, appended to the outbox in this order.
    pub outbox: Vec<NewOutboxEntry>,
}

impl Db {
    /// Opens `data_dir/driftwatch.db`, creating the directories, the file
    /// and the schema as needed. Refuses a database whose schema is newer
    /// than this build knows, rather than misreading it.
    pub fn open(data_dir: &Path) -> Result<Db, StoreError> {
        fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
        let mut conn = Connection::open(&path).map_err(sqlite(&path, "open the database"))?;
        configure(&conn, &path)?;
        schema::migrate(&mut conn, &path)?;
        let conn = Mutex::new(conn);
        Ok(Db {
            inner: Arc::new(Inner { path, conn }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Writes everything in `commit` in one transaction, all or nothing, and
    /// returns the ids of the outbox entries it added, in order.
    pub fn commit(&self, commit: &Commit) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.lock();
        let fail = |doing| sqlite(self.path(), doing);
        // Dropping `tx` on an early return rolls everything back.
        let tx = write_tx(&mut conn).map_err(fail("begin a transaction"))?;
        put_states(&tx, &commit.states).map_err(fail("write the state"))?;
        if let Some(report) = &commit.report {
            history::insert_report(&tx, report).map_err(fail("append a report"))?;
        }
        history::insert_transitions(&tx, &commit.transitions)
            .map_err(fail("append a transition"))?;
        let ids = outbox::append(&tx, &commit.outbox).map_err(fail("append to the outbox"))?;
        tx.commit().map_err(fail("commit a transaction"))?;
        Ok(ids)
    }

    /// The JSON stored under `key`, if any.
    pub fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.run("read the state", |conn| {
            conn.prepare_cached("SELECT json FROM state WHERE key = ?1")?
                .query_row([key], |row| row.get(0))
                .optional()
        })
    }

    /// Every state whose key starts with `prefix`, ordered by key.
    pub fn states_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.run("read the state", |conn| {
            // Not LIKE: `_` and `%` are ordinary characters in keys. The
            // table holds a few rows per model, so a scan is cheap.
            conn.prepare_cached(
                "SELECT key, json FROM state
                 WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
            )?
            .query_map([prefix], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
        })
    }

    /// Runs `f` on the connection; a failure becomes an error naming the
    /// database and `doing`.
    fn run<T>(
        &self,
        doing: &'static str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        f(&mut self.lock()).map_err(sqlite(self.path(), doing))
    }

    /// Caps the database at its current size, as a full disk would, or
    /// lifts the cap: for tests of what a full disk does.
    #[cfg(test)]
    pub(crate) fn simulate_full_disk(&self, full: bool) {
        let conn = self.lock();
        let pages: i64 = match full {
            true => conn
                .pragma_query_value(None, "page_count", |row| row.get(0))
                .unwrap(),
            false => i64::from(u32::MAX >> 1),
        };
        conn.pragma_update(None, "max_page_count", pages).unwrap();
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held left no half-written data: every
        // multi-statement write is a transaction, rolled back when dropped.
        // So the connection is still good, and one panicking task must not
        // stop every later delivery.
        self.inner
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The connection settings. WAL lets readers run while a commit is written;
/// `synchronous=FULL` makes each commit durable before it returns, which the
/// outbox's at-least-once promise needs.
fn configure(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let fail = |doing| sqlite(path, doing);
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(fail("set the busy timeout"))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
        .map_err(fail("enable write-ahead logging"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // SQLite keeps the old mode where WAL is impossible (some network
        // file systems); a silent fallback would hide that from operators.
        return Err(StoreError::DbUnusable {
            path: path.to_path_buf(),
            reason: format!(
                "journal mode is {mode:?}, expected \"wal\": the file system may not support it"
            ),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(fail("set synchronous=FULL"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(fail("enable foreign keys"))
}

/// Turns a SQLite error into one that names the database and what was being
/// done.
fn sqlite(path: &Path, doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Db {
        path: path.to_path_buf(),
        doing,
        source,
    }
}

/// A write transaction. IMMEDIATE takes the write lock at the start, so a
/// concurrent writer makes it wait (busy timeout) rather than fail halfway
/// when a read lock cannot be upgraded.
fn write_tx(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

fn put_states(tx: &Transaction<'_>, states: &[(String, String)]) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO state (key, json) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET json = excluded.json",
    )?;
    for (key, json) in states {
        insert.execute(params![key, json])?;
    }
    Ok(())
}

/// A time as stored: Unix milliseconds.
fn millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// Column `idx` of `row` read as a time.
fn time_at(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let ms: i64 = row.get(idx)?;
    DateTime::from_timestamp_millis(ms).ok_or(rusqlite::Error::IntegralValueOutOfRange(idx, ms))
}

/// Column `idx` of `row` read as a count. rusqlite reads only signed
/// integers unless its `fallible_uint` feature is on.
fn count_at(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let n: i64 = row.get(idx)?;
    u64::try_from(n).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, n))
}

/// A count as stored. SQLite integers are signed; a count beyond
/// `i64::MAX` is refused rather than wrapped.
fn stored_count(n: u64) -> rusqlite::Result<i64> {
    i64::try_from(n).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// A `LIMIT` operand: a limit beyond `i64::MAX` means no limit.
fn stored_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Runs a database call off the async threads: the API is synchronous,
/// and a commit waits for the disk.
pub async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(call)
        .await
        .expect("a database call does not panic")
}

/// A fresh database in a temporary directory, for the tests here and in the
/// submodules.
#[cfg(test)]
fn scratch() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    (dir, db)
}

/// A test time: `secs` seconds after a fixed instant.
#[cfg(test)]
fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pragma<T: rusqlite::types::FromSql>(db: &Db, name: &str) -> T {
        db.lock()
            .pragma_query_value(None, name, |row| row.get(0))
            .unwrap()
    }

    fn count(db: &Db, table: &str) -> i64 {
        db.lock()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .unwrap()
    }

    fn report(model: &str, end: i64) -> NewReport {
        NewReport {
            model: model.into(),
            window_start: at(end - 60),
            window_end: at(end),
            records: 100,
            drift_share: Some(0.25),
            json: r#"{"drift_share":0.25}"#.into(),
        }
    }

    fn transition(model: &str, secs: i64) -> NewTransition {
        NewTransition {
            model: model.into(),
            rule: "drift_share".into(),
            feature: None,
            status: "firing".into(),
            at: at(secs),
            json: r#"{"to":"firing"}"#.into(),
        }
    }

    fn entry(notifier: &str, payload: &str) -> NewOutboxEntry {
        NewOutboxEntry {
            notifier: notifier.into(),
            idempotency_key: format!("{notifier}-1"),
            payload: payload.into(),
            created_at: at(0),
        }
    }

    #[test]
    fn open_creates_the_file_in_wal_mode_with_durable_settings() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("nested/data");
        let db = Db::open(&data_dir).unwrap();
        assert_eq!(db.path(), data_dir.join("driftwatch.db"));
        assert!(db.path().is_file());
        assert_eq!(pragma::<String>(&db, "journal_mode"), "wal");
        assert_eq!(pragma::<i64>(&db, "synchronous"), 2, "FULL");
        assert_eq!(pragma::<i64>(&db, "foreign_keys"), 1);
        assert_eq!(pragma::<i64>(&db, "busy_timeout"), 5000);
        assert_eq!(pragma::<i64>(&db, "user_version"), 1);
        drop(db);
        // Reopening an existing database neither fails nor recreates it.
        let db = Db::open(&data_dir).unwrap();
        assert_eq!(pragma::<i64>(&db, "user_version"), 1);
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_error() {
        let (dir, db) = scratch();
        db.lock().pragma_update(None, "user_version", 7).unwrap();
        drop(db);
        let error = Db::open(dir.path()).unwrap_err().to_string();
        assert!(error.contains("driftwatch.db"), "{error}");
        assert!(
            error.contains("schema version 7 is newer than this build knows (1)"),
            "{error}"
        );
    }

    #[test]
    fn a_data_dir_that_cannot_be_created_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        fs::write(&file, b"not a directory").unwrap();
        let data_dir = file.join("data");
        let error = Db::open(&data_dir).unwrap_err().to_string();
        assert!(error.contains(&data_dir.display().to_string()), "{error}");
    }

    #[test]
    fn a_commit_that_fails_midway_leaves_nothing() {
        let (_dir, db) = scratch();
        let mut commit = Commit {
            states: vec![("alert/loans".into(), r#"{"state":"firing"}"#.into())],
            report: Some(report("loans", 60)),
            transitions: vec![transition("loans", 60)],
            outbox: vec![entry("slack", "{}"), entry("hook", "{not json")],
        };
        // The outbox's payload must be JSON: the second entry breaks the
        // commit after everything else was written.
        let error = db.commit(&commit).unwrap_err().to_string();
        assert!(
            error.contains("driftwatch.db: cannot append to the outbox"),
            "{error}"
        );
        assert_eq!(db.state("alert/loans").unwrap(), None);
        for table in ["state", "reports", "transitions", "outbox"] {
            assert_eq!(count(&db, table), 0, "{table}");
        }
        commit.outbox[1].payload = "{}".into();
        let ids = db.commit(&commit).unwrap();
        assert_eq!(ids.len(), 2);
        assert!(ids[0] < ids[1]);
        for table in ["state", "reports", "transitions"] {
            assert_eq!(count(&db, table), 1, "{table}");
        }
    }

    #[test]
    fn states_are_upserted_and_listed_by_prefix_in_key_order() {
        let (_dir, db) = scratch();
        let states = |pairs: &[(&str, &str)]| Commit {
            states: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Commit::default()
        };
        db.commit(&states(&[
            ("a_b/2", "2"),
            ("a_b/1", "1"),
            ("axb/1", "3"),
            ("a_c", "4"),
        ]))
        .unwrap();
        db.commit(&states(&[("a_b/2", r#"{"v":22}"#)])).unwrap();
        assert_eq!(db.state("a_b/2").unwrap().as_deref(), Some(r#"{"v":22}"#));
        assert_eq!(db.state("missing").unwrap(), None);
        let listed = db.states_with_prefix("a_b/").unwrap();
        let expected = [("a_b/1", "1"), ("a_b/2", r#"{"v":22}"#)];
        let expected: Vec<_> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(listed, expected);
        assert_eq!(db.states_with_prefix("").unwrap().len(), 4);
    }

    #[test]
    fn a_state_that_is_not_json_is_refused() {
        let (_dir, db) = scratch();
        let commit = Commit {
            states: vec![("k".into(), "firing".into())],
            ..Commit::default()
        };
        let error = db.commit(&commit).unwrap_err().to_string();
        assert!(error.contains("cannot write the state"), "{error}");
    }
}
