//! Decoding a hostile model package allocates no more than its input size.
//!
//! A counting global allocator measures every byte allocated while
//! `ModelPackage::from_bytes` runs. One test function only: the counters
//! are process-wide, and a second test thread would pollute them.

use std::alloc::System;

use mlops_core::data::{CategoricalColumn, Column, Frame, NumericColumn};
use mlops_core::features::{CategoricalFeature, FeatureSpec, NumericFeature, Target};
use mlops_core::model::{
    InferenceModel, Lineage, ModelPackage, PackageMeta, SplitRule, Task, TreeEnsemble, TreeNode,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const HEADER_LEN: usize = 56;

fn package() -> Vec<u8> {
    let n = 60;
    let frame = Frame::new(vec![
        (
            "tenure".into(),
            Column::Numeric(NumericColumn::from_options(
                (0..n).map(|i| Some(f64::from(i % 17))),
            )),
        ),
        (
            "contract".into(),
            Column::Categorical(CategoricalColumn::from_options(
                (0..n).map(|i| Some(["monthly", "yearly", "two-year"][i as usize % 3])),
            )),
        ),
        (
            "churn".into(),
            Column::Categorical(CategoricalColumn::from_options(
                (0..n).map(|i| Some(if i % 3 == 0 { "yes" } else { "no" })),
            )),
        ),
    ])
    .expect("frame");
    let spec = FeatureSpec::new()
        .numeric(NumericFeature::new("tenure"))
        .categorical(CategoricalFeature::new("contract"))
        .target(Target::classification("churn", "yes"));
    let features = spec.fit(&frame).expect("fit");
    // Twenty stumps: a forest-shaped node array.
    let mut nodes = Vec::new();
    let mut roots = Vec::new();
    for t in 0..20u32 {
        let base = nodes.len() as u32;
        roots.push(base);
        nodes.push(TreeNode::split(
            t % 4,
            f64::from(t) * 0.1,
            base + 1,
            base + 2,
        ));
        nodes.push(TreeNode::leaf(0.1));
        nodes.push(TreeNode::leaf(0.8));
    }
    let model = InferenceModel::Trees(
        TreeEnsemble::new(features.n_outputs(), SplitRule::LessOrEqual, roots, nodes)
            .expect("trees"),
    );
    let meta = PackageMeta {
        name: "churn".into(),
        version: None,
        run_id: Some("run-1".into()),
        learner: "rf".into(),
        seed: 1,
        task: Task::BinaryClassification {
            positive_label: "yes".into(),
        },
        metrics: [("roc_auc".to_owned(), 0.8)].into(),
        lineage: Lineage::of(&frame, &spec),
    };
    ModelPackage::builder(meta, features, model)
        .created(1)
        .build()
        .expect("build")
        .to_bytes()
        .expect("bytes")
}

fn payload_start(bytes: &[u8]) -> usize {
    HEADER_LEN + u32::from_le_bytes(bytes[48..52].try_into().expect("4")) as usize
}

/// Replaces the payload, fixing its length, digest and the header CRC, so
/// the bytes reach the payload decoder.
fn reseal(bytes: &[u8], payload: &[u8]) -> Vec<u8> {
    let start = payload_start(bytes);
    let mut out = bytes[..start].to_vec();
    out[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    out[16..48].copy_from_slice(blake3::hash(payload).as_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&out[..52]);
    h.update(&out[HEADER_LEN..start]);
    let crc = h.finalize();
    out[52..56].copy_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Bytes allocated while decoding, and whether decoding succeeded.
fn measure(bytes: &[u8]) -> (usize, bool) {
    let region = Region::new(GLOBAL);
    let ok = ModelPackage::from_bytes(bytes).is_ok();
    (region.change().bytes_allocated, ok)
}

#[test]
fn decoding_allocates_in_proportion_to_the_input() {
    let good = package();
    let (valid_cost, ok) = measure(&good);
    assert!(ok);
    // A valid package legitimately allocates its decoded form; the bound
    // for mutated input below is a multiple of that.
    assert!(
        valid_cost < 64 * good.len(),
        "valid decode allocated {valid_cost} bytes for {} input bytes",
        good.len()
    );

    // Hostile container lengths: rejected from the header alone.
    let mut huge = good.clone();
    huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    let (cost, ok) = measure(&huge);
    assert!(!ok && cost <= huge.len(), "payload length: {cost} bytes");
    let mut huge = good.clone();
    huge[48..52].copy_from_slice(&u32::MAX.to_le_bytes());
    let (cost, ok) = measure(&huge);
    assert!(!ok && cost <= huge.len(), "provenance length: {cost} bytes");

    // Every array, map, string and binary length inside the payload set to
    // its maximum, resealed: an error that allocates less than the input.
    let start = payload_start(&good);
    let payload = &good[start..];
    let mut hostile_cases = 0;
    for (i, &b) in payload.iter().enumerate() {
        let replacement: &[u8] = match b {
            0x90..=0x9f | 0xdc | 0xdd => &[0xdd, 0xff, 0xff, 0xff, 0xff],
            0x80..=0x8f | 0xde | 0xdf => &[0xdf, 0xff, 0xff, 0xff, 0xff],
            0xa0..=0xbf | 0xd9 | 0xda | 0xdb => &[0xdb, 0xff, 0xff, 0xff, 0xff],
            0xc4..=0xc6 => &[0xc6, 0xff, 0xff, 0xff, 0xff],
            _ => continue,
        };
        let mut p = payload[..i].to_vec();
        p.extend_from_slice(replacement);
        p.extend_from_slice(&payload[i + 1..]);
        let bytes = reseal(&good, &p);
        let (cost, ok) = measure(&bytes);
        assert!(!ok, "byte {i}: a maximal length decoded");
        assert!(
            cost <= bytes.len(),
            "byte {i} (0x{b:02x}): {cost} bytes allocated for {} input bytes",
            bytes.len()
        );
        hostile_cases += 1;
    }
    assert!(
        hostile_cases > 50,
        "only {hostile_cases} length fields found"
    );

    // Random resealed mutations: never more than the valid decode's
    // multiple of the input size.
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6);
    runner
        .run(&edits, |edits| {
            let mut p = payload.to_vec();
            for (at, v) in &edits {
                let i = at.index(p.len());
                p[i] = *v;
            }
            let bytes = reseal(&good, &p);
            let (cost, _) = measure(&bytes);
            prop_assert!(
                cost < 64 * bytes.len(),
                "{} bytes allocated for {} input bytes",
                cost,
                bytes.len()
            );
            Ok(())
        })
        .expect("bounded allocation");
}
