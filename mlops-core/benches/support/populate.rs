//! A store of many runs for the search and open benchmarks, built once per
//! bench process.

use std::path::Path;
use std::sync::Arc;

use mlops_core::store::SledStore;
use mlops_core::tracking::{RunOptions, Tracker};

/// Models cycled through the runs: `params.model = 'rf'` matches 1 in 5.
pub const MODELS: [&str; 5] = ["logreg", "rf", "tree", "gbm", "mlp"];

/// Writes `runs` finished runs into experiment `search` of the store in
/// `dir`: params `model`, `cohort` (`i % 1000`, so one value matches 1 in
/// 1,000) and `p0`..`p7`; metrics `auc` (distinct values spread over
/// [0, 1)) and `loss`. Runs are finished unflushed and the store flushed
/// once at the end.
pub fn populate(dir: &Path, runs: u32) {
    let t = Tracker::new(Arc::new(SledStore::open(dir).expect("open sled")));
    let exp = t.experiment("search").expect("experiment");
    for i in 0..runs {
        let run = t.start_run(&exp, RunOptions::default()).expect("run");
        run.log_params((0..8).map(|p| (format!("p{p}"), (i + p) % 7)))
            .expect("params");
        run.log_params([
            ("model", MODELS[(i % 5) as usize].to_owned()),
            ("cohort", (i % 1000).to_string()),
        ])
        .expect("params");
        let auc = f64::from((i.wrapping_mul(7919)) % runs) / f64::from(runs);
        run.log_metrics(&[("auc", auc), ("loss", 1.0 - auc)], 0)
            .expect("metrics");
        run.finish_unflushed().expect("finish");
    }
    t.flush().expect("flush");
}

/// Bytes the files under `dir` occupy on disk (allocated blocks).
pub fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let md = e.metadata().expect("metadata");
            if md.is_dir() {
                stack.push(e.path());
            } else {
                total += md.blocks() * 512;
            }
        }
    }
    total
}
