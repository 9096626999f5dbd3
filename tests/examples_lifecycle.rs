//! Runs the `churn_pipeline`, `churn_train` and `churn_batch` examples as a
//! user would and checks what they print (the lines the README shows) and
//! the files they write.
//!
//! `cargo test` builds the examples next to the test binaries
//! (`target/<profile>/examples/`); this test runs those binaries. Running
//! only this test (`cargo test --test examples_lifecycle`) does not build
//! them: build them first with the same features, e.g.
//! `cargo build --examples --all-features`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The built example `name`: `target/<profile>/deps/<this test>` ->
/// `target/<profile>/examples/<name>`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "example binary {} is missing: `cargo test` builds it, but \
         `cargo test --test examples_lifecycle` alone does not; run \
         `cargo build --examples --all-features` (the features this test was built with) first",
        path.display()
    );
    // An example edited after its binary was built would test old code.
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(edited)) = (modified(&path), modified(&source)) {
        assert!(
            built >= edited,
            "example binary {} is older than {}: run `cargo build --examples --all-features`",
            path.display(),
            source.display()
        );
    }
    path
}

/// Runs the example; returns (success, stdout, stderr).
fn run(name: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(example(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start example {name}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the example, which must succeed; returns its stdout.
fn run_ok(name: &str, args: &[&str]) -> String {
    let (ok, stdout, stderr) = run(name, args);
    assert!(
        ok,
        "{name} {args:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
}

/// The first line starting with `prefix` (the examples label each line).
fn line<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with `{prefix}` in:\n{stdout}"))
}

/// The whitespace-separated word right after `before` in `text`.
fn word_after<'a>(text: &'a str, before: &str) -> &'a str {
    let rest = &text[text
        .find(before)
        .unwrap_or_else(|| panic!("`{before}` not in `{text}`"))
        + before.len()..];
    rest.split_whitespace().next().unwrap_or("")
}

fn csv_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One row of churn_pipeline's model table.
#[derive(Debug, PartialEq)]
struct ModelRow {
    roc_auc: f64,
    pr_auc: f64,
    log_loss: f64,
    accuracy: f64,
    digest: String,
    version: u32,
    promoted: bool,
}

fn model_table(stdout: &str) -> BTreeMap<String, ModelRow> {
    let mut rows = BTreeMap::new();
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("model "));
    lines.next();
    for l in lines.take_while(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = l.split_whitespace().collect();
        assert!(f.len() >= 8, "model row `{l}`");
        let num = |i: usize| -> f64 { f[i].parse().unwrap_or_else(|_| panic!("`{l}`")) };
        rows.insert(
            f[0].to_owned(),
            ModelRow {
                roc_auc: num(1),
                pr_auc: num(2),
                log_loss: num(3),
                accuracy: num(4),
                digest: f[5].to_owned(),
                version: f[6].parse().unwrap_or_else(|_| panic!("`{l}`")),
                promoted: f[7] == "promoted",
            },
        );
    }
    rows
}

#[test]
fn churn_pipeline_runs_the_lifecycle_and_repeats_itself() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let outs: Vec<String> = dirs
        .iter()
        .map(|d| d.path().join("out").display().to_string())
        .collect();
    let stdout: Vec<String> = outs
        .iter()
        .map(|out| run_ok("churn_pipeline", &["--out", out, "--trees", "20"]))
        .collect();
    let first = &stdout[0];

    assert!(
        line(first, "data ").contains("7043 rows x 21 columns"),
        "{first}"
    );
    assert!(
        line(first, "features ")
            .contains("4 numeric + 15 categorical inputs; excluded: customerID"),
        "{first}"
    );
    assert!(
        line(first, "split ").contains("5634 train / 1409 test rows"),
        "{first}"
    );

    // Every learner in the table, with sane held-out metrics.
    let table = model_table(first);
    let mut expected = vec!["logreg", "rf"];
    if cfg!(feature = "burn") {
        expected.push("mlp");
    }
    expected.sort_unstable();
    assert_eq!(
        table.keys().map(String::as_str).collect::<Vec<_>>(),
        expected,
        "learners in the table (were the examples built with this test's features?)\n{first}"
    );
    for (name, row) in &table {
        assert!((0.80..0.90).contains(&row.roc_auc), "{name}: {row:?}");
        assert!((0.55..0.75).contains(&row.pr_auc), "{name}: {row:?}");
        assert!((0.35..0.50).contains(&row.log_loss), "{name}: {row:?}");
        assert!((0.75..0.85).contains(&row.accuracy), "{name}: {row:?}");
        assert!(is_hex(&row.digest, 16), "{name}: {row:?}");
    }
    // The table is the search result, best ROC AUC first.
    let aucs: Vec<f64> = first
        .lines()
        .skip_while(|l| !l.starts_with("model "))
        .skip(1)
        .take(table.len())
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(aucs.windows(2).all(|w| w[0] >= w[1]), "{aucs:?}");
    let mut versions: Vec<u32> = table.values().map(|r| r.version).collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=table.len() as u32).collect::<Vec<_>>());

    // The champion went through the gate, and no other learner beats it by
    // more than the gate's margin.
    let champion = line(first, "champion ");
    let learner = word_after(champion, "(").trim_end_matches("),");
    let row = &table[learner];
    assert!(row.promoted, "{champion}\n{first}");
    assert!(
        champion.contains(&format!("version {} ", row.version)),
        "{champion}"
    );
    assert!(champion.ends_with(&row.digest), "{champion}");
    for (name, other) in &table {
        assert!(
            other.roc_auc <= row.roc_auc + 0.005,
            "{name} beats the champion {learner} by more than the gate margin\n{first}"
        );
    }

    // The holdout is scored in full, in order, keyed by customer.
    let out = Path::new(&outs[0]);
    assert!(
        line(first, "batch ").contains("holdout: 1409 rows scored, 0 rejected"),
        "{first}"
    );
    let holdout = csv_lines(&out.join("holdout.csv"));
    let scores = csv_lines(&out.join("scores.csv"));
    assert_eq!((holdout.len(), scores.len()), (1410, 1410));
    assert_eq!(scores[0], "customerID,score,label");
    for (h, s) in holdout.iter().zip(&scores).skip(1) {
        assert_eq!(h.split(',').next(), s.split(',').next());
        let p: f64 = s.split(',').nth(1).unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "{s}");
    }

    // The shifted batch moves contracts and charges.
    let drift = line(first, "drift ");
    assert!(
        drift.contains("shifted batch: ") && drift.contains("dataset drift: "),
        "{drift}"
    );
    let drifted = line(first, "          drifted: ");
    for column in ["Contract", "MonthlyCharges", "tenure"] {
        assert!(drifted.contains(column), "{drifted}");
    }

    // Reports and store where the summary says.
    for name in ["champion_run.html", "drift_report.html"] {
        let path = out.join(name);
        assert!(first.contains(&path.display().to_string()), "{first}");
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(
            html.starts_with("<!DOCTYPE html>") && html.contains("<svg"),
            "{name}"
        );
    }
    assert!(line(first, "store ").ends_with(&out.join("store").display().to_string()));
    assert!(out.join("store").is_dir());

    // Same seed, same data: the same output, digests included, but for
    // the output directory.
    assert_eq!(
        first.replace(&outs[0], "OUT"),
        stdout[1].replace(&outs[1], "OUT")
    );
}

#[test]
fn churn_train_registers_and_churn_batch_scores_the_champion() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    let forest = run_ok(
        "churn_train",
        &[
            "--model",
            "forest",
            "--param",
            "n_trees=20",
            "--param",
            "max_depth=8",
            "--store",
            &store,
            "--register",
            "churn",
            "--promote",
            "champion",
        ],
    );
    assert!(
        line(&forest, "learner ").contains("max_depth=8"),
        "{forest}"
    );
    assert!(line(&forest, "learner ").contains("n_trees=20"), "{forest}");
    assert!(is_hex(word_after(&forest, "run "), 32), "{forest}");
    let auc: f64 = word_after(line(&forest, "metric    roc_auc"), "roc_auc")
        .parse()
        .unwrap();
    assert!((0.80..0.90).contains(&auc), "{forest}");
    assert!(
        is_hex(word_after(&forest, "package   digest "), 64),
        "{forest}"
    );
    assert_eq!(line(&forest, "version "), "version   churn v1");
    assert!(
        line(&forest, "gate ").contains("churn@champion: promoted"),
        "{forest}"
    );

    let logistic = run_ok(
        "churn_train",
        &[
            "--store",
            &store,
            "--register",
            "churn",
            "--promote",
            "champion",
        ],
    );
    assert_eq!(line(&logistic, "version "), "version   churn v2");
    let promoted = line(&logistic, "gate ").contains(": promoted");
    let champion = if promoted { 2 } else { 1 };

    let out = dir.path().join("batch").display().to_string();
    let batch = run_ok(
        "churn_batch",
        &[
            "--store",
            &store,
            "--out",
            &out,
            "--rows",
            "3000",
            "--chunk-rows",
            "500",
        ],
    );
    assert!(!batch.contains("training"), "{batch}");
    assert!(
        line(&batch, "model ").starts_with(&format!("model     churn@champion = v{champion} (")),
        "{batch}"
    );
    assert!(line(&batch, "input ").contains("3000 synthetic customers (shift 0)"));
    assert!(line(&batch, "scored ").starts_with("scored    3000 of 3000 rows in "));
    assert!(line(&batch, "scored ").contains(" rows/s"), "{batch}");
    assert!(line(&batch, "rejects ").starts_with("rejects   0 rows"));
    assert!(
        line(&batch, "drift ").contains("dataset drift: "),
        "{batch}"
    );
    let scores = Path::new(&out).join("scores.csv");
    assert_eq!(
        line(&batch, "output "),
        format!("output    {}", scores.display())
    );
    assert_eq!(csv_lines(&scores).len(), 3001);
}

#[test]
fn churn_batch_trains_a_champion_when_the_store_has_none_and_sets_bad_rows_aside() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    // 200 Telco rows with one unreadable tenure: under the 1 % reject limit.
    let telco = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/telco_churn.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(telco)
        .unwrap()
        .lines()
        .take(201)
        .map(str::to_owned)
        .collect();
    let mut fields: Vec<&str> = lines[10].split(',').collect();
    assert_eq!(lines[0].split(',').nth(5), Some("tenure"));
    fields[5] = "ten";
    lines[10] = fields.join(",");
    let input = dir.path().join("input.csv");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();

    let input = input.display().to_string();
    let batch = run_ok("churn_batch", &["--out", &out, "--input", &input]);
    assert!(
        line(&batch, "model ").contains("no churn@champion in the store"),
        "{batch}"
    );
    assert!(batch.contains("churn@champion = v1 (logreg)"), "{batch}");
    assert!(
        line(&batch, "scored ").starts_with("scored    199 of 200 rows"),
        "{batch}"
    );
    assert!(
        line(&batch, "rejects ").starts_with("rejects   1 rows"),
        "{batch}"
    );
    let rejects = csv_lines(&dir.path().join("rejects.csv"));
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert!(rejects[1].starts_with("11,tenure,"), "{rejects:?}");
    assert_eq!(csv_lines(&dir.path().join("scores.csv")).len(), 200);
}

#[test]
fn examples_reject_bad_flags_with_a_message() {
    let (ok, _, stderr) = run("churn_train", &["--model", "svm"]);
    assert!(!ok);
    assert!(stderr.contains("unknown --model `svm`"), "{stderr}");
    let (ok, _, stderr) = run(
        "churn_train",
        &["--param", "depth=3", "--store", "/nonexistent/x"],
    );
    assert!(!ok);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("`depth` is not a parameter of logreg"),
        "{stderr}"
    );
    let (ok, _, stderr) = run("churn_batch", &["--rowz", "10"]);
    assert!(!ok);
    assert!(stderr.contains("unexpected `--rowz`"), "{stderr}");
}
