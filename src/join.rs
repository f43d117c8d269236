//! The join of delayed labels to sampled records: a bounded buffer of the
//! records still waiting for their ground truth, keyed by request id.
//!
//! A record with an id is [`JoinBuffer::insert`]ed with what its quality
//! needs later (its window, its prediction and score: the payload `T`).
//! When its label arrives, [`JoinBuffer::join`] hands the payload back once;
//! a second label for the same id is a duplicate, counted and ignored (the
//! first label counts). A label for an id the buffer never held, or no
//! longer holds, is unknown and counted — never an error, since labels
//! routinely outlive their records' sampling or retention.
//!
//! Memory is bounded whatever the traffic: an entry leaves when it is older
//! than the `ttl` ([`JoinBuffer::expire`]) or, when the buffer is full, the
//! oldest leaves for the newest (an eviction). Either way an entry still
//! waiting for its label is handed to the caller as [`Gone`], so that its
//! window can stop waiting for it. Entries stay after their label arrived,
//! until they expire, so that a duplicate label is recognised as one.
//!
//! Ids are not stored: each is reduced to the first 64 bits of its SHA-256,
//! the same on every run (a buffer can be saved and restored) and, unlike a
//! fast non-cryptographic hash, not open to ids crafted to collide. With a
//! million ids held, two of them share a key with probability 3·10⁻⁸, and a
//! label for an unknown id finds a held one with probability 5·10⁻¹⁴. An
//! entry costs about 80 bytes with a 16-byte payload, so a million waiting
//! records take about 80 MB (`tests/join_memory.rs` measures it).

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

/// An id as the buffer knows it: 64 bits of its SHA-256.
pub type IdKey = u64;

/// The key of `id`.
pub fn id_key(id: &str) -> IdKey {
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// What bounds a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinLimits {
    /// The most entries held (≥ 1); the oldest is evicted beyond it.
    pub capacity: usize,
    /// How long an entry is held, in nanoseconds of record time.
    pub ttl_nanos: i64,
}

/// What became of the records and labels offered, since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JoinCounts {
    /// Records added.
    pub inserted: u64,
    /// Records not added because their id was already held.
    pub duplicate_ids: u64,
    /// Labels joined to their record.
    pub joined: u64,
    /// Labels for a record that already had one: ignored.
    pub duplicate_labels: u64,
    /// Labels for an id not held: never seen, or gone.
    pub unknown: u64,
    /// Records that left unlabelled at their ttl.
    pub expired: u64,
    /// Records that left unlabelled because the buffer was full.
    pub evicted: u64,
}

/// The answer to a label.
#[derive(Debug, Clone, PartialEq)]
pub enum Join<T> {
    /// The first label of a held record: its payload.
    Joined(T),
    /// The record already had its label.
    Duplicate,
    /// No such record is held.
    Unknown,
}

/// A record that left the buffer without its label.
#[derive(Debug, Clone, PartialEq)]
pub enum Gone<T> {
    /// At its ttl.
    Expired(T),
    /// For a newer record, the buffer being full.
    Evicted(T),
}

#[derive(Debug, Clone)]
struct Entry<T> {
    key: IdKey,
    /// Record time, nanoseconds since the Unix epoch.
    at: i64,
    /// The payload until the label arrives.
    waiting: Option<T>,
}

/// Records waiting for their labels, oldest first.
#[derive(Debug, Clone)]
pub struct JoinBuffer<T> {
    limits: JoinLimits,
    /// Each held key's sequence number: its entry is
    /// `entries[seq - first_seq]`.
    index: FxHashMap<IdKey, u64>,
    entries: VecDeque<Entry<T>>,
    first_seq: u64,
    counts: JoinCounts,
}

impl<T> JoinBuffer<T> {
    /// An empty buffer; a capacity of 0 is taken as 1.
    pub fn new(limits: JoinLimits) -> JoinBuffer<T> {
        JoinBuffer {
            limits: JoinLimits {
                capacity: limits.capacity.max(1),
                ..limits
            },
            index: FxHashMap::default(),
            entries: VecDeque::new(),
            first_seq: 0,
            counts: JoinCounts::default(),
        }
    }

    /// Records held, labelled or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The counts so far.
    pub fn counts(&self) -> JoinCounts {
        self.counts
    }

    /// Every held entry, oldest first: its key, time and payload (`None`
    /// once labelled), for a snapshot.
    pub fn entries(&self) -> impl Iterator<Item = (IdKey, i64, Option<&T>)> {
        (self.entries.iter()).map(|e| (e.key, e.at, e.waiting.as_ref()))
    }

    /// A buffer holding `entries` (oldest first, as [`JoinBuffer::entries`]
    /// gave them) with `counts`. Beyond the capacity the oldest are dropped,
    /// handed to `gone` as evicted when still waiting.
    pub fn from_entries(
        limits: JoinLimits,
        counts: JoinCounts,
        entries: impl IntoIterator<Item = (IdKey, i64, Option<T>)>,
        mut gone: impl FnMut(Gone<T>),
    ) -> JoinBuffer<T> {
        let mut buffer = JoinBuffer::new(limits);
        buffer.counts = counts;
        for (key, at, waiting) in entries {
            if buffer.entries.len() >= buffer.limits.capacity {
                buffer.pop_oldest(Gone::Evicted, &mut gone);
            }
            let seq = buffer.first_seq + buffer.entries.len() as u64;
            buffer.index.insert(key, seq);
            buffer.entries.push_back(Entry { key, at, waiting });
        }
        buffer
    }

    /// Adds the record `id` made at `at` (Unix nanoseconds), unless that
    /// id is already held (then it is counted, and the first record keeps
    /// the id). A full buffer first evicts its oldest entry, handed to
    /// `gone` if it was still waiting. Returns whether it was added.
    pub fn insert(&mut self, id: &str, at: i64, payload: T, gone: impl FnMut(Gone<T>)) -> bool {
        let key = id_key(id);
        if self.index.contains_key(&key) {
            self.counts.duplicate_ids += 1;
            return false;
        }
        if self.entries.len() >= self.limits.capacity {
            self.pop_oldest(Gone::Evicted, gone);
        }
        let seq = self.first_seq + self.entries.len() as u64;
        self.index.insert(key, seq);
        self.entries.push_back(Entry {
            key,
            at,
            waiting: Some(payload),
        });
        self.counts.inserted += 1;
        true
    }

    /// The label of `id` arrived: the record's payload the first time.
    pub fn join(&mut self, id: &str) -> Join<T> {
        let Some(&seq) = self.index.get(&id_key(id)) else {
            self.counts.unknown += 1;
            return Join::Unknown;
        };
        let entry = &mut self.entries[(seq - self.first_seq) as usize];
        match entry.waiting.take() {
            Some(payload) => {
                self.counts.joined += 1;
                Join::Joined(payload)
            }
            None => {
                self.counts.duplicate_labels += 1;
                Join::Duplicate
            }
        }
    }

    /// Drops every entry made more than the ttl before `now` (Unix
    /// nanoseconds); those still waiting go to `gone` as expired. Entries
    /// are dropped in insertion order, so a record sent with an older time
    /// than one before it waits until the one before it expires.
    pub fn expire(&mut self, now: i64, mut gone: impl FnMut(Gone<T>)) {
        let oldest_kept = now.saturating_sub(self.limits.ttl_nanos);
        while self.entries.front().is_some_and(|e| e.at < oldest_kept) {
            self.pop_oldest(Gone::Expired, &mut gone);
        }
    }

    fn pop_oldest(&mut self, why: fn(T) -> Gone<T>, mut gone: impl FnMut(Gone<T>)) {
        let Some(entry) = self.entries.pop_front() else {
            return;
        };
        self.first_seq += 1;
        self.index.remove(&entry.key);
        if let Some(payload) = entry.waiting {
            match why(payload) {
                expired @ Gone::Expired(_) => {
                    self.counts.expired += 1;
                    gone(expired);
                }
                evicted @ Gone::Evicted(_) => {
                    self.counts.evicted += 1;
                    gone(evicted);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
