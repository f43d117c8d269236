//! The history: window reports and alert transitions, appended by commits,
//! read back by time (the report API, a restart's view of recent windows),
//! and pruned by retention together with the outbox's dead letters.

use super::{Db, count_at, millis, stored_count, stored_limit, time_at, write_tx};
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

/// A window report to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// The model the window belongs to.
    pub model: String,
    /// When the window opened.
    pub window_start: DateTime<Utc>,
    /// When the window closed; history is queried and pruned by this time.
    pub window_end: DateTime<Utc>,
    /// Records the window held.
    pub records: u64,
    /// The share of drifted features, or None when the window had too few
    /// records to say.
    pub drift_share: Option<f64>,
    /// The report itself, as JSON.
    pub json: String,
}

/// A stored window report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    /// Its row id; increases with insertion.
    pub id: i64,
    /// When the window opened.
    pub window_start: DateTime<Utc>,
    /// When the window closed.
    pub window_end: DateTime<Utc>,
    /// Records the window held.
    pub records: u64,
    /// The share of drifted features, if it was known.
    pub drift_share: Option<f64>,
    /// The report, as JSON.
    pub json: String,
}

/// An alert transition to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTransition {
    /// The model whose rule changed state.
    pub model: String,
    /// The rule's name.
    pub rule: String,
    /// The feature, for a per-feature rule.
    pub feature: Option<String>,
    /// The state it moved to.
    pub status: String,
    /// When it moved.
    pub at: DateTime<Utc>,
    /// The transition itself, as JSON.
    pub json: String,
}

/// A stored alert transition.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTransition {
    /// Its row id; increases with insertion.
    pub id: i64,
    /// The model whose rule changed state.
    pub model: String,
    /// The rule's name.
    pub rule: String,
    /// The feature, for a per-feature rule.
    pub feature: Option<String>,
    /// The state it moved to.
    pub status: String,
    /// When it moved.
    pub at: DateTime<Utc>,
    /// The transition, as JSON.
    pub json: String,
}

impl Db {
    /// Reports of `model` whose window ended at or after `since`, oldest
    /// first, at most `limit`.
    pub fn reports_since(
        &self,
        model: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<StoredReport>, StoreError> {
        self.run("read reports", |conn| {
            conn.prepare_cached(
                "SELECT id, window_start_ms, window_end_ms, records, drift_share, json
                 FROM reports WHERE model = ?1 AND window_end_ms >= ?2
                 ORDER BY window_end_ms, id LIMIT ?3",
            )?
            .query_map(
                params![model, millis(since), stored_limit(limit)],
                report_row,
            )?
            .collect()
        })
    }

    /// Alert transitions, of `model` or of every model, at or after
    /// `since`, oldest first, at most `limit`.
    pub fn transitions_since(
        &self,
        model: Option<&str>,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<StoredTransition>, StoreError> {
        let (since, limit) = (millis(since), stored_limit(limit));
        self.run("read transitions", |conn| {
            // Two statements rather than `?1 IS NULL OR model = ?1`, which
            // would keep SQLite from using the (model, at_ms) index.
            match model {
                Some(model) => conn
                    .prepare_cached(
                        "SELECT id, model, rule, feature, status, at_ms, json FROM transitions
                         WHERE model = ?1 AND at_ms >= ?2 ORDER BY at_ms, id LIMIT ?3",
                    )?
                    .query_map(params![model, since, limit], transition_row)?
                    .collect(),
                None => conn
                    .prepare_cached(
                        "SELECT id, model, rule, feature, status, at_ms, json FROM transitions
                         WHERE at_ms >= ?1 ORDER BY at_ms, id LIMIT ?2",
                    )?
                    .query_map(params![since, limit], transition_row)?
                    .collect(),
            }
        })
    }

    /// Deletes reports, transitions and dead letters older than `before`;
    /// returns how many rows went. The outbox and the state are never
    /// pruned: they are what is still owed, not history.
    pub fn prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.run("prune the history", |conn| {
            let tx = write_tx(conn)?;
            let before = millis(before);
            let mut deleted = 0;
            for sql in [
                "DELETE FROM reports WHERE window_end_ms < ?1",
                "DELETE FROM transitions WHERE at_ms < ?1",
                "DELETE FROM dead_letters WHERE given_up_at_ms < ?1",
            ] {
                deleted += tx.execute(sql, [before])? as u64;
            }
            tx.commit()?;
            Ok(deleted)
        })
    }
}

fn report_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredReport> {
    Ok(StoredReport {
        id: row.get(0)?,
        window_start: time_at(row, 1)?,
        window_end: time_at(row, 2)?,
        records: count_at(row, 3)?,
        drift_share: row.get(4)?,
        json: row.get(5)?,
    })
}

fn transition_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredTransition> {
    Ok(StoredTransition {
        id: row.get(0)?,
        model: row.get(1)?,
        rule: row.get(2)?,
        feature: row.get(3)?,
        status: row.get(4)?,
        at: time_at(row, 5)?,
        json: row.get(6)?,
    })
}

pub(super) fn insert_report(tx: &Transaction<'_>, report: &NewReport) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO reports
         (model, window_start_ms, window_end_ms, records, drift_share, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        report.model,
        millis(report.window_start),
        millis(report.window_end),
        stored_count(report.records)?,
        report.drift_share,
        report.json,
    ])?;
    Ok(())
}

pub(super) fn insert_transitions(
    tx: &Transaction<'_>,
    transitions: &[NewTransition],
) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO transitions (model, rule, feature, status, at_ms, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for t in transitions {
        insert.execute(params![
            t.model,
            t.rule,
            t.feature,
            t.status,
            millis(t.at),
            t.json
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Commit, NewOutboxEntry, at, scratch};
    use super::*;

    fn report(model: &str, end_secs: i64) -> NewReport {
        NewReport {
            model: model.into(),
            window_start: at(end_secs - 60),
            window_end: at(end_secs),
            records: 10,
            drift_share: None,
            json: format!(r#"{{"end":{end_secs}}}"#),
        }
    }

    fn transition(model: &str, secs: i64) -> NewTransition {
        NewTransition {
            model: model.into(),
            rule: "drift_share".into(),
            feature: Some("age".into()),
            status: "firing".into(),
            at: at(secs),
            json: format!(r#"{{"at":{secs}}}"#),
        }
    }

    fn add_report(db: &Db, report: NewReport) {
        let commit = Commit {
            report: Some(report),
            ..Commit::default()
        };
        db.commit(&commit).unwrap();
    }

    #[test]
    fn reports_since_filters_by_model_and_time_oldest_first_with_a_limit() {
        let (_dir, db) = scratch();
        // Out of order on purpose: the order is the window's end.
        for (model, end) in [
            ("loans", 300),
            ("loans", 100),
            ("fraud", 200),
            ("loans", 200),
        ] {
            add_report(&db, report(model, end));
        }
        let ends = |reports: Vec<StoredReport>| -> Vec<i64> {
            reports
                .iter()
                .map(|r| r.window_end.timestamp() - at(0).timestamp())
                .collect()
        };
        assert_eq!(
            ends(db.reports_since("loans", at(200), 10).unwrap()),
            [200, 300]
        );
        assert_eq!(
            ends(db.reports_since("loans", at(0), 2).unwrap()),
            [100, 200]
        );
        assert_eq!(ends(db.reports_since("fraud", at(0), 10).unwrap()), [200]);
        assert!(db.reports_since("other", at(0), 10).unwrap().is_empty());
        let stored = db.reports_since("loans", at(300), 1).unwrap().remove(0);
        let expected = report("loans", 300);
        assert_eq!(stored.window_start, expected.window_start);
        assert_eq!((stored.records, stored.drift_share), (10, None));
        assert_eq!(stored.json, expected.json);
    }

    #[test]
    fn transitions_since_filters_by_time_and_optionally_model_with_a_limit() {
        let (_dir, db) = scratch();
        let commit = Commit {
            transitions: vec![
                transition("loans", 30),
                transition("fraud", 10),
                transition("loans", 20),
            ],
            ..Commit::default()
        };
        db.commit(&commit).unwrap();
        let at_secs = |ts: Vec<StoredTransition>| -> Vec<(String, i64)> {
            ts.into_iter()
                .map(|t| (t.model, t.at.timestamp() - at(0).timestamp()))
                .collect()
        };
        let all = at_secs(db.transitions_since(None, at(0), 10).unwrap());
        let pairs = [("fraud", 10), ("loans", 20), ("loans", 30)];
        assert_eq!(all, pairs.map(|(m, s)| (m.to_string(), s)));
        let loans = at_secs(db.transitions_since(Some("loans"), at(25), 10).unwrap());
        assert_eq!(loans, [("loans".to_string(), 30)]);
        assert_eq!(db.transitions_since(None, at(0), 2).unwrap().len(), 2);
        let one = db.transitions_since(Some("fraud"), at(10), 1).unwrap();
        assert_eq!(one[0].feature.as_deref(), Some("age"));
        assert_eq!(
            (one[0].rule.as_str(), one[0].status.as_str()),
            ("drift_share", "firing")
        );
    }

    #[test]
    fn prune_deletes_old_history_and_dead_letters_but_keeps_the_outbox_and_state() {
        let (_dir, db) = scratch();
        let old_entry = NewOutboxEntry {
            notifier: "slack".into(),
            idempotency_key: "k".into(),
            payload: "{}".into(),
            created_at: at(0),
        };
        let commit = Commit {
            states: vec![("alert/loans".into(), "{}".into())],
            report: Some(report("loans", 100)),
            transitions: vec![transition("loans", 100), transition("loans", 300)],
            outbox: vec![old_entry.clone(), old_entry],
        };
        let ids = db.commit(&commit).unwrap();
        add_report(&db, report("loans", 300));
        db.outbox_give_up(ids[1], "410 Gone", at(100)).unwrap();

        assert_eq!(
            db.prune(at(200)).unwrap(),
            3,
            "a report, a transition, a dead letter"
        );
        assert_eq!(db.reports_since("loans", at(0), 10).unwrap().len(), 1);
        assert_eq!(db.transitions_since(None, at(0), 10).unwrap().len(), 1);
        assert_eq!(db.outbox_head("slack").unwrap().map(|e| e.id), Some(ids[0]));
        assert_eq!(db.state("alert/loans").unwrap().as_deref(), Some("{}"));
        assert_eq!(db.prune(at(200)).unwrap(), 0);
    }
}
