use super::*;

fn cells(values: &[&str]) -> Vec<Cell> {
    values
        .iter()
        .map(|v| match *v {
            "" => Cell::Missing,
            v => Cell::Text(v.to_owned()),
        })
        .collect()
}

fn spec(score: bool) -> QualitySpec {
    QualitySpec {
        label: "label".into(),
        prediction: "pred".into(),
        score: score.then(|| "score".into()),
        task: None,
        positive: None,
    }
}

fn built(
    spec: QualitySpec,
    labels: &[&str],
    preds: &[&str],
    scores: Option<&[&str]>,
) -> Result<BaselineQuality, QualityBuildError> {
    let mut b = QualityBuilder::new(spec);
    let scores = scores.map(cells);
    for (i, (l, p)) in cells(labels).iter().zip(cells(preds).iter()).enumerate() {
        b.add(l, p, scores.as_ref().map(|s| &s[i]))?;
    }
    b.finish()
}

#[test]
fn a_binary_classifier_gets_its_metrics_and_a_calibration() {
    let q = built(
        spec(true),
        &["1", "0", "1", "1", "0", "1.0", ""],
        &["1", "0", "0", "1", "1", "1", "1"],
        Some(&["0.9", "0.2", "0.4", "0.8", "0.6", "0.7", "0.5"]),
    )
    .unwrap();
    assert_eq!((q.task, q.positive.as_deref()), (Task::Binary, Some("1")));
    assert_eq!((q.rows, q.skipped), (6, 1));
    // 6 rows ("1.0" is the class "1"): tp 3, fp 1, fn 1, tn 1.
    assert_eq!(q.metrics["accuracy"], 4.0 / 6.0);
    assert_eq!(q.metrics["precision"], 0.75);
    assert_eq!(q.metrics["recall"], 0.75);
    assert_eq!(q.metrics["roc_auc"], 7.0 / 8.0);
    assert!(q.metrics.contains_key("log_loss") && q.metrics.contains_key("macro_f1"));
    assert!(q.calibration.is_some());
}

#[test]
fn the_task_is_inferred_from_the_labels() {
    let many: Vec<String> = (0..20).map(|i| format!("{}.5", i)).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let q = built(spec(false), &many, &many, None).unwrap();
    assert_eq!(q.task, Task::Regression);
    assert_eq!(q.metrics["mae"], 0.0);
    let q = built(spec(false), &["a", "b", "c"], &["a", "c", "c"], None).unwrap();
    assert_eq!(q.task, Task::Multiclass);
    assert_eq!(q.metrics["accuracy"], 2.0 / 3.0);
    assert!(!q.metrics.contains_key("f1"));
}

#[test]
fn a_binary_task_needs_a_positive_class_it_can_name() {
    let e = built(spec(false), &["yes", "no"], &["yes", "yes"], None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--task binary: the labels and predictions hold no, yes; name the positive class with --positive"
    );
    let mut named = spec(false);
    named.positive = Some("yes".into());
    assert_eq!(
        built(named.clone(), &["yes", "no"], &["yes", "yes"], None)
            .unwrap()
            .metrics["precision"],
        0.5
    );
    named.positive = Some("maybe".into());
    assert!(matches!(
        built(named, &["yes", "no"], &["yes", "yes"], None),
        Err(QualityBuildError::UnknownPositive { .. })
    ));
}

#[test]
fn bad_scores_and_empty_columns_are_errors_that_name_the_column() {
    let e = built(spec(true), &["1"], &["1"], Some(&["1.5"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--score column \"score\" holds 1.5: expected a probability in [0, 1]"
    );
    let e = built(spec(true), &["1"], &["1"], Some(&["high"])).unwrap_err();
    assert!(e.to_string().contains("holds \"high\""), "{e}");
    let e = built(spec(true), &["1", ""], &["", "1"], Some(&["0.5", "0.5"])).unwrap_err();
    assert!(
        e.to_string()
            .contains("no row has a label and a prediction and a score in \"score\""),
        "{e}"
    );
    let mut regression = spec(false);
    regression.task = Some(Task::Regression);
    let e = built(regression, &["1", "x"], &["1", "2"], None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--task regression: column \"label\" holds \"x\", which is not a number"
    );
    let mut generation = spec(false);
    generation.task = Some(Task::Generation);
    let e = built(generation, &["a b"], &["a c"], None).unwrap_err();
    assert_eq!(e, QualityBuildError::Generation);
}

#[test]
fn macro_averages_take_classes_in_sorted_order_whatever_came_first() {
    let (t, p) = (["c", "a", "b", "a"], ["c", "b", "b", "a"]);
    let q = built(spec(false), &t, &p, None).unwrap();
    let sorted = classification::macro_scores(&t, &p).unwrap();
    assert_eq!(q.metrics["macro_f1"].to_bits(), sorted.f1.to_bits());
}
