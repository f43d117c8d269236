//! A model's quality from labels that arrive later: joining each outcome to
//! the sampled record with the same id, gathering the labelled pairs by the
//! window the prediction fell in, and judging a window once enough of its
//! records are labelled — or when no more labels can come for it — against
//! the reference values (see [`QualityTracker`]). It also keeps, per open
//! window, the expected confusion matrix of the label-free estimate
//! (NannyML's CBPE), which needs only scores.
//!
//! Windows are the drift windows: the pipeline tells the tracker when one
//! closes ([`QualityTracker::close_window`]), and every record observed
//! before that belongs to it. A window is evaluated once: when `min_labels`
//! of its records are labelled (at its close, or at the label that makes
//! the count), or when none of its records still waits — each labelled,
//! expired at the label ttl or evicted from the full buffer. A window
//! evaluated with fewer than `min_labels` labels says so
//! ([`QualityStatus::InsufficientLabels`]) and rules do not read it, as
//! insufficient data is never drift nor no drift. A label that arrives for
//! a window already evaluated is counted as `late`.
//!
//! Memory is bounded by configuration: the join buffer by `max_pending`
//! (about 80 bytes a record, more for generation answers, which are
//! kept), each window's pairs by the model's `reservoir`, and the classes
//! by [`MAX_CLASSES`]. The tracker is saved at shutdown and restored at
//! start ([`snapshot`]), so a restart loses no record waiting for a label.

mod metric;
mod report;
mod snapshot;
mod window;

pub use metric::{ESTIMATED, Measured, Metric, Task, estimated, measure};
pub use report::{MetricReport, QualityReport, QualityStatus, evaluate};
pub use snapshot::SnapshotError;
pub use window::{ClassPairs, Labelled, Pairs};

use crate::config::QualityConfig;
use crate::detect::WindowSpan;
use crate::join::{Gone, Join, JoinBuffer, JoinLimits};
use crate::schema::number_label;
use crate::stats::quality::estimate::{Estimate, ExpectedConfusion};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use window::LabelSample;

/// Distinct classes a model's predictions and labels are told apart by;
/// further ones are all [`OTHER_CLASS`].
pub const MAX_CLASSES: usize = 1024;
/// The class of every class beyond [`MAX_CLASSES`].
const OTHER_CLASS: u32 = u32::MAX;
/// The binary positive class's id: it is the first class named.
const POSITIVE_CLASS: u32 = 0;

/// What became of an outcome: the `result` label of
/// `driftwatch_outcomes_total`.
pub const OUTCOME_RESULTS: [&str; 5] = ["joined", "late", "duplicate", "unknown", "invalid"];

/// Why a record was left out of quality: the `reason` label of
/// `driftwatch_quality_records_skipped_total`.
pub const SKIP_REASONS: [&str; 3] = ["no_prediction", "bad_prediction", "bad_score"];

/// A value as a record or an outcome gave it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Given<'a> {
    Number(f64),
    /// A category or a text.
    Text(&'a str),
    Flag(bool),
}

/// A prediction or a truth, in the form its task compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    Class(u32),
    Number(f64),
    Text(Box<str>),
}

/// What quality needs of one accepted record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed<'a> {
    /// The record's id; empty when it has none (it can then not be joined).
    pub id: &'a str,
    pub prediction: Option<Given<'a>>,
    pub score: Option<f64>,
}

/// What an outcome says of its record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Label<'a> {
    pub truth: Option<Given<'a>>,
    pub feedback: Option<Given<'a>>,
}

/// A feedback rating and whether it is negative.
pub type Rating = (f64, bool);

/// An outcome's labels, checked: the truth as the task compares it, and
/// the feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub truth: Option<Answer>,
    pub feedback: Option<Rating>,
}

/// Why an outcome's labels cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    /// The label's key; empty when the outcome lacks every label read.
    pub key: String,
    pub reason: String,
}

/// What a valid outcome did; see [`OUTCOME_RESULTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    Joined,
    Late,
    Duplicate,
    Unknown,
}

impl Joined {
    /// Its index in [`OUTCOME_RESULTS`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A record waiting for its label.
#[derive(Debug, Clone, PartialEq)]
struct Pending {
    window: u64,
    predicted: Option<Answer>,
    score: Option<f64>,
}

/// One window's labels so far.
#[derive(Debug, Serialize, Deserialize)]
struct WindowState {
    /// Set when the window closes.
    span: Option<WindowSpan>,
    /// Records of the window put in the join buffer.
    records: u64,
    /// Of which neither labelled nor gone.
    waiting: u64,
    labelled: u64,
    sample: LabelSample,
}

/// A window whose labels are all in that will be: ready to evaluate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledWindow {
    /// The window's number, from 0 at start.
    pub seq: u64,
    pub span: WindowSpan,
    /// Its records that could be joined (had an id and a usable prediction).
    pub records: u64,
    pub labelled: u64,
    pub sample: Labelled,
}

/// A model's join buffer and the windows waiting for their labels.
#[derive(Debug)]
pub struct QualityTracker {
    config: QualityConfig,
    classes: FxHashMap<Box<str>, u32>,
    buffer: JoinBuffer<Pending>,
    windows: BTreeMap<u64, WindowState>,
    /// The open window's number.
    open: u64,
    estimate: ExpectedConfusion,
    ready: VecDeque<LabelledWindow>,
    /// Pairs each window keeps.
    capacity: usize,
}

impl QualityTracker {
    /// A tracker for `config`, each window keeping at most `capacity` pairs.
    pub fn new(config: &QualityConfig, capacity: usize) -> QualityTracker {
        let mut tracker = QualityTracker {
            config: config.clone(),
            classes: FxHashMap::default(),
            buffer: JoinBuffer::new(join_limits(config)),
            windows: BTreeMap::new(),
            open: 0,
            estimate: ExpectedConfusion::default(),
            ready: VecDeque::new(),
            capacity,
        };
        let positive = tracker.class(&config.positive);
        debug_assert_eq!(positive, POSITIVE_CLASS);
        tracker
    }

    /// Records held in the join buffer, labelled or not.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// Records that left the buffer unlabelled so far: (expired, evicted).
    pub fn dropped(&self) -> (u64, u64) {
        let counts = self.buffer.counts();
        (counts.expired, counts.evicted)
    }

    /// Takes one accepted record of the open window at `now` (Unix
    /// nanoseconds). A record whose prediction or score cannot be used is
    /// left out, with the reason (one of [`SKIP_REASONS`]).
    pub fn observe(&mut self, now: i64, record: Observed<'_>) -> Result<(), &'static str> {
        let predicted = match (self.config.task, record.prediction) {
            (None, _) => None,
            (Some(_), None) => return Err(SKIP_REASONS[0]),
            (Some(_), Some(given)) => Some(self.answer(given).map_err(|_| SKIP_REASONS[1])?),
        };
        let score = match (&self.config.score, record.score) {
            (None, _) => None,
            (Some(_), Some(s)) if (0.0..=1.0).contains(&s) => Some(s),
            (Some(_), _) => return Err(SKIP_REASONS[2]),
        };
        if let (Some(calibration), Some(Answer::Class(c)), Some(s)) =
            (&self.config.calibration, &predicted, score)
        {
            let added = self.estimate.add(calibration, *c == POSITIVE_CLASS, s);
            debug_assert!(added.is_ok(), "the score was checked");
        }
        if record.id.is_empty() {
            return Ok(());
        }
        let pending = Pending {
            window: self.open,
            predicted,
            score,
        };
        let mut gone = Vec::new();
        if self
            .buffer
            .insert(record.id, now, pending, |g| gone.push(g))
        {
            let (capacity, seed, kind) = (self.capacity, self.open, self.pairs_kind());
            let state = self
                .windows
                .entry(self.open)
                .or_insert_with(|| WindowState {
                    span: None,
                    records: 0,
                    waiting: 0,
                    labelled: 0,
                    sample: LabelSample::new(kind, capacity, seed),
                });
            state.records += 1;
            state.waiting += 1;
        }
        self.forget(gone);
        Ok(())
    }

    /// The open window closed with `span`: returns its label-free
    /// estimate (binary classifiers with scores and a calibrated baseline)
    /// and opens the next.
    pub fn close_window(&mut self, span: WindowSpan) -> Option<Estimate> {
        let estimate = std::mem::take(&mut self.estimate).estimate().ok();
        if let Some(state) = self.windows.get_mut(&self.open) {
            state.span = Some(span);
        }
        self.check_ready(self.open);
        self.open += 1;
        estimate
    }

    /// Joins one outcome (already checked with [`QualityTracker::label`]).
    pub fn join(&mut self, id: &str, checked: Checked) -> Joined {
        let Checked { truth, feedback } = checked;
        let pending = match self.buffer.join(id) {
            Join::Joined(p) => p,
            Join::Duplicate => return Joined::Duplicate,
            Join::Unknown => return Joined::Unknown,
        };
        let Some(state) = self.windows.get_mut(&pending.window) else {
            return Joined::Late;
        };
        state.waiting -= 1;
        state.labelled += 1;
        if let (Some(t), Some(p)) = (truth, pending.predicted) {
            state.sample.offer_pair(t, p, pending.score);
        }
        if let Some((rating, negative)) = feedback {
            state.sample.offer_rating(rating, negative);
        }
        self.check_ready(pending.window);
        Joined::Joined
    }

    /// Checks an outcome's labels: the truth as the task compares it and the
    /// feedback as (rating, negative). Errors name the label key and the
    /// reason; an outcome with neither is an error too.
    pub fn label(&mut self, label: Label<'_>) -> Result<Checked, LabelError> {
        let truth_key = self.config.label.clone();
        let truth = match (self.config.task, label.truth) {
            (Some(_), Some(given)) => Some(self.answer(given).map_err(|reason| LabelError {
                key: truth_key,
                reason,
            })?),
            _ => None,
        };
        let feedback = match (&self.config.feedback, label.feedback) {
            (Some(key), Some(given)) => Some(self.rating(given).map_err(|reason| LabelError {
                key: key.clone(),
                reason,
            })?),
            _ => None,
        };
        if truth.is_none() && feedback.is_none() {
            let keys = std::iter::once(self.config.label.as_str())
                .filter(|_| self.config.task.is_some())
                .chain(self.config.feedback.as_deref())
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(" or ");
            let reason = format!("carries none of the labels this model reads ({keys})");
            let key = String::new();
            return Err(LabelError { key, reason });
        }
        Ok(Checked { truth, feedback })
    }

    /// Lets records older than the label ttl go (their windows stop
    /// waiting for them).
    pub fn expire(&mut self, now: i64) {
        let mut gone = Vec::new();
        self.buffer.expire(now, |g| gone.push(g));
        self.forget(gone);
    }

    /// The next window ready to evaluate, oldest first.
    pub fn next_ready(&mut self) -> Option<LabelledWindow> {
        self.ready.pop_front()
    }

    /// Puts back a window [`QualityTracker::next_ready`] gave, to be taken
    /// again first.
    pub fn put_back(&mut self, window: LabelledWindow) {
        self.ready.push_front(window);
    }

    fn forget(&mut self, gone: Vec<Gone<Pending>>) {
        for g in gone {
            let (Gone::Expired(p) | Gone::Evicted(p)) = g;
            if let Some(state) = self.windows.get_mut(&p.window) {
                state.waiting -= 1;
                self.check_ready(p.window);
            }
        }
    }

    /// Moves window `seq` to the ready queue if it is closed and has its
    /// labels, or can get no more.
    fn check_ready(&mut self, seq: u64) {
        let Some(state) = self.windows.get(&seq) else {
            return;
        };
        let enough = state.labelled >= self.config.min_labels || state.waiting == 0;
        let (Some(span), true) = (state.span, enough) else {
            return;
        };
        let state = self.windows.remove(&seq).expect("just found");
        if state.labelled == 0 {
            return;
        }
        self.ready.push_back(LabelledWindow {
            seq,
            span,
            records: state.records,
            labelled: state.labelled,
            sample: state.sample.into_labelled(),
        });
    }

    fn pairs_kind(&self) -> Pairs {
        match self.config.task {
            Some(Task::Regression) => Pairs::Numbers {
                truth: Vec::new(),
                predicted: Vec::new(),
            },
            Some(Task::Generation) => Pairs::Texts {
                truth: Vec::new(),
                predicted: Vec::new(),
            },
            _ => Pairs::Classes(ClassPairs::default()),
        }
    }

    /// A value as its task compares it.
    fn answer(&mut self, given: Given<'_>) -> Result<Answer, String> {
        if let Given::Number(x) = given
            && !x.is_finite()
        {
            return Err(format!("{x} is not a finite number"));
        }
        let mut buffer = String::new();
        match (self.config.task, given) {
            (Some(Task::Regression), Given::Number(x)) => Ok(Answer::Number(x)),
            (Some(Task::Regression), Given::Flag(b)) => Ok(Answer::Number(f64::from(u8::from(b)))),
            (Some(Task::Regression), Given::Text(t)) => crate::schema::parse_number(t)
                .map(Answer::Number)
                .ok_or_else(|| format!("{t:?} is not a number, which a regression's answers are")),
            (Some(Task::Generation), Given::Text(t)) => Ok(Answer::Text(t.into())),
            (Some(Task::Generation), _) => {
                Err("expected a text (a generation's answers are texts)".into())
            }
            (_, Given::Number(x)) => Ok(Answer::Class(self.class(number_label(x, &mut buffer)))),
            (_, Given::Text(t)) => Ok(Answer::Class(self.class(t))),
            (_, Given::Flag(b)) => Ok(Answer::Class(self.class(if b { "true" } else { "false" }))),
        }
    }

    fn rating(&self, given: Given<'_>) -> Result<Rating, String> {
        match given {
            Given::Number(x) if x.is_finite() => Ok((x, x < self.config.negative_below)),
            Given::Flag(up) => Ok((f64::from(u8::from(up)), !up)),
            Given::Number(x) => Err(format!("{x} is not a finite number")),
            Given::Text(_) => Err("expected a number (a rating) or a flag (thumbs up/down)".into()),
        }
    }

    fn class(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.classes.get(name) {
            return id;
        }
        if self.classes.len() >= MAX_CLASSES {
            return OTHER_CLASS;
        }
        let id = self.classes.len() as u32;
        self.classes.insert(name.into(), id);
        id
    }
}

/// The join buffer's bounds under `config`.
fn join_limits(config: &QualityConfig) -> JoinLimits {
    JoinLimits {
        capacity: config.max_pending,
        ttl_nanos: i64::try_from(config.label_ttl.as_nanos()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests;
