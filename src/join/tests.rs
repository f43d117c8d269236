use super::*;

const SECOND: i64 = 1_000_000_000;

fn buffer(capacity: usize) -> JoinBuffer<u32> {
    JoinBuffer::new(JoinLimits {
        capacity,
        ttl_nanos: 60 * SECOND,
    })
}

fn no_gone(g: Gone<u32>) {
    panic!("nothing should leave: {g:?}");
}

#[test]
fn a_label_joins_its_record_once_in_any_order() {
    let mut b = buffer(10);
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        assert!(b.insert(id, 0, i as u32, no_gone));
    }
    assert_eq!(b.join("c"), Join::Joined(2));
    assert_eq!(b.join("a"), Join::Joined(0));
    assert_eq!(b.join("c"), Join::Duplicate);
    assert_eq!(b.join("zz"), Join::Unknown);
    let counts = b.counts();
    assert_eq!(
        (
            counts.inserted,
            counts.joined,
            counts.duplicate_labels,
            counts.unknown
        ),
        (3, 2, 1, 1)
    );
}

#[test]
fn a_repeated_record_id_keeps_the_first_record() {
    let mut b = buffer(10);
    assert!(b.insert("a", 0, 1, no_gone));
    assert!(!b.insert("a", 0, 2, no_gone));
    assert_eq!(b.join("a"), Join::Joined(1));
    assert_eq!(b.counts().duplicate_ids, 1);
}

#[test]
fn a_full_buffer_evicts_its_oldest_and_hands_back_the_unlabelled() {
    let mut b = buffer(2);
    let mut gone = Vec::new();
    b.insert("a", 0, 1, |g| gone.push(g));
    b.insert("b", 0, 2, |g| gone.push(g));
    assert_eq!(b.join("a"), Join::Joined(1));
    b.insert("c", 0, 3, |g| gone.push(g)); // evicts "a", already labelled
    b.insert("d", 0, 4, |g| gone.push(g)); // evicts "b", still waiting
    assert_eq!(gone, vec![Gone::Evicted(2)]);
    assert_eq!((b.len(), b.counts().evicted), (2, 1));
    assert_eq!(b.join("b"), Join::Unknown);
    assert_eq!(b.join("d"), Join::Joined(4));
}

#[test]
fn entries_expire_at_their_ttl_oldest_first() {
    let mut b = buffer(10);
    b.insert("old", 0, 1, no_gone);
    b.insert("labelled", 10 * SECOND, 2, no_gone);
    b.insert("new", 50 * SECOND, 3, no_gone);
    assert_eq!(b.join("labelled"), Join::Joined(2));
    let mut gone = Vec::new();
    b.expire(65 * SECOND, |g| gone.push(g));
    assert_eq!(gone, vec![Gone::Expired(1)]);
    b.expire(75 * SECOND, |g| gone.push(g));
    assert_eq!(gone.len(), 1, "a labelled entry leaves silently");
    assert_eq!((b.len(), b.counts().expired), (1, 1));
    assert_eq!(b.join("old"), Join::Unknown);
    assert_eq!(b.join("new"), Join::Joined(3));
}

#[test]
fn indexes_stay_right_across_many_evictions() {
    let mut b = buffer(100);
    for i in 0..10_000u32 {
        b.insert(&format!("req-{i}"), i64::from(i), i, |_| {});
    }
    assert_eq!(b.len(), 100);
    assert_eq!(b.join("req-9950"), Join::Joined(9950));
    assert_eq!(b.join("req-9899"), Join::Unknown);
    assert_eq!(b.counts().evicted, 9_900);
}

#[test]
fn keys_are_stable_and_distinct() {
    assert_eq!(id_key("req-1"), id_key("req-1"));
    assert_ne!(id_key("req-1"), id_key("req-2"));
    assert_ne!(id_key(""), id_key(" "));
}
