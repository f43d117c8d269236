//! Criterion benchmarks of the hot parts of `baseline build` and `report`:
//! profiling a numeric column, testing 100,000 current values against a
//! summarised 1,000,000-row reference, testing categories, and the exact
//! two-sample KS test that scipy runs on raw columns. `bench/compare.py`
//! measures the whole commands against scipy on the standard workload.

use criterion::{Criterion, criterion_group, criterion_main};
use driftwatch::baseline::NumericProfile;
use driftwatch::baseline::profile::{CategoricalAccumulator, NumericAccumulator, ProfileLimits};
use driftwatch::detect::{DetectOptions, TestName, categorical, numeric};
use driftwatch::stats::Alternative;
use driftwatch::stats::ks::{KsMethod, ks_2samp};
use rustc_hash::FxHashMap;
use std::hint::black_box;

/// Deterministic standard normal values (xorshift + Box–Muller).
fn normals(n: usize, seed: u64, shift: f64) -> Vec<f64> {
    let mut s = seed.max(1);
    let mut uniform = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u, v) = (uniform().max(1e-300), uniform());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() + shift
        })
        .collect()
}

fn profile(values: &[f64]) -> NumericProfile {
    let limits = ProfileLimits::default();
    let mut acc = NumericAccumulator::new(&limits);
    values.iter().for_each(|v| acc.add(*v));
    acc.finish(&limits).unwrap()
}

fn bench_profile(c: &mut Criterion) {
    let values = normals(1_000_000, 1, 0.0);
    c.bench_function("profile numeric column, 1M values", |b| {
        b.iter(|| profile(black_box(&values)))
    });
}

fn bench_numeric_tests(c: &mut Criterion) {
    let reference = profile(&normals(1_000_000, 1, 0.0));
    let current = normals(100_000, 2, 0.1);
    let options = DetectOptions {
        tests: Some(vec![
            TestName::Ks,
            TestName::Wasserstein,
            TestName::JensenShannon,
            TestName::Psi,
        ]),
        ..DetectOptions::default()
    };
    c.bench_function("ks+wasserstein+js+psi, 100k vs 1M summary", |b| {
        let view = options.feature("x");
        b.iter(|| numeric::run(&reference, 1_000_000, black_box(&current), None, &view))
    });
}

fn bench_categorical(c: &mut Criterion) {
    let limits = ProfileLimits::default();
    let mut acc = CategoricalAccumulator::new(&limits);
    let mut current: FxHashMap<String, u64> = FxHashMap::default();
    for i in 0..1_000_000u64 {
        acc.add(&format!("c{}", (i * i) % 1000));
    }
    for i in 0..100_000u64 {
        *current.entry(format!("c{}", (i * 7) % 1000)).or_default() += 1;
    }
    let reference = acc.finish(&limits);
    let options = DetectOptions {
        tests: Some(vec![TestName::Chi2, TestName::JensenShannon, TestName::Psi]),
        ..DetectOptions::default()
    };
    c.bench_function("chi2+js+psi, 1000 categories", |b| {
        let view = options.feature("c");
        b.iter(|| categorical::run(&reference, black_box(&current), &view))
    });
}

fn bench_exact_ks(c: &mut Criterion) {
    let (x, y) = (normals(10_000, 3, 0.0), normals(10_000, 4, 0.05));
    c.bench_function("ks_2samp exact, 10k vs 10k", |b| {
        b.iter(|| {
            ks_2samp(
                black_box(&x),
                black_box(&y),
                Alternative::TwoSided,
                KsMethod::Auto,
            )
        })
    });
}

criterion_group!(
    benches,
    bench_profile,
    bench_numeric_tests,
    bench_categorical,
    bench_exact_ks
);
criterion_main!(benches);
