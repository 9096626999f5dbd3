//! ModelHandle: loading by reference, notified and polled swaps, and the
//! stress test (4 scoring threads, 100 alias flips).

mod common;

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mlops_serve::{ModelHandle, Predictor, Record};

fn record<'a>() -> Record<'a> {
    Record::new()
        .text("gender", "Male")
        .number("SeniorCitizen", 1.0)
        .text("Partner", "No")
        .text("Dependents", "No")
        .number("tenure", 8.0)
        .text("PhoneService", "Yes")
        .text("MultipleLines", "Yes")
        .text("InternetService", "Fiber optic")
        .text("OnlineSecurity", "No")
        .text("OnlineBackup", "No")
        .text("DeviceProtection", "Yes")
        .text("TechSupport", "No")
        .text("StreamingTV", "Yes")
        .text("StreamingMovies", "Yes")
        .text("Contract", "Month-to-month")
        .text("PaperlessBilling", "Yes")
        .text("PaymentMethod", "Electronic check")
        .number("MonthlyCharges", 99.65)
        .number("TotalCharges", 820.5)
}

#[test]
fn loads_from_file_bytes_and_registry() {
    let t = common::telco();
    let pkg = common::package(&t, common::logistic(&t), "logreg");
    let (tracker, registry) = common::memory_registry();
    let v = common::register(&tracker, &registry, &pkg);
    registry
        .set_alias("churn", "champion", v, "test", "first")
        .expect("alias");

    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("churn.mlpkg");
    pkg.save(&path).expect("save");
    let from_file = Predictor::from_file(&path).expect("file");
    let from_bytes = Predictor::from_bytes(&pkg.to_bytes().expect("bytes")).expect("bytes");
    let by_alias = Predictor::from_registry(&registry, &tracker, "churn@champion").expect("alias");
    let by_version = Predictor::from_registry(&registry, &tracker, "churn/1").expect("version");

    let r = record();
    let expected = from_file.predict(&r).expect("score").value;
    assert_eq!(
        from_file.id().to_string(),
        "churn",
        "unregistered package has no version"
    );
    for p in [&from_bytes, &by_alias, &by_version] {
        assert_eq!(p.predict(&r).expect("score").value, expected);
    }
    assert_eq!(by_alias.id().to_string(), "churn/1");
    assert!(
        by_alias.monitor().snapshot().score_drift.is_some(),
        "score profile loaded"
    );
    assert!(Predictor::from_bytes(b"not a package").is_err());
    assert!(Predictor::from_registry(&registry, &tracker, "churn@nope").is_err());
}

#[test]
fn polled_handle_follows_the_alias() {
    let t = common::telco();
    let (tracker, registry, v1, v2) = common::lr_and_rf_versions(&t, 10);
    registry
        .set_alias("churn", "champion", v1, "test", "first")
        .expect("alias");
    let handle = ModelHandle::follow(registry.clone(), tracker, "churn@champion").expect("handle");
    assert_eq!(
        handle.predict(&record()).expect("score").model.version,
        Some(v1)
    );
    let poller = handle.poll_every(Duration::from_millis(5)).expect("poller");
    registry
        .set_alias("churn", "champion", v2, "test", "promote rf")
        .expect("alias");
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.current().id().version != Some(v2) {
        assert!(Instant::now() < deadline, "poller did not pick up the move");
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(poller);
    assert_eq!(handle.swaps(), 1);
    assert_eq!(
        handle.predict(&record()).expect("score").model.version,
        Some(v2)
    );
    // Pinned references never move.
    assert!(!handle.refresh().expect("refresh"));
}

/// 4 threads score without pause while the alias flips 100 times. Zero
/// failed requests, and every answer comes from a version the alias pointed
/// at during that request.
///
/// "During": flip k moves the alias (registry commit) and swaps the handle,
/// both inside `[t_start_k, t_done_k]`; the exact commit instant inside that
/// interval is not observable, so version `v_k` is valid from `t_start_k`
/// until the next flip is done, `t_done_{k+1}`. An answer from a version
/// outside every such interval overlapping its request fails the test.
#[test]
fn stress_alias_flips_without_failed_or_stale_requests() {
    let t = common::telco();
    let (tracker, registry, v1, v2) = common::lr_and_rf_versions(&t, 5);
    registry
        .set_alias("churn", "champion", v1, "test", "start")
        .expect("alias");
    let handle = ModelHandle::follow(registry.clone(), tracker, "churn@champion").expect("handle");

    let epoch = Instant::now();
    let done = AtomicBool::new(false);
    let barrier = Barrier::new(5);
    let (answers, flips) = std::thread::scope(|s| {
        let scorers: Vec<_> = (0..4)
            .map(|_| {
                let (handle, done, barrier) = (&handle, &done, &barrier);
                s.spawn(move || {
                    let r = record();
                    let mut out = Vec::new();
                    let mut failures = 0usize;
                    barrier.wait();
                    while !done.load(Ordering::Acquire) {
                        let start = epoch.elapsed();
                        match handle.predict(&r) {
                            Ok(score) => out.push((score.model.version, start, epoch.elapsed())),
                            Err(_) => failures += 1,
                        }
                    }
                    (out, failures)
                })
            })
            .collect();
        barrier.wait();
        let mut flips = vec![(Some(v1), Duration::ZERO, Duration::ZERO)];
        for k in 0..100 {
            let target = if k % 2 == 0 { v2 } else { v1 };
            let start = epoch.elapsed();
            registry
                .set_alias("churn", "champion", target, "stress", "flip")
                .expect("flip");
            assert!(handle.refresh().expect("refresh"), "flip {k} swapped");
            flips.push((Some(target), start, epoch.elapsed()));
            // Let the scorers run a little on each version.
            std::thread::sleep(Duration::from_micros(200));
        }
        done.store(true, Ordering::Release);
        let answers: Vec<_> = scorers
            .into_iter()
            .map(|h| h.join().expect("scorer"))
            .collect();
        (answers, flips)
    });
    assert_eq!(handle.swaps(), 100);
    let mut total = 0;
    for (thread, (answers, failures)) in answers.iter().enumerate() {
        assert_eq!(*failures, 0, "thread {thread} had failed requests");
        assert!(
            answers.len() > 100,
            "thread {thread} scored only {}",
            answers.len()
        );
        total += answers.len();
        for &(version, s, e) in answers {
            let valid = flips.iter().enumerate().any(|(k, &(v, from, _))| {
                let until = flips.get(k + 1).map_or(Duration::MAX, |f| f.2);
                v == version && from <= e && s <= until
            });
            assert!(
                valid,
                "thread {thread}: answer from {version:?} during [{s:?}, {e:?}]"
            );
        }
    }
    let versions: std::collections::HashSet<_> = answers
        .iter()
        .flat_map(|(a, _)| a.iter().map(|x| x.0))
        .collect();
    assert_eq!(versions.len(), 2, "both versions served");
    assert!(total > 1_000, "{total} answers");
}

#[test]
fn failed_load_keeps_serving_and_the_log_follows_swaps() {
    use mlops_core::registry::NewVersion;
    use mlops_core::tracking::RunOptions;
    use mlops_serve::PredictionLog;
    use mlops_serve::monitor::{PredictionLogOptions, Sampling};

    let t = common::telco();
    let (tracker, registry, v1, v2) = common::lr_and_rf_versions(&t, 5);
    // A version whose artifact is not a package.
    let exp = tracker.experiment("churn").expect("experiment");
    let run = tracker.start_run(&exp, RunOptions::default()).expect("run");
    let digest = run
        .log_artifact("model.mlpkg", b"not a package")
        .expect("artifact");
    let run_id = run.id().to_owned();
    run.finish().expect("finish");
    let broken = registry
        .register_version("churn", NewVersion::new(run_id, digest))
        .expect("register")
        .version;

    registry
        .set_alias("churn", "champion", v1, "test", "start")
        .expect("alias");
    let handle =
        ModelHandle::follow(registry.clone(), tracker.clone(), "churn@champion").expect("handle");
    let log = std::sync::Arc::new(
        PredictionLog::new(
            registry.store().clone(),
            PredictionLogOptions {
                sampling: Sampling::All,
                ..Default::default()
            },
        )
        .expect("log"),
    );
    handle.set_prediction_log(log.clone());

    registry
        .set_alias("churn", "champion", broken, "test", "bad push")
        .expect("alias");
    assert!(handle.refresh().is_err(), "a corrupt package is refused");
    let s = handle.predict(&record()).expect("old model still serves");
    assert_eq!(s.model.version, Some(v1));

    registry
        .set_alias("churn", "champion", v2, "test", "fix")
        .expect("alias");
    assert!(handle.refresh().expect("refresh"));
    let s = handle.predict(&record()).expect("new model");
    assert_eq!(s.model.version, Some(v2));
    assert_eq!(
        log.logged(),
        2,
        "the log is attached to the swapped-in version"
    );
    let logged = log.get(&s.correlation_id).expect("get").expect("logged");
    assert_eq!(logged.version, Some(v2));
    let text = handle.prometheus_text();
    assert!(
        text.contains("mlops_predictions_total{model=\"churn\",version=\"2\"} 1\n"),
        "{text}"
    );
}
