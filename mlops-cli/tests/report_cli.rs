//! `mlops report` through the real binary: run and drift reports are single
//! self-contained HTML files holding what they claim; errors are one line.

#![allow(clippy::unwrap_used)]

mod harness;

use harness::{assert_error, mlops_in, ok_json, ok_text, telco};

/// Every `http://` in the page is the SVG namespace, there is no script and
/// no `src=`/`href=` to fetch: the file renders offline.
fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(
        html.matches("http://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    for needle in ["https://", "<script", "src=", "href=", "@import"] {
        assert!(!html.contains(needle), "{needle} in report");
    }
}

#[test]
fn run_report_holds_the_runs_params_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let id = ok_text(
        &store,
        &[
            "runs",
            "create",
            "--experiment",
            "churn",
            "--name",
            "lr-1",
            "--param",
            "model=logreg",
            "--param",
            "l2=0.5",
            "--metric",
            "roc_auc=0.8423",
            "--tag",
            "team=growth",
        ],
    )
    .trim()
    .to_owned();
    let out = dir.path().join("run.html");
    let written = ok_json(
        &store,
        &["report", "--run", &id, "--html", out.to_str().unwrap()],
    );
    assert_eq!(written["kind"], "run");
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written["bytes"].as_u64(), Some(html.len() as u64));
    assert_self_contained(&html);
    assert!(html.contains(&format!("Run lr-1 ({id})")));
    assert!(html.contains("<td>model</td><td>logreg</td>"));
    assert!(html.contains("<td>l2</td><td>0.5</td>"));
    assert!(html.contains("<td>roc_auc</td><td class=\"num\">0.8423</td>"));
    assert!(html.contains("<td>team</td><td>growth</td>"));
    assert!(html.contains("<td>experiment</td><td>churn</td>"));
}

#[test]
fn drift_report_marks_the_shifted_columns_and_draws_each_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let shifted = dir.path().join("shifted.csv");
    ok_text(
        &store,
        &[
            "data",
            "synth",
            "--rows",
            "2000",
            "--seed",
            "5",
            "--shift",
            "0.8",
            "--out",
            shifted.to_str().unwrap(),
        ],
    );
    let out = dir.path().join("drift.html");
    ok_text(
        &store,
        &[
            "report",
            "--drift",
            &telco(),
            shifted.to_str().unwrap(),
            "--html",
            out.to_str().unwrap(),
        ],
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert_self_contained(&html);
    let drift = ok_json(
        &store,
        &[
            "drift",
            "--reference",
            &telco(),
            "--current",
            shifted.to_str().unwrap(),
        ],
    );
    let columns = drift["columns"].as_object().unwrap();
    // One chart per tested column, and one "drift" verdict cell per drifted
    // column, agreeing with `mlops drift`.
    assert_eq!(html.matches("<svg").count(), columns.len());
    let drifted = columns.values().filter(|c| c["drifted"] == true).count();
    assert!(drifted >= 2, "the 0.8 shift moves several columns");
    assert_eq!(html.matches("class=\"bad\">drift").count(), drifted);
    assert!(html.contains("<td>Contract</td>"));
    // The ID column is free text: listed as not tested, not drawn.
    assert!(html.contains("<td>customerID</td><td>text column"));
    // The store is not touched by a drift report.
    assert!(!store.exists());
}

#[test]
fn report_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = dir.path().join("x.html");
    let out = out.to_str().unwrap();
    // No subject: a usage error.
    assert_error(&mlops_in(&store, &["report", "--html", out]), 2, &["--run"]);
    // A run in a store that does not exist.
    assert_error(
        &mlops_in(&store, &["report", "--run", "abc", "--html", out]),
        1,
        &["no store at"],
    );
    ok_text(&store, &["runs", "create", "--experiment", "e"]);
    assert_error(
        &mlops_in(&store, &["report", "--run", "nope", "--html", out]),
        1,
        &["nope"],
    );
    // A missing input file names the file.
    assert_error(
        &mlops_in(
            &store,
            &["report", "--drift", &telco(), "/no/such.csv", "--html", out],
        ),
        1,
        &["/no/such.csv"],
    );
    // An unwritable output names the output path.
    assert_error(
        &mlops_in(
            &store,
            &[
                "report",
                "--drift",
                &telco(),
                &telco(),
                "--html",
                "/no/dir/out.html",
            ],
        ),
        1,
        &["/no/dir/out.html"],
    );
    assert!(!std::path::Path::new(out).exists());
}
