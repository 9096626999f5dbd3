//! The churn pipeline: the README's main job.
//!
//! On the bundled IBM Telco file, with one root seed:
//! profile the data, infer and fit the feature pipeline on a stratified
//! training split, train logistic regression and a random forest, log both
//! runs to an embedded sled store, register both as versions of `churn`,
//! promote through a gate to `champion`, and check a shifted synthetic batch
//! for drift. Running it twice prints the same metrics and model digests.
//!
//! ```sh
//! cargo run --example churn_pipeline -- [DATA.csv] [STORE_DIR]
//! ```
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;

use mlops::core::data::ColumnType;
use mlops::core::fingerprint;
use mlops::core::synth::ChurnSynth;
use mlops::prelude::*;

const DEFAULT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/telco_churn.csv");
const ROOT_SEED: Seed = Seed(42);

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let data = PathBuf::from(args.next().unwrap_or_else(|| DEFAULT_DATA.into()));
    let store_dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/churn_pipeline/mlops-store".into()),
    );

    // 1. Read and profile the data.
    let frame = Frame::read_csv(&data)?;
    let summary = frame.describe();
    let missing: Vec<String> = summary
        .columns
        .iter()
        .filter(|c| c.missing > 0)
        .map(|c| format!("{} ({})", c.name, c.missing))
        .collect();
    println!(
        "data      {}: {} rows x {} columns; missing: {}",
        data.display(),
        frame.n_rows(),
        frame.n_cols(),
        if missing.is_empty() {
            "none".into()
        } else {
            missing.join(", ")
        }
    );

    // 2. Features: inferred from the data, fitted on the training rows only.
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes"))?;
    let labels: Vec<f64> = frame
        .categorical("Churn")?
        .iter()
        .map(|v| f64::from(u8::from(v == Some("Yes"))))
        .collect();
    let split = stratified_split(&labels, 0.2, ROOT_SEED.derive("split"))?;
    let train = frame.take(&split.train)?;
    let test = frame.take(&split.test)?;
    let fitted = spec.fit(&train)?;
    let (x_train, y_train) = (fitted.transform(&train)?, fitted.target(&train)?);
    let (x_test, y_test) = (fitted.transform(&test)?, fitted.target(&test)?);
    let numeric = spec.numeric.len();
    println!(
        "features  {} inputs ({} numeric) -> {} outputs; excluded: {}; split {} train / {} test",
        fitted.input_columns().len(),
        numeric,
        fitted.n_outputs(),
        spec.excluded.join(", "),
        train.n_rows(),
        test.n_rows()
    );

    // 3. Track and register. The example starts from an empty store so that
    //    every run prints the same thing.
    if store_dir.exists() {
        std::fs::remove_dir_all(&store_dir)?;
    }
    let store: SharedStore = Arc::new(SledStore::open(&store_dir)?);
    let tracker = Tracker::new(store.clone());
    let registry = Registry::new(store);
    let experiment = tracker.experiment("churn")?;
    registry.create_model("churn", "Telco customer churn, positive class = Yes")?;
    let gate = PromotionGate::builder()
        .higher_is_better("roc_auc", 0.005)
        .build()?;
    let data_digest = fingerprint::frame(&train).to_string();

    let logreg = LogisticParams::new().check()?;
    let forest = ForestParams::new().n_trees(100).check()?;
    println!();
    println!(
        "{:<8} {:>8} {:>8} {:>9} {:>9}  {:<16} {:>3}",
        "model", "roc_auc", "pr_auc", "log_loss", "accuracy", "model digest", "v"
    );
    for name in ["logreg", "rf"] {
        let run = tracker.start_run(
            &experiment,
            RunOptions::default()
                .name(name)
                .seed(ROOT_SEED)
                .tag("pipeline", "churn"),
        )?;
        run.log_param("model", name)?;
        run.log_input(DatasetInput::new(
            "telco-train",
            data.display().to_string(),
            data_digest.clone(),
            train.n_rows() as u64,
        ))?;
        run.log_environment(&Environment::capture().with_seed(ROOT_SEED))?;
        run.log_artifact("feature_spec.toml", spec.to_toml_string()?.as_bytes())?;

        let seed = ROOT_SEED.derive(name);
        let model = match name {
            "logreg" => logreg.fit(&x_train, &y_train, seed)?.to_inference()?,
            _ => forest.fit(&x_train, &y_train, seed)?.to_inference()?,
        };
        let scores = model.predict(&x_test)?;
        let metrics = BinaryMetrics::compute(
            y_test.as_slice().unwrap_or_default(),
            scores.as_slice().unwrap_or_default(),
            0.5,
        )?;
        run.log_metrics(
            &[
                ("roc_auc", metrics.roc_auc),
                ("pr_auc", metrics.pr_auc),
                ("log_loss", metrics.log_loss),
                ("accuracy", metrics.accuracy),
                ("f1", metrics.f1),
            ],
            0,
        )?;
        let model_bytes = rmp_serde::to_vec_named(&model)?;
        let digest = run.log_artifact("model.msgpack", &model_bytes)?;
        let run_id = run.id().to_owned();
        run.finish()?;

        let version = registry.register_version(
            "churn",
            NewVersion::new(&run_id, &digest)
                .metric("roc_auc", metrics.roc_auc)
                .source(name),
        )?;
        let decision = registry.promote(
            "churn",
            "champion",
            version.version,
            &gate,
            "churn_pipeline",
        )?;
        println!(
            "{:<8} {:>8.4} {:>8.4} {:>9.4} {:>9.4}  {:<16} {:>3}  {}",
            name,
            metrics.roc_auc,
            metrics.pr_auc,
            metrics.log_loss,
            metrics.accuracy,
            &digest[..16],
            version.version,
            if decision.promoted {
                "promoted to champion"
            } else {
                "kept challenger out"
            }
        );
    }
    let champion = registry.resolve("churn@champion")?;
    println!();
    println!(
        "champion  churn@champion = version {} ({}), run {}",
        champion.version,
        champion.source.as_deref().unwrap_or("?"),
        champion.run_id
    );

    // 4. Drift: the training rows against a synthetic batch whose customers
    //    moved (more month-to-month contracts, higher charges).
    let shifted = ChurnSynth::new(ROOT_SEED.derive("shifted"))
        .rows(2_000)
        .shift(0.8)
        .to_frame()?;
    let columns: Vec<String> = train
        .schema()
        .fields
        .iter()
        .filter(|f| {
            f.name != "customerID" && (f.column_type == ColumnType::Numeric || f.name != "Churn")
        })
        .map(|f| f.name.clone())
        .collect();
    let report =
        mlops::core::drift::compare(&train, &shifted, &DriftOptions::default().columns(columns))?;
    let drifted: Vec<&str> = report
        .columns
        .iter()
        .filter(|(_, c)| c.drifted)
        .map(|(n, _)| n.as_str())
        .collect();
    println!(
        "drift     shifted batch: {} of {} columns drifted (share {:.2}) -> dataset drift: {}",
        report.n_drifted,
        report.columns.len(),
        report.drift_share,
        if report.dataset_drift { "YES" } else { "no" }
    );
    println!("          drifted: {}", drifted.join(", "));
    println!("store     {}", store_dir.display());
    Ok(())
}
