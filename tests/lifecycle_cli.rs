//! The lifecycle through the real `mlops` binary, as a script or CI job
//! drives it: train twice with `--register`, search the runs, alias the
//! better version, list and show, batch-score a holdout with a bad row,
//! check drift, move the alias and roll it back. Every step's JSON is parsed
//! and its content checked; scores are checked against the library loading
//! the same registered package.

// Helpers outside #[test] fns unwrap too: failing loudly is their job.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::Arc;

use mlops::core::synth::ChurnSynth;
use mlops::prelude::*;
use serde_json::Value;
use support::{mlops, ok_json};

/// The holdout CSV's data line (1-based, header on line 1) whose `tenure`
/// is not a number.
const BAD_LINE: usize = 41;
const HOLDOUT_ROWS: usize = 300;

/// Training rows: every fifth Telco record (1,409 rows). Holdout: 300 of
/// the records two places after those, so the two never overlap. Writes
/// `train.csv`, `holdout.csv` (clean) and `holdout_bad.csv`.
fn write_data(dir: &Path) {
    let text = std::fs::read_to_string(support::telco_path()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let records: Vec<&str> = lines.collect();
    let write = |name: &str, rows: &mut dyn Iterator<Item = String>| {
        let mut out = format!("{header}\n");
        for r in rows {
            out.push_str(&r);
            out.push('\n');
        }
        std::fs::write(dir.join(name), out).unwrap();
    };
    write(
        "train.csv",
        &mut records.iter().step_by(5).map(|r| (*r).to_owned()),
    );
    let holdout: Vec<String> = records
        .iter()
        .skip(2)
        .step_by(5)
        .take(HOLDOUT_ROWS)
        .map(|r| (*r).to_owned())
        .collect();
    write("holdout.csv", &mut holdout.iter().cloned());
    let tenure = header.split(',').position(|h| h == "tenure").unwrap();
    let mut bad = holdout.clone();
    let mut fields: Vec<&str> = holdout[BAD_LINE - 2].split(',').collect();
    fields[tenure] = "abc";
    bad[BAD_LINE - 2] = fields.join(",");
    write("holdout_bad.csv", &mut bad.into_iter());
}

fn as_u32(v: &Value) -> u32 {
    u32::try_from(v.as_u64().unwrap()).unwrap()
}

fn train(store: &Path, data: &Path, model: &str, params: &[&str]) -> Value {
    let data = data.to_str().unwrap();
    let mut args = vec![
        "train",
        "--data",
        data,
        "--target",
        "Churn",
        "--positive",
        "Yes",
        "--model",
        model,
        "--seed",
        "11",
        "--experiment",
        "churn",
        "--register",
        "churn",
    ];
    for p in params {
        args.extend_from_slice(&["--param", p]);
    }
    ok_json(store, &args)
}

/// The scores the library gives for `csv` with the package behind
/// `reference`, opening the store the CLI wrote (and closing it again).
fn library_scores(store: &Path, reference: &str, csv: &Path) -> (Vec<f64>, Vec<String>) {
    let shared: SharedStore = Arc::new(SledStore::open(store).unwrap());
    let (tracker, registry) = (Tracker::new(shared.clone()), Registry::new(shared));
    let package = load_registered(&registry, &tracker, reference).unwrap();
    let frame = Frame::read_csv(csv).unwrap();
    let scores = package.predict_frame(&frame).unwrap();
    let ids = frame
        .categorical("customerID")
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_owned())
        .collect();
    (scores.to_vec(), ids)
}

#[test]
fn churn_lifecycle_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_data(dir);
    let store = dir.join("store");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();

    // 1. Two trainings, each registered as the next version of `churn`.
    let logreg = train(&store, &dir.join("train.csv"), "logreg", &[]);
    let forest = train(
        &store,
        &dir.join("train.csv"),
        "rf",
        &["n_trees=40", "max_depth=8"],
    );
    let mut runs = Vec::new();
    for (report, model, version) in [(&logreg, "logreg", 1), (&forest, "rf", 2)] {
        assert_eq!(report["model"], model);
        assert_eq!(report["experiment"], "churn");
        assert_eq!(report["seed"], 11);
        assert_eq!(report["registered"]["name"], "churn");
        assert_eq!(report["registered"]["version"], version);
        let auc = report["metrics"]["roc_auc"].as_f64().unwrap();
        assert!(auc > 0.75, "{model}: roc_auc {auc}");
        let digest = report["package_digest"].as_str().unwrap();
        assert_eq!(digest.len(), 64);
        runs.push((report["run_id"].as_str().unwrap().to_owned(), auc, version));
    }
    assert_ne!(logreg["package_digest"], forest["package_digest"]);

    // 2. Runs search: by metric, best first (and the reverse).
    let mut by_auc = runs.clone();
    by_auc.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, other) = (by_auc[0].2, by_auc[1].2);
    let page = ok_json(
        &store,
        &[
            "runs",
            "search",
            "--experiment",
            "churn",
            "--filter",
            "metrics.roc_auc > 0.5",
            "--order-by",
            "metrics.roc_auc DESC",
        ],
    );
    let found: Vec<(&str, f64, &str)> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["run_id"].as_str().unwrap(),
                r["metrics"]["roc_auc"]["value"].as_f64().unwrap(),
                r["params"]["learner"].as_str().unwrap(),
            )
        })
        .collect();
    let learner = |v: u32| if v == 1 { "logreg" } else { "rf" };
    let expected: Vec<(&str, f64, &str)> = by_auc
        .iter()
        .map(|(id, auc, v)| (id.as_str(), *auc, learner(*v)))
        .collect();
    assert_eq!(found, expected);
    let ascending = ok_json(
        &store,
        &["runs", "search", "--order-by", "metrics.roc_auc ASC"],
    );
    assert_eq!(ascending["runs"][0]["run_id"], by_auc[1].0.as_str());
    let none = ok_json(
        &store,
        &["runs", "search", "--filter", "metrics.roc_auc > 1.0"],
    );
    assert_eq!(none["runs"].as_array().unwrap().len(), 0);

    // 3. Alias the better version; list and show agree.
    let best_s = best.to_string();
    let set = ok_json(
        &store,
        &[
            "models",
            "alias",
            "churn",
            "champion",
            &best_s,
            "--reason",
            "best roc_auc",
        ],
    );
    assert_eq!(set["from"], Value::Null);
    assert_eq!(set["version"], best);
    assert_eq!(set["changed"], true);
    assert_eq!(set["actor"], "ana");
    let list = ok_json(&store, &["models", "list"]);
    let models = list["models"].as_array().unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0]["name"], "churn");
    assert_eq!(models[0]["latest_version"], 2);
    assert_eq!(models[0]["aliases"].as_array().unwrap().len(), 1);
    assert_eq!(models[0]["aliases"][0]["alias"], "champion");
    assert_eq!(models[0]["aliases"][0]["version"], best);
    let shown = ok_json(&store, &["models", "show", "churn@champion"]);
    assert_eq!(shown["version"], best);
    assert_eq!(shown["run_id"], by_auc[0].0.as_str());
    assert_eq!(shown["metrics"]["roc_auc"].as_f64(), Some(by_auc[0].1));
    assert_eq!(shown["aliases"], serde_json::json!(["champion"]));
    assert_eq!(shown["tags"]["learner"], learner(best));

    // 4. Score the holdout with a bad row: refused past the default reject
    //    ratio (nothing written), then accepted with a 1 % allowance.
    let out_csv = path("scores.csv");
    let rejects_csv = path("rejects.csv");
    let bad_csv = path("holdout_bad.csv");
    let score = |extra: &[&'static str]| {
        let mut args = vec![
            "score",
            "--model",
            "churn@champion",
            "--input",
            &bad_csv,
            "--output",
            &out_csv,
            "--id-col",
            "customerID",
            "--rejects",
            &rejects_csv,
        ];
        args.extend_from_slice(extra);
        args
    };
    let refused = mlops(&store, &score(&[]));
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(&format!("line {BAD_LINE}")),
        "{stderr}"
    );
    assert!(!Path::new(&out_csv).exists(), "written whole or not at all");
    let summary = ok_json(&store, &score(&["--max-reject-ratio", "0.01"]));
    assert_eq!(summary["rows"], HOLDOUT_ROWS);
    assert_eq!(summary["scored"], HOLDOUT_ROWS - 1);
    assert_eq!(summary["rejected"], 1);
    assert_eq!(summary["model"], "churn");
    assert_eq!(summary["drift"]["dataset_drift"], false);

    let (expected, ids) = library_scores(&store, "churn@champion", &dir.join("holdout.csv"));
    let bad_row = BAD_LINE - 2;
    let out = std::fs::read_to_string(&out_csv).unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("customerID,score,label"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let kept: Vec<usize> = (0..HOLDOUT_ROWS).filter(|&r| r != bad_row).collect();
    assert_eq!(rows.len(), kept.len());
    for (row, &r) in rows.iter().zip(&kept) {
        assert_eq!(row[0], ids[r], "input order kept");
        let score: f64 = row[1].parse().unwrap();
        assert!((score - expected[r]).abs() < 1e-12, "row {r}");
        assert_eq!(row[2], if score >= 0.5 { "1" } else { "0" });
    }
    let rejects = std::fs::read_to_string(&rejects_csv).unwrap();
    let rejects: Vec<&str> = rejects.lines().collect();
    assert_eq!(rejects.len(), 2);
    let fields: Vec<&str> = rejects[1].splitn(4, ',').collect();
    assert_eq!(fields[..2], [BAD_LINE.to_string().as_str(), "tenure"]);
    assert!(fields[2].contains("abc"));
    assert!(fields[3].starts_with(&ids[bad_row]));

    // 5. Drift: the holdout is the training population; a shifted batch
    //    drifts on the columns the shift moves and not on demographics.
    let same = ok_json(
        &store,
        &[
            "drift",
            "--reference",
            &path("train.csv"),
            "--current",
            &path("holdout.csv"),
        ],
    );
    assert_eq!(same["dataset_drift"], false);
    assert_eq!(same["n_drifted"], 0);
    let columns = same["columns"].as_object().unwrap();
    assert_eq!(columns.len(), 20, "every column but the id");
    assert!(same["skipped"]["customerID"].is_string());
    for (name, c) in columns {
        assert_eq!(c["drifted"], false, "{name}");
        assert!(c["statistic"].as_f64().unwrap() < c["threshold"].as_f64().unwrap());
    }
    ChurnSynth::new(Seed(5))
        .rows(2_000)
        .shift(1.0)
        .write_csv_path(dir.join("shifted.csv"))
        .unwrap();
    let moved = ok_json(
        &store,
        &[
            "drift",
            "--reference",
            &path("train.csv"),
            "--current",
            &path("shifted.csv"),
            "--columns",
            "Contract,InternetService,MonthlyCharges,gender,Partner,SeniorCitizen",
        ],
    );
    assert_eq!(moved["columns"].as_object().unwrap().len(), 6);
    for col in ["Contract", "InternetService", "MonthlyCharges"] {
        assert_eq!(moved["columns"][col]["drifted"], true, "{col}: {moved}");
    }
    for col in ["gender", "Partner", "SeniorCitizen"] {
        assert_eq!(moved["columns"][col]["drifted"], false, "{col}: {moved}");
    }
    assert_eq!(moved["n_drifted"], 3);
    assert_eq!(moved["dataset_drift"], true);
    assert_eq!(moved["drift_share"], 0.5);

    // 6. Move the alias to the other version, roll back, show again.
    let other_s = other.to_string();
    let set = ok_json(&store, &["models", "alias", "churn", "champion", &other_s]);
    assert_eq!(
        (as_u32(&set["from"]), as_u32(&set["version"])),
        (best, other)
    );
    assert_eq!(
        ok_json(&store, &["models", "show", "churn@champion"])["version"],
        other
    );
    let back = ok_json(
        &store,
        &[
            "models",
            "rollback",
            "churn",
            "champion",
            "--reason",
            "worse live",
        ],
    );
    assert_eq!(
        (as_u32(&back["from"]), as_u32(&back["version"])),
        (other, best)
    );
    let shown = ok_json(&store, &["models", "show", "churn@champion"]);
    assert_eq!(shown["version"], best);
    assert_eq!(shown["run_id"], by_auc[0].0.as_str());
    let detail = ok_json(&store, &["models", "show", "churn"]);
    assert_eq!(detail["aliases"][0]["version"], best);
    assert_eq!(detail["versions"].as_array().unwrap().len(), 2);
    let audit: Vec<(String, Option<u64>, Option<u64>, String)> = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("?").to_owned(),
                e["from"].as_u64(),
                e["to"].as_u64(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let (b, o) = (u64::from(best), u64::from(other));
    let ana = || "ana".to_owned();
    assert_eq!(
        audit[2..],
        [
            ("SetAlias".to_owned(), None, Some(b), ana()),
            ("SetAlias".to_owned(), Some(b), Some(o), ana()),
            ("Rollback".to_owned(), Some(o), Some(b), ana()),
        ]
    );
    assert_eq!(detail["audit"][4]["reason"], "worse live");
    // The alias's first move created it: there is nothing earlier to go
    // back to.
    let nothing = mlops(&store, &["models", "rollback", "churn", "champion"]);
    assert_eq!(nothing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&nothing.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("champion"),
        "{stderr}"
    );
    assert_eq!(
        ok_json(&store, &["models", "show", "churn@champion"])["version"],
        best
    );
}
