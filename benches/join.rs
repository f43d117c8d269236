//! What the label join costs per record on the ingest path, against the
//! obvious alternative measured in the same run: `insert` of 100,000 ids
//! into a `JoinBuffer` (SHA-256 of the id, an index entry, a ring entry,
//! evicting beyond its capacity) and `join` of their labels, beside the
//! same inserts and lookups in an `FxHashMap<String, _>` keyed by the id
//! itself (no eviction, no bound, and an allocation per id).

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use driftwatch::join::{JoinBuffer, JoinLimits};
use rustc_hash::FxHashMap;
use std::hint::black_box;

const IDS: usize = 100_000;

fn ids() -> Vec<String> {
    (0..IDS).map(|i| format!("chatcmpl-{i:024x}")).collect()
}

fn join(c: &mut Criterion) {
    let ids = ids();
    let mut group = c.benchmark_group("join 100k ids");
    group.sample_size(20);
    group.bench_function("JoinBuffer insert + join", |b| {
        b.iter_batched(
            || {
                JoinBuffer::new(JoinLimits {
                    capacity: IDS / 2,
                    ttl_nanos: i64::MAX,
                })
            },
            |mut buffer| {
                for (i, id) in ids.iter().enumerate() {
                    buffer.insert(id, i as i64, i as u32, |g| {
                        black_box(g);
                    });
                }
                for id in &ids {
                    black_box(buffer.join(id));
                }
                buffer
            },
            BatchSize::LargeInput,
        );
    });
    group.bench_function("FxHashMap<String, _> insert + remove", |b| {
        b.iter_batched(
            FxHashMap::<String, u32>::default,
            |mut map| {
                for (i, id) in ids.iter().enumerate() {
                    map.insert(id.clone(), i as u32);
                }
                for id in &ids {
                    black_box(map.remove(id));
                }
                map
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, join);
criterion_main!(benches);
