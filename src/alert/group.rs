//! From alert transitions to notifications, as Alertmanager's dispatcher
//! does it: the alerts of one rule and model form a group, and a group is
//! told of in one notification that lists its alerts.
//!
//! A new group waits `group_wait` for more alerts before its first
//! notification; after that, a change (an alert fires or resolves) is told
//! at most once per `group_interval`; a group that still fires is told of
//! again every `repeat_interval`. A window rule's group has one alert and
//! no wait, so each of its transitions goes out at once, as itself. An
//! alert that resolves before its firing was told is dropped unheard.
//!
//! Groups are plain data: the daemon stores them beside the alert states,
//! so neither a wait nor a repeat is lost to a restart, and nothing told
//! before it is told again.

use super::subject::WINDOW_ALERT;
use super::transition::{GroupedAlert, idempotency_key};
use super::{AlertStatus, DriftedFeature, Transition};
use crate::config::RuleConfig;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// A notification, and whether it tells of an alert that fired since the
/// group's last one (what a retraining webhook waits for).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub notification: Transition,
    pub fired: bool,
}

/// The groups of every rule, by (model, rule).
#[derive(Debug, Clone)]
pub struct Groups {
    timing: HashMap<(String, String), Timing>,
    groups: BTreeMap<(String, String), Group>,
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    wait: TimeDelta,
    interval: TimeDelta,
    repeat: TimeDelta,
}

/// One group's alerts and clock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// The latest transition of each alert, by key: those firing, and
    /// those resolved but not told yet.
    alerts: BTreeMap<String, Transition>,
    /// Alerts whose firing was told.
    announced: BTreeSet<String>,
    /// When the next notification is due, while there is news.
    flush_at: Option<DateTime<Utc>>,
    /// When the last notification went.
    last_sent: Option<DateTime<Utc>>,
    /// An alert fired since the last notification.
    fired: bool,
}

impl Groups {
    /// No group yet, for `rules`.
    pub fn new(rules: &[RuleConfig]) -> Groups {
        let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        let timing = rules
            .iter()
            .map(|r| {
                let timing = Timing {
                    wait: delta(r.group_wait),
                    interval: delta(r.group_interval),
                    repeat: delta(r.repeat_interval),
                };
                ((r.model.clone(), r.name.clone()), timing)
            })
            .collect();
        Groups {
            timing,
            groups: BTreeMap::new(),
        }
    }

    /// Takes in a transition that happened at `now`.
    pub fn add(&mut self, t: Transition, now: DateTime<Utc>) {
        let id = (t.model.clone(), t.rule.clone());
        let Some(timing) = self.timing.get(&id).copied() else {
            return;
        };
        let group = self.groups.entry(id.clone()).or_default();
        let key = t.feature.clone().unwrap_or_default();
        let unheard = t.status == AlertStatus::Resolved && !group.announced.contains(&key);
        if unheard {
            group.alerts.remove(&key);
        } else {
            group.fired |= t.status == AlertStatus::Firing;
            group.alerts.insert(key, t);
        }
        if group.alerts.is_empty() && group.announced.is_empty() {
            self.groups.remove(&id);
            return;
        }
        group.flush_at.get_or_insert(match group.last_sent {
            None => now + timing.wait,
            Some(last) => (last + timing.interval).max(now),
        });
    }

    /// The notifications due at `now`: groups with news whose wait is
    /// over, and firing groups due for a repeat.
    pub fn due(&mut self, now: DateTime<Utc>) -> Vec<Notice> {
        let mut notices = Vec::new();
        let mut emptied = Vec::new();
        for (id, group) in &mut self.groups {
            let timing = self.timing[id];
            let notice = match group.flush_at {
                Some(at) if at <= now => group.flush(now),
                Some(_) => None,
                None => group.repeat(now, timing.repeat),
            };
            notices.extend(notice);
            if group.alerts.is_empty() {
                emptied.push(id.clone());
            }
        }
        for id in emptied {
            self.groups.remove(&id);
        }
        notices
    }

    /// The alerts told as firing and still firing, for sinks that must
    /// hear of them again and again (Alertmanager).
    pub fn firing(&self) -> impl Iterator<Item = &Transition> {
        self.groups.values().flat_map(|g| {
            g.alerts.iter().filter_map(|(key, t)| {
                (t.status == AlertStatus::Firing && g.announced.contains(key)).then_some(t)
            })
        })
    }

    /// `model`'s groups as JSON, by rule: what [`Groups::restore`] reads.
    pub fn save(&self, model: &str) -> String {
        let groups: BTreeMap<&str, &Group> = (self.groups.iter())
            .filter(|((m, _), _)| m == model)
            .map(|((_, rule), g)| (rule.as_str(), g))
            .collect();
        serde_json::to_string(&groups).expect("groups serialize")
    }

    /// Puts back `model`'s groups from [`Groups::save`]'s JSON; groups of
    /// rules no longer configured are dropped.
    pub fn restore(&mut self, model: &str, json: &str) -> serde_json::Result<()> {
        let groups: BTreeMap<String, Group> = serde_json::from_str(json)?;
        for (rule, group) in groups {
            let id = (model.to_owned(), rule);
            if self.timing.contains_key(&id) {
                self.groups.insert(id, group);
            }
        }
        Ok(())
    }
}

impl Group {
    /// The notification of the news, if any is left to tell; the group
    /// forgets its resolved alerts.
    fn flush(&mut self, now: DateTime<Utc>) -> Option<Notice> {
        let notice = self.notice(now, false);
        self.alerts.retain(|_, t| t.status == AlertStatus::Firing);
        self.announced = self.alerts.keys().cloned().collect();
        self.flush_at = None;
        self.fired = false;
        if notice.is_some() {
            self.last_sent = Some(now);
        }
        notice
    }

    /// The same alerts told again, when the group fires and its last
    /// notification is `repeat` old.
    fn repeat(&mut self, now: DateTime<Utc>, repeat: TimeDelta) -> Option<Notice> {
        let last = self.last_sent?;
        let firing = self
            .alerts
            .values()
            .any(|t| t.status == AlertStatus::Firing);
        if !firing || now < last + repeat {
            return None;
        }
        self.last_sent = Some(now);
        self.notice(now, true)
    }

    fn notice(&self, now: DateTime<Utc>, repeat: bool) -> Option<Notice> {
        let mut notification = match self.alerts.get(WINDOW_ALERT) {
            Some(one) if self.alerts.len() == 1 => one.clone(),
            _ => grouped(&self.alerts, now)?,
        };
        if repeat {
            let key = notification.idempotency_key.clone();
            notification.idempotency_key =
                idempotency_key(&[&key, "repeat"], notification.status, now);
            notification.repeat = true;
        }
        Some(Notice {
            notification,
            fired: self.fired && !repeat,
        })
    }
}

/// One notification for a group of feature alerts: firing while any of
/// them fires; the window, summary and condition of the latest.
fn grouped(alerts: &BTreeMap<String, Transition>, now: DateTime<Utc>) -> Option<Transition> {
    let latest = alerts.values().max_by_key(|t| t.window.end)?;
    let firing = alerts.values().filter(|t| t.status == AlertStatus::Firing);
    let status = match firing.clone().next() {
        Some(_) => AlertStatus::Firing,
        None => AlertStatus::Resolved,
    };
    let ended_at = match status {
        AlertStatus::Firing => None,
        AlertStatus::Resolved => alerts.values().filter_map(|t| t.ended_at).max(),
    };
    let mut features: Vec<DriftedFeature> = firing.flat_map(|t| t.features.clone()).collect();
    features.dedup_by(|a, b| a.name == b.name && a.test == b.test);
    let parts: Vec<String> = alerts
        .iter()
        .map(|(key, t)| {
            format!(
                "{key}={}@{}",
                t.status.as_str(),
                t.started_at.timestamp_millis()
            )
        })
        .collect();
    let mut key_parts: Vec<&str> = vec![&latest.rule, &latest.model];
    key_parts.extend(parts.iter().map(String::as_str));
    Some(Transition {
        status,
        feature: None,
        started_at: alerts.values().map(|t| t.started_at).min()?,
        ended_at,
        features,
        alerts: alerts
            .iter()
            .map(|(key, t)| GroupedAlert {
                feature: key.clone(),
                status: t.status,
                observed: t.observed,
                started_at: t.started_at,
                ended_at: t.ended_at,
            })
            .collect(),
        idempotency_key: idempotency_key(&key_parts, status, now),
        ..latest.clone()
    })
}

#[cfg(test)]
mod tests;
