//! Train one churn model, chosen on the command line, through the `Trainer`.
//!
//! The store persists between runs: each run adds a tracked run and, with
//! `--register`, a new model version, so you can train a few learners and
//! compare them (`mlops runs search --store DIR`), or promote one with
//! `--promote champion` and score with it in `churn_batch`.
//!
//! ```sh
//! cargo run --example churn_train -- --model forest --param n_trees=50 --param max_depth=8 \
//!     --register churn --promote champion
//! ```
//!
//! Flags: `--model logistic|forest|tree|gbm|mlp` (mlp needs `--features burn`),
//! `--param KEY=VALUE` (repeatable), `--seed N`, `--data FILE.csv`,
//! `--store DIR`, `--register NAME`, `--promote ALIAS` (gated on ROC AUC).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use mlops::prelude::*;

const DEFAULT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/telco_churn.csv");
const DEFAULT_STORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/examples/churn_train/store"
);
const FLAGS: &[&str] = &[
    "model", "param", "seed", "data", "store", "register", "promote",
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Flags::parse(FLAGS)?;
    let data = PathBuf::from(args.get("data").unwrap_or(DEFAULT_DATA));
    let store_dir = PathBuf::from(args.get("store").unwrap_or(DEFAULT_STORE));
    let seed = Seed(args.get("seed").unwrap_or("42").parse()?);

    // 1. The learner and its hyper-parameters. `set_param` checks every
    //    value, so a typo fails here with the list of valid names.
    let name = match args.get("model").unwrap_or("logistic") {
        "logistic" | "logreg" => "logreg",
        "forest" | "rf" => "rf",
        "tree" => "tree",
        "gbm" | "boosting" => "gbm",
        "mlp" if cfg!(feature = "burn") => "mlp",
        "mlp" => return Err("the MLP learner needs `--features burn`".into()),
        other => {
            return Err(
                format!("unknown --model `{other}`: logistic, forest, tree, gbm, mlp").into(),
            );
        }
    };
    let mut learner = LearnerConfig::from_name(name)?;
    for param in args.all("param") {
        let (key, value) = param
            .split_once('=')
            .ok_or_else(|| format!("--param wants KEY=VALUE, got `{param}`"))?;
        learner = learner.set_param(key, value)?;
    }

    // 2. Data and features: the spec is inferred from the file, and fitted by
    //    the Trainer on the training split only.
    let frame = Frame::read_csv(&data)?;
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes"))?;

    // 3. Train. Everything the run needs to be reproduced or audited later
    //    (params, seed, data fingerprints, spec, metrics, the model package)
    //    goes into the store.
    std::fs::create_dir_all(&store_dir)?;
    let store: SharedStore = Arc::new(SledStore::open(&store_dir)?);
    let tracker = Tracker::new(store);
    let mut trainer = Trainer::new(spec, learner)
        .seed(seed)
        .experiment("churn")
        .run_name(name)
        .data_source(data.display().to_string());
    if let Some(model) = args.get("register") {
        trainer = trainer.register(model);
    }
    if let Some(alias) = args.get("promote") {
        // A new version takes the alias only if it beats the holder's ROC AUC.
        let gate = PromotionGate::builder()
            .higher_is_better("roc_auc", 0.005)
            .build()?;
        trainer = trainer.promote(alias, gate);
    }
    let outcome = trainer.train(&tracker, &frame)?;

    // 4. Report what happened.
    let params: Vec<String> = (trainer.learner().params()?.iter())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!("learner   {name} {}", params.join(" "));
    println!("run       {}", outcome.run_id);
    for (key, value) in &outcome.metrics {
        println!("metric    {key:<10} {value:.4}");
    }
    println!("package   digest {}", outcome.package.digest());
    match &outcome.registered {
        Some(v) => println!("version   {} v{}", v.model, v.version),
        None => println!("version   not registered (pass --register NAME)"),
    }
    if let Some(gate) = &outcome.gate {
        println!(
            "gate      {}@{}: {} ({})",
            gate.model,
            gate.alias,
            if gate.promoted {
                "promoted"
            } else {
                "not promoted"
            },
            gate.reason
        );
    }
    println!("store     {}", store_dir.display());
    Ok(())
}

/// `--name value` pairs from the command line, in order.
struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(known: &[&str]) -> Result<Self, String> {
        let mut args = std::env::args().skip(1);
        let mut found = Vec::new();
        while let Some(arg) = args.next() {
            let name = arg.strip_prefix("--").filter(|n| known.contains(n));
            let (Some(name), Some(value)) = (name, args.next()) else {
                return Err(format!(
                    "unexpected `{arg}`; flags: --{}",
                    known.join(" --")
                ));
            };
            found.push((name.to_owned(), value));
        }
        Ok(Flags(found))
    }

    /// The last value given for `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.all(name).last()
    }

    /// Every value given for `name`.
    fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        let name = name.to_owned();
        self.0
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}
