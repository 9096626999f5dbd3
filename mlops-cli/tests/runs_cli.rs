//! `mlops runs ...` through the real binary: runs recorded by one process
//! are listed, searched and shown by the next.

#![allow(clippy::unwrap_used)]

mod harness;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use harness::{assert_error, mlops_in, ok_json, ok_text, run_ids};
use mlops_core::store::SledStore;
use mlops_core::tracking::{DatasetInput, RunOptions, Tracker};

fn store_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    (dir, store)
}

/// `runs create` with the human output: the id alone on one line.
fn create(store: &Path, args: &[&str]) -> String {
    let mut full = vec!["runs", "create"];
    full.extend_from_slice(args);
    let text = ok_text(store, &full);
    let id = text.trim_end_matches('\n');
    assert_eq!(id.len(), 32, "one run id per line: {text:?}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{text:?}");
    id.to_owned()
}

/// Four churn runs and one in another experiment; returns the ids.
fn seed_runs(store: &Path) -> [String; 5] {
    let run = |name: &str, model: &str, auc: &str, team: &str| {
        create(
            store,
            &[
                "--experiment",
                "churn",
                "--name",
                name,
                "--param",
                &format!("model={model}"),
                "--metric",
                &format!("auc={auc}"),
                "--metric",
                "rows=5634",
                "--tag",
                &format!("team={team}"),
            ],
        )
    };
    let logreg = run("logreg", "logreg", "0.842", "growth");
    let rf = run("rf", "rf", "0.821", "growth");
    let tree = run("tree", "tree", "0.71", "risk");
    let gbm = run("gbm", "gbm", "0.851", "risk");
    let other = create(
        store,
        &[
            "--experiment",
            "fraud",
            "--param",
            "model=rf",
            "--metric",
            "auc=0.99",
        ],
    );
    [logreg, rf, tree, gbm, other]
}

#[test]
fn search_filters_and_orders_runs_recorded_by_other_processes() {
    let (_dir, store) = store_dir();
    let [logreg, rf, tree, gbm, other] = seed_runs(&store);

    let page = ok_json(
        &store,
        &[
            "runs",
            "search",
            "--filter",
            "metrics.auc > 0.8 AND params.model != 'gbm'",
            "--order-by",
            "metrics.auc",
            "DESC",
        ],
    );
    assert_eq!(run_ids(&page), [other.clone(), logreg.clone(), rf.clone()]);
    assert!(page.get("next_page_token").is_none(), "{page}");

    // Two clauses: team ascending, then AUC descending within a team; the
    // quoted form of a clause is accepted too.
    let page = ok_json(
        &store,
        &[
            "runs",
            "search",
            "--experiment",
            "churn",
            "--order-by",
            "tags.team",
            "--order-by",
            "metrics.auc DESC",
        ],
    );
    assert_eq!(
        run_ids(&page),
        [logreg.clone(), rf.clone(), gbm.clone(), tree.clone()]
    );

    // Pages of two, following the token.
    let args = [
        "runs",
        "search",
        "--filter",
        "tags.team IN ('growth', 'risk')",
        "--order-by",
        "metrics.auc",
        "--limit",
        "2",
    ];
    let first = ok_json(&store, &args);
    assert_eq!(run_ids(&first), [tree, rf]);
    let token = first["next_page_token"].as_str().unwrap().to_owned();
    let mut next = args.to_vec();
    next.extend(["--page-token", &token]);
    let second = ok_json(&store, &next);
    assert_eq!(run_ids(&second), [logreg.clone(), gbm]);
    assert!(second.get("next_page_token").is_none());

    // Human output: one row per run, in order, then the count.
    let text = ok_text(
        &store,
        &[
            "runs",
            "search",
            "--filter",
            "params.model = 'rf'",
            "--order-by",
            "metrics.auc",
            "DESC",
        ],
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].starts_with(&other) && lines[1].contains("fraud"));
    assert!(lines[2].contains("auc=0.821") && lines[2].contains("FINISHED"));
    assert_eq!(lines[3], "2 runs");
}

#[test]
fn list_and_create_json() {
    let (_dir, store) = store_dir();
    let created = ok_json(
        &store,
        &[
            "runs",
            "create",
            "--experiment",
            "churn",
            "--name",
            "baseline",
            "--param",
            "threshold=a=b",
            "--metric",
            "auc=0.5",
            "--tag",
            "note=",
        ],
    );
    let id = created["run_id"].as_str().unwrap().to_owned();
    assert_eq!(created["experiment"], "churn");
    assert_eq!(created["run_name"], "baseline");
    assert_eq!(created["status"], "Finished");
    assert!(created["end_time"].is_i64());
    // Split at the first `=`; an empty value is a value.
    assert_eq!(created["params"]["threshold"], "a=b");
    assert_eq!(created["tags"]["note"], "");
    assert_eq!(created["metrics"]["auc"]["value"], 0.5);
    assert_eq!(created["metrics"]["auc"]["step"], 0);

    let second = create(&store, &["--experiment", "other"]);
    let all = ok_json(&store, &["runs", "list"]);
    let mut ids = run_ids(&all);
    ids.sort();
    let mut expected = vec![id.clone(), second];
    expected.sort();
    assert_eq!(ids, expected);
    let churn = ok_json(&store, &["runs", "list", "--experiment", "churn"]);
    assert_eq!(run_ids(&churn), [id]);
    assert_error(
        &mlops_in(&store, &["runs", "list", "--experiment", "nope"]),
        1,
        &["experiment `nope` not found"],
    );
}

#[test]
fn show_has_params_metrics_tags_times_inputs_artifacts_and_parent() {
    let (_dir, store) = store_dir();
    let (parent_id, child_id, digest) = {
        // Written through the library: the CLI has no command for artifacts
        // or inputs. The store closes at the end of this block.
        let tracker = Tracker::new(Arc::new(SledStore::open(&store).unwrap()));
        let exp = tracker.experiment("churn").unwrap();
        let parent = tracker
            .start_run(&exp, RunOptions::default().name("search"))
            .unwrap();
        let child = tracker
            .start_run(
                &exp,
                RunOptions::default()
                    .name("trial-1")
                    .parent(parent.id())
                    .tag("stage", "trial"),
            )
            .unwrap();
        child.log_param("max_depth", 6).unwrap();
        child.log_metric("auc", 0.7, 0).unwrap();
        child.log_metric("auc", 0.83, 1).unwrap();
        child
            .log_input(DatasetInput::new(
                "train",
                "telco_churn.csv",
                "abc123",
                5634,
            ))
            .unwrap();
        let digest = child.log_artifact("model.bin", b"weights").unwrap();
        let ids = (parent.id().to_owned(), child.id().to_owned(), digest);
        child.fail("diverged").unwrap();
        parent.finish().unwrap();
        ids
    };

    let show = ok_json(&store, &["runs", "show", &child_id]);
    assert_eq!(show["run_id"], child_id.as_str());
    assert_eq!(show["run_name"], "trial-1");
    assert_eq!(show["parent"], parent_id.as_str());
    assert_eq!(show["status"], "Failed");
    assert_eq!(show["reason"], "diverged");
    assert!(show["start_time"].as_i64().unwrap() <= show["end_time"].as_i64().unwrap());
    assert_eq!(show["params"]["max_depth"], "6");
    assert_eq!(show["tags"]["stage"], "trial");
    // The latest point, not the first.
    assert_eq!(show["metrics"]["auc"]["value"], 0.83);
    assert_eq!(show["metrics"]["auc"]["step"], 1);
    assert_eq!(show["inputs"][0]["name"], "train");
    assert_eq!(show["inputs"][0]["rows"], 5634);
    assert_eq!(show["artifacts"][0]["name"], "model.bin");
    assert_eq!(show["artifacts"][0]["size"], 7);
    assert_eq!(show["artifacts"][0]["digest"], digest.as_str());

    let parent = ok_json(&store, &["runs", "show", &parent_id]);
    assert_eq!(parent["children"][0], child_id.as_str());
    assert!(parent["parent"].is_null());

    let text = ok_text(&store, &["runs", "show", &child_id]);
    for needle in [
        "status      FAILED",
        "reason      diverged",
        &format!("parent      {parent_id}"),
        "max_depth = 6",
        "auc = 0.83 (step 1)",
        "stage = trial",
        "train (5634 rows) from telco_churn.csv",
        "model.bin (7 bytes)",
    ] {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
}

#[test]
fn errors_are_one_line_with_context() {
    let (_dir, store) = store_dir();
    // Nothing recorded yet: reading does not invent an empty store.
    assert_error(
        &mlops_in(&store, &["runs", "list"]),
        1,
        &["no store at", "--store"],
    );
    assert!(!store.exists());

    let id = create(&store, &["--experiment", "churn", "--metric", "auc=0.8"]);
    assert_error(
        &mlops_in(
            &store,
            &["runs", "show", "0123456789abcdef0123456789abcdef"],
        ),
        1,
        &["run 0123456789abcdef0123456789abcdef not found"],
    );
    // The library's positioned message: the second `>` is at column 14.
    assert_error(
        &mlops_in(
            &store,
            &["runs", "search", "--filter", "metrics.auc >> 0.75"],
        ),
        1,
        &["invalid filter at column 14", "metrics.auc >> 0.75"],
    );
    assert_error(
        &mlops_in(
            &store,
            &["runs", "search", "--order-by", "metrics.auc", "sideways"],
        ),
        1,
        &["invalid order-by at column 1", "sideways"],
    );
    // Malformed KEY=VALUE is a usage error (exit 2) and records nothing.
    assert_error(
        &mlops_in(
            &store,
            &[
                "runs",
                "create",
                "--experiment",
                "churn",
                "--param",
                "depth",
            ],
        ),
        2,
        &["`depth` is not KEY=VALUE"],
    );
    assert_error(
        &mlops_in(
            &store,
            &[
                "runs",
                "create",
                "--experiment",
                "churn",
                "--metric",
                "auc=high",
            ],
        ),
        2,
        &["metric `auc`", "not a finite number"],
    );
    assert_error(
        &mlops_in(
            &store,
            &[
                "runs",
                "create",
                "--experiment",
                "churn",
                "--metric",
                "auc=NaN",
            ],
        ),
        2,
        &["not a finite number"],
    );
    // Conflicting values for one param: the library refuses, and the run is
    // left FAILED, not RUNNING.
    assert_error(
        &mlops_in(
            &store,
            &[
                "runs",
                "create",
                "--experiment",
                "churn",
                "--param",
                "a=1",
                "--param",
                "a=2",
            ],
        ),
        1,
        &["param `a` is already `1`, cannot change it to `2`"],
    );
    let all = ok_json(&store, &["runs", "list"]);
    let statuses: Vec<&str> = all["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(run_ids(&all).len(), 2);
    assert!(run_ids(&all).contains(&id));
    let mut statuses = statuses;
    statuses.sort();
    assert_eq!(statuses, ["Failed", "Finished"]);
}

#[test]
fn a_store_held_by_another_process_is_reported_not_waited_on() {
    let (_dir, store) = store_dir();
    let held = SledStore::open(&store).unwrap();
    for args in [
        &["runs", "list"][..],
        &["runs", "create", "--experiment", "churn"][..],
    ] {
        assert_error(
            &mlops_in(&store, args),
            1,
            &["is locked by another process", &store.display().to_string()],
        );
    }
    drop(held);
    create(&store, &["--experiment", "churn"]);
}
