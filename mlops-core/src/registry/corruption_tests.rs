//! Damaged registry records: every decode gives a value that equals the
//! original or a typed error, never a panic and never a misread.

use std::fmt::Debug;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use serde::de::DeserializeOwned;

use super::*;
use crate::store::{MemoryStore, SledStore};

/// A stored record: (tree, key, bytes).
type Record = (String, Vec<u8>, Vec<u8>);

/// Real records as the registry stores them.
fn stored_records() -> &'static Vec<Record> {
    static RECORDS: OnceLock<Vec<Record>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let store: SharedStore = Arc::new(MemoryStore::new());
        let reg = Registry::new(store.clone());
        populate(&reg);
        let mut out = Vec::new();
        for tree in [MODELS, VERSIONS, ALIASES, AUDIT] {
            for entry in store.scan_prefix(tree, b"").expect("scan") {
                let (k, v) = entry.expect("entry");
                out.push((tree.to_owned(), k, v));
            }
        }
        out
    })
}

fn populate(reg: &Registry) {
    reg.create_model("churn", "telco churn").expect("create");
    reg.set_model_tag("churn", "team", "growth").expect("tag");
    for (i, auc) in [0.81, 0.84].into_iter().enumerate() {
        reg.register_version(
            "churn",
            super::test_support::logged(reg, &format!("run-{i}"))
                .metric("roc_auc", auc)
                .metric("log_loss", 0.4)
                .source("runs/artifacts/model.mlpkg")
                .tag("stage", "dev"),
        )
        .expect("register");
    }
    reg.set_alias("churn", "champion", 1, "ana", "first")
        .expect("set");
    let gate = PromotionGate::builder()
        .higher_is_better("roc_auc", 0.01)
        .build()
        .expect("gate");
    reg.promote("churn", "champion", 2, &gate, "ci")
        .expect("promote");
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(prop::sample::Index, u8),
    SetByte(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    Extend(Vec<u8>),
    Replace(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(Mutation::Extend),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Mutation::Replace),
    ]
}

fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let len = out.len();
    match m {
        Mutation::FlipBit(i, bit) => out[i.index(len)] ^= 1 << bit,
        Mutation::SetByte(i, b) => out[i.index(len)] = *b,
        Mutation::Truncate(i) => out.truncate(i.index(len)),
        Mutation::Extend(extra) => out.extend_from_slice(extra),
        Mutation::Replace(random) => out.clone_from(random),
    }
    out
}

/// Decodes the damaged bytes as the record type the original has.
fn check_as<T: DeserializeOwned + PartialEq + Debug>(original: &[u8], damaged: &[u8]) {
    let expected: T = codec::decode(original, "original").expect("original decodes");
    match codec::decode::<T>(damaged, "damaged record") {
        Ok(v) => assert_eq!(v, expected, "damaged bytes decoded to a different value"),
        Err(Error::Corrupt { what, .. }) => assert_eq!(what, "damaged record"),
        Err(Error::IncompatibleFormat { found, .. }) => {
            assert!(found > u32::from(codec::FORMAT_VERSION))
        }
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn mutated_records_never_panic_or_misread(
        which in any::<prop::sample::Index>(),
        m in mutation(),
    ) {
        let records = stored_records();
        let (tree, _key, original) = &records[which.index(records.len())];
        let damaged = apply(original, &m);
        match tree.as_str() {
            MODELS => check_as::<RegisteredModel>(original, &damaged),
            VERSIONS => check_as::<ModelVersion>(original, &damaged),
            ALIASES => check_as::<AliasTarget>(original, &damaged),
            _ => check_as::<AuditEntry>(original, &damaged),
        }
    }
}

#[test]
fn fixture_covers_every_record_kind() {
    let trees: std::collections::BTreeSet<&str> = stored_records()
        .iter()
        .map(|(t, _, _)| t.as_str())
        .collect();
    assert_eq!(trees.len(), 4, "{trees:?}");
}

#[test]
fn garbage_in_a_sled_store_is_a_corrupt_error_naming_the_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store: SharedStore = Arc::new(SledStore::open(dir.path()).expect("open"));
        populate(&Registry::new(store.clone()));
        // Damage records through the raw store, as a disk fault would.
        let mut v1 = store
            .get(VERSIONS, &version_key("churn", 1))
            .expect("get")
            .expect("v1 stored");
        let last = v1.len() - 1;
        v1[last] ^= 0x10;
        store
            .insert(VERSIONS, &version_key("churn", 1), &v1)
            .expect("write");
        store
            .insert(AUDIT, &audit_key("churn", 2), b"\xde\xad\xbe\xef")
            .expect("write");
        // A well-formed record of the wrong kind is caught too.
        let alias = store
            .get(ALIASES, &alias_key("churn", "champion"))
            .expect("get")
            .expect("alias stored");
        store
            .insert(VERSIONS, &version_key("churn", 2), &alias)
            .expect("write");
        store.flush().expect("flush");
    }
    let store: SharedStore = Arc::new(SledStore::open(dir.path()).expect("reopen"));
    let reg = Registry::new(store.clone());

    let corrupt_what = |r: Result<_>| match r {
        Err(Error::Corrupt { what, reason }) => (what, reason),
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("expected Corrupt, got a value"),
    };
    let (what, reason) = corrupt_what(reg.get_version("churn", 1).map(|_| ()));
    assert_eq!(what, "registry version churn/1");
    assert_eq!(reason, "checksum mismatch");
    let (what, _) = corrupt_what(reg.get_version("churn", 2).map(|_| ()));
    assert_eq!(what, "registry version churn/2");
    let (what, _) = corrupt_what(reg.resolve("churn@champion").map(|_| ()));
    assert_eq!(what, "registry version churn/2");
    let (what, _) = corrupt_what(reg.list_versions("churn").map(|_| ()));
    assert_eq!(what, "registry version churn/1");
    let (what, _) = corrupt_what(reg.audit_log("churn").map(|_| ()));
    assert_eq!(what, "registry audit entry churn#2");
    // Rollback reads the audit log, so it refuses rather than guessing.
    corrupt_what(reg.rollback("churn", "champion", "ana", "x").map(|_| ()));

    store
        .insert(MODELS, b"churn", b"mV\x01\x00\x00\x00\x00\x00")
        .expect("write");
    let (what, _) = corrupt_what(reg.get_model("churn").map(|_| ()));
    assert_eq!(what, "registry model `churn`");
    let err = reg.get_model("churn").expect_err("corrupt");
    assert!(
        err.to_string()
            .starts_with("corrupt registry model `churn`: "),
        "{err}"
    );
}
