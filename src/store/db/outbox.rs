//! The notification outbox: entries appended by commits, delivered one
//! notifier at a time in id order, retried until delivered, or given up into
//! the dead letters (kept for inspection until pruned). Each notifier is its
//! own FIFO queue, so one slow receiver never holds back another.

use super::{Db, count_at, millis, time_at, write_tx};
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, ToSql, Transaction, params};

/// The reason recorded for entries whose notifier left the configuration.
pub const ORPHAN_REASON: &str = "notifier no longer configured";

/// A notification to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxEntry {
    /// The configured notifier that delivers it.
    pub notifier: String,
    /// Sent with every attempt, so a receiver can drop the repeats that
    /// at-least-once delivery makes.
    pub idempotency_key: String,
    /// What to send, as JSON.
    pub payload: String,
    /// When the notification was made.
    pub created_at: DateTime<Utc>,
}

/// A notification still to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Its id: increases with insertion, never reused.
    pub id: i64,
    /// The configured notifier that delivers it.
    pub notifier: String,
    /// Sent with every attempt.
    pub idempotency_key: String,
    /// What to send, as JSON.
    pub payload: String,
    /// When the notification was made.
    pub created_at: DateTime<Utc>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When to try next: `created_at` until the first retry.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// One notifier's backlog, for metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxStats {
    /// The notifier.
    pub notifier: String,
    /// Undelivered entries.
    pub depth: u64,
    /// When the oldest of them was made.
    pub oldest: Option<DateTime<Utc>>,
}

impl Db {
    /// The oldest undelivered entry of `notifier` (lowest id), whether or
    /// not it is due yet, or None. Delivering only the head keeps each
    /// notifier's notifications in order.
    pub fn outbox_head(&self, notifier: &str) -> Result<Option<OutboxEntry>, StoreError> {
        self.run("read the outbox", |conn| {
            conn.prepare_cached(
                "SELECT id, notifier, idempotency_key, payload, created_at_ms,
                        attempts, next_attempt_at_ms, last_error
                 FROM outbox WHERE notifier = ?1 ORDER BY id LIMIT 1",
            )?
            .query_row([notifier], entry_row)
            .optional()
        })
    }

    /// Entry `id` was delivered: it leaves the outbox. An id that is no
    /// longer there (given up meanwhile) is not an error.
    pub fn outbox_delivered(&self, id: i64) -> Result<(), StoreError> {
        self.run("remove a delivered entry from the outbox", |conn| {
            conn.prepare_cached("DELETE FROM outbox WHERE id = ?1")?
                .execute([id])?;
            Ok(())
        })
    }

    /// An attempt at entry `id` failed and will be retried at `next_at`.
    pub fn outbox_retry(
        &self,
        id: i64,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.run("record a failed delivery in the outbox", |conn| {
            conn.prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1,
                     next_attempt_at_ms = ?2, last_error = ?3
                 WHERE id = ?1",
            )?
            .execute(params![id, millis(next_at), error])?;
            Ok(())
        })
    }

    /// Entry `id` will never be delivered (refused by its receiver, its
    /// notifier gone): it moves to the dead letters with `reason` and `at`.
    pub fn outbox_give_up(
        &self,
        id: i64,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.run("move an outbox entry to the dead letters", |conn| {
            let tx = write_tx(conn)?;
            give_up_where(&tx, "id = ?1", &id, reason, at)?;
            tx.commit()
        })
    }

    /// Gives up every entry of a notifier not in `known`, with the reason
    /// [`ORPHAN_REASON`]; returns how many per notifier, by name. Run at
    /// start, so a notifier removed from the configuration does not keep
    /// its entries forever.
    pub fn outbox_orphans(
        &self,
        known: &[&str],
        at: DateTime<Utc>,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.run("give up the outbox entries of removed notifiers", |conn| {
            let tx = write_tx(conn)?;
            let mut orphans = depths(&tx)?;
            orphans.retain(|(notifier, _)| !known.contains(&notifier.as_str()));
            for (notifier, _) in &orphans {
                give_up_where(&tx, "notifier = ?1", notifier, ORPHAN_REASON, at)?;
            }
            tx.commit()?;
            Ok(orphans)
        })
    }

    /// Per notifier with undelivered entries, by name: how many and the
    /// oldest's creation time. A notifier that is missing has none.
    pub fn outbox_stats(&self) -> Result<Vec<OutboxStats>, StoreError> {
        self.run("read the outbox", |conn| {
            conn.prepare_cached(
                "SELECT notifier, count(*), min(created_at_ms) FROM outbox
                 GROUP BY notifier ORDER BY notifier",
            )?
            .query_map([], |row| {
                Ok(OutboxStats {
                    notifier: row.get(0)?,
                    depth: count_at(row, 1)?,
                    oldest: Some(time_at(row, 2)?),
                })
            })?
            .collect()
        })
    }
}

/// Appends `entries` in order; returns their ids. A new entry is due at
/// once: its next attempt is its creation.
pub(super) fn append(
    tx: &Transaction<'_>,
    entries: &[NewOutboxEntry],
) -> rusqlite::Result<Vec<i64>> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox
         (notifier, idempotency_key, payload, created_at_ms, next_attempt_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id",
    )?;
    entries
        .iter()
        .map(|e| {
            let created = millis(e.created_at);
            let row = params![e.notifier, e.idempotency_key, e.payload, created];
            insert.query_row(row, |row| row.get(0))
        })
        .collect()
}

/// Moves the outbox entries matching `condition` (on `?1` = `key`) to the
/// dead letters.
fn give_up_where(
    tx: &Transaction<'_>,
    condition: &str,
    key: &dyn ToSql,
    reason: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let copy = format!(
        "INSERT INTO dead_letters (id, notifier, idempotency_key, payload, created_at_ms,
             attempts, last_error, reason, given_up_at_ms)
         SELECT id, notifier, idempotency_key, payload, created_at_ms,
             attempts, last_error, ?2, ?3
         FROM outbox WHERE {condition}"
    );
    tx.prepare_cached(&copy)?
        .execute(params![key, reason, millis(at)])?;
    let delete = format!("DELETE FROM outbox WHERE {condition}");
    tx.prepare_cached(&delete)?.execute([key])?;
    Ok(())
}

/// Undelivered entries per notifier, by name.
fn depths(tx: &Transaction<'_>) -> rusqlite::Result<Vec<(String, u64)>> {
    tx.prepare_cached("SELECT notifier, count(*) FROM outbox GROUP BY notifier ORDER BY notifier")?
        .query_map([], |row| Ok((row.get(0)?, count_at(row, 1)?)))?
        .collect()
}

fn entry_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEntry> {
    Ok(OutboxEntry {
        id: row.get(0)?,
        notifier: row.get(1)?,
        idempotency_key: row.get(2)?,
        payload: row.get(3)?,
        created_at: time_at(row, 4)?,
        attempts: row.get(5)?,
        next_attempt_at: time_at(row, 6)?,
        last_error: row.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Commit, at, scratch};
    use super::*;

    fn entry(notifier: &str, n: u32) -> NewOutboxEntry {
        NewOutboxEntry {
            notifier: notifier.into(),
            idempotency_key: format!("{notifier}-{n}"),
            payload: format!(r#"{{"n":{n}}}"#),
            created_at: at(i64::from(n)),
        }
    }

    fn enqueue(db: &Db, entries: Vec<NewOutboxEntry>) -> Vec<i64> {
        let commit = Commit {
            outbox: entries,
            ..Commit::default()
        };
        db.commit(&commit).unwrap()
    }

    /// (id, reason, given up at, attempts, last error) of every dead letter.
    fn dead_letters(db: &Db) -> Vec<(i64, String, i64, u32, Option<String>)> {
        let conn = db.lock();
        let mut select = conn
            .prepare(
                "SELECT id, reason, given_up_at_ms, attempts, last_error
                 FROM dead_letters ORDER BY id",
            )
            .unwrap();
        let rows = select.query_map([], |row| {
            let at = time_at(row, 2)?.timestamp() - at(0).timestamp();
            Ok((row.get(0)?, row.get(1)?, at, row.get(3)?, row.get(4)?))
        });
        rows.unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn an_entry_survives_closing_and_reopening_the_database() {
        let (dir, db) = scratch();
        let clone = db.clone();
        let ids = enqueue(&db, vec![entry("slack", 1)]);
        drop((db, clone));
        let db = Db::open(dir.path()).unwrap();
        let head = db.outbox_head("slack").unwrap().unwrap();
        let expected = OutboxEntry {
            id: ids[0],
            notifier: "slack".into(),
            idempotency_key: "slack-1".into(),
            payload: r#"{"n":1}"#.into(),
            created_at: at(1),
            attempts: 0,
            next_attempt_at: at(1),
            last_error: None,
        };
        assert_eq!(head, expected);
    }

    #[test]
    fn each_notifier_is_served_in_insertion_order() {
        let (_dir, db) = scratch();
        let ids = enqueue(
            &db,
            vec![entry("a", 1), entry("b", 2), entry("a", 3), entry("b", 4)],
        );
        let head = |n: &str| db.outbox_head(n).unwrap().map(|e| e.id);
        // The head is the oldest even when it is not due yet.
        db.outbox_retry(ids[0], at(10_000), "503").unwrap();
        assert_eq!((head("a"), head("b")), (Some(ids[0]), Some(ids[1])));
        db.outbox_delivered(ids[0]).unwrap();
        assert_eq!((head("a"), head("b")), (Some(ids[2]), Some(ids[1])));
        db.outbox_delivered(ids[2]).unwrap();
        db.outbox_delivered(ids[2]).unwrap();
        assert_eq!((head("a"), head("c")), (None, None));
        // Ids are never reused, even once the outbox was emptied.
        db.outbox_delivered(ids[1]).unwrap();
        db.outbox_delivered(ids[3]).unwrap();
        assert!(enqueue(&db, vec![entry("a", 5)])[0] > ids[3]);
    }

    #[test]
    fn a_retry_counts_the_attempt_and_records_when_and_why() {
        let (_dir, db) = scratch();
        let id = enqueue(&db, vec![entry("hook", 1)])[0];
        db.outbox_retry(id, at(60), "connection refused").unwrap();
        db.outbox_retry(id, at(180), "503 Service Unavailable")
            .unwrap();
        let head = db.outbox_head("hook").unwrap().unwrap();
        assert_eq!(head.attempts, 2);
        assert_eq!(head.next_attempt_at, at(180));
        assert_eq!(head.last_error.as_deref(), Some("503 Service Unavailable"));
        assert_eq!(head.created_at, at(1));
    }

    #[test]
    fn giving_up_moves_the_entry_to_the_dead_letters() {
        let (_dir, db) = scratch();
        let ids = enqueue(&db, vec![entry("hook", 1), entry("hook", 2)]);
        db.outbox_retry(ids[0], at(60), "400 Bad Request").unwrap();
        db.outbox_give_up(ids[0], "400 Bad Request", at(70))
            .unwrap();
        assert_eq!(db.outbox_head("hook").unwrap().map(|e| e.id), Some(ids[1]));
        let reason = "400 Bad Request".to_string();
        let expected = (ids[0], reason.clone(), 70, 1, Some(reason));
        assert_eq!(dead_letters(&db), [expected]);
    }

    #[test]
    fn entries_of_removed_notifiers_are_given_up() {
        let (_dir, db) = scratch();
        let entries = vec![
            entry("old", 1),
            entry("kept", 2),
            entry("gone", 3),
            entry("old", 4),
        ];
        let ids = enqueue(&db, entries);
        let orphans = db.outbox_orphans(&["kept", "unused"], at(100)).unwrap();
        assert_eq!(orphans, [("gone".to_string(), 1), ("old".to_string(), 2)]);
        let dead: Vec<_> = dead_letters(&db).into_iter().map(|d| (d.0, d.1)).collect();
        let reason = ORPHAN_REASON.to_string();
        let expected = [ids[0], ids[2], ids[3]].map(|id| (id, reason.clone()));
        assert_eq!(dead, expected);
        assert_eq!(db.outbox_head("kept").unwrap().map(|e| e.id), Some(ids[1]));
        assert!(db.outbox_orphans(&["kept"], at(100)).unwrap().is_empty());
    }

    #[test]
    fn stats_give_each_notifiers_depth_and_oldest_entry() {
        let (_dir, db) = scratch();
        assert!(db.outbox_stats().unwrap().is_empty());
        let ids = enqueue(&db, vec![entry("b", 5), entry("a", 3), entry("b", 7)]);
        let stats = |notifier: &str, depth, oldest| OutboxStats {
            notifier: notifier.into(),
            depth,
            oldest: Some(at(oldest)),
        };
        assert_eq!(
            db.outbox_stats().unwrap(),
            [stats("a", 1, 3), stats("b", 2, 5)]
        );
        db.outbox_delivered(ids[0]).unwrap();
        db.outbox_delivered(ids[1]).unwrap();
        assert_eq!(db.outbox_stats().unwrap(), [stats("b", 1, 7)]);
    }
}
