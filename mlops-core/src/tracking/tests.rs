//! Behaviour tests of tracking over the in-memory store.

use std::sync::Arc;

use super::*;
use crate::filter::{Filter, OrderBy};
use crate::seed::Seed;
use crate::store::MemoryStore;

fn tracker() -> Tracker {
    Tracker::new(Arc::new(MemoryStore::new()))
}

#[test]
fn params_are_immutable_and_typed_errors_carry_context() {
    let t = tracker();
    let exp = t.experiment("e").unwrap();
    let run = t.start_run(&exp, RunOptions::default()).unwrap();
    run.log_params([("lr", "0.1"), ("depth", "3")]).unwrap();
    run.log_param("lr", 0.1).unwrap();
    let err = run.log_param("lr", 0.2).unwrap_err();
    match err {
        Error::ParamConflict {
            run_id,
            key,
            existing,
            new,
        } => {
            assert_eq!(run_id, run.id());
            assert_eq!(
                (key.as_str(), existing.as_str(), new.as_str()),
                ("lr", "0.1", "0.2")
            );
        }
        other => panic!("unexpected {other}"),
    }
    // A conflicting batch writes nothing, not even its valid part.
    assert!(run.log_params([("new", "1"), ("depth", "4")]).is_err());
    assert!(!run.summary().params.contains_key("new"));

    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = run.log_metric("loss", bad, 0).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidMetric { key, run_id, .. } if key == "loss" && run_id == run.id()),
            "{err}"
        );
    }
    assert!(run.summary().metrics.is_empty());
    assert!(matches!(
        run.log_param("", "x"),
        Err(Error::InvalidKey { what: "param", .. })
    ));
    assert!(matches!(
        t.get_run("0123"),
        Err(Error::RunNotFound { run_id }) if run_id == "0123"
    ));
    assert!(matches!(
        t.run_metrics_history("nope", "loss"),
        Err(Error::RunNotFound { .. })
    ));
}

#[test]
fn metric_history_spans_chunks_and_latest_follows_step() {
    let t = tracker();
    let exp = t.experiment("e").unwrap();
    let run = t.start_run(&exp, RunOptions::default()).unwrap();
    let n = CHUNK_POINTS * 2 + 37;
    {
        let mut logger = run.metric_logger_with_batch(100);
        for i in 0..n {
            logger.log("loss", i as f64 * 0.5, i as i64).unwrap();
            logger.log("acc", 1.0 - i as f64 * 1e-4, i as i64).unwrap();
        }
        assert!(logger.pending() < 100);
        assert!(matches!(
            logger.log("loss", f64::NAN, 0),
            Err(Error::InvalidMetric { .. })
        ));
    }
    // A late point with a smaller step is history, not the latest value.
    run.log_metric("loss", -1.0, 3).unwrap();
    let id = run.id().to_owned();
    let summary = run.summary();
    assert_eq!(summary.metrics["loss"].value, (n - 1) as f64 * 0.5);
    assert_eq!(summary.metrics["loss"].step, (n - 1) as i64);
    run.finish().unwrap();

    let hist = t.run_metrics_history(&id, "loss").unwrap();
    assert_eq!(hist.len(), n + 1);
    for (i, p) in hist[..n].iter().enumerate() {
        assert_eq!((p.step, p.value), (i as i64, i as f64 * 0.5));
    }
    assert_eq!(hist[n].value, -1.0);
    assert_eq!(t.run_metrics_history(&id, "acc").unwrap().len(), n);
    assert!(t.run_metrics_history(&id, "never").unwrap().is_empty());
    // Chunked: each logger flush (50 `loss` points) fills one chunk.
    let chunks = t
        .store()
        .scan_prefix(keys::TREE, &keys::metric_prefix(&id, "loss"))
        .unwrap()
        .count();
    assert!(chunks <= (n + 1).div_ceil(32), "{chunks} chunks");
    assert!(chunks >= (n + 1).div_ceil(CHUNK_POINTS));
}

#[test]
fn resumed_run_appends_and_ended_run_rejects_writes() {
    let t = tracker();
    let exp = t.experiment("e").unwrap();
    let run = t.start_run(&exp, RunOptions::default()).unwrap();
    let id = run.id().to_owned();
    for i in 0..700 {
        run.log_metric("m", f64::from(i), i64::from(i)).unwrap();
    }
    drop(run); // still Running
    let again = t.resume_run(&id).unwrap();
    assert_eq!(again.status(), RunStatus::Running);
    for i in 700..1100 {
        again.log_metric("m", f64::from(i), i64::from(i)).unwrap();
    }
    again.finish().unwrap();
    let hist = t.run_metrics_history(&id, "m").unwrap();
    let values: Vec<f64> = hist.iter().map(|p| p.value).collect();
    assert_eq!(values, (0..1100).map(f64::from).collect::<Vec<_>>());

    let ended = t.resume_run(&id).unwrap();
    let err = ended.set_tag("x", "y").unwrap_err();
    assert!(
        matches!(&err, Error::RunNotActive { status, .. } if status == "FINISHED"),
        "{err}"
    );
    assert!(matches!(
        ended.log_metric("m", 1.0, 0),
        Err(Error::RunNotActive { .. })
    ));
    assert!(matches!(ended.finish(), Err(Error::RunNotActive { .. })));
}

#[test]
fn artifacts_are_deduplicated_and_verified() {
    let t = tracker();
    let exp = t.experiment("e").unwrap();
    let a = t.start_run(&exp, RunOptions::default()).unwrap();
    let b = t.start_run(&exp, RunOptions::default()).unwrap();
    let payload = vec![7u8; 10_000];
    let d1 = a.log_artifact("model.bin", &payload).unwrap();
    let d2 = b.log_artifact("copy.bin", &payload).unwrap();
    assert_eq!(d1, d2);
    assert_eq!(d1, blake3::hash(&payload).to_hex().to_string());
    assert_eq!(a.log_artifact("model.bin", &payload).unwrap(), d1);
    assert!(matches!(
        a.log_artifact("model.bin", b"other"),
        Err(Error::ArtifactConflict { .. })
    ));
    let blobs = t
        .store()
        .scan_prefix(keys::TREE, &keys::BLOBS.key(b""))
        .unwrap()
        .count();
    assert_eq!(blobs, 1);
    let (ida, idb) = (a.id().to_owned(), b.id().to_owned());
    a.finish().unwrap();
    b.finish().unwrap();
    assert_eq!(t.read_artifact(&ida, "model.bin").unwrap(), payload);
    assert!(matches!(
        t.read_artifact(&ida, "missing"),
        Err(Error::ArtifactNotFound { .. })
    ));

    // Flip one byte of the stored content: the digest check catches it.
    let hash = blake3::hash(&payload);
    let mut bad = payload.clone();
    bad[5000] ^= 1;
    t.store()
        .insert(keys::TREE, &keys::BLOBS.key(hash.as_bytes()), &bad)
        .unwrap();
    let err = t.read_artifact(&idb, "copy.bin").unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { reason, .. } if reason.contains("digest mismatch")),
        "{err}"
    );
}

#[test]
fn inputs_environment_tags_and_children_round_trip() {
    let t = tracker();
    let exp = t.experiment("e").unwrap();
    let parent = t
        .start_run(&exp, RunOptions::default().name("search").seed(Seed(7)))
        .unwrap();
    let pid = parent.id().to_owned();
    let mut kids = Vec::new();
    for i in 0..3 {
        let c = t
            .start_run(
                &exp,
                RunOptions::default()
                    .parent(&pid)
                    .name(format!("trial-{i}"))
                    .tag("kind", "trial"),
            )
            .unwrap();
        kids.push(c.id().to_owned());
        c.finish().unwrap();
    }
    assert!(matches!(
        t.start_run(&exp, RunOptions::default().parent("f".repeat(32))),
        Err(Error::RunNotFound { .. })
    ));
    let input = DatasetInput::new("train", "data/telco.csv", "b3:abc", 5634);
    parent.log_input(input.clone()).unwrap();
    let env = Environment::capture()
        .with_git_commit("4f1c2e9")
        .with_seed(Seed(7));
    parent.log_environment(&env).unwrap();
    parent.set_tag("stage", "dev").unwrap();
    parent.set_tag("stage", "prod").unwrap();
    parent.finish().unwrap();

    let info = t.get_run(&pid).unwrap();
    assert_eq!(info.inputs, vec![input]);
    assert_eq!(info.environment.as_ref(), Some(&env));
    assert_eq!(info.summary.seed, Some(7));
    assert_eq!(info.summary.tags["stage"], "prod");
    assert!(info.summary.end_time.is_some());
    let children: Vec<String> = t
        .children(&pid)
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    let mut expected = kids.clone();
    expected.sort();
    let mut got = children.clone();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(t.list_runs(&exp).unwrap().len(), 4);
    // The old tag value is gone from the index, the new one is there.
    let by_tag = |v: &str| {
        t.search(&SearchQuery::new().filter(format!("tags.stage = '{v}'")))
            .unwrap()
            .runs
            .len()
    };
    assert_eq!((by_tag("dev"), by_tag("prod")), (0, 1));
}

#[test]
fn guard_marks_failed_on_panic_and_killed_on_plain_drop() {
    let t = tracker();
    let exp = t.experiment("e").unwrap();

    let g = t.start_run(&exp, RunOptions::default()).unwrap().guard();
    let panicked = g.id().to_owned();
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        g.log_metric("loss", 1.0, 0).unwrap();
        panic!("boom");
    }));
    assert!(res.is_err());
    let s = t.get_summary(&panicked).unwrap();
    assert_eq!(s.status, RunStatus::Failed);
    assert_eq!(s.reason.as_deref(), Some("panicked"));
    assert_eq!(s.metrics["loss"].value, 1.0);

    let dropped = {
        let g = t.start_run(&exp, RunOptions::default()).unwrap().guard();
        g.id().to_owned()
    };
    assert_eq!(t.get_summary(&dropped).unwrap().status, RunStatus::Killed);

    let g = t.start_run(&exp, RunOptions::default()).unwrap().guard();
    let fine = g.id().to_owned();
    g.finish().unwrap();
    assert_eq!(t.get_summary(&fine).unwrap().status, RunStatus::Finished);
}

#[test]
fn experiment_get_or_create_is_concurrent_safe() {
    let t = tracker();
    let ids: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|_| s.spawn(|| t.experiment("shared").unwrap().id))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(t.list_experiments().unwrap().len(), 1);
    assert!(t.experiment("").is_err());
}

/// A store of runs with varied fields for search tests.
fn populated() -> (Tracker, Vec<String>) {
    let t = tracker();
    let exps = [
        t.experiment("churn").unwrap(),
        t.experiment("fraud").unwrap(),
    ];
    let models = ["logreg", "rf", "tree", "gbm"];
    let mut ids = Vec::new();
    for i in 0..120u32 {
        let exp = &exps[(i % 2) as usize];
        let run = t
            .start_run(exp, RunOptions::default().name(format!("run-{i:03}")))
            .unwrap();
        run.log_param("model", models[(i % 4) as usize]).unwrap();
        run.log_param("depth", i % 5).unwrap();
        if i % 3 != 0 {
            run.set_tag("team", if i % 2 == 0 { "growth" } else { "risk" })
                .unwrap();
        }
        let auc = 0.5 + f64::from((i * 37) % 50) / 100.0;
        // Log a stale value first: only the latest may match.
        run.log_metric("auc", 0.0, 0).unwrap();
        run.log_metric("auc", auc, 1).unwrap();
        if i % 7 != 0 {
            run.log_metric("loss", -f64::from(i % 11) + 3.0, 0).unwrap();
        }
        ids.push(run.id().to_owned());
        match i % 10 {
            0 => run.fail("diverged").unwrap(),
            1 => run.kill().unwrap(),
            2 => drop(run),
            _ => run.finish().unwrap(),
        }
    }
    (t, ids)
}

fn all_summaries(t: &Tracker) -> Vec<RunSummary> {
    t.list_experiments()
        .unwrap()
        .iter()
        .flat_map(|e| t.list_runs(e).unwrap())
        .collect()
}

#[test]
fn search_matches_brute_force_for_many_filters() {
    let (t, _) = populated();
    let all = all_summaries(&t);
    assert_eq!(all.len(), 120);
    let filters = [
        "",
        "metrics.auc > 0.8",
        "metrics.auc >= 0.8 AND metrics.auc < 0.9",
        "metrics.auc = 0.87",
        "metrics.auc < 0.1",
        "metrics.loss <= 0",
        "metrics.loss != 1",
        "metrics.loss IS NULL",
        "params.model = 'rf'",
        "params.model IN ('rf', 'gbm') AND metrics.auc > 0.7",
        "params.model != 'rf'",
        "params.model LIKE 'lo%'",
        "params.model NOT LIKE '%e%'",
        "params.model ILIKE 'RF'",
        "tags.team = 'growth' OR metrics.auc > 0.95",
        "(params.model = 'rf' OR tags.team = 'growth') AND metrics.auc > 0.8",
        "NOT (params.depth = '1' OR params.depth = '2')",
        "tags.team IS NOT NULL",
        "status = 'FINISHED'",
        "status IN ('failed', 'KILLED')",
        "status = 'RUNNING' OR status = 'KILLED'",
        "experiment = 'fraud' AND params.depth = '3'",
        "experiment LIKE 'chu%'",
        "run_name = 'run-042'",
        "run_name LIKE 'run-01%'",
        "start_time > 0 AND end_time IS NULL",
        "end_time > 0",
        "metrics.auc > 0.6 OR metrics.nothing > 1",
        "metrics.nothing > 1",
    ];
    let orders = [
        "",
        "metrics.auc DESC",
        "params.model, metrics.loss DESC",
        "run_name ASC",
    ];
    for f in filters {
        let filter = Filter::parse(f).unwrap();
        for o in orders {
            let order = OrderBy::parse(if o.is_empty() { "start_time DESC" } else { o }).unwrap();
            let mut expected: Vec<&RunSummary> =
                all.iter().filter(|s| filter.matches(*s)).collect();
            expected.sort_by(|a, b| order.compare(*a, *b).then_with(|| a.run_id.cmp(&b.run_id)));
            let expected: Vec<&str> = expected.iter().map(|s| s.run_id.as_str()).collect();

            // Page through with an awkward page size.
            let mut got = Vec::new();
            let mut token = None;
            let mut pages = 0;
            loop {
                let mut q = SearchQuery::new().filter(f).limit(7);
                if !o.is_empty() {
                    q = q.order_by(o);
                }
                if let Some(tok) = token.take() {
                    q = q.page_token(tok);
                }
                let page = t.search(&q).unwrap();
                assert!(page.runs.len() <= 7);
                got.extend(page.runs.into_iter().map(|r| r.run_id));
                pages += 1;
                match page.next_page_token {
                    Some(tok) => token = Some(tok),
                    None => break,
                }
                assert!(pages < 100);
            }
            assert_eq!(got, expected, "filter `{f}` order `{o}`");
        }
    }
}

#[test]
fn indexed_filters_decode_only_candidates() {
    let (t, _) = populated();
    let page = t
        .search(
            &SearchQuery::new()
                .experiment("fraud")
                .filter("metrics.auc > 0.9 AND params.model = 'rf'")
                .order_by("metrics.auc DESC"),
        )
        .unwrap();
    assert!(!page.runs.is_empty());
    assert!(page.runs.iter().all(|r| r.experiment == "fraud"
        && r.params["model"] == "rf"
        && r.metrics["auc"].value > 0.9));
    assert!(page.decoded <= page.runs.len(), "decoded {}", page.decoded);
    // Not ordered by an indexed key and no usable condition: every run.
    let scan = t
        .search(
            &SearchQuery::new()
                .filter("end_time > 0")
                .order_by("run_name"),
        )
        .unwrap();
    assert_eq!(scan.decoded, 120);
    // The default order (start_time DESC) walks the start-time index and
    // stops once it holds the page plus one match (and that one's ties).
    let walk = t
        .search(&SearchQuery::new().filter("end_time > 0").limit(10))
        .unwrap();
    assert_eq!(walk.runs.len(), 10);
    assert!(walk.decoded < 60, "decoded {}", walk.decoded);
    let exp_only = t.search(&SearchQuery::new().experiment("fraud")).unwrap();
    assert_eq!((exp_only.decoded, exp_only.runs.len()), (60, 60));
}

#[test]
fn search_errors_are_typed() {
    let (t, _) = populated();
    let err = t
        .search(&SearchQuery::new().filter("metrics.auc > AND params.x = 'y'"))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidFilter { column: 15, .. }),
        "{err}"
    );
    assert!(matches!(
        t.search(&SearchQuery::new().order_by("metrics.auc SIDEWAYS")),
        Err(Error::InvalidOrderBy { .. })
    ));
    assert!(matches!(
        t.search(&SearchQuery::new().experiment("nope")),
        Err(Error::ExperimentNotFound { .. })
    ));
    assert!(matches!(
        t.search(&SearchQuery::new().limit(0)),
        Err(Error::InvalidParameter { name: "limit", .. })
    ));
    for bad in [
        "",
        "garbage",
        "p1.zz.0000000000000000",
        "p1.5.123",
        "p2.5.0000000000000000",
    ] {
        assert!(
            matches!(
                t.search(&SearchQuery::new().page_token(bad)),
                Err(Error::InvalidPageToken { .. })
            ),
            "{bad}"
        );
    }
    let first = t.search(&SearchQuery::new().limit(10)).unwrap();
    let token = first.next_page_token.unwrap();
    // A token from another query is refused rather than silently misused.
    let other = t.search(
        &SearchQuery::new()
            .filter("metrics.auc > 0.5")
            .page_token(&token),
    );
    assert!(matches!(other, Err(Error::InvalidPageToken { .. })));
    let second = t
        .search(&SearchQuery::new().limit(10).page_token(token))
        .unwrap();
    assert_eq!(second.runs.len(), 10);
}

#[test]
fn run_writes_are_buffered_until_a_commit_point() {
    let t = tracker();
    let exp = t.experiment("e").unwrap();
    let run = t.start_run(&exp, RunOptions::default()).unwrap();
    let id = run.id().to_owned();
    run.log_param("model", "rf").unwrap();
    run.log_metric("auc", 0.9, 0).unwrap();
    run.set_tag("team", "risk").unwrap();
    // The handle sees its own changes; the store has only the started run.
    assert_eq!(run.summary().params["model"], "rf");
    let stored = t.get_summary(&id).unwrap();
    assert!(stored.params.is_empty() && stored.metrics.is_empty() && stored.tags.is_empty());
    run.flush().unwrap();
    let stored = t.get_summary(&id).unwrap();
    assert_eq!(stored.params["model"], "rf");
    assert_eq!(stored.tags["team"], "risk");
    assert_eq!(t.run_metrics_history(&id, "auc").unwrap().len(), 1);
    let found = t
        .search(&SearchQuery::new().filter("params.model = 'rf' AND metrics.auc > 0.5"))
        .unwrap();
    assert_eq!(found.runs.len(), 1);
}

#[test]
fn finish_unflushed_runs_survive_tracker_flush_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    {
        let t = Tracker::new(Arc::new(crate::store::SledStore::open(dir.path()).unwrap()));
        let exp = t.experiment("grid").unwrap();
        for i in 0..50i64 {
            let run = t.start_run(&exp, RunOptions::default()).unwrap();
            run.log_params((0..10).map(|p| (format!("p{p}"), i * 100 + p)))
                .unwrap();
            let names: Vec<String> = (0..10).map(|m| format!("m{m}")).collect();
            let values: Vec<(&str, f64)> = names
                .iter()
                .enumerate()
                .map(|(m, n)| (n.as_str(), (i * 10 + m as i64) as f64))
                .collect();
            run.log_metrics(&values, 3).unwrap();
            if i % 2 == 0 {
                // A second point: this metric's history needs a chunk.
                run.log_metric("m0", -1.0, 4).unwrap();
            }
            ids.push(run.id().to_owned());
            run.finish_unflushed().unwrap();
        }
        t.flush().unwrap();
    }
    let t = Tracker::new(Arc::new(crate::store::SledStore::open(dir.path()).unwrap()));
    for (i, id) in ids.iter().enumerate() {
        let i = i as i64;
        let s = t.get_summary(id).unwrap();
        assert_eq!(s.status, RunStatus::Finished);
        assert_eq!(s.params.len(), 10);
        assert_eq!(s.params["p7"], (i * 100 + 7).to_string());
        let m5 = t.run_metrics_history(id, "m5").unwrap();
        assert_eq!(m5.len(), 1);
        assert_eq!((m5[0].value, m5[0].step), ((i * 10 + 5) as f64, 3));
        let m0: Vec<f64> = t
            .run_metrics_history(id, "m0")
            .unwrap()
            .iter()
            .map(|p| p.value)
            .collect();
        if i % 2 == 0 {
            assert_eq!(m0, [(i * 10) as f64, -1.0]);
        } else {
            assert_eq!(m0, [(i * 10) as f64]);
        }
    }
    // One-point histories have no chunk: the summary holds the point.
    let chunks = t
        .store()
        .scan_prefix(keys::TREE, &keys::METRICS.key(ids[1].as_bytes()))
        .unwrap()
        .count();
    assert_eq!(chunks, 0);
    let page = t
        .search(
            &SearchQuery::new()
                .filter("params.p3 = '4903' AND metrics.m1 > 0")
                .order_by("metrics.m1 DESC"),
        )
        .unwrap();
    assert_eq!(page.runs.len(), 1);
    assert_eq!(page.runs[0].run_id, ids[49]);
}

#[test]
fn resumed_one_point_history_grows_into_a_chunk() {
    let t = tracker();
    let exp = t.experiment("e").unwrap();
    let run = t.start_run(&exp, RunOptions::default()).unwrap();
    let id = run.id().to_owned();
    run.log_metric("loss", 2.0, 0).unwrap();
    drop(run); // written on drop, still Running
    assert_eq!(t.run_metrics_history(&id, "loss").unwrap().len(), 1);
    let again = t.resume_run(&id).unwrap();
    again.log_metric("loss", 1.0, 1).unwrap();
    again.finish().unwrap();
    let values: Vec<f64> = t
        .run_metrics_history(&id, "loss")
        .unwrap()
        .iter()
        .map(|p| p.value)
        .collect();
    assert_eq!(values, [2.0, 1.0]);
}

mod search_props {
    use super::*;
    use proptest::prelude::*;

    const FILTERS: [&str; 10] = [
        "",
        "metrics.auc > 0.3",
        "metrics.auc >= 0.2 AND params.model = 'rf'",
        "params.model IN ('rf', 'gbm')",
        "params.model = 'tree' OR metrics.loss < 0",
        "metrics.loss IS NULL",
        "metrics.auc IS NULL OR params.model = 'rf'",
        "status = 'FINISHED' AND params.model != 'gbm'",
        "metrics.loss > -2 AND metrics.loss <= 2",
        "tags.kind = 'b'",
    ];
    const ORDERS: [&str; 6] = [
        "",
        "metrics.auc DESC",
        "metrics.auc",
        "metrics.loss DESC, metrics.auc",
        "start_time ASC",
        "params.model, metrics.auc DESC",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn search_equals_brute_force(
            // Per run: model, optional auc (coarse, so ties occur), optional
            // loss, how it ends.
            runs in proptest::collection::vec(
                (0u8..4, proptest::option::of(0u8..6), proptest::option::of(-3i8..4), 0u8..3),
                0..60,
            ),
            filter_no in 0usize..FILTERS.len(),
            order_no in 0usize..ORDERS.len(),
            limit in 1usize..12,
        ) {
            let t = tracker();
            let exp = t.experiment("p").unwrap();
            let models = ["rf", "gbm", "tree", "logreg"];
            for (i, (model, auc, loss, status)) in runs.iter().enumerate() {
                let opts = RunOptions::default().tag("kind", if i % 2 == 0 { "a" } else { "b" });
                let run = t.start_run(&exp, opts).unwrap();
                run.log_param("model", models[usize::from(*model)]).unwrap();
                if let Some(a) = auc {
                    run.log_metric("auc", f64::from(*a) / 10.0, 0).unwrap();
                }
                if let Some(l) = loss {
                    run.log_metric("loss", f64::from(*l), 0).unwrap();
                }
                match status {
                    0 => run.finish().unwrap(),
                    1 => run.finish_unflushed().unwrap(),
                    _ => drop(run),
                }
            }
            let (f, o) = (FILTERS[filter_no], ORDERS[order_no]);
            let filter = Filter::parse(f).unwrap();
            let order = OrderBy::parse(if o.is_empty() { "start_time DESC" } else { o }).unwrap();
            let all = t.list_runs(&exp).unwrap();
            let mut expected: Vec<&RunSummary> = all.iter().filter(|s| filter.matches(*s)).collect();
            expected.sort_by(|a, b| order.compare(*a, *b).then_with(|| a.run_id.cmp(&b.run_id)));
            let expected: Vec<&str> = expected.iter().map(|s| s.run_id.as_str()).collect();
            let mut got = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..200 {
                let mut q = SearchQuery::new().experiment("p").filter(f).limit(limit);
                if !o.is_empty() {
                    q = q.order_by(o);
                }
                if let Some(tok) = token.take() {
                    q = q.page_token(tok);
                }
                let page = t.search(&q).unwrap();
                prop_assert!(page.runs.len() <= limit);
                got.extend(page.runs.into_iter().map(|r| r.run_id));
                match page.next_page_token {
                    Some(tok) => token = Some(tok),
                    None => break,
                }
            }
            prop_assert_eq!(got, expected, "filter `{}` order `{}`", f, o);
        }
    }
}
