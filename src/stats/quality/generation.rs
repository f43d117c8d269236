//! Text-generation quality from (reference, candidate) pairs, for a model
//! whose delayed label is a reference answer: exact match, ROUGE-1/2/L as
//! Google's `rouge-score` computes them, and corpus BLEU as `sacrebleu`
//! computes it. Each reproduces its package's tokenizer and counting rules
//! exactly (`tests/vectors_generation.rs` checks against both packages,
//! `tests/fixtures/generation_reference.py`).
//!
//! Texts are any `AsRef<str>` (`&str`, `String`), references first as in the
//! other quality metrics.
//!
//! - [`exact_match`]: share of pairs whose candidate equals the reference
//!   after trimming surrounding whitespace (Python's `str.strip()` set, so
//!   also U+001C–U+001F); case, punctuation and inner whitespace count.
//! - [`rouge`]: ROUGE-1, ROUGE-2 and ROUGE-L F1 of each pair, as
//!   `RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
//!   .score(reference, candidate)` gives them, and the window's value is their
//!   **mean over pairs** (numpy's summation order); [`rouge_pairs`] gives the
//!   per-pair precision, recall and F1. Tokens are the maximal runs of
//!   `[a-z0-9]` in the Python-lowercased text: every other character,
//!   accented letters and CJK included, separates tokens (`"café"` is the
//!   token `caf`; a CJK sentence has no token at all). N-gram matches are
//!   clipped counts, precision divides by max(candidate n-grams, 1) and
//!   recall by max(reference n-grams, 1); ROUGE-L uses the longest common
//!   subsequence of the token lists. A pair with no tokens, or too few for a
//!   bigram, scores 0, and F1 is 0 when precision + recall is 0.
//! - [`corpus_bleu`]: `sacrebleu.corpus_bleu(candidates, [references])` with
//!   its defaults, on sacrebleu's **0–100 scale**: trailing whitespace
//!   stripped, the `13a` tokenizer ([`tokenize_13a`]), case-sensitive, 1- to
//!   4-gram matches clipped per segment and summed over the window, the
//!   `exp` smoothing (the k-th order with no match gets precision
//!   100 / (2ᵏ · total)), no effective order (an order with no n-gram at
//!   all, e.g. every text under 4 tokens, makes the score 0), and the
//!   brevity penalty exp(1 − ref_len / sys_len) when the candidates are
//!   shorter (0 when they are empty). The components come with the score.
//!
//! Cost: linear in the text for tokenizing and counting; ROUGE-L is
//! O(n·m) time per pair in the two token counts but keeps one row of
//! min(n, m) + 1 counters, never the n × m table.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::classification::PrecisionRecallF1;
use super::{QualityError, check_pairs};

/// Highest n-gram order of BLEU (sacrebleu's `MAX_NGRAM_ORDER`).
const BLEU_ORDER: usize = 4;

/// Python's `str.isspace()`: Unicode `White_Space` plus the information
/// separators U+001C–U+001F, which `str.split()` and `str.strip()` (and
/// so both packages) treat as whitespace and Rust's `char::is_whitespace`
/// does not.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Share of pairs whose candidate equals the reference once surrounding
/// whitespace is trimmed from both (Python's `str.strip()`); the comparison
/// is otherwise exact (case, punctuation, inner whitespace). Errors on empty
/// or mismatched input.
pub fn exact_match<R, C>(references: &[R], candidates: &[C]) -> Result<f64, QualityError>
where
    R: AsRef<str>,
    C: AsRef<str>,
{
    check_pairs(references, candidates)?;
    let equal = references
        .iter()
        .zip(candidates)
        .filter(|(r, c)| {
            r.as_ref().trim_matches(is_py_space) == c.as_ref().trim_matches(is_py_space)
        })
        .count();
    Ok(equal as f64 / references.len() as f64)
}

/// ROUGE F1 of a window: the mean over pairs of each pair's F1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RougeScores {
    /// Mean ROUGE-1 (unigram) F1.
    pub rouge1: f64,
    /// Mean ROUGE-2 (bigram) F1.
    pub rouge2: f64,
    /// Mean ROUGE-L (longest common subsequence) F1.
    pub rouge_l: f64,
}

/// ROUGE of one pair. In [`PrecisionRecallF1`] the matched n-grams play the
/// true positives, the candidate's n-grams the predicted positives and the
/// reference's n-grams the actual positives; F1 is 2PR / (P + R).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RougePair {
    /// Unigram overlap.
    pub rouge1: PrecisionRecallF1,
    /// Bigram overlap.
    pub rouge2: PrecisionRecallF1,
    /// Longest common subsequence.
    pub rouge_l: PrecisionRecallF1,
}

/// Mean ROUGE-1, ROUGE-2 and ROUGE-L F1 over the pairs (see the module
/// docs); errors on empty or mismatched input.
pub fn rouge<R, C>(references: &[R], candidates: &[C]) -> Result<RougeScores, QualityError>
where
    R: AsRef<str>,
    C: AsRef<str>,
{
    let pairs = rouge_pairs(references, candidates)?;
    let mean = |f: fn(&RougePair) -> f64| {
        let values: Vec<f64> = pairs.iter().map(f).collect();
        super::np_mean(&values)
    };
    Ok(RougeScores {
        rouge1: mean(|p| p.rouge1.f1),
        rouge2: mean(|p| p.rouge2.f1),
        rouge_l: mean(|p| p.rouge_l.f1),
    })
}

/// ROUGE precision, recall and F1 of every pair, in order; errors on empty
/// or mismatched input.
pub fn rouge_pairs<R, C>(references: &[R], candidates: &[C]) -> Result<Vec<RougePair>, QualityError>
where
    R: AsRef<str>,
    C: AsRef<str>,
{
    check_pairs(references, candidates)?;
    let mut scratch = RougeScratch::default();
    Ok(references
        .iter()
        .zip(candidates)
        .map(|(r, c)| scratch.pair(r.as_ref(), c.as_ref()))
        .collect())
}

/// ROUGE of one pair: `RougeScorer(["rouge1", "rouge2", "rougeL"],
/// use_stemmer=False).score(reference, candidate)`.
pub fn rouge_pair(reference: &str, candidate: &str) -> RougePair {
    RougeScratch::default().pair(reference, candidate)
}

/// The tokens rouge-score's default tokenizer (no stemmer) makes of `text`:
/// the maximal `[a-z0-9]` runs of its Python lowercase.
pub fn rouge_tokenize(text: &str) -> Vec<String> {
    let mut normal = String::new();
    rouge_normalise(text, &mut normal);
    normal.split_ascii_whitespace().map(str::to_owned).collect()
}

/// Writes `text` lowercased as Python's `str.lower()` does, with every
/// character outside `[a-z0-9]` turned into one space between tokens.
fn rouge_normalise(text: &str, out: &mut String) {
    out.clear();
    let mut push = |c: char| {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    for c in text.chars() {
        if c.is_ascii() {
            push(c.to_ascii_lowercase());
        } else {
            // Full case mapping, as Python's: U+0130 'İ' lowers to "i\u{307}"
            // and the Kelvin sign U+212A to 'k', the only non-ASCII
            // characters whose lowercase holds an ASCII letter.
            c.to_lowercase().for_each(&mut push);
        }
    }
}

/// Buffers reused across the pairs of a window.
#[derive(Default)]
struct RougeScratch {
    reference: String,
    candidate: String,
    reference_ids: Vec<u32>,
    candidate_ids: Vec<u32>,
    unigrams: Vec<u32>,
    bigrams: FxHashMap<u64, u32>,
    lcs_row: Vec<u32>,
}

impl RougeScratch {
    fn pair(&mut self, reference: &str, candidate: &str) -> RougePair {
        rouge_normalise(reference, &mut self.reference);
        rouge_normalise(candidate, &mut self.candidate);
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        intern(&self.reference, &mut ids, &mut self.reference_ids, |t| {
            t.split_ascii_whitespace()
        });
        intern(&self.candidate, &mut ids, &mut self.candidate_ids, |t| {
            t.split_ascii_whitespace()
        });
        let distinct = ids.len();
        let (r, c) = (&self.reference_ids[..], &self.candidate_ids[..]);

        // Clipped unigram matches: each reference token matches at most once.
        self.unigrams.clear();
        self.unigrams.resize(distinct, 0);
        for &t in r {
            self.unigrams[t as usize] += 1;
        }
        let unigram_hits = c
            .iter()
            .filter(|&&t| take(&mut self.unigrams[t as usize]))
            .count();

        self.bigrams.clear();
        for w in r.windows(2) {
            *self.bigrams.entry(bigram_key(w)).or_insert(0) += 1;
        }
        let bigram_hits = c
            .windows(2)
            .filter(|w| self.bigrams.get_mut(&bigram_key(w)).is_some_and(take))
            .count();

        let lcs = lcs_len(r, c, &mut self.lcs_row);
        let bigrams = |n: usize| n.saturating_sub(1);
        RougePair {
            rouge1: rouge_score(unigram_hits, c.len(), r.len()),
            rouge2: rouge_score(bigram_hits, bigrams(c.len()), bigrams(r.len())),
            rouge_l: rouge_score(lcs, c.len(), r.len()),
        }
    }
}

/// Decrements a positive count and says whether it was positive: one match
/// of a clipped n-gram count.
fn take(count: &mut u32) -> bool {
    let positive = *count > 0;
    if positive {
        *count -= 1;
    }
    positive
}

fn bigram_key(w: &[u32]) -> u64 {
    (u64::from(w[0]) << 32) | u64::from(w[1])
}

/// rouge-score's `_score_ngrams` / `_score_lcs`: matches over
/// max(count, 1) on each side (the LCS form returns 0 for an empty side,
/// which is the same since it then has no match), F1 = 2PR / (P + R).
fn rouge_score(hits: usize, candidate: usize, reference: usize) -> PrecisionRecallF1 {
    let precision = hits as f64 / candidate.max(1) as f64;
    let recall = hits as f64 / reference.max(1) as f64;
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    PrecisionRecallF1 {
        precision,
        recall,
        f1,
    }
}

/// Length of the longest common subsequence of `a` and `b`, by the usual
/// dynamic programme kept to one row over the shorter sequence.
fn lcs_len(a: &[u32], b: &[u32], row: &mut Vec<u32>) -> usize {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    row.clear();
    row.resize(short.len() + 1, 0);
    for &x in long {
        // `diag` is the previous row's value left of the cell being written.
        let mut diag = 0;
        for (j, &y) in short.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    row[short.len()] as usize
}

/// Replaces `ids` by the ids of `text`'s tokens, giving each new token the
/// next id. Ids are dense, so counts can live in a vector; a text would
/// need more than 4·10⁹ distinct tokens to overflow a `u32`.
fn intern<'a, I>(
    text: &'a str,
    map: &mut FxHashMap<&'a str, u32>,
    ids: &mut Vec<u32>,
    tokens: impl FnOnce(&'a str) -> I,
) where
    I: Iterator<Item = &'a str>,
{
    ids.clear();
    for token in tokens(text) {
        let next = map.len() as u32;
        ids.push(*map.entry(token).or_insert(next));
    }
}

/// Corpus BLEU and its sufficient statistics, as `sacrebleu`'s `BLEUScore`
/// holds them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bleu {
    /// BLEU on sacrebleu's 0–100 scale, unrounded (`BLEUScore.score`).
    pub score: f64,
    /// Modified n-gram precisions for n = 1..4, in percent, after `exp`
    /// smoothing; all 0 when nothing matches, and 0 from the first order
    /// with no n-gram on.
    pub precisions: [f64; BLEU_ORDER],
    /// Clipped matching n-grams for n = 1..4, summed over the window.
    pub counts: [u64; BLEU_ORDER],
    /// Candidate n-grams for n = 1..4, summed over the window.
    pub totals: [u64; BLEU_ORDER],
    /// Brevity penalty: 1 when `sys_len >= ref_len`, else
    /// exp(1 − ref_len / sys_len), and 0 when `sys_len` is 0.
    pub bp: f64,
    /// Candidate tokens in the window.
    pub sys_len: u64,
    /// Reference tokens in the window.
    pub ref_len: u64,
}

/// Corpus BLEU of `candidates` against one reference each:
/// `sacrebleu.corpus_bleu(candidates, [references])` with its defaults (see
/// the module docs). Errors on empty or mismatched input.
pub fn corpus_bleu<R, C>(references: &[R], candidates: &[C]) -> Result<Bleu, QualityError>
where
    R: AsRef<str>,
    C: AsRef<str>,
{
    check_pairs(references, candidates)?;
    let mut stats = BleuStats::default();
    let mut ref_ngrams: FxHashMap<u128, u32> = FxHashMap::default();
    let (mut ref_ids, mut cand_ids) = (Vec::new(), Vec::new());
    for (r, c) in references.iter().zip(candidates) {
        let (r, c) = (
            tokenize_13a_spaced(r.as_ref()),
            tokenize_13a_spaced(c.as_ref()),
        );
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        intern(&r, &mut ids, &mut ref_ids, split_py);
        intern(&c, &mut ids, &mut cand_ids, split_py);
        stats.add_segment(&ref_ids, &cand_ids, &mut ref_ngrams);
    }
    Ok(stats.bleu())
}

/// The line sacrebleu scores for `text` with its default preprocessing:
/// trailing whitespace stripped, then the `13a` tokenizer (mteval-v13a's),
/// tokens joined by one space. Case is kept.
pub fn tokenize_13a(text: &str) -> String {
    split_py(&tokenize_13a_spaced(text))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Python's `str.split()`: the non-empty runs between whitespace.
fn split_py(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_py_space).filter(|t| !t.is_empty())
}

/// sacrebleu's `BLEU._preprocess_segment` up to, not including, the final
/// whitespace normalisation: `Tokenizer13a` then `TokenizerRegexp`'s
/// substitutions, applied as Python's `str.replace` and `re.sub` do.
fn tokenize_13a_spaced(text: &str) -> String {
    let mut line = Cow::Borrowed(text.trim_end_matches(is_py_space));
    let mut replace = |from: &str, to: &str| {
        if line.contains(from) {
            line = Cow::Owned(line.replace(from, to));
        }
    };
    replace("<skipped>", "");
    replace("-\n", "");
    replace("\n", " ");
    // In this order, each once: "&amp;lt;" becomes "<", "&amp;quot;" "&quot;".
    replace("&quot;", "\"");
    replace("&amp;", "&");
    replace("&lt;", "<");
    replace("&gt;", ">");

    // The regexes only name ASCII characters, so they run on bytes: a
    // multi-byte character is never a digit, '.', ',' or '-', and the
    // spaces go in next to ASCII bytes, i.e. between characters.
    let mut a = Vec::with_capacity(line.len() * 2 + 2);
    a.push(b' ');
    for &b in line.as_bytes() {
        if is_13a_symbol(b) {
            a.extend_from_slice(&[b' ', b, b' ']);
        } else {
            a.push(b);
        }
    }
    a.push(b' ');
    let is_dot = |b: u8| b == b'.' || b == b',';
    let mut b = Vec::with_capacity(a.len() + a.len() / 2);
    // ([^0-9])([\.,]) -> "\1 \2 ": period and comma unless after a digit.
    re_sub_pairs(
        &a,
        &mut b,
        |x, y| !x.is_ascii_digit() && is_dot(y),
        |x, y| [x, b' ', y, b' '],
    );
    // ([\.,])([^0-9]) -> " \1 \2": period and comma unless before a digit.
    re_sub_pairs(
        &b,
        &mut a,
        |x, y| is_dot(x) && !y.is_ascii_digit(),
        |x, y| [b' ', x, b' ', y],
    );
    // ([0-9])(-) -> "\1 \2 ": dash after a digit.
    re_sub_pairs(
        &a,
        &mut b,
        |x, y| x.is_ascii_digit() && y == b'-',
        |x, y| [x, b' ', y, b' '],
    );
    String::from_utf8(b).expect("spaces go in between characters")
}

/// The class `[\{-\~\[-\` -\&\(-\+\:-\@\/]` of 13a's first regex: ASCII
/// punctuation (and space) other than `'`, `,`, `-` and `.`.
fn is_13a_symbol(b: u8) -> bool {
    matches!(b, b' '..=b'&' | b'('..=b'+' | b'/' | b':'..=b'@' | b'['..=b'`' | b'{'..=b'~')
}

/// `re.sub` of a two-character pattern: scans left to right and, where
/// `hit(x, y)` holds for the next two bytes, writes `replace(x, y)` and
/// resumes after both, so matches never overlap.
fn re_sub_pairs(
    input: &[u8],
    out: &mut Vec<u8>,
    hit: impl Fn(u8, u8) -> bool,
    replace: impl Fn(u8, u8) -> [u8; 4],
) {
    out.clear();
    let mut i = 0;
    while i < input.len() {
        match input.get(i + 1) {
            Some(&y) if hit(input[i], y) => {
                out.extend_from_slice(&replace(input[i], y));
                i += 2;
            }
            _ => {
                out.push(input[i]);
                i += 1;
            }
        }
    }
}

/// BLEU's sufficient statistics summed over segments.
#[derive(Debug, Default)]
struct BleuStats {
    counts: [u64; BLEU_ORDER],
    totals: [u64; BLEU_ORDER],
    sys_len: u64,
    ref_len: u64,
}

impl BleuStats {
    /// sacrebleu's `_compute_segment_statistics` with one reference: every
    /// candidate n-gram (n = 1..4) counts in `totals`, and matches one
    /// not yet matched occurrence of itself in the reference, if any.
    fn add_segment(
        &mut self,
        reference: &[u32],
        candidate: &[u32],
        ref_ngrams: &mut FxHashMap<u128, u32>,
    ) {
        self.sys_len += candidate.len() as u64;
        self.ref_len += reference.len() as u64;
        ref_ngrams.clear();
        for n in 1..=BLEU_ORDER {
            for w in reference.windows(n) {
                *ref_ngrams.entry(ngram_key(w)).or_insert(0) += 1;
            }
        }
        for n in 1..=BLEU_ORDER {
            let windows = candidate.windows(n);
            self.totals[n - 1] += windows.len() as u64;
            let hits = windows
                .filter(|w| ref_ngrams.get_mut(&ngram_key(w)).is_some_and(take))
                .count();
            self.counts[n - 1] += hits as u64;
        }
    }

    /// sacrebleu's `BLEU.compute_bleu` with `smooth_method="exp"`,
    /// `effective_order=False`, in its order of floating-point operations.
    fn bleu(&self) -> Bleu {
        let (sys_len, ref_len) = (self.sys_len, self.ref_len);
        let bp = if sys_len >= ref_len {
            1.0
        } else if sys_len > 0 {
            (1.0 - ref_len as f64 / sys_len as f64).exp()
        } else {
            0.0
        };
        let mut bleu = Bleu {
            score: 0.0,
            precisions: [0.0; BLEU_ORDER],
            counts: self.counts,
            totals: self.totals,
            bp,
            sys_len,
            ref_len,
        };
        if self.counts.iter().all(|&c| c == 0) {
            return bleu;
        }
        let mut smooth = 1.0;
        for n in 0..BLEU_ORDER {
            let (correct, total) = (self.counts[n], self.totals[n]);
            if total == 0 {
                break;
            }
            bleu.precisions[n] = if correct == 0 {
                smooth *= 2.0;
                100.0 / (smooth * total as f64)
            } else {
                100.0 * correct as f64 / total as f64
            };
        }
        let log_sum = bleu
            .precisions
            .iter()
            .fold(0.0, |acc, &p| acc + floored_ln(p));
        bleu.score = bp * (log_sum / BLEU_ORDER as f64).exp();
        bleu
    }
}

/// sacrebleu's `my_log`: ln, with ln 0 floored to −9999999999.
fn floored_ln(x: f64) -> f64 {
    if x == 0.0 { -9_999_999_999.0 } else { x.ln() }
}

/// An n-gram (n ≤ 4) of dense ids as one key: id + 1 in each 32-bit lane,
/// so n-grams of different orders never collide.
fn ngram_key(w: &[u32]) -> u128 {
    w.iter()
        .fold(0, |key, &id| (key << 32) | u128::from(id + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The full dynamic-programming table, as rouge-score builds it.
    fn lcs_table(a: &[u32], b: &[u32]) -> usize {
        let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                t[i][j] = if a[i - 1] == b[j - 1] {
                    t[i - 1][j - 1] + 1
                } else {
                    t[i - 1][j].max(t[i][j - 1])
                };
            }
        }
        t[a.len()][b.len()]
    }

    fn words() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("the"),
                Just("The"),
                Just("cat"),
                Just("a"),
                Just("3.5"),
                Just(","),
                Just("."),
                Just("-"),
                Just("don't"),
                Just("café")
            ],
            0..30,
        )
        .prop_map(|w| w.join(" "))
    }

    proptest! {
        #[test]
        fn one_row_lcs_equals_the_full_table(
            a in proptest::collection::vec(0u32..5, 0..40),
            b in proptest::collection::vec(0u32..5, 0..40),
        ) {
            let mut row = Vec::new();
            prop_assert_eq!(lcs_len(&a, &b, &mut row), lcs_table(&a, &b));
        }

        #[test]
        fn rouge_is_in_the_unit_interval_and_one_on_itself(r in words(), c in words()) {
            let p = rouge_pair(&r, &c);
            for s in [p.rouge1, p.rouge2, p.rouge_l] {
                for v in [s.precision, s.recall, s.f1] {
                    prop_assert!((0.0..=1.0).contains(&v));
                }
            }
            // LCS never beats the clipped unigram overlap.
            prop_assert!(p.rouge_l.recall <= p.rouge1.recall);
            let same = rouge_pair(&r, &r);
            if !rouge_tokenize(&r).is_empty() {
                prop_assert_eq!(same.rouge1.f1, 1.0);
                prop_assert_eq!(same.rouge_l.f1, 1.0);
            }
        }

        #[test]
        fn bleu_is_between_0_and_100(r in words(), c in words()) {
            let b = corpus_bleu(&[&r], &[&c]).unwrap();
            prop_assert!((0.0..=100.0 + 1e-9).contains(&b.score));
            prop_assert!(b.counts.iter().zip(&b.totals).all(|(c, t)| c <= t));
        }
    }

    #[test]
    fn python_whitespace_is_white_space_plus_the_separators() {
        // `[c for c in map(chr, range(0x110000)) if c.isspace()]`, Python 3.11.
        let python: &[u32] = &[
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
            0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
            0x2029, 0x202f, 0x205f, 0x3000,
        ];
        let ours: Vec<u32> = (0..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|&c| is_py_space(c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, python);
    }

    #[test]
    fn rouge_tokens_are_lowercase_ascii_alphanumeric_runs() {
        assert_eq!(
            rouge_tokenize("Don't STOP-me, café İz 300\u{212a} 東京"),
            ["don", "t", "stop", "me", "caf", "i", "z", "300k"]
        );
        assert!(rouge_tokenize("  ,;  ").is_empty());
    }

    #[test]
    fn tokenizer_13a_splits_punctuation_but_not_numbers() {
        assert_eq!(
            tokenize_13a("Hello, world! It costs $3.50, see 5-3 and e-mail.\n"),
            "Hello , world ! It costs $ 3.50 , see 5 - 3 and e-mail ."
        );
        assert_eq!(
            tokenize_13a("A &amp;lt; b <skipped>hy-\nphen"),
            "A < b hyphen"
        );
        assert_eq!(tokenize_13a("café."), "café .");
    }

    #[test]
    fn bleu_of_a_copy_is_100_and_of_short_texts_0() {
        let text = ["the cat sat on the mat"];
        let b = corpus_bleu(&text, &text).unwrap();
        assert!((b.score - 100.0).abs() < 1e-12, "{b:?}");
        // No 4-gram anywhere: sacrebleu without effective order gives 0.
        assert_eq!(corpus_bleu(&["a b c"], &["a b c"]).unwrap().score, 0.0);
    }

    #[test]
    fn clipping_counts_each_reference_ngram_once() {
        let b = corpus_bleu(&["the cat is on the mat"], &["the the the the the the the"]).unwrap();
        assert_eq!((b.counts[0], b.totals[0]), (2, 7));
        let p = rouge_pair("the cat is on the mat", "the the the the the the the");
        assert_eq!(p.rouge1.precision, 2.0 / 7.0);
    }

    #[test]
    fn exact_match_trims_only_the_ends() {
        let refs = ["  yes ", "Yes", "a  b"];
        let cands = ["yes", "yes", "a b"];
        assert_eq!(exact_match(&refs, &cands).unwrap(), 1.0 / 3.0);
    }

    #[test]
    fn windows_are_checked() {
        assert_eq!(
            exact_match::<&str, &str>(&[], &[]),
            Err(QualityError::Empty)
        );
        assert!(matches!(
            rouge(&["a"], &["a", "b"]),
            Err(QualityError::LengthMismatch {
                truth: 1,
                predicted: 2
            })
        ));
        assert!(matches!(
            corpus_bleu::<&str, &str>(&[], &[]),
            Err(QualityError::Empty)
        ));
    }
}
