use std::sync::Arc;

use proptest::prelude::*;

use super::format::{FORMAT_VERSION, HEADER_LEN, MAGIC};
use super::*;
use crate::data::{CategoricalColumn, Column, NumericColumn};
use crate::drift::ProfileConfig;
use crate::features::{CategoricalFeature, NumericFeature, Target};
use crate::model::{LinearModel, Link, SplitRule, TreeEnsemble, TreeNode};
use crate::registry::{NewVersion, Registry};
use crate::store::MemoryStore;
use crate::tracking::{RunOptions, Tracker};

fn frame() -> Frame {
    Frame::new(vec![
        (
            "tenure".into(),
            Column::Numeric(NumericColumn::from_options(
                (0..40).map(|i| Some(f64::from(i % 13) * 2.5)),
            )),
        ),
        (
            "contract".into(),
            Column::Categorical(CategoricalColumn::from_options(
                (0..40).map(|i| Some(["monthly", "yearly", "two-year"][i % 3])),
            )),
        ),
        (
            "churn".into(),
            Column::Categorical(CategoricalColumn::from_options(
                (0..40).map(|i| Some(if i % 4 == 0 { "yes" } else { "no" })),
            )),
        ),
    ])
    .expect("frame")
}

fn spec() -> FeatureSpec {
    FeatureSpec::new()
        .numeric(NumericFeature::new("tenure"))
        .categorical(CategoricalFeature::new("contract"))
        .target(Target::classification("churn", "yes"))
}

fn meta(train: &Frame) -> PackageMeta {
    PackageMeta {
        name: "churn".into(),
        version: None,
        run_id: Some("0123abcd".into()),
        learner: "logreg".into(),
        seed: 7,
        task: Task::BinaryClassification {
            positive_label: "yes".into(),
        },
        metrics: BTreeMap::from([("roc_auc".into(), 0.81), ("log_loss".into(), 0.43)]),
        lineage: Lineage::of(train, &spec()),
    }
}

fn linear_package(created: u64) -> ModelPackage {
    let train = frame();
    let inputs = train.select(&["tenure", "contract"]).expect("select");
    let features = spec().fit(&train).expect("fit");
    let n = features.n_outputs();
    let weights = (0..n).map(|i| 0.25 * i as f64 - 0.5).collect();
    let model = InferenceModel::Linear(LinearModel::new(weights, 0.1, Link::Logistic).expect("m"));
    let scores = model
        .predict(&features.transform(&inputs).expect("x"))
        .expect("predict");
    let cfg = ProfileConfig::default();
    ModelPackage::builder(meta(&train), features, model)
        .profile(Profile::from_frame(&inputs, &cfg).expect("profile"))
        .score_profile(
            Profile::from_scores("score", scores.as_slice().expect("s"), &cfg).expect("p"),
        )
        .threshold(0.35)
        .created(created)
        .build()
        .expect("build")
}

fn tree_package() -> ModelPackage {
    let train = frame();
    let features = spec().fit(&train).expect("fit");
    let n = features.n_outputs();
    let nodes = vec![
        TreeNode::split(0, 10.0, 1, 2),
        TreeNode::leaf(0.2),
        TreeNode::split(1, 0.5, 3, 4),
        TreeNode::leaf(0.6),
        TreeNode::leaf(0.9),
        TreeNode::leaf(0.3),
    ];
    let model = InferenceModel::Trees(
        TreeEnsemble::new(n, SplitRule::LessOrEqual, vec![0, 5], nodes).expect("trees"),
    );
    let mut m = meta(&train);
    m.learner = "rf".into();
    ModelPackage::builder(m, features, model)
        .created(5)
        .build()
        .expect("build")
}

/// A binary MLP package (features -> 3 ReLU units -> logistic output).
fn mlp_package() -> ModelPackage {
    use crate::model::{DenseLayer, DenseMlp};
    let train = frame();
    let features = spec().fit(&train).expect("fit");
    let n = features.n_outputs();
    let hidden = DenseLayer::new(
        n,
        3,
        (0..3 * n).map(|i| 0.125 * (i % 7) as f64 - 0.375).collect(),
        vec![0.1, -0.2, 0.05],
    )
    .expect("hidden");
    let output = DenseLayer::new(3, 1, vec![0.5, -0.75, 1.25], vec![-0.3]).expect("output");
    let model =
        InferenceModel::Mlp(DenseMlp::new(vec![hidden, output], Link::Logistic).expect("mlp"));
    let mut m = meta(&train);
    m.learner = "mlp".into();
    ModelPackage::builder(m, features, model)
        .created(9)
        .build()
        .expect("build")
}

#[test]
fn round_trips_every_part() {
    for package in [linear_package(1_700_000_000_123), tree_package()] {
        let bytes = package.to_bytes().expect("bytes");
        assert_eq!(&bytes[..6], &MAGIC);
        let back = ModelPackage::from_bytes(&bytes).expect("decode");
        assert_eq!(back, package);
        assert_eq!(back.digest(), package.digest());
        assert_eq!(back.created_unix_ms(), package.created_unix_ms());
        assert_eq!(back.to_bytes().expect("again"), bytes);
        let inputs = frame().select(&["tenure", "contract"]).expect("select");
        assert_eq!(
            back.predict_frame(&inputs).expect("p"),
            package.predict_frame(&inputs).expect("p")
        );
    }
    let p = linear_package(9);
    assert_eq!(p.threshold(), 0.35);
    assert_eq!(
        p.signature()
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["tenure", "contract"]
    );
    assert!(p.profile().is_some() && p.score_profile().is_some());
    assert_eq!(tree_package().threshold(), 0.5);
}

#[test]
fn digest_ignores_created_time_and_tracks_content() {
    let a = linear_package(1);
    let b = linear_package(2_000_000_000_000);
    assert_eq!(a.digest(), b.digest());
    let (ba, bb) = (a.to_bytes().expect("a"), b.to_bytes().expect("b"));
    assert_ne!(ba, bb);
    // Only the provenance section and the header checksum differ.
    assert_eq!(payload_of(&ba), payload_of(&bb));
    assert_eq!(a.digest(), fingerprint::bytes(payload_of(&ba)));
    assert_ne!(a.digest(), tree_package().digest());
    // The run id is provenance too: kept, but not digested.
    let rebuild = |m: PackageMeta| {
        ModelPackage::builder(m, a.features().clone(), a.model().clone())
            .profile(a.profile().expect("p").clone())
            .score_profile(a.score_profile().expect("s").clone())
            .threshold(a.threshold())
            .build()
            .expect("build")
    };
    let mut m = a.meta().clone();
    m.run_id = Some("another-run".into());
    let other_run = rebuild(m);
    assert_eq!(other_run.digest(), a.digest());
    let back = ModelPackage::from_bytes(&other_run.to_bytes().expect("b")).expect("decode");
    assert_eq!(back.meta().run_id.as_deref(), Some("another-run"));
    assert_eq!(back.digest(), a.digest());
    let mut m = a.meta().clone();
    m.seed = 8;
    assert_ne!(rebuild(m).digest(), a.digest());
}

/// Where the payload starts: after the header and the provenance section.
fn payload_start(bytes: &[u8]) -> usize {
    let mut len = [0u8; 4];
    len.copy_from_slice(&bytes[48..52]);
    HEADER_LEN + u32::from_le_bytes(len) as usize
}

fn payload_of(bytes: &[u8]) -> &[u8] {
    &bytes[payload_start(bytes)..]
}

/// Rewrites the header checksum after a deliberate header edit, so the test
/// reaches the check behind it.
fn reseal_header(bytes: &mut [u8]) {
    let start = payload_start(bytes).min(bytes.len());
    let mut h = crc32fast::Hasher::new();
    h.update(&bytes[..52]);
    h.update(&bytes[HEADER_LEN..start]);
    let crc = h.finalize();
    bytes[52..56].copy_from_slice(&crc.to_le_bytes());
}

/// Replaces the payload and fixes length, digest and header checksum.
fn with_payload(bytes: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = bytes[..payload_start(bytes)].to_vec();
    out[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    out[16..48].copy_from_slice(blake3::hash(payload).as_bytes());
    reseal_header(&mut out);
    out.extend_from_slice(payload);
    out
}

#[test]
fn typed_rejections() {
    let bytes = linear_package(3).to_bytes().expect("bytes");

    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert!(matches!(
        ModelPackage::from_bytes(&magic),
        Err(Error::WrongMagic { .. })
    ));
    assert!(matches!(
        ModelPackage::from_bytes(b"PK\x03\x04 a zip file"),
        Err(Error::WrongMagic { .. })
    ));

    let mut newer = bytes.clone();
    newer[6..8].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(
        ModelPackage::from_bytes(&newer),
        Err(Error::NewerFormat { found, supported, .. })
            if found == FORMAT_VERSION + 1 && supported == FORMAT_VERSION
    ));

    let mut header = bytes.clone();
    header[HEADER_LEN + 3] ^= 1; // provenance, outside the digest: the header CRC catches it
    assert!(matches!(
        ModelPackage::from_bytes(&header),
        Err(Error::ChecksumMismatch {
            section: "header",
            ..
        })
    ));

    let mut payload = bytes.clone();
    let last = payload.len() - 1;
    payload[last] ^= 0x20;
    assert!(matches!(
        ModelPackage::from_bytes(&payload),
        Err(Error::ChecksumMismatch {
            section: "payload",
            ..
        })
    ));

    for cut in [0, 3, 6, 20, HEADER_LEN - 1] {
        let r = ModelPackage::from_bytes(&bytes[..cut]);
        assert!(
            matches!(r, Err(Error::Truncated { expected, found, .. })
                if expected == HEADER_LEN as u64 && found == cut as u64),
            "cut {cut}: {r:?}"
        );
    }
    let start = payload_start(&bytes);
    for cut in [HEADER_LEN, start - 1] {
        assert!(matches!(
            ModelPackage::from_bytes(&bytes[..cut]),
            Err(Error::Truncated { expected, .. }) if expected == start as u64
        ));
    }
    let cut = bytes.len() - 10;
    assert!(matches!(
        ModelPackage::from_bytes(&bytes[..cut]),
        Err(Error::Truncated { expected, found, .. })
            if expected == bytes.len() as u64 && found == cut as u64
    ));

    let mut trailing = bytes.clone();
    trailing.extend_from_slice(b"junk");
    assert!(matches!(
        ModelPackage::from_bytes(&trailing),
        Err(Error::TrailingBytes { extra: 4, .. })
    ));

    // A hostile length claims far more than is present: rejected from the
    // header alone.
    let mut hostile = bytes.clone();
    hostile[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    reseal_header(&mut hostile);
    assert!(matches!(
        ModelPackage::from_bytes(&hostile),
        Err(Error::Truncated {
            expected: u64::MAX,
            ..
        })
    ));
    let mut hostile = bytes.clone();
    hostile[48..52].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        ModelPackage::from_bytes(&hostile),
        Err(Error::InvalidPackage { .. })
    ));
    let mut hostile = bytes.clone();
    hostile[48..52].copy_from_slice(&4000u32.to_le_bytes());
    let short = &hostile[..HEADER_LEN + 100];
    assert!(matches!(
        ModelPackage::from_bytes(short),
        Err(Error::Truncated { expected: 4056, found, .. }) if found == HEADER_LEN as u64 + 100
    ));

    // A well-sealed payload that is not a package.
    let junk = with_payload(&bytes, &rmp_serde::to_vec(&vec![1u8, 2, 3]).expect("e"));
    assert!(matches!(
        ModelPackage::from_bytes(&junk),
        Err(Error::InvalidPackage { .. })
    ));
}

#[test]
fn sealed_but_inconsistent_payloads_are_rejected() {
    let p = linear_package(3);
    let bytes = p.to_bytes().expect("bytes");
    // Swap in a model with the wrong input width, sealed correctly.
    let mut payload = p.payload.clone();
    payload.model =
        InferenceModel::Linear(LinearModel::new(vec![1.0, 2.0], 0.0, Link::Logistic).expect("m"));
    let forged = with_payload(&bytes, &format::encode_payload(&payload).expect("encode"));
    let err = ModelPackage::from_bytes(&forged).expect_err("inconsistent");
    assert!(
        matches!(&err, Error::InvalidPackage { reason } if reason.contains("reads 2 features")),
        "{err}"
    );
    // A signature that disagrees with the features.
    let mut payload = p.payload.clone();
    payload.signature.fields.pop();
    let forged = with_payload(&bytes, &format::encode_payload(&payload).expect("e"));
    assert!(matches!(
        ModelPackage::from_bytes(&forged),
        Err(Error::InvalidPackage { .. })
    ));
}

#[test]
fn build_validates() {
    let p = linear_package(1);
    let rebuild = |meta: PackageMeta, model: InferenceModel, threshold: f64| {
        ModelPackage::builder(meta, p.features().clone(), model)
            .threshold(threshold)
            .build()
    };
    let narrow =
        InferenceModel::Linear(LinearModel::new(vec![1.0], 0.0, Link::Logistic).expect("m"));
    assert!(matches!(
        rebuild(p.meta().clone(), narrow, 0.5),
        Err(Error::InvalidPackage { .. })
    ));
    for t in [1.5, -0.1, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                rebuild(p.meta().clone(), p.model().clone(), t),
                Err(Error::InvalidPackage { .. })
            ),
            "threshold {t}"
        );
    }
    let mut regression = p.meta().clone();
    regression.task = Task::Regression;
    assert!(rebuild(regression.clone(), p.model().clone(), 3.0).is_ok());
    assert!(rebuild(regression, p.model().clone(), f64::NAN).is_err());
    let mut nan_metric = p.meta().clone();
    nan_metric.metrics.insert("auc".into(), f64::NAN);
    assert!(rebuild(nan_metric, p.model().clone(), 0.5).is_err());
    let mut unnamed = p.meta().clone();
    unnamed.name = " ".into();
    assert!(rebuild(unnamed, p.model().clone(), 0.5).is_err());
    // A profile of a column the model does not read (the target).
    let whole = Profile::from_frame(&frame(), &ProfileConfig::default()).expect("p");
    let err = ModelPackage::builder(p.meta().clone(), p.features().clone(), p.model().clone())
        .profile(whole)
        .build()
        .expect_err("target column profiled");
    assert!(err.to_string().contains("`churn`"), "{err}");
}

#[test]
fn save_is_atomic_and_loads_back() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("churn.mlpkg");
    let p = linear_package(11);
    p.save(&path).expect("save");
    assert_eq!(ModelPackage::load(&path).expect("load"), p);
    // Overwrite in place; no temporary file is left behind.
    tree_package().save(&path).expect("save again");
    assert_eq!(ModelPackage::load(&path).expect("load"), tree_package());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["churn.mlpkg"]);
    assert!(matches!(
        ModelPackage::load(&dir.path().join("missing.mlpkg")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn loads_through_the_registry() {
    let store: crate::store::SharedStore = Arc::new(MemoryStore::new());
    let tracker = Tracker::new(store.clone());
    let registry = Registry::new(store);
    let exp = tracker.experiment("churn").expect("exp");
    let run = tracker.start_run(&exp, RunOptions::default()).expect("run");
    let p = linear_package(4);
    run.log_artifact("notes.txt", b"not the model")
        .expect("other");
    let digest = run
        .log_artifact("model.mlpkg", &p.to_bytes().expect("bytes"))
        .expect("artifact");
    let run_id = run.id().to_owned();
    run.finish().expect("finish");
    registry.create_model("churn", "").expect("model");
    let v = registry
        .register_version("churn", NewVersion::new(&run_id, &digest))
        .expect("version");
    registry
        .set_alias("churn", "champion", v.version, "test", "first")
        .expect("alias");
    for reference in ["churn@champion", "churn/1"] {
        let back = load_registered(&registry, &tracker, reference).expect(reference);
        assert_eq!(back, p);
    }
    assert!(matches!(
        load_registered(&registry, &tracker, "churn@challenger"),
        Err(Error::AliasNotFound { .. })
    ));
    assert!(matches!(
        load_registered(&registry, &tracker, "churn"),
        Err(Error::InvalidModelRef { .. })
    ));
    // A digest the run never logged, the package digest instead of the
    // artifact digest, and a run that does not exist all fail at
    // registration, naming the run, the digest and the field wanted.
    let wrong = "ab".repeat(32);
    let err = registry
        .register_version("churn", NewVersion::new(&run_id, &wrong))
        .expect_err("unknown digest");
    let text = err.to_string();
    assert!(matches!(err, Error::RegistrationRejected { .. }), "{text}");
    for part in [
        run_id.as_str(),
        &wrong,
        "TrainOutcome::artifact_digest",
        &digest,
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
    let package_digest = p.digest().to_string();
    let run2 = tracker.start_run(&exp, RunOptions::default()).expect("run");
    run2.log_param("package_digest", &package_digest)
        .expect("param");
    let digest2 = run2
        .log_artifact("model.mlpkg", &p.to_bytes().expect("bytes"))
        .expect("artifact");
    let run2_id = run2.id().to_owned();
    run2.finish().expect("finish");
    let err = registry
        .register_version("churn", NewVersion::new(&run2_id, &package_digest))
        .expect_err("package digest");
    assert!(
        err.to_string().contains("is the run's package digest"),
        "{err}"
    );
    let err = registry
        .register_version("churn", NewVersion::new("0badc0de", &digest))
        .expect_err("no run");
    assert!(
        err.to_string()
            .contains("run 0badc0de does not exist in the tracking store"),
        "{err}"
    );
    assert_eq!(
        registry.get_model("churn").expect("model").latest_version,
        1
    );
    assert_eq!(v.package_digest.as_deref(), Some(package_digest.as_str()));
    assert_eq!(v.duplicate_of, None);

    // One call from a run id: the same package again is a new version that
    // says which version it duplicates.
    let v2 = registry
        .register_run(&tracker, "churn", &run2_id)
        .expect("register run");
    assert_eq!((v2.version, v2.duplicate_of), (2, Some(1)));
    assert_eq!(v2.artifact_digest, digest2);
    assert_eq!(
        v2.source.as_deref(),
        Some(format!("runs:/{run2_id}/model.mlpkg").as_str())
    );
    assert_eq!(v2.tags["learner"], p.meta().learner);
    let log = registry.audit_log("churn").expect("audit");
    assert!(
        log.last()
            .expect("entry")
            .reason
            .contains("same package as version 1"),
        "{log:?}"
    );
    // A new model is created on first registration; a run without a
    // package is refused before anything is written.
    let v = registry
        .register_run(&tracker, "churn-eu", &run_id)
        .expect("new model");
    assert_eq!((v.version, v.duplicate_of), (1, None));
    let bare = tracker.start_run(&exp, RunOptions::default()).expect("run");
    let bare_id = bare.id().to_owned();
    bare.finish().expect("finish");
    let err = registry
        .register_run(&tracker, "churn", &bare_id)
        .expect_err("no package");
    assert!(
        err.to_string()
            .contains("has no model package artifact `model.mlpkg`"),
        "{err}"
    );
    assert!(matches!(
        registry.register_run(&tracker, "churn", "nope"),
        Err(Error::RegistrationRejected { .. })
    ));
    assert_eq!(
        registry.get_model("churn").expect("model").latest_version,
        2
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary edits to the container never panic; whatever decodes has
    /// the digest of its payload.
    #[test]
    fn mutated_containers_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = linear_package(5).to_bytes().expect("bytes");
        for (at, v) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *v;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if let Ok(p) = ModelPackage::from_bytes(&bytes) {
            prop_assert_eq!(p.digest(), fingerprint::bytes(payload_of(&bytes)));
        }
    }

    /// Edits to the payload, resealed so that they reach the MessagePack
    /// decoder and the validation behind it: an error, never a panic.
    #[test]
    fn resealed_payload_mutations_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let bytes = tree_package().to_bytes().expect("bytes");
        let mut payload = payload_of(&bytes).to_vec();
        for (at, v) in &edits {
            let i = at.index(payload.len());
            payload[i] = *v;
        }
        if truncate {
            payload.truncate(cut.index(payload.len() + 1));
        }
        let sealed = with_payload(&bytes, &payload);
        if let Ok(p) = ModelPackage::from_bytes(&sealed) {
            // Whatever decodes is valid: it predicts without error.
            let x = vec![0.0; p.model().n_features()];
            prop_assert!(p.model().predict_proba_row(&x).is_ok());
        }
    }

    /// Any declared payload length: only the exact one is accepted.
    #[test]
    fn length_field_is_checked(declared in any::<u64>()) {
        let mut bytes = linear_package(6).to_bytes().expect("bytes");
        let actual = payload_of(&bytes).len() as u64;
        bytes[8..16].copy_from_slice(&declared.to_le_bytes());
        reseal_header(&mut bytes);
        let r = ModelPackage::from_bytes(&bytes);
        if declared == actual {
            prop_assert!(r.is_ok());
        } else if declared > actual {
            let is_truncated = matches!(r, Err(Error::Truncated { .. }));
            prop_assert!(is_truncated);
        } else {
            let is_trailing = matches!(r, Err(Error::TrailingBytes { .. }));
            prop_assert!(is_trailing);
        }
    }
}

/// Pins the digest of binary packages as written before multiclass support:
/// adding multiclass targets, tasks and models must not change one byte of
/// an existing binary package (the digest is BLAKE3 of the payload).
#[test]
fn binary_package_digests_are_pinned() {
    // `Lineage` records the crate version, part of the payload.
    assert_eq!(
        env!("CARGO_PKG_VERSION"),
        "0.1.0",
        "re-pin after a version bump"
    );
    assert_eq!(
        linear_package(1).digest().to_string(),
        "94ea112308aa3a4735abcc94507a523707fca1ba2b2f68555ec4ed34e00da1ec",
        "binary linear package bytes changed"
    );
    assert_eq!(
        tree_package().digest().to_string(),
        "f37b96614d64296fa1a460c21773a66e5713ce4d7527e5e7268642da4b54c848",
        "binary tree package bytes changed"
    );
    // Pinned before the softmax MLP output existed.
    let mlp = mlp_package();
    assert_eq!(
        mlp.digest().to_string(),
        "921cc44d14b2763d91987e627eacdb398d98882b5d103ab1cdf619fa7470e335",
        "binary MLP package bytes changed"
    );
    let back = ModelPackage::from_bytes(&mlp.to_bytes().expect("bytes")).expect("load");
    assert_eq!(back.digest(), mlp.digest());
    assert_eq!(back, mlp);
}

#[test]
fn multiclass_packages_round_trip_and_validate() {
    use crate::model::SoftmaxModel;
    let train = frame();
    let spec = FeatureSpec::new()
        .numeric(NumericFeature::new("tenure"))
        .target(Target::multiclass("contract"));
    let features = spec.fit(&train).expect("fit");
    let classes = features.classes().expect("classes").to_vec();
    assert_eq!(classes, ["monthly", "two-year", "yearly"]);
    let model = InferenceModel::Softmax(
        SoftmaxModel::new(1, vec![1.0, 0.0, -1.0], vec![0.0, 0.5, 0.0]).expect("m"),
    );
    let mut m = meta(&train);
    m.task = Task::Multiclass {
        classes: classes.clone(),
    };
    let package = ModelPackage::builder(m.clone(), features.clone(), model.clone())
        .created(1)
        .build()
        .expect("build");
    let back = ModelPackage::from_bytes(&package.to_bytes().expect("bytes")).expect("load");
    assert_eq!(back.digest(), package.digest());
    assert_eq!(back.classes().expect("classes"), classes.as_slice());
    let inputs = train.select(&["tenure"]).expect("select");
    let p = back.predict_proba_frame(&inputs).expect("proba");
    assert_eq!(p.dim(), (40, 3));
    for row in p.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
    // Single-output scoring refuses a multiclass model rather than guess.
    assert!(matches!(
        back.predict_frame(&inputs),
        Err(Error::OutputCount {
            expected: 3,
            found: 1
        })
    ));
    // Classes that disagree with the model or the fitted target are refused.
    let mut wrong = m.clone();
    wrong.task = Task::Multiclass {
        classes: vec!["a".into(), "b".into(), "c".into()],
    };
    assert!(
        ModelPackage::builder(wrong, features.clone(), model.clone())
            .build()
            .is_err()
    );
    let mut two = m.clone();
    two.task = Task::Multiclass {
        classes: classes[..2].to_vec(),
    };
    assert!(
        ModelPackage::builder(two, features.clone(), model.clone())
            .build()
            .is_err()
    );
    // A binary task cannot carry a k-output model.
    assert!(
        ModelPackage::builder(meta(&train), features, model)
            .build()
            .is_err()
    );
}

#[test]
fn multiclass_mlp_packages_round_trip() {
    use crate::model::{DenseLayer, DenseMlp};
    let train = frame();
    let spec = FeatureSpec::new()
        .numeric(NumericFeature::new("tenure"))
        .target(Target::multiclass("contract"));
    let features = spec.fit(&train).expect("fit");
    let classes = features.classes().expect("classes").to_vec();
    let hidden = DenseLayer::new(1, 2, vec![1.0, -1.0], vec![0.0, 0.5]).expect("hidden");
    let output =
        DenseLayer::new(2, 3, vec![1.0, 0.0, 0.0, 1.0, -0.5, 0.5], vec![0.0; 3]).expect("out");
    let model =
        InferenceModel::Mlp(DenseMlp::new(vec![hidden, output], Link::Softmax).expect("mlp"));
    let mut m = meta(&train);
    m.learner = "mlp".into();
    m.task = Task::Multiclass {
        classes: classes.clone(),
    };
    let package = ModelPackage::builder(m, features, model)
        .created(1)
        .build()
        .expect("build");
    let back = ModelPackage::from_bytes(&package.to_bytes().expect("bytes")).expect("load");
    assert_eq!(back, package);
    assert_eq!(back.digest(), package.digest());
    let p = back
        .predict_proba_frame(&train.select(&["tenure"]).expect("select"))
        .expect("proba");
    assert_eq!(p.dim(), (40, 3));
    for row in p.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
}
