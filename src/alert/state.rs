//! One alert's state machine, window by window: inactive → pending →
//! firing → resolved (→ inactive). Pure: a window's [`Reading`] and the
//! rule's settings in, the next state and what happened out. Inactive is
//! the absence of a state, so an engine keeps only the alerts that are
//! pending or firing.

use crate::config::RuleConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A pending or firing alert; what survives a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AlertState {
    /// Breached in `breaches` consecutive windows (fewer than
    /// `for_windows`), the first of which ended at `since`.
    Pending { breaches: u32, since: DateTime<Utc> },
    /// Firing since the end of the window that made it fire; `clean`
    /// consecutive clean windows have passed since its last breach.
    Firing { since: DateTime<Utc>, clean: u32 },
}

/// What one window said of an alert's subject.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The subject's value.
    pub observed: f64,
    /// The rule's `when` holds.
    pub breached: bool,
    /// The window counts as clean: `resolve_when` holds, or when there is
    /// none, `when` does not.
    pub clean: bool,
}

/// A step worth telling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Fired,
    /// Resolved; it had been firing since `since`.
    Resolved {
        since: DateTime<Utc>,
    },
}

/// The state after a window that ended at `end` read `reading`.
///
/// A breach counts toward `for_windows`; a window that is neither a
/// breach nor clean (between `when` and `resolve_when`) keeps a firing
/// alert firing and restarts its clean count, and ends a pending one. A
/// firing alert resolves on its `keep_firing_for_windows + 1`-th
/// consecutive clean window.
pub fn step(
    state: Option<AlertState>,
    reading: Reading,
    rule: &RuleConfig,
    end: DateTime<Utc>,
) -> (Option<AlertState>, Option<Step>) {
    use AlertState::{Firing, Pending};
    match (state, reading.breached) {
        (None, true) => breach(0, end, rule, end),
        (Some(Pending { breaches, since }), true) => breach(breaches, since, rule, end),
        (None | Some(Pending { .. }), false) => (None, None),
        (Some(Firing { since, .. }), true) => (Some(Firing { since, clean: 0 }), None),
        (Some(Firing { since, clean }), false) if reading.clean => {
            if clean >= rule.keep_firing_for_windows {
                (None, Some(Step::Resolved { since }))
            } else {
                (
                    Some(Firing {
                        since,
                        clean: clean + 1,
                    }),
                    None,
                )
            }
        }
        (Some(Firing { since, .. }), false) => (Some(Firing { since, clean: 0 }), None),
    }
}

/// The state after one more breach, `before` breaches (the first ending at
/// `since`) having come before it.
fn breach(
    before: u32,
    since: DateTime<Utc>,
    rule: &RuleConfig,
    end: DateTime<Utc>,
) -> (Option<AlertState>, Option<Step>) {
    let breaches = before + 1;
    if breaches >= rule.for_windows {
        (
            Some(AlertState::Firing {
                since: end,
                clean: 0,
            }),
            Some(Step::Fired),
        )
    } else {
        (Some(AlertState::Pending { breaches, since }), None)
    }
}
