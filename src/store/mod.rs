//! Persistence in the data directory: what must survive a restart. Each
//! model's open window (`windows/<model>.json`) is written at checkpoints
//! and at shutdown and read back at start, so a restart loses no accepted
//! record; a model with quality also writes its records waiting for labels
//! (`windows/<model>.labels`) at shutdown. Everything that must survive a crash the moment it is decided —
//! alert state, the notification outbox, report and transition history —
//! lives in a SQLite database, `driftwatch.db` (see [`db`]).
//!
//! A file is written whole or not at all: to a temporary file in the same
//! directory, flushed to disk, then renamed over the old one. A snapshot
//! that cannot be read, or that belongs to another baseline, is moved aside
//! (`*.json.unusable`) rather than deleted, and the model starts on an empty
//! window.

pub mod db;

use crate::window::LiveWindow;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The snapshot format's name, checked on read.
const FORMAT: &str = "driftwatch-window";
/// Its version; a snapshot of another version is not read.
const FORMAT_VERSION: u32 = 1;

/// A problem with the data directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a window snapshot this build can read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    /// A SQLite call on the database failed while `doing` something
    /// ("append to the outbox").
    #[error("{path}: cannot {doing}: {source}")]
    Db {
        path: PathBuf,
        doing: &'static str,
        source: rusqlite::Error,
    },
    /// The database exists but this build cannot use it (a newer schema, no
    /// write-ahead log).
    #[error("{path}: {reason}")]
    DbUnusable { path: PathBuf, reason: String },
}

/// The window snapshots of a data directory.
#[derive(Debug, Clone)]
pub struct WindowStore {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Snapshot<W> {
    format: String,
    format_version: u32,
    model: String,
    window: W,
}

impl WindowStore {
    /// The snapshots under `data_dir`, creating the directories as needed.
    pub fn open(data_dir: &Path) -> Result<WindowStore, StoreError> {
        let dir = data_dir.join("windows");
        fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(WindowStore { dir })
    }

    /// Where `model`'s window is kept.
    pub fn path(&self, model: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_stem(model)))
    }

    /// Writes `model`'s window, replacing the last snapshot atomically.
    pub fn save(&self, model: &str, window: &LiveWindow) -> Result<(), StoreError> {
        let path = self.path(model);
        let snapshot = Snapshot {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            model: model.into(),
            window,
        };
        let bytes = serde_json::to_vec(&snapshot).expect("a window serializes");
        write_atomically(&path, &bytes).map_err(|source| StoreError::Io { path, source })
    }

    /// `model`'s last saved window, if there is one.
    pub fn load(&self, model: &str) -> Result<Option<LiveWindow>, StoreError> {
        let path = self.path(model);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let unreadable = |reason: String| StoreError::Unreadable {
            path: path.clone(),
            reason,
        };
        let snapshot: Snapshot<LiveWindow> =
            serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))?;
        if snapshot.format != FORMAT || snapshot.format_version != FORMAT_VERSION {
            return Err(unreadable(format!(
                "format {:?} version {}, expected {FORMAT:?} version {FORMAT_VERSION}",
                snapshot.format, snapshot.format_version
            )));
        }
        if snapshot.model != model {
            return Err(unreadable(format!(
                "the snapshot is of model {:?}",
                snapshot.model
            )));
        }
        Ok(Some(snapshot.window))
    }

    /// Where `model`'s label snapshot (its records waiting for labels, see
    /// `quality::snapshot`) is kept.
    pub fn labels_path(&self, model: &str) -> PathBuf {
        self.dir.join(format!("{}.labels", file_stem(model)))
    }

    /// Writes `model`'s label snapshot, replacing the last one atomically.
    pub fn save_labels(&self, model: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.labels_path(model);
        write_atomically(&path, bytes).map_err(|source| StoreError::Io { path, source })
    }

    /// `model`'s last label snapshot, if there is one.
    pub fn load_labels(&self, model: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.labels_path(model);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Moves `model`'s label snapshot out of the way; returns where it went.
    pub fn set_labels_aside(&self, model: &str) -> Result<PathBuf, StoreError> {
        let path = self.labels_path(model);
        let aside = path.with_extension("labels.unusable");
        fs::rename(&path, &aside).map_err(|source| StoreError::Io { path, source })?;
        Ok(aside)
    }

    /// Moves `model`'s snapshot out of the way; returns where it went.
    pub fn set_aside(&self, model: &str) -> Result<PathBuf, StoreError> {
        let path = self.path(model);
        let aside = path.with_extension("json.unusable");
        fs::rename(&path, &aside).map_err(|source| StoreError::Io { path, source })?;
        Ok(aside)
    }
}

/// A file name for a model name: letters, digits, `-`, `_` and `.` stay,
/// anything else is written as `%XX` bytes, so two names never share a file.
fn file_stem(model: &str) -> String {
    let mut stem = String::with_capacity(model.len());
    for byte in model.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_')
            || (byte == b'.' && !stem.is_empty())
        {
            stem.push(char::from(byte));
        } else {
            stem.push_str(&format!("%{byte:02X}"));
        }
    }
    stem
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        // The rename is durable once the directory is.
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::testing::baseline;
    use crate::window::{WindowLimits, WindowShape};
    use chrono::Utc;

    fn window() -> LiveWindow {
        let shape = WindowShape::new(baseline(), WindowLimits::default());
        LiveWindow::new(&shape, Utc::now())
    }

    #[test]
    fn a_saved_window_is_loaded_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = WindowStore::open(dir.path()).unwrap();
        assert!(store.load("loans").unwrap().is_none());
        let w = window();
        store.save("loans", &w).unwrap();
        store.save("loans", &w).unwrap();
        assert_eq!(store.load("loans").unwrap(), Some(w));
        assert!(store.load("other").unwrap().is_none());
    }

    #[test]
    fn a_broken_snapshot_is_an_error_naming_the_file_and_can_be_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = WindowStore::open(dir.path()).unwrap();
        fs::write(store.path("loans"), b"{\"format\": 3").unwrap();
        let error = store.load("loans").unwrap_err().to_string();
        assert!(error.contains("loans.json"), "{error}");
        let aside = store.set_aside("loans").unwrap();
        assert!(aside.exists());
        assert!(store.load("loans").unwrap().is_none());
    }

    #[test]
    fn model_names_map_to_distinct_safe_file_names() {
        assert_eq!(file_stem("loans-v2.1"), "loans-v2.1");
        assert_eq!(file_stem("../etc"), "%2E.%2Fetc");
        assert_ne!(file_stem("a/b"), file_stem("a%2Fb"));
    }
}
