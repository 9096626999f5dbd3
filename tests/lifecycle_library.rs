//! The whole lifecycle through the `mlops` facade, on a seeded stratified
//! subsample of the real Telco file: train two learners into a sled store,
//! search the runs, register and gate, serve `churn@champion`, batch-score a
//! holdout CSV with a bad row, check drift, move the alias and roll it back,
//! then reopen the store and find everything again.

mod support;

use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use mlops::core::drift::compare;
use mlops::core::registry::AuditAction;
use mlops::core::synth::ChurnSynth;
use mlops::core::tracking::SearchQuery;
use mlops::prelude::*;
use mlops::serve::{BatchConfig, BatchScorer};

type TestResult = Result<(), Box<dyn Error>>;

const SEED: Seed = Seed(2024);
/// Rows drawn from the 7,043-row file; a fifth of them are held out.
const SAMPLE_ROWS: f64 = 1_500.0;
/// The holdout CSV's data line (1-based, header on line 1) that gets a
/// non-numeric `tenure`.
const BAD_LINE: usize = 41;

/// The sample split into training rows and holdout rows (positions in the
/// full file, ascending), stratified on churn so both keep its rate.
struct Sample {
    full: Frame,
    lines: Vec<String>,
    header: String,
    train: Vec<usize>,
    holdout: Vec<usize>,
}

fn churn_labels(frame: &Frame) -> Vec<f64> {
    frame
        .categorical("Churn")
        .expect("Churn column")
        .iter()
        .map(|v| f64::from(u8::from(v == Some("Yes"))))
        .collect()
}

fn sample() -> Sample {
    let text = std::fs::read_to_string(support::telco_path()).expect("read Telco");
    let mut lines = text.lines().map(str::to_owned);
    let header = lines.next().expect("header");
    let lines: Vec<String> = lines.collect();
    let full = Frame::read_csv(support::telco_path()).expect("parse Telco");
    assert_eq!(full.n_rows(), lines.len(), "no quoted line breaks");
    let labels = churn_labels(&full);
    let drawn = stratified_split(
        &labels,
        SAMPLE_ROWS / labels.len() as f64,
        SEED.derive("sample"),
    )
    .expect("sample")
    .test;
    let drawn_labels: Vec<f64> = drawn.iter().map(|&i| labels[i]).collect();
    let split = stratified_split(&drawn_labels, 0.2, SEED.derive("holdout")).expect("holdout");
    let pick = |idx: &[usize]| idx.iter().map(|&i| drawn[i]).collect::<Vec<_>>();
    Sample {
        train: pick(&split.train),
        holdout: pick(&split.test),
        full,
        lines,
        header,
    }
}

/// Writes the holdout rows as CSV; with `bad`, data line [`BAD_LINE`] gets
/// `tenure` = `n/a`.
fn write_holdout(s: &Sample, path: &Path, bad: bool) -> std::io::Result<()> {
    let tenure = s.header.split(',').position(|h| h == "tenure");
    let mut out = format!("{}\n", s.header);
    for (k, &i) in s.holdout.iter().enumerate() {
        let line = &s.lines[i];
        if bad && k + 2 == BAD_LINE {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields[tenure.expect("tenure column")] = "n/a";
            out.push_str(&fields.join(","));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    std::fs::write(path, out)
}

/// Input columns for drift checks: everything but the id and the target.
fn drift_columns(frame: &Frame) -> Vec<String> {
    frame
        .names()
        .iter()
        .filter(|n| *n != "customerID" && *n != "Churn")
        .cloned()
        .collect()
}

fn open(dir: &Path) -> Result<(Tracker, Registry), Box<dyn Error>> {
    let store: SharedStore = Arc::new(SledStore::open(dir)?);
    Ok((Tracker::new(store.clone()), Registry::new(store)))
}

#[test]
fn churn_lifecycle_through_the_facade() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store_dir = tmp.path().join("store");
    let s = sample();
    let train = s.full.take(&s.train)?;
    let holdout = s.full.take(&s.holdout)?;
    assert!((1_490..=1_510).contains(&(train.n_rows() + holdout.n_rows())));
    assert_eq!(holdout.n_rows(), 300);
    // Stratified: both parts keep the file's churn rate (26.5 %).
    let rate = |f: &Frame| {
        let l = churn_labels(f);
        l.iter().sum::<f64>() / l.len() as f64
    };
    assert!((rate(&train) - rate(&s.full)).abs() < 0.01);
    assert!((rate(&holdout) - rate(&s.full)).abs() < 0.01);

    // 1. Features inferred from the data; the id column stays out.
    let spec = FeatureSpec::infer(&train, "Churn", Some("Yes"))?;
    assert_eq!(spec.excluded, ["customerID"]);
    assert_eq!(spec.numeric.len(), 4);

    // 2. Train both learners into one sled store; the gate decides the
    //    champion: logreg first takes the free alias, the forest must beat it.
    let (tracker, registry) = open(&store_dir)?;
    let gate = PromotionGate::builder()
        .higher_is_better("roc_auc", 0.0)
        .build()?;
    let learners = [
        LearnerConfig::from_name("logreg")?,
        LearnerConfig::Forest(ForestParams::new().n_trees(40).max_depth(Some(8))),
    ];
    let mut outcomes = Vec::new();
    for learner in learners {
        let name = learner.name();
        let outcome = Trainer::new(spec.clone(), learner)
            .seed(SEED)
            .experiment("churn")
            .run_name(name)
            .data_source("telco_churn.csv (sample)")
            .register("churn")
            .promote("champion", gate.clone())
            .train(&tracker, &train)?;
        outcomes.push(outcome);
    }
    let (logreg, forest) = (&outcomes[0], &outcomes[1]);
    for o in &outcomes {
        // The Telco signal is strong: both well above chance.
        assert!(o.metrics["roc_auc"] > 0.75, "{:?}", o.metrics);
        assert!((0.0..=1.0).contains(&o.metrics["accuracy"]));
    }
    let v_logreg = logreg.registered.as_ref().expect("registered").version;
    let v_forest = forest.registered.as_ref().expect("registered").version;
    assert_eq!((v_logreg, v_forest), (1, 2));
    let first = logreg.gate.as_ref().expect("gated");
    assert!(first.promoted && first.holder.is_none());
    let second = forest.gate.as_ref().expect("gated");
    let forest_better = forest.metrics["roc_auc"] > logreg.metrics["roc_auc"];
    assert_eq!(second.promoted, forest_better, "{}", second.reason);
    assert_eq!(second.holder, Some(1));
    let (champion, other) = if forest_better { (2, 1) } else { (1, 2) };
    let best = outcomes[champion as usize - 1].clone();
    assert_eq!(registry.resolve("churn@champion")?.version, champion);

    // 3. Runs: searchable by metric, best first, with what was logged.
    let page = tracker.search(
        &SearchQuery::new()
            .experiment("churn")
            .filter("metrics.roc_auc > 0.5 AND params.learner IN ('logreg', 'rf')")
            .order_by("metrics.roc_auc DESC"),
    )?;
    let ids: Vec<&str> = page.runs.iter().map(|r| r.run_id.as_str()).collect();
    let mut by_auc = vec![logreg, forest];
    by_auc.sort_by(|a, b| b.metrics["roc_auc"].total_cmp(&a.metrics["roc_auc"]));
    assert_eq!(ids, [by_auc[0].run_id.as_str(), by_auc[1].run_id.as_str()]);
    for (run, o) in page.runs.iter().zip(&by_auc) {
        assert_eq!(run.metrics["roc_auc"].value, o.metrics["roc_auc"]);
        assert_eq!(run.seed, Some(SEED.value()));
    }
    for run in &page.runs {
        assert_eq!(run.params["learner"], run.run_name);
    }

    // 4. Both versions registered, with the runs' metrics and packages.
    let versions = registry.list_versions("churn")?;
    assert_eq!(versions.len(), 2);
    for (v, o) in versions.iter().zip(&outcomes) {
        assert_eq!(v.run_id, o.run_id);
        assert_eq!(v.artifact_digest, o.artifact_digest);
        assert_eq!(v.metrics["roc_auc"], o.metrics["roc_auc"]);
    }

    // 5. Serving: the predictor for churn@champion scores exactly what the
    //    package's own model gives on the transformed matrix.
    let package = load_registered(&registry, &tracker, "churn@champion")?;
    assert_eq!(package.digest(), best.package.digest());
    let x = package.features().transform(&holdout)?;
    let expected = package.model().predict(&x)?.to_vec();
    assert!(expected.iter().all(|p| (0.0..=1.0).contains(p)));
    let predictor = Predictor::from_registry(&registry, &tracker, "churn@champion")?;
    assert_eq!(&*predictor.id().name, "churn");
    assert_eq!(predictor.id().version, Some(champion));
    for row in [0, 1, 150, 299] {
        let score = predictor.predict(&Record::from_frame_row(&holdout, row))?;
        assert!((score.value - expected[row]).abs() < 1e-12, "row {row}");
        assert_eq!(score.label, Some(score.value >= predictor.threshold()));
        assert_eq!(score.model, *predictor.id());
    }
    // A hand-built request: the first holdout customer field by field, then
    // without `tenure`, which is a typed error naming the model and column.
    let mut record = Record::new();
    for (name, _) in holdout.columns() {
        let col = holdout.position(name).expect("column");
        record.insert(name, holdout.value(0, col));
    }
    assert!((predictor.predict(&record)?.value - expected[0]).abs() < 1e-12);
    let without: Record<'_> = record
        .iter()
        .filter(|(n, _)| *n != "tenure")
        .fold(Record::new(), |r, (n, v)| r.set(n, v));
    match predictor.predict(&without) {
        Err(mlops::serve::Error::MissingColumn { model, column, .. }) => {
            assert_eq!(model, format!("churn/{champion}"));
            assert_eq!(column, "tenure");
        }
        other => panic!("expected a missing-column error, got {other:?}"),
    }
    // A wrong-case category under the prelude's `UnknownCategories::Error`:
    // refused, naming the column, the value and the known values.
    let strict = predictor
        .clone()
        .with_unknown_categories(UnknownCategories::Error);
    match strict.predict(&record.clone().text("Contract", "month-to-month")) {
        Err(mlops::serve::Error::UnknownCategory {
            column,
            value,
            known,
            ..
        }) => {
            assert_eq!(
                (column.as_str(), value.as_str()),
                ("Contract", "month-to-month")
            );
            assert!(known.iter().any(|k| k == "Month-to-month"), "{known:?}");
        }
        other => panic!("expected an unknown-category error, got {other:?}"),
    }
    let frame_scores = predictor.predict_frame(&holdout)?;
    assert_eq!(frame_scores.values.len(), holdout.n_rows());
    for (got, want) in frame_scores.values.iter().zip(&expected) {
        assert!((got - want).abs() < 1e-12);
    }
    assert_eq!(frame_scores.model, *predictor.id());
    assert_eq!(frame_scores.unknown_categories, 0);

    // 6. Batch scoring of the holdout CSV: input order kept, the bad row
    //    rejected with its line number, the rest scored as above.
    let input = tmp.path().join("holdout.csv");
    write_holdout(&s, &input, true)?;
    let (output, rejects) = (
        tmp.path().join("scores.csv"),
        tmp.path().join("rejects.csv"),
    );
    let scorer = BatchScorer::new(
        &package,
        BatchConfig::new()
            .id_column("customerID")
            .max_reject_ratio(0.01)
            .chunk_rows(64)
            .threads(2),
    )?;
    let summary = scorer.score_csv_path(&input, &output, Some(&rejects))?;
    assert_eq!(
        (summary.rows, summary.scored, summary.rejected),
        (300, 299, 1)
    );
    let bad_row = BAD_LINE - 2;
    let ids = holdout.categorical("customerID")?;
    let out = std::fs::read_to_string(&output)?;
    let mut out_lines = out.lines();
    assert_eq!(out_lines.next(), Some("customerID,score,label"));
    let scored: Vec<(String, f64, String)> = out_lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_owned(),
                f[1].parse().expect("score"),
                f[2].to_owned(),
            )
        })
        .collect();
    let kept: Vec<usize> = (0..holdout.n_rows()).filter(|&r| r != bad_row).collect();
    assert_eq!(scored.len(), kept.len());
    for ((id, score, label), &r) in scored.iter().zip(&kept) {
        assert_eq!(Some(id.as_str()), ids.get(r), "order kept");
        assert!((score - expected[r]).abs() < 1e-12, "row {r}");
        let want = if *score >= package.threshold() {
            "1"
        } else {
            "0"
        };
        assert_eq!(label, want);
    }
    let rejected = std::fs::read_to_string(&rejects)?;
    let reject_lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(reject_lines.len(), 2);
    assert!(reject_lines[0].starts_with("line,column,reason,customerID,"));
    let fields: Vec<&str> = reject_lines[1].splitn(4, ',').collect();
    assert_eq!(fields[0], BAD_LINE.to_string());
    assert_eq!(fields[1], "tenure");
    assert!(fields[2].contains("n/a"), "{}", fields[2]);
    assert!(fields[3].starts_with(ids.get(bad_row).expect("id")));
    // The scorer's drift check against the training profile: the holdout
    // comes from the same population.
    let drift = summary.drift.as_ref().expect("package has a profile");
    assert!(!drift.dataset_drift, "{drift:?}");

    // 7. Drift: the holdout against itself, then against a shifted batch.
    let columns = drift_columns(&holdout);
    let options = DriftOptions::default().columns(columns.clone());
    let same = compare(&holdout, &holdout, &options)?;
    assert_eq!(same.columns.len(), columns.len());
    assert_eq!((same.n_drifted, same.dataset_drift), (0, false));
    let shifted = ChurnSynth::new(SEED.derive("shifted"))
        .rows(2_000)
        .shift(1.0)
        .to_frame()?;
    let moved = compare(&holdout, &shifted, &options)?;
    let drifted: Vec<&str> = moved
        .columns
        .iter()
        .filter(|(_, c)| c.drifted)
        .map(|(n, _)| n.as_str())
        .collect();
    for col in ["Contract", "InternetService", "MonthlyCharges"] {
        assert!(drifted.contains(&col), "{col} not in {drifted:?}");
    }
    // Columns the shift knob leaves alone do not drift.
    for col in ["gender", "SeniorCitizen", "Partner", "Dependents"] {
        assert!(!drifted.contains(&col), "{col} in {drifted:?}");
    }
    assert!(moved.dataset_drift);
    // The generator's unshifted marginals are only close to the real file's
    // (at 2,000 rows some categorical columns already test as different),
    // so the shift shows as far larger statistics on the shifted columns,
    // and monthly charges drift only when shifted.
    let calm = compare(
        &holdout,
        &ChurnSynth::new(SEED.derive("calm"))
            .rows(2_000)
            .to_frame()?,
        &options,
    )?;
    for col in ["Contract", "InternetService", "MonthlyCharges"] {
        let (c, m) = (&calm.columns[col], &moved.columns[col]);
        assert_eq!(c.method, m.method);
        assert!(m.statistic > 2.0 * c.statistic, "{col}: {c:?} vs {m:?}");
    }
    assert!(!calm.columns["MonthlyCharges"].drifted);

    // 8. Move the alias to the other version, then roll back.
    registry.set_alias("churn", "champion", other, "e2e", "try the other model")?;
    assert_eq!(registry.resolve("churn@champion")?.version, other);
    let moved_predictor = Predictor::from_registry(&registry, &tracker, "churn@champion")?;
    assert_eq!(moved_predictor.id().version, Some(other));
    let back = registry.rollback("churn", "champion", "e2e", "worse in production")?;
    assert_eq!(back.version, champion);
    assert_eq!(registry.resolve("churn@champion")?.version, champion);
    let audit = registry.audit_log("churn")?;
    let tail: Vec<(AuditAction, Option<u32>, Option<u32>, &str)> = audit
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|e| (e.action, e.from, e.to, e.reason.as_str()))
        .collect();
    assert_eq!(
        tail,
        [
            (
                AuditAction::SetAlias,
                Some(champion),
                Some(other),
                "try the other model"
            ),
            (
                AuditAction::Rollback,
                Some(other),
                Some(champion),
                "worse in production"
            ),
        ]
    );
    let gate_entries = audit
        .iter()
        .filter(|e| matches!(e.action, AuditAction::GateDecision { .. }))
        .count();
    assert_eq!(gate_entries, 2);
    let registered: Vec<Option<u32>> = audit
        .iter()
        .filter(|e| e.action == AuditAction::RegisterVersion)
        .map(|e| e.to)
        .collect();
    assert_eq!(registered, [Some(1), Some(2)]);
    let audit_len = audit.len();

    // 9. A new handle on the same directory sees everything.
    let run_ids: Vec<String> = outcomes.iter().map(|o| o.run_id.clone()).collect();
    let metrics: BTreeMap<String, f64> = outcomes
        .iter()
        .map(|o| (o.run_id.clone(), o.metrics["roc_auc"]))
        .collect();
    drop((predictor, moved_predictor, scorer, tracker, registry));
    let (tracker, registry) = open(&store_dir)?;
    assert_eq!(registry.resolve("churn@champion")?.version, champion);
    assert_eq!(registry.list_versions("churn")?.len(), 2);
    assert_eq!(registry.audit_log("churn")?.len(), audit_len);
    for id in &run_ids {
        let run = tracker.get_run(id)?;
        assert_eq!(run.summary.metrics["roc_auc"].value, metrics[id]);
    }
    let page = tracker.search(
        &SearchQuery::new()
            .experiment("churn")
            .order_by("metrics.roc_auc DESC"),
    )?;
    let again: Vec<&str> = page.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(
        again,
        [by_auc[0].run_id.as_str(), by_auc[1].run_id.as_str()]
    );
    let reopened = Predictor::from_registry(&registry, &tracker, "churn@champion")?;
    assert_eq!(
        reopened.predict_frame(&holdout)?.values,
        frame_scores.values
    );
    Ok(())
}
