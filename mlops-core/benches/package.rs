//! Model package encode and decode: a Telco feature pipeline, its drift
//! profile and a 100-tree forest of depth 8 (25,500 nodes; 1.65 MB package).
//! Loading is what a service pays at start-up and on every model swap
//! (target: < 30 ms).
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mlops_core::data::Frame;
use mlops_core::drift::{Profile, ProfileConfig};
use mlops_core::features::FeatureSpec;
use mlops_core::model::{
    InferenceModel, Lineage, ModelPackage, PackageMeta, SplitRule, Task, TreeEnsemble, TreeNode,
};
use rand::Rng;

const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);

/// A full binary tree of `depth` levels appended to `nodes`, children after
/// parents.
fn grow(nodes: &mut Vec<TreeNode>, depth: u32, n_features: u32, rng: &mut impl Rng) -> u32 {
    let at = nodes.len() as u32;
    if depth == 0 {
        nodes.push(TreeNode::leaf(rng.r#gen()));
        return at;
    }
    nodes.push(TreeNode::leaf(0.0)); // replaced below once children exist
    let left = grow(nodes, depth - 1, n_features, rng);
    let right = grow(nodes, depth - 1, n_features, rng);
    nodes[at as usize] = TreeNode::split(rng.gen_range(0..n_features), rng.r#gen(), left, right);
    at
}

fn package() -> ModelPackage {
    let frame = Frame::read_csv(TELCO).expect("telco");
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).expect("spec");
    let features = spec.fit(&frame).expect("fit");
    let n = features.n_outputs() as u32;
    let mut rng = mlops_core::seed::Seed(1).rng();
    let mut nodes = Vec::new();
    let roots: Vec<u32> = (0..100).map(|_| grow(&mut nodes, 7, n, &mut rng)).collect();
    let model = InferenceModel::Trees(
        TreeEnsemble::new(n as usize, SplitRule::LessOrEqual, roots, nodes).expect("forest"),
    );
    let names: Vec<&str> = features
        .input_columns()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let profile = Profile::from_frame(
        &frame.select(&names).expect("inputs"),
        &ProfileConfig::default(),
    )
    .expect("profile");
    let meta = PackageMeta {
        name: "churn".into(),
        version: None,
        run_id: Some("bench".into()),
        learner: "rf".into(),
        seed: 1,
        task: Task::BinaryClassification {
            positive_label: "Yes".into(),
        },
        metrics: Default::default(),
        lineage: Lineage::of(&frame, &spec),
    };
    ModelPackage::builder(meta, features, model)
        .profile(profile)
        .build()
        .expect("package")
}

fn bench(c: &mut Criterion) {
    let package = package();
    let bytes = package.to_bytes().expect("bytes");
    c.bench_function("package_to_bytes_rf100", |b| {
        b.iter(|| black_box(&package).to_bytes().expect("bytes"))
    });
    c.bench_function("package_from_bytes_rf100", |b| {
        b.iter(|| ModelPackage::from_bytes(black_box(&bytes)).expect("decode"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
