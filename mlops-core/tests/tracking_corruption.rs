//! Corrupted tracking records give typed errors, never panics: random
//! mutations of every stored record are read back through the tracker.

// Test helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use mlops_core::Error;
use mlops_core::store::{MemoryStore, SharedStore, Store, codec};
use mlops_core::tracking::{DatasetInput, Environment, RunOptions, SearchQuery, Tracker};
use proptest::prelude::*;

/// The tracking tree and its key spaces (first key byte, see
/// `tracking/keys.rs`) that hold records; `i` (index entries) holds none.
const TREE: &str = "tracking";
const SPACES: [(u8, &str); 7] = [
    (b'x', "experiment"),
    (b'r', "run summary"),
    (b'm', "metric chunk"),
    (b'd', "dataset input"),
    (b'v', "environment"),
    (b'a', "artifact ref"),
    (b'b', "blob"),
];

/// A store with one parent run (params, two metrics over two chunks, tags,
/// an artifact, an input, an environment) and one child.
fn fixture() -> (SharedStore, String) {
    let store: SharedStore = Arc::new(MemoryStore::new());
    let t = Tracker::new(store.clone());
    let exp = t.experiment("exp").unwrap();
    let run = t
        .start_run(&exp, RunOptions::default().tag("team", "growth"))
        .unwrap();
    run.log_params([("model", "rf"), ("depth", "4")]).unwrap();
    {
        let mut logger = run.metric_logger_with_batch(100);
        for i in 0..700 {
            logger
                .log("loss", 1.0 / f64::from(i + 1), i64::from(i))
                .unwrap();
        }
    }
    run.log_metric("auc", 0.83, 0).unwrap();
    run.log_artifact("model.bin", &[1, 2, 3, 4, 5, 6, 7, 8])
        .unwrap();
    run.log_input(DatasetInput::new("train", "t.csv", "b3:00", 10))
        .unwrap();
    run.log_environment(&Environment::capture()).unwrap();
    let id = run.id().to_owned();
    let child = t
        .start_run(&exp, RunOptions::default().parent(&id))
        .unwrap();
    child.finish().unwrap();
    run.finish().unwrap();
    (store, id)
}

fn records(store: &dyn Store) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for e in store.scan_prefix(TREE, b"").unwrap() {
        let (k, v) = e.unwrap();
        if let Some((_, kind)) = SPACES.iter().find(|(b, _)| k.first() == Some(b)) {
            out.push((*kind, k, v));
        }
    }
    assert!(out.len() > 10, "fixture holds {} records", out.len());
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Append(Vec<u8>),
    Replace(Vec<u8>),
}

fn mutate(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match m {
        Mutation::Truncate(n) => b.truncate(n % (bytes.len() + 1)),
        Mutation::FlipBit(i, bit) => {
            if !b.is_empty() {
                let i = i % b.len();
                b[i] ^= 1 << (bit % 8);
            }
        }
        Mutation::SetByte(i, v) => {
            if !b.is_empty() {
                let i = i % b.len();
                b[i] = *v;
            }
        }
        Mutation::Append(extra) => b.extend_from_slice(extra),
        Mutation::Replace(new) => b = new.clone(),
    }
    b
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::SetByte(i, v)),
        proptest::collection::vec(any::<u8>(), 1..16).prop_map(Mutation::Append),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Mutation::Replace),
    ]
}

fn typed<T>(r: &mlops_core::Result<T>) -> bool {
    match r {
        Ok(_) => true,
        Err(Error::Corrupt { .. } | Error::IncompatibleFormat { .. }) => true,
        Err(_) => false,
    }
}

/// Whether a mutated envelope still decodes to the original record: only
/// when nothing changed, or only the version field did, to a version this
/// build reads.
fn harmless(kind: &str, old: &[u8], new: &[u8]) -> bool {
    if old == new {
        return true;
    }
    if kind == "blob" || old.len() != new.len() || old.len() < codec::HEADER_LEN {
        return false;
    }
    let same_outside_version = old
        .iter()
        .zip(new)
        .enumerate()
        .all(|(i, (a, b))| (2..4).contains(&i) || a == b);
    same_outside_version && u16::from_le_bytes([new[2], new[3]]) <= codec::FORMAT_VERSION
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_records_give_typed_errors(pick in any::<usize>(), m in mutation()) {
        let (store, id) = fixture();
        let recs = records(store.as_ref());
        let (kind, key, old) = &recs[pick % recs.len()];
        let new = mutate(old, &m);
        store.insert(TREE, key, &new).unwrap();
        let t = Tracker::new(store.clone());

        let summary = t.get_summary(&id);
        let info = t.get_run(&id);
        let loss = t.run_metrics_history(&id, "loss");
        let auc = t.run_metrics_history(&id, "auc");
        let artifact = t.read_artifact(&id, "model.bin");
        let exp = t.get_experiment("exp");
        let search = t.search(&SearchQuery::new().filter("metrics.auc > 0.5 AND params.model = 'rf'"));
        let listed = t.list_experiments();
        let children = t.children(&id);
        let resumed = t.resume_run(&id).map(|r| r.id().to_owned());
        prop_assert!(typed(&summary) && typed(&info) && typed(&loss) && typed(&auc));
        prop_assert!(typed(&artifact) && typed(&exp) && typed(&search) && typed(&listed));
        prop_assert!(typed(&children) && typed(&resumed));

        // The read that covers the mutated record notices the damage.
        if !harmless(kind, old, &new) {
            let caught = match *kind {
                "run summary" if key[1..] == *id.as_bytes() => {
                    summary.is_err() && info.is_err() && search.is_err()
                }
                "run summary" => children.is_err(),
                "metric chunk" => loss.is_err() || auc.is_err(),
                "experiment" => exp.is_err() && listed.is_err(),
                "dataset input" | "environment" => info.is_err(),
                "artifact ref" => artifact.is_err() && info.is_err(),
                "blob" => artifact.is_err(),
                _ => false,
            };
            prop_assert!(caught, "mutation {:?} of a {} went unnoticed", m, kind);
        }
    }
}
