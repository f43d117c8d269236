use super::*;
use crate::detect::Datum;
use crate::ingest::testing::baseline;
use chrono::TimeZone;

// Baseline column order: age, purpose, notes, score.
const AGE: usize = 0;
const PURPOSE: usize = 1;
const NOTES: usize = 2;

fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + second, 0).unwrap()
}

fn shape(reservoir: usize, max_new_categories: usize) -> WindowShape {
    WindowShape::new(
        baseline(),
        WindowLimits {
            reservoir,
            max_new_categories,
            max_metrics: 4,
        },
    )
}

/// A batch of `rows` records with ages `ages`, purposes `labels`, and
/// everything else missing.
fn batch(ages: &[f64], labels: &[&str], rows: u64) -> Sample {
    let mut sample = Sample {
        rows,
        columns: baseline()
            .columns
            .iter()
            .map(|c| ColumnSample::empty(&c.profile))
            .collect(),
    };
    for &x in ages {
        sample.columns[AGE].add(Datum::Number(x), 1);
    }
    for label in labels {
        sample.columns[PURPOSE].add(Datum::Label(label), 1);
    }
    sample.columns[NOTES].add(Datum::Text("a few words"), 1);
    sample
}

#[test]
fn below_the_reservoir_a_window_keeps_every_value() {
    let shape = shape(100, 10);
    let mut window = LiveWindow::new(&shape, at(0));
    window.absorb(&shape, batch(&[1.0, 2.0], &["home"], 2));
    window.absorb(&shape, batch(&[3.0], &["home", "boat"], 2));
    assert_eq!(window.records, 4);
    let closed = window.close(&shape, at(60));
    assert_eq!(closed.span.start, at(0));
    assert_eq!(closed.span.end, at(60));
    assert_eq!(closed.span.records, 4);
    assert_eq!(closed.sample.rows, 4);
    assert_eq!(
        closed.sample.columns[AGE].values,
        Values::Numeric(vec![1.0, 2.0, 3.0])
    );
    let Values::Categorical(counts) = &closed.sample.columns[PURPOSE].values else {
        panic!()
    };
    assert_eq!((counts["home"], counts["boat"]), (2, 1));
    let Values::Text(d) = &closed.sample.columns[NOTES].values else {
        panic!()
    };
    assert_eq!(
        d.descriptors[0],
        vec![11.0, 11.0],
        "the length descriptor of both texts"
    );
    // The next window is empty and opened when the last one closed.
    assert_eq!(window.records, 0);
    assert_eq!(window.opened, at(60));
    let next = window.close(&shape, at(61));
    assert_eq!(next.sample.columns[AGE].values, Values::Numeric(vec![]));
}

#[test]
fn a_reservoir_holds_a_uniform_sample_of_any_number_of_values() {
    let shape = shape(1000, 10);
    let mut window = LiveWindow::new(&shape, at(0));
    let n = 200_000;
    for chunk in (0..n).collect::<Vec<u32>>().chunks(1000) {
        let ages: Vec<f64> = chunk.iter().map(|&i| f64::from(i)).collect();
        window.absorb(&shape, batch(&ages, &[], ages.len() as u64));
    }
    let closed = window.close(&shape, at(1));
    assert_eq!(closed.span.records, u64::from(n));
    let Values::Numeric(kept) = &closed.sample.columns[AGE].values else {
        panic!()
    };
    assert_eq!(kept.len(), 1000);
    // Each decile of the stream holds about a tenth of the sample: 100 ±
    // 4.7 standard deviations (binomial, n = 1000, p = 0.1).
    for decile in 0..10 {
        let low = f64::from(decile * n / 10);
        let high = f64::from((decile + 1) * n / 10);
        let inside = kept.iter().filter(|&&x| low <= x && x < high).count();
        assert!((55..=145).contains(&inside), "decile {decile}: {inside}");
    }
}

#[test]
fn new_categories_beyond_the_cap_are_counted_as_other() {
    let shape = shape(100, 2);
    let mut window = LiveWindow::new(&shape, at(0));
    window.absorb(&shape, batch(&[], &["boat", "bike", "plane", "ship"], 4));
    // Baseline categories are always counted on their own.
    window.absorb(&shape, batch(&[], &["car", "plane", "boat"], 3));
    let closed = window.close(&shape, at(1));
    let Values::Categorical(counts) = &closed.sample.columns[PURPOSE].values else {
        panic!()
    };
    // Which two new categories get counts of their own depends on the
    // order a batch's labels come in; `car` and the other two do not.
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert_eq!(counts["car"], 1);
    assert!(counts[OTHER_CATEGORY] >= 2, "{counts:?}");
    assert_eq!(counts.values().sum::<u64>(), 7, "no value is lost");
}

#[test]
fn missing_values_are_counted_exactly() {
    let shape = shape(100, 10);
    let mut window = LiveWindow::new(&shape, at(0));
    let mut b = batch(&[1.0], &[], 3);
    b.columns[AGE].add(Datum::Missing, 2);
    window.absorb(&shape, b);
    let closed = window.close(&shape, at(1));
    assert_eq!(closed.sample.columns[AGE].missing, 2);
}

#[test]
fn a_window_survives_a_round_trip_through_json() {
    let shape = shape(10, 10);
    let mut window = LiveWindow::new(&shape, at(0));
    let ages: Vec<f64> = (0..50).map(f64::from).collect();
    window.absorb(&shape, batch(&ages, &["home", "boat"], 50));
    let json = serde_json::to_string(&window).unwrap();
    let mut restored: LiveWindow = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, window);
    assert!(shape.fits(&restored));
    // Sampling goes on from the same random state.
    restored.absorb(&shape, batch(&ages, &[], 50));
    window.absorb(&shape, batch(&ages, &[], 50));
    assert_eq!(restored, window);
}

#[test]
fn a_window_of_another_baseline_does_not_fit() {
    let shape = shape(10, 10);
    let mut window = LiveWindow::new(&shape, at(0));
    window.columns[AGE].name = "years".into();
    assert!(!shape.fits(&window));
    window.columns.pop();
    assert!(!shape.fits(&window));
}
