//! What one prediction window's labels add up to: its (truth, prediction,
//! score) pairs and its feedback ratings, kept as a bounded uniform sample
//! (algorithm R, exact until `capacity` pairs) so that a window's memory
//! does not grow with its traffic.

use super::Answer;
use serde::{Deserialize, Serialize};

/// Class pairs, the classes as ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassPairs {
    pub truth: Vec<u32>,
    pub predicted: Vec<u32>,
    /// The positive-class scores, one per pair, when the model sends them.
    pub scores: Vec<f64>,
}

/// A window's labelled pairs, by the kind of answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Pairs {
    Classes(ClassPairs),
    Numbers {
        truth: Vec<f64>,
        predicted: Vec<f64>,
    },
    Texts {
        truth: Vec<Box<str>>,
        predicted: Vec<Box<str>>,
    },
}

/// Everything a window's quality is computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labelled {
    pub pairs: Pairs,
    /// Feedback: each rating and whether it is negative.
    pub ratings: Vec<(f64, bool)>,
}

/// A window's labels as they arrive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelSample {
    capacity: usize,
    /// Pairs offered so far (the sample keeps at most `capacity`).
    seen: u64,
    ratings_seen: u64,
    labelled: Labelled,
    #[serde(with = "rng_state")]
    rng: fastrand::Rng,
}

/// The sample's random generator as its state, so that a restored sample
/// draws on as it would have.
mod rng_state {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(rng: &fastrand::Rng, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(rng.get_seed())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<fastrand::Rng, D::Error> {
        u64::deserialize(d).map(fastrand::Rng::with_seed)
    }
}

impl LabelSample {
    /// An empty sample of pairs like `pairs` (empty), seeded by `seed`.
    pub fn new(pairs: Pairs, capacity: usize, seed: u64) -> LabelSample {
        LabelSample {
            capacity: capacity.max(1),
            seen: 0,
            ratings_seen: 0,
            labelled: Labelled {
                pairs,
                ratings: Vec::new(),
            },
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Offers one pair; answers of another kind than the sample's are a
    /// bug of the caller (the task decides the kind).
    pub fn offer_pair(&mut self, truth: Answer, predicted: Answer, score: Option<f64>) {
        self.seen += 1;
        let Some(slot) = slot(&mut self.rng, self.seen, self.capacity) else {
            return;
        };
        match (&mut self.labelled.pairs, truth, predicted) {
            (Pairs::Classes(c), Answer::Class(t), Answer::Class(p)) => {
                put(&mut c.truth, slot, t);
                put(&mut c.predicted, slot, p);
                if let Some(s) = score {
                    put(&mut c.scores, slot, s);
                }
            }
            (Pairs::Numbers { truth, predicted }, Answer::Number(t), Answer::Number(p)) => {
                put(truth, slot, t);
                put(predicted, slot, p);
            }
            (Pairs::Texts { truth, predicted }, Answer::Text(t), Answer::Text(p)) => {
                put(truth, slot, t);
                put(predicted, slot, p);
            }
            (pairs, t, p) => panic!("{t:?} / {p:?} offered to {pairs:?}"),
        }
    }

    /// Offers one feedback rating.
    pub fn offer_rating(&mut self, rating: f64, negative: bool) {
        self.ratings_seen += 1;
        if let Some(slot) = slot(&mut self.rng, self.ratings_seen, self.capacity) {
            put(&mut self.labelled.ratings, slot, (rating, negative));
        }
    }

    /// What was kept.
    pub fn into_labelled(self) -> Labelled {
        self.labelled
    }
}

/// Where the `seen`-th offer goes: appended while there is room, then into
/// a random slot with probability capacity / seen, else nowhere.
fn slot(rng: &mut fastrand::Rng, seen: u64, capacity: usize) -> Option<usize> {
    if seen <= capacity as u64 {
        return Some(seen as usize - 1);
    }
    let j = rng.u64(..seen) as usize;
    (j < capacity).then_some(j)
}

fn put<T>(values: &mut Vec<T>, slot: usize, value: T) {
    if slot == values.len() {
        values.push(value);
    } else {
        values[slot] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_exact_until_full_then_bounded() {
        let mut s = LabelSample::new(
            Pairs::Numbers {
                truth: vec![],
                predicted: vec![],
            },
            100,
            1,
        );
        for i in 0..100 {
            s.offer_pair(Answer::Number(i as f64), Answer::Number(0.0), None);
        }
        let Pairs::Numbers { truth, .. } = &s.clone().into_labelled().pairs else {
            unreachable!()
        };
        assert_eq!(truth, &(0..100).map(f64::from).collect::<Vec<_>>());
        for i in 100..10_000 {
            s.offer_pair(Answer::Number(i as f64), Answer::Number(0.0), None);
        }
        let Pairs::Numbers { truth, predicted } = s.into_labelled().pairs else {
            unreachable!()
        };
        assert_eq!((truth.len(), predicted.len()), (100, 100));
        let late = truth.iter().filter(|&&t| t >= 5000.0).count();
        assert!(
            (30..=70).contains(&late),
            "{late} of 100 from the second half"
        );
    }
}
