//! The join buffer's memory with 10 million outstanding unlabelled ids (as a
//! sidecar sees when labels stop arriving): it holds its capacity and no
//! more, counts every eviction, and its resident memory stays within what
//! the capacity allows. In its own test binary, so that the process's RSS
//! is this test's alone.

use driftwatch::join::{Gone, JoinBuffer, JoinLimits};

/// Resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

#[test]
fn ten_million_outstanding_ids_hold_the_capacity_and_count_the_rest() {
    const IDS: u64 = 10_000_000;
    const CAPACITY: usize = 1_000_000;
    let before = rss();
    let mut buffer = JoinBuffer::new(JoinLimits {
        capacity: CAPACITY,
        ttl_nanos: 7 * 86_400 * 1_000_000_000,
    });
    // What a quality window keeps per record: its window, a predicted
    // class and a score.
    let (mut evicted, mut oldest_window) = (0u64, 0u32);
    let mut id = String::new();
    for i in 0..IDS {
        use std::fmt::Write as _;
        id.clear();
        write!(id, "req-{i:016x}").unwrap();
        let pending = ((i / 1000) as u32, (i % 2) as u32, 0.5f64);
        buffer.insert(&id, i as i64, pending, |gone| {
            let Gone::Evicted((window, ..)) = gone else {
                panic!("nothing expires within the ttl");
            };
            assert!(window >= oldest_window, "the oldest leaves first");
            oldest_window = window;
            evicted += 1;
        });
    }
    let grown = rss().saturating_sub(before);
    let counts = buffer.counts();
    assert_eq!(buffer.len(), CAPACITY);
    assert_eq!(counts.inserted, IDS);
    assert_eq!(counts.evicted, IDS - CAPACITY as u64);
    assert_eq!(evicted, counts.evicted, "every eviction handed back");
    let per_entry = grown as f64 / CAPACITY as f64;
    println!(
        "10,000,000 ids, capacity 1,000,000: RSS grew {:.1} MiB ({per_entry:.0} bytes per held entry), {} evicted",
        grown as f64 / 1048576.0,
        counts.evicted
    );
    // Bounded by the capacity: the index and the ring, with their growth
    // slack, stay under 128 bytes an entry.
    assert!(per_entry < 128.0, "{per_entry} bytes per entry");
}
