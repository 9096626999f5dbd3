//! Retraining on drift: months of synthetic customers whose behaviour
//! shifts, a monitored champion, a retrain trigger, a gated challenger, an
//! alias move, and a rollback.
//!
//! Month 0 trains `churn` v1 and makes it `champion`. Every later month the
//! service scores that month's customers through a `ModelHandle` following
//! `churn@champion`, closes a drift window, and joins the churn outcomes
//! back by correlation id (live ROC AUC, concept-drift detectors). From
//! `--shift-month` on, customers move to month-to-month fibre contracts at
//! higher prices and churn more. When a `RetrainTrigger` arrives, the
//! `Trainer` fits a challenger on the last two months; a `PromotionGate`
//! compares both models on held-out rows of the latest month, and a winner
//! takes `champion` (the handle swaps to it). At the end an operator rolls
//! back, and the registry's audit log shows every move. Everything is
//! seeded: two runs print the same table.
//!
//! ```sh
//! cargo run --example churn_retrain -- \
//!     [--months 8] [--rows-per-month 2000] [--shift-month 3] [--out DIR]
//! ```
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;

use mlops::core::registry::{AuditAction, GateEvidence};
use mlops::core::synth::ChurnSynth;
use mlops::prelude::*;
use mlops::serve::PredictionLog;
use mlops::serve::monitor::{PredictionLogOptions, RetrainReason, Sampling};

const SEED: Seed = Seed(2024);

struct Args {
    months: u64,
    rows: u64,
    shift_month: u64,
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let month = |m: u64| {
        // Before the shift month the population looks like the Telco file;
        // from it on, it has fully shifted.
        let shift = if m >= args.shift_month { 1.0 } else { 0.0 };
        ChurnSynth::new(SEED.derive_index("month", m))
            .rows(args.rows)
            .shift(shift)
            .to_frame()
    };

    // 1. A fresh store (same output on every run), and v1 trained on month 0.
    let store_dir = args.out.join("store");
    if store_dir.exists() {
        std::fs::remove_dir_all(&store_dir)?;
    }
    let store: SharedStore = Arc::new(SledStore::open(&store_dir)?);
    let (tracker, registry) = (Tracker::new(store.clone()), Registry::new(store.clone()));
    let month0 = month(0)?;
    let spec = FeatureSpec::infer(&month0, "Churn", Some("Yes"))?;
    let trainer = Trainer::new(spec, LearnerConfig::from_name("logreg")?)
        .seed(SEED)
        .experiment("churn-retrain")
        .register("churn");
    let v1 = trainer
        .clone()
        .run_name("month-0")
        .train(&tracker, &month0)?;
    let v1 = v1.registered.ok_or("the trainer registers")?.version;
    registry.set_alias("churn", "champion", v1, "churn_retrain", "initial model")?;

    // 2. Serve `churn@champion`, logging every prediction so outcomes can be
    //    joined. The quality window is one month, so "AUC live" is the
    //    month's; ADWIN and DDM watch the error stream.
    let log = Arc::new(PredictionLog::new(
        store,
        PredictionLogOptions {
            sampling: Sampling::All,
            quality_window: usize::try_from(args.rows)?,
            ..PredictionLogOptions::default()
        },
    )?);
    let triggers = log.triggers().subscribe();
    let service = ModelHandle::follow(registry.clone(), tracker.clone(), "churn@champion")?;
    service.set_prediction_log(Arc::clone(&log));
    // A challenger must beat the champion on the latest month's held-out
    // rows by 0.01 of log loss. This shift moves who churns how often more
    // than who churns first, so ranking (AUC) barely changes while the old
    // model's probabilities go stale: log loss is the metric that sees it.
    let gate = PromotionGate::builder()
        .lower_is_better("log_loss", 0.01)
        .build()?;

    println!(
        "{:>5} {:>6} {:>8} {:>8} {:>11} {:>7}  {:<16} {:<28} champion",
        "month", "rows", "auc_live", "log_loss", "drift_share", "drifted", "trigger", "action",
    );
    let mut previous = month0;
    for m in 1..args.months {
        let frame = month(m)?;
        let model = service.current().id().clone();

        // 3. Score the month, then close its drift window (input drift
        //    against the champion's training profile raises a trigger).
        for row in 0..frame.n_rows() {
            let record = Record::from_frame_row(&frame, row);
            service.predict_with(&record, format!("m{m}-{row}").into())?;
        }
        let drift = service
            .current()
            .monitor()
            .close_drift_window(Some(log.triggers()));
        let (share, drifted) = drift.map_or((0.0, "-".to_owned()), |d| {
            (
                d.drift_share,
                format!("{}/{}", d.n_drifted, d.columns.len()),
            )
        });

        // 4. The outcomes arrive later; join them by correlation id.
        for (row, churned) in churn_labels(&frame)?.into_iter().enumerate() {
            log.record_outcome(&format!("m{m}-{row}").into(), churned)?;
        }
        let quality = log.quality(&model).ok_or("outcomes were joined")?;
        let mut fired: Vec<String> = triggers.try_iter().map(|t| reason(&t.reason)).collect();
        fired.dedup();

        // 5. On a trigger: retrain on the last two months, gate against the
        //    champion on held-out rows of this month, move the alias.
        let action = if fired.is_empty() {
            "-".to_owned()
        } else {
            let recent = previous.vstack(&frame)?;
            let outcome = trainer
                .clone()
                .run_name(format!("month-{m}"))
                .train(&tracker, &recent)?;
            let version = outcome.registered.as_ref().ok_or("registered")?.version;
            // Test rows of the trainer's split that come from this month.
            let split = outcome.split.as_ref().ok_or("the trainer splits")?;
            let offset = previous.n_rows();
            let rows: Vec<usize> = split
                .test
                .iter()
                .copied()
                .filter(|&r| r >= offset)
                .collect();
            let holdout = recent.take(&rows)?;
            let champion = Predictor::from_registry(&registry, &tracker, "churn@champion")?;
            let evidence = GateEvidence {
                data: format!("month {m} held-out rows ({})", rows.len()),
                holder_version: model.version.ok_or("registered champion")?,
                candidate: evaluate(&Predictor::from_package(&outcome.package)?, &holdout)?,
                holder: evaluate(&champion, &holdout)?,
            };
            let decision = registry.promote_on(
                "churn",
                "champion",
                version,
                &gate,
                "churn_retrain",
                &evidence,
            )?;
            service.refresh()?; // follow the alias now rather than on a poll
            format!(
                "v{version} {} ({:.3} vs {:.3})",
                if decision.promoted {
                    "promoted"
                } else {
                    "rejected"
                },
                evidence.candidate["log_loss"],
                evidence.holder["log_loss"]
            )
        };
        println!(
            "{m:>5} {:>6} {:>8.4} {:>8.4} {share:>11.2} {:>7}  {:<16} {action:<28} v{}",
            frame.n_rows(),
            quality.roc_auc.unwrap_or(f64::NAN),
            quality.log_loss.unwrap_or(f64::NAN),
            drifted,
            if fired.is_empty() {
                "-".to_owned()
            } else {
                fired.join("+")
            },
            service.current().id().version.unwrap_or(0),
        );
        previous = frame;
    }

    // 6. An operator rolls back (say, a complaint about the new model): the
    //    alias returns to its previous target, read from the audit log.
    match registry.rollback("churn", "champion", "oncall", "rollback drill") {
        Ok(back) => {
            service.refresh()?;
            println!(
                "\nrollback  churn@champion -> v{} (serving v{})",
                back.version,
                service.current().id().version.unwrap_or(0)
            );
        }
        Err(e) => println!("\nrollback  not possible: {e}"),
    }
    println!("audit log of churn@champion:");
    for e in registry.alias_history("churn", "champion")? {
        let show = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| format!("v{v}"));
        println!(
            "  #{:<3} {:<14} {:<15} {:>3} -> {:<3} {}",
            e.seq,
            e.actor,
            match e.action {
                AuditAction::GateDecision { promoted: true } => "gate: promoted",
                AuditAction::GateDecision { promoted: false } => "gate: rejected",
                AuditAction::Rollback => "rollback",
                _ => "set alias",
            },
            show(e.from),
            show(e.to),
            e.reason
        );
    }
    Ok(())
}

/// 1.0 for churned customers, 0.0 otherwise.
fn churn_labels(frame: &Frame) -> Result<Vec<f64>, Box<dyn Error>> {
    Ok(frame
        .categorical("Churn")?
        .iter()
        .map(|v| f64::from(u8::from(v == Some("Yes"))))
        .collect())
}

/// ROC AUC and log loss of `predictor` on `frame`.
fn evaluate(
    predictor: &Predictor,
    frame: &Frame,
) -> Result<std::collections::BTreeMap<String, f64>, Box<dyn Error>> {
    let scores = predictor.predict_frame(frame)?;
    let m = BinaryMetrics::compute(&churn_labels(frame)?, &scores.values, predictor.threshold())?;
    Ok([
        ("roc_auc".to_owned(), m.roc_auc),
        ("log_loss".to_owned(), m.log_loss),
    ]
    .into())
}

/// A short name for a trigger's reason.
fn reason(r: &RetrainReason) -> String {
    match r {
        RetrainReason::ConceptDrift { detector, .. } => (*detector).to_owned(),
        RetrainReason::InputDrift { .. } => "input".to_owned(),
        _ => "other".to_owned(),
    }
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args {
        months: 8,
        rows: 2_000,
        shift_month: 3,
        out: PathBuf::from("target/examples/churn_retrain"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--months" => args.months = value()?.parse()?,
            "--rows-per-month" => args.rows = value()?.parse()?,
            "--shift-month" => args.shift_month = value()?.parse()?,
            "--out" => args.out = value()?.into(),
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    Ok(args)
}
