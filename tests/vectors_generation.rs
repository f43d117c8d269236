//! `driftwatch::stats::quality::generation` against
//! `tests/fixtures/generation_vectors.json` (computed with rouge-score and
//! sacrebleu by `tests/fixtures/generation_reference.py`): every case, every
//! result key, tokenizers included.
mod common;

use common::{ABS, STAT_REL, assert_close, fixture_json, num};
use driftwatch::stats::quality::generation::{self, Bleu, RougePair};
use serde_json::Value;

fn texts(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("text array")
        .iter()
        .map(|t| t.as_str().expect("string"))
        .collect()
}

fn close(got: f64, want: &Value, context: &str) {
    assert_close(got, num(want), STAT_REL, ABS, context);
}

fn close_all(got: &[f64], want: &Value, context: &str) {
    let want = want.as_array().expect("number array");
    assert_eq!(got.len(), want.len(), "{context}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(*g, w, &format!("{context}[{i}]"));
    }
}

fn ints(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("integer array")
        .iter()
        .map(|n| n.as_u64().expect("integer"))
        .collect()
}

fn rouge_part(pairs: &[RougePair], key: &str) -> Vec<f64> {
    let (kind, part) = key.split_once('_').expect("rougeX_part");
    pairs
        .iter()
        .map(|p| {
            let s = match kind {
                "rouge1" => p.rouge1,
                "rouge2" => p.rouge2,
                "rougeL" => p.rouge_l,
                other => panic!("unknown rouge type {other}"),
            };
            match part {
                "precision" => s.precision,
                "recall" => s.recall,
                "fmeasure" => s.f1,
                other => panic!("unknown rouge part {other}"),
            }
        })
        .collect()
}

fn check_bleu(bleu: &Bleu, key: &str, want: &Value, context: &str) {
    match key {
        "bleu_score" => close(bleu.score, want, context),
        "bleu_bp" => close(bleu.bp, want, context),
        "bleu_sys_len" => assert_eq!(Some(bleu.sys_len), want.as_u64(), "{context}"),
        "bleu_ref_len" => assert_eq!(Some(bleu.ref_len), want.as_u64(), "{context}"),
        "bleu_counts" => assert_eq!(bleu.counts.to_vec(), ints(want), "{context}"),
        "bleu_totals" => assert_eq!(bleu.totals.to_vec(), ints(want), "{context}"),
        "bleu_precisions" => close_all(&bleu.precisions, want, context),
        other => panic!("{context}: unknown BLEU result {other}"),
    }
}

fn check_tokens(key: &str, references: &[&str], candidates: &[&str], want: &Value, context: &str) {
    let (texts, rouge) = match key {
        "tokens_13a_references" => (references, false),
        "tokens_13a_candidates" => (candidates, false),
        "tokens_rouge_references" => (references, true),
        "tokens_rouge_candidates" => (candidates, true),
        other => panic!("{context}: unknown token result {other}"),
    };
    let want = want.as_array().expect("token lists");
    assert_eq!(texts.len(), want.len(), "{context}: length");
    for (i, (text, want)) in texts.iter().zip(want).enumerate() {
        if rouge {
            let want: Vec<&str> = self::texts(want);
            assert_eq!(
                generation::rouge_tokenize(text),
                want,
                "{context}[{i}] of {text:?}"
            );
        } else {
            let want = want.as_str().expect("tokenized line");
            assert_eq!(
                generation::tokenize_13a(text),
                want,
                "{context}[{i}] of {text:?}"
            );
        }
    }
}

#[test]
fn generation_vectors() {
    let doc = fixture_json("generation_vectors.json");
    assert_eq!(doc["family"], "generation");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut checked = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let references = texts(&case["inputs"]["references"]);
        let candidates = texts(&case["inputs"]["candidates"]);
        let rouge = generation::rouge(&references, &candidates).unwrap();
        let pairs = generation::rouge_pairs(&references, &candidates).unwrap();
        let bleu = generation::corpus_bleu(&references, &candidates).unwrap();
        for (key, want) in case["results"].as_object().unwrap() {
            let context = format!("{id} {key}");
            match key.as_str() {
                "exact_match" => close(
                    generation::exact_match(&references, &candidates).unwrap(),
                    want,
                    &context,
                ),
                "rouge1" => close(rouge.rouge1, want, &context),
                "rouge2" => close(rouge.rouge2, want, &context),
                "rougeL" => close(rouge.rouge_l, want, &context),
                k if k.starts_with("rouge") => close_all(&rouge_part(&pairs, k), want, &context),
                k if k.starts_with("bleu_") => check_bleu(&bleu, k, want, &context),
                k if k.starts_with("tokens_") => {
                    check_tokens(k, &references, &candidates, want, &context)
                }
                other => panic!("{id}: unknown result {other}"),
            }
            checked += 1;
        }
        // Single pairs agree with the window form.
        for (i, (r, c)) in references.iter().zip(&candidates).enumerate() {
            assert_eq!(generation::rouge_pair(r, c), pairs[i], "{id} pair {i}");
        }
    }
    assert!(checked >= 30 * 20, "only {checked} results checked");
}

#[test]
fn owned_strings_are_accepted() {
    let references = vec![String::from("the answer is 42")];
    let candidates = vec![String::from("the answer is 42")];
    assert_eq!(generation::exact_match(&references, &candidates), Ok(1.0));
    assert_eq!(
        generation::rouge(&references, &candidates).unwrap().rouge2,
        1.0
    );
}
