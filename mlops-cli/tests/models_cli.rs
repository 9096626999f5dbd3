//! `mlops models ...` through the real binary: aliases moved and rolled
//! back from the command line, with the audit log to show for it.

#![allow(clippy::unwrap_used)]

mod harness;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use harness::{assert_error, mlops_in, ok_json, ok_text};
use mlops_core::registry::{NewVersion, Registry};
use mlops_core::store::SledStore;
use mlops_core::tracking::{RunOptions, Tracker};
use serde_json::Value;

/// A store with model `churn` (three versions, each from a run with one
/// artifact) and an empty model `fraud`. Returns the run ids.
fn seeded_store() -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // Runs with a package-like artifact each, recorded through the library
    // (registration checks that the run and the digest exist), then
    // registered; the store is closed before the binary runs.
    let shared: mlops_core::store::SharedStore = Arc::new(SledStore::open(&store).unwrap());
    let tracker = Tracker::new(shared.clone());
    let exp = tracker.experiment("churn").unwrap();
    let registry = Registry::new(shared);
    registry
        .create_model("churn", "monthly churn classifier")
        .unwrap();
    registry.set_model_tag("churn", "team", "growth").unwrap();
    let mut runs = Vec::new();
    for (i, auc) in [0.80, 0.84, 0.83].into_iter().enumerate() {
        let run = tracker.start_run(&exp, RunOptions::default()).unwrap();
        run.log_metric("roc_auc", auc, 0).unwrap();
        let digest = run
            .log_artifact("model.bin", format!("model {i}").as_bytes())
            .unwrap();
        let id = run.id().to_owned();
        run.finish().unwrap();
        registry
            .register_version("churn", NewVersion::new(&id, digest).metric("roc_auc", auc))
            .unwrap();
        runs.push(id);
    }
    registry.create_model("fraud", "").unwrap();
    (dir, store, runs)
}

fn alias(store: &Path, version: &str, reason: &str) -> Value {
    ok_json(
        store,
        &[
            "models", "alias", "churn", "champion", version, "--reason", reason,
        ],
    )
}

#[test]
fn alias_rollback_and_the_audit_log() {
    let (_dir, store, runs) = seeded_store();

    let v = alias(&store, "1", "first model");
    assert_eq!(
        (&v["model"], &v["alias"], &v["from"], &v["version"]),
        (&"churn".into(), &"champion".into(), &Value::Null, &1.into())
    );
    assert_eq!(v["changed"], true);
    assert_eq!(v["actor"], "ana");
    assert_eq!(alias(&store, "2", "better auc")["from"], 1);
    assert_eq!(alias(&store, "3", "fresher data")["from"], 2);
    // Setting the alias where it already is writes nothing.
    let same = alias(&store, "3", "again");
    assert_eq!(
        (same["changed"].clone(), same["from"].clone()),
        (false.into(), 3.into())
    );

    // Human form of a rollback, then JSON; rollbacks stack.
    let text = ok_text(
        &store,
        &[
            "models", "rollback", "churn", "champion", "--reason", "latency",
        ],
    );
    assert_eq!(text, "churn@champion: 3 -> 2\n");
    let back = ok_json(&store, &["models", "rollback", "churn", "champion"]);
    assert_eq!(
        (back["from"].clone(), back["version"].clone()),
        (2.into(), 1.into())
    );
    assert_error(
        &mlops_in(&store, &["models", "rollback", "churn", "champion"]),
        1,
        &["churn", "champion"],
    );

    let show = ok_json(&store, &["models", "show", "churn"]);
    assert_eq!(show["model"]["name"], "churn");
    assert_eq!(show["model"]["description"], "monthly churn classifier");
    assert_eq!(show["model"]["tags"]["team"], "growth");
    let versions: Vec<&Value> = show["versions"].as_array().unwrap().iter().collect();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[1]["run_id"], runs[1].as_str());
    assert_eq!(versions[1]["metrics"]["roc_auc"], 0.84);
    assert_eq!(show["aliases"][0]["alias"], "champion");
    assert_eq!(show["aliases"][0]["version"], 1);

    // Every entry, in order: (action, actor, alias, from, to, reason).
    let audit: Vec<(String, String, Value, Value, Value, String)> = show["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].to_string(),
                e["actor"].as_str().unwrap().to_owned(),
                e["alias"].clone(),
                e["from"].clone(),
                e["to"].clone(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let entry = |action: &str, actor: &str, alias: Value, from: Value, to: u32, reason: &str| {
        (
            format!("\"{action}\""),
            actor.to_owned(),
            alias,
            from,
            Value::from(to),
            reason.to_owned(),
        )
    };
    let champion = || Value::from("champion");
    let expected = vec![
        entry(
            "RegisterVersion",
            "registry",
            Value::Null,
            Value::Null,
            1,
            &format!("run {}", runs[0]),
        ),
        entry(
            "RegisterVersion",
            "registry",
            Value::Null,
            Value::Null,
            2,
            &format!("run {}", runs[1]),
        ),
        entry(
            "RegisterVersion",
            "registry",
            Value::Null,
            Value::Null,
            3,
            &format!("run {}", runs[2]),
        ),
        entry("SetAlias", "ana", champion(), Value::Null, 1, "first model"),
        entry("SetAlias", "ana", champion(), 1.into(), 2, "better auc"),
        entry("SetAlias", "ana", champion(), 2.into(), 3, "fresher data"),
        entry("Rollback", "ana", champion(), 3.into(), 2, "latency"),
        entry("Rollback", "ana", champion(), 2.into(), 1, ""),
    ];
    assert_eq!(audit, expected);

    let text = ok_text(&store, &["models", "show", "churn"]);
    for needle in [
        "model churn",
        "monthly churn classifier",
        "tag team = growth",
        "champion -> 1  (set by ana",
        "ana set-alias champion 2 -> 3: fresher data",
        "#7 ",
        "ana rollback champion 3 -> 2: latency",
        "ana rollback champion 2 -> 1",
    ] {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
}

#[test]
fn show_one_version_and_list() {
    let (_dir, store, runs) = seeded_store();
    alias(&store, "2", "best");
    ok_json(&store, &["models", "alias", "churn", "challenger", "2"]);

    let v = ok_json(&store, &["models", "show", "churn@champion"]);
    assert_eq!(v["model"], "churn");
    assert_eq!(v["version"], 2);
    assert_eq!(v["run_id"], runs[1].as_str());
    let digest = v["artifact_digest"].as_str().unwrap();
    assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(v["aliases"], serde_json::json!(["challenger", "champion"]));
    let v = ok_json(&store, &["models", "show", "churn/3"]);
    assert_eq!(v["run_id"], runs[2].as_str());
    assert_eq!(v["aliases"], serde_json::json!([]));
    let text = ok_text(&store, &["models", "show", "churn/2"]);
    assert!(text.starts_with("model churn version 2\n"), "{text}");
    assert!(text.contains("aliases   challenger, champion"), "{text}");
    assert!(text.contains(&format!("run       {}", runs[1])), "{text}");

    let list = ok_json(&store, &["models", "list"]);
    let models = list["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["name"], "churn");
    assert_eq!(models[0]["latest_version"], 3);
    assert_eq!(models[0]["aliases"].as_array().unwrap().len(), 2);
    assert_eq!(models[1]["name"], "fraud");
    assert_eq!(models[1]["latest_version"], 0);
    let text = ok_text(&store, &["models", "list"]);
    let churn = text.lines().find(|l| l.starts_with("churn")).unwrap();
    assert!(churn.contains("challenger->2, champion->2"), "{text}");
}

#[test]
fn actor_defaults_to_cli_without_user() {
    let (_dir, store, _) = seeded_store();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlops"))
        .args(["--json", "models", "alias", "churn", "champion", "1"])
        .env("MLOPS_STORE", &store)
        .env_remove("USER")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["actor"], "cli");
    let show = ok_json(&store, &["models", "show", "churn"]);
    assert_eq!(show["audit"][3]["actor"], "cli");
}

#[test]
fn errors_name_the_model_alias_or_version() {
    let (_dir, store, _) = seeded_store();
    let err = |args: &[&str], needles: &[&str]| assert_error(&mlops_in(&store, args), 1, needles);
    err(
        &["models", "show", "nope"],
        &["model `nope` is not registered"],
    );
    err(&["models", "show", "nope@champion"], &["nope"]);
    err(
        &["models", "show", "churn@champion"],
        &["churn", "champion"],
    );
    err(&["models", "show", "churn/9"], &["churn", "9"]);
    err(&["models", "show", "churn/x"], &["churn/x", "not a number"]);
    err(
        &["models", "alias", "nope", "champion", "1"],
        &["model `nope` is not registered"],
    );
    err(
        &["models", "alias", "churn", "champion", "9"],
        &["churn", "9"],
    );
    err(&["models", "alias", "churn", "bad alias", "1"], &["alias"]);
    err(
        &["models", "rollback", "churn", "champion"],
        &["churn", "champion"],
    );
    // Not a version number: a usage error.
    assert_error(
        &mlops_in(&store, &["models", "alias", "churn", "champion", "two"]),
        2,
        &["two"],
    );
    // Nothing above wrote to the audit log.
    let show = ok_json(&store, &["models", "show", "churn"]);
    assert_eq!(show["audit"].as_array().unwrap().len(), 3);

    let _held = SledStore::open(&store).unwrap();
    err(&["models", "list"], &["locked by another process"]);
}
