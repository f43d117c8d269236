//! Saving a model's quality tracker across a restart: the records still
//! waiting for labels, the windows gathering them, and the label-free
//! estimate of the open window, so that labels sent after a restart still
//! find their records.
//!
//! The file is a 4-byte magic, a length-prefixed JSON header (the settings
//! it was made under, the classes, the windows) and the join buffer's
//! entries in a compact binary form (about 30 bytes a record), oldest
//! first. A snapshot made under other settings (task, positive class,
//! score, feedback) is refused rather than mixed with the new ones; a
//! smaller `max_pending` evicts the oldest records, a changed
//! `min_labels` applies from the restore on.

use super::{Answer, LabelledWindow, Pending, QualityTracker, Task, WindowState};
use crate::config::QualityConfig;
use crate::join::{JoinBuffer, JoinCounts};
use crate::stats::quality::estimate::ExpectedConfusion;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};

const MAGIC: &[u8; 4] = b"DWQ1";

/// The largest header read back: far above any real one, it keeps a
/// damaged length from allocating without end.
const MAX_HEADER: u64 = 1 << 32;

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read the label snapshot: {0}")]
    Io(#[from] io::Error),
    #[error("not a label snapshot, or a damaged one: {0}")]
    Damaged(String),
    #[error(
        "the label snapshot was made with other quality settings ({0}); its records are dropped"
    )]
    OtherSettings(String),
}

/// What must not change for a snapshot to be restored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settings {
    task: Option<Task>,
    positive: String,
    scored: bool,
    feedback: bool,
}

impl Settings {
    fn of(config: &QualityConfig) -> Settings {
        Settings {
            task: config.task,
            positive: config.positive.clone(),
            scored: config.score.is_some(),
            feedback: config.feedback.is_some(),
        }
    }
}

#[derive(Serialize)]
struct HeaderOut<'a> {
    settings: Settings,
    open: u64,
    classes: Vec<&'a str>,
    windows: &'a BTreeMap<u64, WindowState>,
    ready: &'a VecDeque<LabelledWindow>,
    estimate: &'a ExpectedConfusion,
    counts: JoinCounts,
    entries: u64,
}

#[derive(Deserialize)]
struct HeaderIn {
    settings: Settings,
    open: u64,
    classes: Vec<String>,
    windows: BTreeMap<u64, WindowState>,
    ready: VecDeque<LabelledWindow>,
    estimate: ExpectedConfusion,
    counts: JoinCounts,
    entries: u64,
}

impl QualityTracker {
    /// Writes the tracker to `out`.
    pub fn save(&self, out: &mut impl Write) -> io::Result<()> {
        let mut classes = vec![""; self.classes.len()];
        for (name, &id) in &self.classes {
            classes[id as usize] = name;
        }
        let header = HeaderOut {
            settings: Settings::of(&self.config),
            open: self.open,
            classes,
            windows: &self.windows,
            ready: &self.ready,
            estimate: &self.estimate,
            counts: self.buffer.counts(),
            entries: self.buffer.len() as u64,
        };
        let header = serde_json::to_vec(&header).map_err(io::Error::other)?;
        out.write_all(MAGIC)?;
        out.write_all(&(header.len() as u64).to_le_bytes())?;
        out.write_all(&header)?;
        for (key, at, pending) in self.buffer.entries() {
            out.write_all(&key.to_le_bytes())?;
            out.write_all(&at.to_le_bytes())?;
            write_pending(out, pending)?;
        }
        Ok(())
    }

    /// A tracker for `config` (each window keeping `capacity` pairs) that
    /// goes on from the snapshot in `input`.
    pub fn restore(
        config: &QualityConfig,
        capacity: usize,
        input: &mut impl Read,
    ) -> Result<QualityTracker, SnapshotError> {
        let mut magic = [0u8; 4];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(SnapshotError::Damaged("no DWQ1 magic".into()));
        }
        let length = read_u64(input)?;
        if length > MAX_HEADER {
            return Err(SnapshotError::Damaged(format!(
                "a header of {length} bytes"
            )));
        }
        let mut header = vec![0u8; length as usize];
        input.read_exact(&mut header)?;
        let header: HeaderIn =
            serde_json::from_slice(&header).map_err(|e| SnapshotError::Damaged(e.to_string()))?;
        let now = Settings::of(config);
        if header.settings != now {
            return Err(SnapshotError::OtherSettings(format!(
                "then {:?}, now {now:?}",
                header.settings
            )));
        }
        let entries = (0..header.entries)
            .map(|_| read_entry(input))
            .collect::<Result<Vec<_>, _>>()?;
        let mut gone = Vec::new();
        let limits = super::join_limits(config);
        let buffer = JoinBuffer::from_entries(limits, header.counts, entries, |g| gone.push(g));
        let mut tracker = QualityTracker::new(config, capacity);
        tracker.classes = (header.classes.into_iter().enumerate())
            .map(|(id, name)| (name.into_boxed_str(), id as u32))
            .collect();
        tracker.buffer = buffer;
        tracker.windows = header.windows;
        tracker.open = header.open;
        tracker.estimate = header.estimate;
        tracker.ready = header.ready;
        tracker.forget(gone);
        let seqs: Vec<u64> = tracker.windows.keys().copied().collect();
        for seq in seqs {
            tracker.check_ready(seq);
        }
        Ok(tracker)
    }
}

fn write_pending(out: &mut impl Write, pending: Option<&Pending>) -> io::Result<()> {
    let Some(p) = pending else {
        return out.write_all(&[0]);
    };
    out.write_all(&[1])?;
    out.write_all(&p.window.to_le_bytes())?;
    match &p.predicted {
        None => out.write_all(&[0])?,
        Some(Answer::Class(c)) => {
            out.write_all(&[1])?;
            out.write_all(&c.to_le_bytes())?;
        }
        Some(Answer::Number(x)) => {
            out.write_all(&[2])?;
            out.write_all(&x.to_le_bytes())?;
        }
        Some(Answer::Text(t)) => {
            out.write_all(&[3])?;
            out.write_all(&(t.len() as u64).to_le_bytes())?;
            out.write_all(t.as_bytes())?;
        }
    }
    match p.score {
        None => out.write_all(&[0]),
        Some(s) => {
            out.write_all(&[1])?;
            out.write_all(&s.to_le_bytes())
        }
    }
}

type Entry = (u64, i64, Option<Pending>);

fn read_entry(input: &mut impl Read) -> Result<Entry, SnapshotError> {
    let key = read_u64(input)?;
    let at = read_u64(input)? as i64;
    if read_u8(input)? == 0 {
        return Ok((key, at, None));
    }
    let window = read_u64(input)?;
    let predicted = match read_u8(input)? {
        0 => None,
        1 => Some(Answer::Class(read_u32(input)?)),
        2 => Some(Answer::Number(f64::from_bits(read_u64(input)?))),
        3 => Some(Answer::Text(read_text(input)?)),
        tag => return Err(SnapshotError::Damaged(format!("answer tag {tag}"))),
    };
    let score = match read_u8(input)? {
        0 => None,
        _ => Some(f64::from_bits(read_u64(input)?)),
    };
    let pending = Pending {
        window,
        predicted,
        score,
    };
    Ok((key, at, Some(pending)))
}

fn read_text(input: &mut impl Read) -> Result<Box<str>, SnapshotError> {
    let length = read_u64(input)?;
    if length > MAX_HEADER {
        return Err(SnapshotError::Damaged(format!("a text of {length} bytes")));
    }
    let mut bytes = vec![0u8; length as usize];
    input.read_exact(&mut bytes)?;
    String::from_utf8(bytes)
        .map(String::into_boxed_str)
        .map_err(|e| SnapshotError::Damaged(e.to_string()))
}

fn read_u8(input: &mut impl Read) -> io::Result<u8> {
    let mut b = [0u8; 1];
    input.read_exact(&mut b)?;
    Ok(b[0])
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    input.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    input.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::tests::{config, label, observe, span};
    use crate::quality::{Joined, Metric, evaluate};

    fn round_trip(
        tracker: &QualityTracker,
        config: &QualityConfig,
    ) -> Result<QualityTracker, SnapshotError> {
        let mut bytes = Vec::new();
        tracker.save(&mut bytes).unwrap();
        QualityTracker::restore(config, 100, &mut bytes.as_slice())
    }

    #[test]
    fn a_restored_tracker_joins_the_labels_of_records_sent_before() {
        let mut tracker = QualityTracker::new(&config(4), 100);
        observe(&mut tracker, 0..4, "1", 0);
        tracker.close_window(span(0));
        assert_eq!(label(&mut tracker, "r0", "1"), Joined::Joined);
        observe(&mut tracker, 4..6, "0", 1);
        let mut restored = round_trip(&tracker, &config(4)).unwrap();
        assert_eq!(restored.pending(), 6);
        assert_eq!(label(&mut restored, "r0", "1"), Joined::Duplicate);
        for id in ["r1", "r2", "r3"] {
            assert_eq!(label(&mut restored, id, "0"), Joined::Joined);
        }
        let window = restored.next_ready().expect("window 0 has its 4 labels");
        let report = evaluate(&config(4), &window);
        assert_eq!(report.metric(Metric::Accuracy).unwrap().value, Some(0.25));
        assert_eq!(
            label(&mut restored, "r5", "0"),
            Joined::Joined,
            "the open window goes on"
        );
    }

    #[test]
    fn other_settings_or_damage_refuse_the_snapshot() {
        let mut tracker = QualityTracker::new(&config(4), 100);
        observe(&mut tracker, 0..2, "1", 0);
        let mut other = config(4);
        other.positive = "yes".into();
        let refused = round_trip(&tracker, &other).unwrap_err();
        assert!(
            matches!(refused, SnapshotError::OtherSettings(_)),
            "{refused}"
        );
        let mut bytes = Vec::new();
        tracker.save(&mut bytes).unwrap();
        bytes.truncate(bytes.len() - 3);
        let cut = QualityTracker::restore(&config(4), 100, &mut bytes.as_slice()).unwrap_err();
        assert!(matches!(cut, SnapshotError::Io(_)), "{cut}");
        let garbage = QualityTracker::restore(
            &config(4),
            100,
            &mut &b"DWQ1\xff\xff\xff\xff\xff\xff\xff\xff"[..],
        );
        assert!(matches!(garbage, Err(SnapshotError::Damaged(_))));
    }

    #[test]
    fn a_smaller_buffer_evicts_the_oldest_on_restore() {
        let mut tracker = QualityTracker::new(&config(2), 100);
        observe(&mut tracker, 0..2, "1", 0);
        tracker.close_window(span(0));
        observe(&mut tracker, 2..5, "1", 1);
        let mut smaller = config(2);
        smaller.max_pending = 3;
        let mut restored = round_trip(&tracker, &smaller).unwrap();
        assert_eq!((restored.pending(), restored.dropped()), (3, (0, 2)));
        let window = restored.next_ready();
        assert!(
            window.is_none(),
            "window 0 lost both records unlabelled: nothing to judge"
        );
    }
}
