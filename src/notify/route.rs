//! Which notifiers a notification goes to: those its rule names, except a
//! notifier with `send_resolved = false` for a resolution, and a
//! retraining webhook for anything but news of an alert that fired — and
//! then at most once per `min_interval` per model. What comes out is the
//! outbox entries to commit, and the retraining webhooks' last firing,
//! stored beside them so the interval holds across restarts.

use crate::alert::{AlertStatus, Notice};
use crate::config::{NotifierConfig, NotifierKind};
use crate::store::db::NewOutboxEntry;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeMap, HashMap};
use tracing::info;

/// The state keys under which retraining webhooks' last firings are kept.
pub const RETRAIN_STATE: &str = "retrain/";

/// Every notifier's routing settings, and the retraining webhooks' last
/// firings.
#[derive(Debug, Clone)]
pub struct Routes {
    notifiers: HashMap<String, Route>,
    /// By (notifier, model).
    last_retrain: BTreeMap<(String, String), DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy)]
struct Route {
    send_resolved: bool,
    /// A retraining webhook's least interval between firings.
    retrain: Option<TimeDelta>,
}

impl Routes {
    pub fn new(notifiers: &[NotifierConfig]) -> Routes {
        let notifiers = notifiers
            .iter()
            .map(|n| {
                let retrain = match n.kind {
                    NotifierKind::Retrain { min_interval, .. } => {
                        Some(TimeDelta::from_std(min_interval).unwrap_or(TimeDelta::MAX))
                    }
                    _ => None,
                };
                let route = Route {
                    send_resolved: n.send_resolved,
                    retrain,
                };
                (n.name.clone(), route)
            })
            .collect();
        Routes {
            notifiers,
            last_retrain: BTreeMap::new(),
        }
    }

    /// Puts back a retraining webhook's last firing from a state stored
    /// under [`RETRAIN_STATE`]; anything else is ignored.
    pub fn restore(&mut self, key: &str, json: &str) {
        let Some((notifier, model)) = key
            .strip_prefix(RETRAIN_STATE)
            .and_then(|k| k.split_once('/'))
        else {
            return;
        };
        if let Ok(at) = serde_json::from_str::<DateTime<Utc>>(json) {
            let id = (notifier.to_owned(), model.to_owned());
            self.last_retrain.insert(id, at);
        }
    }

    /// The outbox entries of `notice` made at `now`, and the states to
    /// store with them.
    pub fn entries(
        &mut self,
        notice: &Notice,
        now: DateTime<Utc>,
    ) -> (Vec<NewOutboxEntry>, Vec<(String, String)>) {
        let n = &notice.notification;
        let payload = serde_json::to_string(n).expect("a notification serializes");
        let mut entries = Vec::new();
        let mut states = Vec::new();
        for name in &n.notifiers {
            let Some(route) = self.notifiers.get(name).copied() else {
                continue;
            };
            let resolved = n.status == AlertStatus::Resolved;
            let takes = match route.retrain {
                Some(interval) => self.retrain(name, notice, interval, now, &mut states),
                None => route.send_resolved || !resolved,
            };
            if takes {
                entries.push(NewOutboxEntry {
                    notifier: name.clone(),
                    idempotency_key: n.idempotency_key.clone(),
                    payload: payload.clone(),
                    created_at: now,
                });
            }
        }
        (entries, states)
    }

    /// Whether retraining webhook `notifier` fires for `notice`, noting
    /// the firing in `states` when it does.
    fn retrain(
        &mut self,
        notifier: &str,
        notice: &Notice,
        interval: TimeDelta,
        now: DateTime<Utc>,
        states: &mut Vec<(String, String)>,
    ) -> bool {
        let n = &notice.notification;
        if !notice.fired || n.status != AlertStatus::Firing || n.repeat {
            return false;
        }
        let id = (notifier.to_owned(), n.model.clone());
        if let Some(last) = self
            .last_retrain
            .get(&id)
            .filter(|last| now < **last + interval)
        {
            info!(notifier, model = %n.model, rule = %n.rule, last = %last, "retraining webhook not fired: it fired less than min_interval ago");
            return false;
        }
        self.last_retrain.insert(id, now);
        let key = format!("{RETRAIN_STATE}{notifier}/{}", n.model);
        states.push((key, serde_json::to_string(&now).expect("a time serializes")));
        true
    }
}
