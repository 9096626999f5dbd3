use mlops::prelude::*;

fn main() -> mlops::Result<()> {
    // One store holds runs and the registry (`SledStore::open(dir)?` on disk).
    let store: SharedStore = std::sync::Arc::new(MemoryStore::new());
    let (tracker, registry) = (Tracker::new(store.clone()), Registry::new(store));
    let telco = Frame::read_csv("examples/data/telco_churn.csv")?;
    let spec = FeatureSpec::infer(&telco, "Churn", Some("Yes"))?;

    // Two learners on one seeded split; the better run is registered by id.
    let mut runs = Vec::new();
    for learner in ["logreg", "rf"] {
        let run = Trainer::new(spec.clone(), LearnerConfig::from_name(learner)?)
            .seed(Seed(42))
            .experiment("churn")
            .train(&tracker, &telco)?;
        println!("trained   {learner:6} roc_auc {:.4}", run.metrics["roc_auc"]);
        runs.push(run);
    }
    runs.sort_by(|a, b| b.metrics["roc_auc"].total_cmp(&a.metrics["roc_auc"]));
    let version = registry.register_run(&tracker, "churn", &runs[0].run_id)?;
    registry.set_alias("churn", "champion", version.version, "svc", "best roc_auc")?;
    println!("registered churn/{} ({})", version.version, version.tags["learner"]);

    // Load by alias; score one hand-built customer.
    let predictor = Predictor::from_registry(&registry, &tracker, "churn@champion")?;
    let customer = Record::new()
        .text("gender", "Female").number("SeniorCitizen", 0.0)
        .text("Partner", "No").text("Dependents", "No").number("tenure", 3.0)
        .text("PhoneService", "Yes").text("MultipleLines", "No")
        .text("InternetService", "Fiber optic").text("OnlineSecurity", "No")
        .text("OnlineBackup", "No").text("DeviceProtection", "No")
        .text("TechSupport", "No").text("StreamingTV", "Yes")
        .text("StreamingMovies", "Yes").text("Contract", "Month-to-month")
        .text("PaperlessBilling", "Yes").text("PaymentMethod", "Electronic check")
        .number("MonthlyCharges", 95.5).number("TotalCharges", 280.0);
    let score = predictor.predict(&customer)?;
    println!("customer  churn probability {:.3} from {}", score.value, score.model);

    // A batch of 1,000 shifted customers with the drift of that batch alone.
    let batch = ChurnSynth::new(Seed(7)).rows(1000).shift(0.8).to_frame()?;
    let (scores, drift) = predictor.predict_frame_with_drift(&batch)?;
    let churners = scores.labels.iter().flatten().filter(|&&l| l).count();
    println!("batch     {} rows, {churners} predicted to churn", scores.values.len());
    println!("drift     {} of {} columns drifted", drift.n_drifted, drift.columns.len());
    for (column, d) in drift.columns.iter().filter(|(_, d)| d.drifted) {
        println!("          {column}: {} {:.3}", d.method, d.statistic);
    }
    Ok(())
}
