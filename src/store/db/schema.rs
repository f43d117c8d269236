//! The database schema and its migrations. `PRAGMA user_version` holds the
//! number of migrations applied; a database gets the missing ones, in order,
//! in the transaction that records the new version, so a crash mid-way
//! leaves the old schema whole.

use super::{sqlite, write_tx};
use crate::store::StoreError;
use rusqlite::Connection;
use std::path::Path;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only:
/// a released migration is never edited.
const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build writes.
pub(super) const VERSION: usize = MIGRATIONS.len();

/// Times are Unix milliseconds (`*_ms`). JSON columns are checked with
/// `json_valid` so a caller's bug fails the write that makes it, not a read
/// after the next restart.
const V1: &str = "
CREATE TABLE state (
    key  TEXT PRIMARY KEY NOT NULL,
    json TEXT NOT NULL CHECK (json_valid(json))
) WITHOUT ROWID;

CREATE TABLE reports (
    id              INTEGER PRIMARY KEY,
    model           TEXT NOT NULL,
    window_start_ms INTEGER NOT NULL,
    window_end_ms   INTEGER NOT NULL,
    records         INTEGER NOT NULL CHECK (records >= 0),
    drift_share     REAL,
    json            TEXT NOT NULL CHECK (json_valid(json))
);
CREATE INDEX reports_model_end ON reports (model, window_end_ms);
-- For prune, which crosses models.
CREATE INDEX reports_end ON reports (window_end_ms);

CREATE TABLE transitions (
    id      INTEGER PRIMARY KEY,
    model   TEXT NOT NULL,
    rule    TEXT NOT NULL,
    feature TEXT,
    status  TEXT NOT NULL,
    at_ms   INTEGER NOT NULL,
    json    TEXT NOT NULL CHECK (json_valid(json))
);
CREATE INDEX transitions_at ON transitions (at_ms);
CREATE INDEX transitions_model_at ON transitions (model, at_ms);

-- AUTOINCREMENT: an id is never reused, so a late call about a delivered
-- entry cannot touch a newer one, and a dead letter keeps its outbox id.
CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    notifier           TEXT NOT NULL,
    idempotency_key    TEXT NOT NULL,
    payload            TEXT NOT NULL CHECK (json_valid(payload)),
    created_at_ms      INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at_ms INTEGER NOT NULL,
    last_error         TEXT
);
CREATE INDEX outbox_notifier_id ON outbox (notifier, id);

CREATE TABLE dead_letters (
    id              INTEGER PRIMARY KEY, -- the entry's outbox id
    notifier        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    last_error      TEXT,
    reason          TEXT NOT NULL,
    given_up_at_ms  INTEGER NOT NULL
);
CREATE INDEX dead_letters_given_up ON dead_letters (given_up_at_ms);
";

/// Brings the schema of `conn` to [`VERSION`], or refuses a database this
/// build cannot read.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let fail = |doing| sqlite(path, doing);
    // Inside the write transaction, so two processes opening a new file at
    // once do not both create the schema.
    let tx = write_tx(conn).map_err(fail("begin the schema migration"))?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(fail("read the schema version"))?;
    let applied = match usize::try_from(found) {
        Ok(version) if version <= VERSION => version,
        _ => return Err(unknown_version(path, found)),
    };
    if applied == VERSION {
        return Ok(());
    }
    for migration in &MIGRATIONS[applied..] {
        tx.execute_batch(migration)
            .map_err(fail("migrate the schema"))?;
    }
    tx.pragma_update(None, "user_version", VERSION as i64)
        .map_err(fail("record the schema version"))?;
    tx.commit().map_err(fail("commit the schema migration"))
}

fn unknown_version(path: &Path, found: i64) -> StoreError {
    let reason = if found < 0 {
        format!("schema version {found} was not written by driftwatch")
    } else {
        format!(
            "schema version {found} is newer than this build knows ({VERSION}): \
             run the driftwatch that wrote it, or use another data_dir"
        )
    };
    StoreError::DbUnusable {
        path: path.to_path_buf(),
        reason,
    }
}
