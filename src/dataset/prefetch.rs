//! Read-ahead: a [`RowReader`] that parses its file on a thread of its own,
//! a batch of rows at a time, so that parsing overlaps with whatever the
//! caller does with the rows (profiling them, testing them). Rows are
//! handed over by swapping buffers, never copied, and spent batches go back
//! to the parsing thread to be refilled. The channel holds a few batches,
//! so memory stays bounded however large the file.

use super::{DatasetError, Location, Row, RowReader};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread;

/// Rows per batch: large enough that channel traffic is negligible, small
/// enough that the first rows arrive at once.
const BATCH_ROWS: usize = 1024;
/// Batches parsed ahead of the caller.
const BATCHES_AHEAD: usize = 4;

/// Rows parsed ahead, with where each came from.
#[derive(Default)]
struct Batch {
    rows: Vec<Row>,
    /// `(line, row)` of each row, for [`Location`].
    positions: Vec<(Option<u64>, u64)>,
    len: usize,
    progress: (u64, Option<u64>),
}

/// A reader whose rows are parsed on another thread.
pub(super) struct Prefetch {
    columns: Vec<String>,
    file: Arc<str>,
    full: Receiver<Result<Batch, DatasetError>>,
    spent: Sender<Batch>,
    batch: Batch,
    next: usize,
    location: Location,
}

impl Prefetch {
    /// Starts parsing `inner` on a new thread.
    pub(super) fn start(inner: Box<dyn RowReader>) -> Prefetch {
        let columns = inner.columns().to_vec();
        let location = inner.location();
        let (full_tx, full) = sync_channel(BATCHES_AHEAD);
        let (spent, spent_rx) = channel();
        thread::spawn(move || parse(inner, &full_tx, &spent_rx));
        Prefetch {
            columns,
            file: location.file.clone(),
            full,
            spent,
            batch: Batch::default(),
            next: 0,
            location,
        }
    }

    /// Makes sure the current batch has a row left; false at the end.
    fn ensure_row(&mut self) -> Result<bool, DatasetError> {
        while self.next == self.batch.len {
            let Ok(received) = self.full.recv() else {
                return Ok(false);
            };
            let spent = std::mem::replace(&mut self.batch, received?);
            // The parsing thread may have finished; then the batch is dropped.
            let _ = self.spent.send(spent);
            self.next = 0;
        }
        Ok(true)
    }
}

/// The parsing thread: fills batches until the end of the file, an error
/// (sent after the rows before it), or the reader being dropped.
fn parse(
    mut inner: Box<dyn RowReader>,
    full: &SyncSender<Result<Batch, DatasetError>>,
    spent: &Receiver<Batch>,
) {
    loop {
        let mut batch = spent.try_recv().unwrap_or_default();
        let outcome = fill(inner.as_mut(), &mut batch);
        let more = matches!(outcome, Ok(true));
        if batch.len > 0 && full.send(Ok(batch)).is_err() {
            return;
        }
        if let Err(e) = outcome {
            let _ = full.send(Err(e));
        }
        if !more {
            return;
        }
    }
}

/// Reads up to [`BATCH_ROWS`] rows into `batch`; `Ok(false)` at the end.
fn fill(inner: &mut dyn RowReader, batch: &mut Batch) -> Result<bool, DatasetError> {
    batch.len = 0;
    let result = loop {
        if batch.len == BATCH_ROWS {
            break Ok(true);
        }
        if batch.rows.len() == batch.len {
            batch.rows.push(Row::default());
            batch.positions.push((None, 0));
        }
        match inner.read_row(&mut batch.rows[batch.len]) {
            Ok(true) => {
                let at = inner.location();
                batch.positions[batch.len] = (at.line, at.row);
                batch.len += 1;
            }
            Ok(false) => break Ok(false),
            Err(e) => break Err(e),
        }
    };
    batch.progress = inner.progress();
    result
}

impl RowReader for Prefetch {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn read_row(&mut self, row: &mut Row) -> Result<bool, DatasetError> {
        if !self.ensure_row()? {
            return Ok(false);
        }
        std::mem::swap(row, &mut self.batch.rows[self.next]);
        let (line, number) = self.batch.positions[self.next];
        self.location.line = line;
        self.location.row = number;
        self.next += 1;
        Ok(true)
    }

    fn location(&self) -> Location {
        Location {
            file: self.file.clone(),
            ..self.location.clone()
        }
    }

    fn progress(&self) -> (u64, Option<u64>) {
        self.batch.progress
    }
}
