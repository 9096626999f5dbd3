//! Built-in monitoring on real Telco models: exact sharded counts under
//! threads, Prometheus text (parsed), tracing spans with correlation ids,
//! the prediction log with outcomes, live quality and retrain triggers.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use mlops_core::data::Frame;
use mlops_core::seed::Seed;
use mlops_core::store::{MemoryStore, SharedStore};
use mlops_core::synth::ChurnSynth;
use mlops_serve::monitor::{
    PredictionLogOptions, PrometheusText, RetrainReason, RetrainTriggers, Sampling,
};
use mlops_serve::{CorrelationId, Error, PredictionLog, Predictor, Record};

fn score_rows(p: &Predictor, frame: &Frame, rows: std::ops::Range<usize>) {
    for row in rows {
        p.predict(&Record::from_frame_row(frame, row))
            .expect("score");
    }
}

fn log_with(sampling: Sampling) -> (Arc<PredictionLog>, SharedStore) {
    let store: SharedStore = Arc::new(MemoryStore::new());
    let log = PredictionLog::new(
        store.clone(),
        PredictionLogOptions {
            sampling,
            ..Default::default()
        },
    )
    .expect("log");
    (Arc::new(log), store)
}

#[test]
fn sharded_counts_merge_exactly_across_threads() {
    let t = common::telco();
    let model = common::logistic(&t);
    let threaded = common::predictor(&t, model.clone(), "churn", 1);
    let single = common::predictor(&t, model, "churn", 1);
    let n = t.test.n_rows();
    std::thread::scope(|s| {
        for k in 0..4 {
            let (p, f) = (&threaded, &t.test);
            s.spawn(move || score_rows(p, f, k * n / 4..(k + 1) * n / 4));
        }
    });
    score_rows(&single, &t.test, 0..n);
    let (a, b) = (threaded.monitor().snapshot(), single.monitor().snapshot());
    assert_eq!(a.predictions, n as u64);
    assert_eq!(a.predictions, b.predictions);
    assert_eq!(a.latency.count, n as u64);
    assert_eq!(a.scores.buckets, b.scores.buckets);
    assert_eq!(a.scores.positive_rate, b.scores.positive_rate);
    assert!((a.scores.sum - b.scores.sum).abs() < 1e-9);
    assert_eq!(a.input_drift, b.input_drift);
    assert_eq!(a.score_drift, b.score_drift);
    assert!(a.input_drift.is_some() && a.score_drift.is_some());
    assert!(a.latency.p50 <= a.latency.p99 && a.latency.p99 <= a.latency.max);
}

/// Families are declared once with HELP and TYPE before their samples;
/// histogram buckets are cumulative and end with `+Inf` = `_count`.
fn check_exposition(text: &str) {
    let mut declared: HashMap<String, String> = HashMap::new();
    let mut buckets: HashMap<String, Vec<f64>> = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("type line");
            assert!(
                declared.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{name} twice"
            );
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let name = line.split(['{', ' ']).next().expect("name");
        let family = declared
            .keys()
            .find(|f| {
                name == f.as_str()
                    || ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| name == format!("{f}{s}"))
            })
            .unwrap_or_else(|| panic!("sample {name} before its TYPE"));
        if name.ends_with("_bucket") {
            let series = line.split("le=").next().expect("series").to_owned();
            let v: f64 = line
                .rsplit(' ')
                .next()
                .expect("value")
                .parse()
                .expect("number");
            buckets.entry(series).or_default().push(v);
            assert_eq!(declared[family], "histogram");
        }
    }
    for (series, counts) in buckets {
        assert!(
            counts.windows(2).all(|w| w[0] <= w[1]),
            "{series} not cumulative"
        );
    }
}

#[test]
fn prometheus_text_parses_and_matches_the_snapshot() {
    let t = common::telco();
    let p = common::predictor(&t, common::logistic(&t), "churn", 4);
    let rf = common::predictor(&t, common::forest(&t, 5), "churn", 5);
    score_rows(&p, &t.test, 0..300);
    score_rows(&rf, &t.test, 0..50);
    let bad = Record::from_frame_row(&t.test, 0).text("tenure", "x");
    assert!(p.predict(&bad).is_err());
    let mut page = PrometheusText::new();
    page.monitor(&p.monitor().snapshot())
        .monitor(&rf.monitor().snapshot())
        .gauge(
            "mlops_canary_weight",
            "Canary share.",
            &[("model", "a \"quoted\"\\name")],
            0.25,
        );
    let text = page.render();
    check_exposition(&text);

    let scrape =
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parse");
    let find = |metric: &str, version: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get("version") == Some(version))
            .unwrap_or_else(|| panic!("{metric} v{version} missing"))
    };
    use prometheus_parse::Value as V;
    assert_eq!(
        find("mlops_predictions_total", "4").value,
        V::Counter(300.0)
    );
    assert_eq!(find("mlops_predictions_total", "5").value, V::Counter(50.0));
    let errors: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| {
            s.metric == "mlops_prediction_errors_total" && s.labels.get("version") == Some("4")
        })
        .collect();
    assert!(
        errors
            .iter()
            .any(|s| s.labels.get("kind") == Some("wrong_type") && s.value == V::Counter(1.0))
    );
    match &find("mlops_prediction_latency_seconds", "4").value {
        V::Histogram(h) => {
            let last = h.last().expect("buckets");
            assert!(last.less_than.is_infinite());
            assert_eq!(last.count, 300.0);
        }
        other => panic!("latency is not a histogram: {other:?}"),
    }
    match &find("mlops_score", "4").value {
        V::Histogram(h) => {
            assert_eq!(h.len(), 11, "deciles and +Inf");
            assert_eq!(h[9].count, 300.0, "every probability <= 1");
        }
        other => panic!("score is not a histogram: {other:?}"),
    }
    assert!(
        matches!(find("mlops_input_drift_share", "4").value, V::Gauge(x) if (0.0..=1.0).contains(&x))
    );
    let tenure = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "mlops_input_drift_statistic" && s.labels.get("column") == Some("tenure")
        })
        .expect("tenure drift");
    assert!(matches!(tenure.value, V::Gauge(_)));
    assert!(text.contains("mlops_canary_weight{model=\"a \\\"quoted\\\"\\\\name\"} 0.25\n"));
}

#[test]
fn sampling_every_nth_and_seeded_rate() {
    let t = common::telco();
    let model = common::logistic(&t);
    let (log, _) = log_with(Sampling::EveryNth(10));
    let p = common::predictor(&t, model.clone(), "churn", 1).with_prediction_log(log.clone());
    let ids: Vec<CorrelationId> = (0..100)
        .map(|r| {
            p.predict(&Record::from_frame_row(&t.test, r))
                .expect("score")
                .correlation_id
        })
        .collect();
    assert_eq!(log.logged(), 10);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            log.get(id).expect("get").is_some(),
            i % 10 == 0,
            "request {i}"
        );
    }
    let logged = log.get(&ids[20]).expect("get").expect("sampled");
    assert_eq!(
        (logged.model.as_str(), logged.version, logged.threshold),
        ("churn", Some(1), Some(0.5))
    );
    assert_eq!(logged.inputs.len(), p.signature().len());

    let kept = |seed| {
        let (log, _) = log_with(Sampling::Rate {
            rate: 0.25,
            seed: Seed(seed),
        });
        let p = common::predictor(&t, model.clone(), "churn", 1).with_prediction_log(log.clone());
        (0..400)
            .filter(|&r| {
                let id = CorrelationId::from(format!("r{r}"));
                p.predict_with(&Record::from_frame_row(&t.test, r), id.clone())
                    .expect("score");
                log.get(&id).expect("get").is_some()
            })
            .collect::<Vec<_>>()
    };
    let (a, b, c) = (kept(7), kept(7), kept(8));
    assert_eq!(a, b, "same seed, same sample");
    assert_ne!(a, c);
    assert!(
        (70..=130).contains(&a.len()),
        "{} of 400 kept at 25%",
        a.len()
    );
}

#[test]
fn outcomes_join_back_into_live_quality() {
    let t = common::telco();
    let model = common::logistic(&t);
    let (log, _) = log_with(Sampling::All);
    let p = common::predictor(&t, model.clone(), "churn", 1).with_prediction_log(log.clone());
    let y = t.features.target(&t.test).expect("y");
    let mut scores = Vec::new();
    for r in 0..t.test.n_rows() {
        let id = CorrelationId::from(format!("c{r}"));
        scores.push(
            p.predict_with(&Record::from_frame_row(&t.test, r), id.clone())
                .expect("s")
                .value,
        );
        log.record_outcome(&id, y[r]).expect("join");
    }
    let q = log.quality(p.id()).expect("quality");
    assert_eq!(q.outcomes, t.test.n_rows() as u64);
    let correct = scores
        .iter()
        .zip(y.iter())
        .filter(|(s, y)| (**s >= 0.5) == (**y == 1.0))
        .count();
    assert_eq!(q.accuracy, Some(correct as f64 / scores.len() as f64));
    let auc = mlops_train::metrics::roc_auc(y.as_slice().expect("y"), &scores).expect("auc");
    assert!((q.roc_auc.expect("auc") - auc).abs() < 1e-12);
    assert!(
        q.roc_auc.expect("auc") > 0.8,
        "Telco logistic AUC {:?}",
        q.roc_auc
    );

    let id = CorrelationId::from("c0");
    assert!(
        matches!(log.record_outcome(&id, 1.0), Err(Error::BadOutcome { .. })),
        "second outcome"
    );
    assert!(matches!(
        log.record_outcome(&CorrelationId::from("never"), 1.0),
        Err(Error::PredictionNotLogged(_))
    ));
    let id = CorrelationId::from("extra");
    p.predict_with(&Record::from_frame_row(&t.test, 0), id.clone())
        .expect("s");
    assert!(matches!(
        log.record_outcome(&id, 0.5),
        Err(Error::BadOutcome { .. })
    ));
    assert!(matches!(
        log.record_outcome(&id, f64::NAN),
        Err(Error::BadOutcome { .. })
    ));

    let mut page = PrometheusText::new();
    page.quality(&q);
    let text = page.render();
    check_exposition(&text);
    assert!(text.contains("mlops_live_roc_auc{model=\"churn\",version=\"1\"}"));
}

#[test]
fn concept_drift_raises_a_retrain_trigger() {
    let t = common::telco();
    let (log, _) = log_with(Sampling::All);
    let rx = log.triggers().subscribe();
    let p =
        common::predictor(&t, common::logistic(&t), "churn", 1).with_prediction_log(log.clone());
    let y = t.features.target(&t.test).expect("y");
    // 1,000 honest outcomes, then the world changes: labels flip.
    for i in 0..2_000 {
        let r = i % t.test.n_rows();
        let id = CorrelationId::from(format!("d{i}"));
        p.predict_with(&Record::from_frame_row(&t.test, r), id.clone())
            .expect("s");
        let outcome = if i < 1_000 { y[r] } else { 1.0 - y[r] };
        log.record_outcome(&id, outcome).expect("join");
        if i == 999 {
            assert!(
                rx.try_recv().is_err(),
                "no trigger while the model is right"
            );
        }
    }
    let trigger = rx.try_recv().expect("retrain trigger raised");
    assert_eq!(trigger.model.to_string(), "churn/1");
    assert!(
        matches!(trigger.reason, RetrainReason::ConceptDrift { outcomes, .. } if outcomes > 1_000)
    );
    assert!(log.quality(p.id()).expect("q").triggers >= 1);
}

#[test]
fn input_drift_window_raises_a_trigger() {
    let t = common::telco();
    let pkg = common::package(&t, common::logistic(&t), "logreg");
    // The synthetic shift moves 5 of 19 inputs: dataset drift at a 20% share.
    let options = mlops_serve::MonitorOptions {
        drift: mlops_core::drift::DriftOptions::default().drift_share(0.2),
        ..Default::default()
    };
    let p = Predictor::package_builder(&pkg)
        .monitor_options(options)
        .build()
        .expect("predictor");
    let triggers = RetrainTriggers::new();
    let rx = triggers.subscribe();
    score_rows(&p, &t.test, 0..1_000);
    let same = p
        .monitor()
        .close_drift_window(Some(&triggers))
        .expect("report");
    assert!(!same.dataset_drift, "{same:?}");
    assert!(rx.try_recv().is_err());
    let shifted = ChurnSynth::new(Seed(3))
        .rows(1_000)
        .shift(1.0)
        .to_frame()
        .expect("synth");
    let s = p.predict_frame(&shifted).expect("frame");
    assert_eq!(s.values.len(), 1_000);
    let moved = p
        .monitor()
        .close_drift_window(Some(&triggers))
        .expect("report");
    let drifted: HashSet<&str> = moved
        .columns
        .iter()
        .filter(|c| c.1.drifted)
        .map(|c| c.0.as_str())
        .collect();
    assert!(moved.dataset_drift, "drifted: {drifted:?}");
    let trigger = rx.try_recv().expect("input drift trigger");
    assert!(matches!(
        trigger.reason,
        RetrainReason::InputDrift { rows: 1_000, .. }
    ));
    assert!(
        p.monitor().close_drift_window(None).is_none(),
        "window restarted empty"
    );
}

#[test]
fn prediction_log_on_sled_survives_reopen() {
    let t = common::telco();
    let dir = tempfile::tempdir().expect("tmp");
    let id = CorrelationId::from("persisted");
    {
        let store: SharedStore =
            Arc::new(mlops_core::store::SledStore::open(dir.path()).expect("sled"));
        let log = Arc::new(
            PredictionLog::new(
                store.clone(),
                PredictionLogOptions {
                    sampling: Sampling::All,
                    ..Default::default()
                },
            )
            .expect("log"),
        );
        let p = common::predictor(&t, common::logistic(&t), "churn", 1).with_prediction_log(log);
        p.predict_with(&Record::from_frame_row(&t.test, 3), id.clone())
            .expect("s");
        store.flush().expect("flush");
    }
    let store: SharedStore =
        Arc::new(mlops_core::store::SledStore::open(dir.path()).expect("sled"));
    let log = PredictionLog::new(store, PredictionLogOptions::default()).expect("log");
    let logged = log.get(&id).expect("get").expect("persisted");
    assert_eq!(logged.correlation_id, "persisted");
    let joined = log.record_outcome(&id, 1.0).expect("join after restart");
    assert_eq!(joined.prediction, logged);
}
