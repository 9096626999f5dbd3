//! Shared by the root integration tests: the bundled Telco data, and the
//! real `mlops` binary (found next to the test executable, or built once).
//!
//! `CARGO_BIN_EXE_mlops` exists only for mlops-cli's own tests, so the root
//! package locates the binary itself. Under `cargo test --workspace` cargo
//! builds `target/<profile>/mlops` before any test runs (mlops-cli's tests
//! need it). Under `cargo test -p mlops` alone it may be missing: it is then
//! built with `$CARGO build -p mlops-cli --bin mlops`, which does not
//! deadlock, because cargo releases the build-directory lock before it runs
//! the tests. An existing binary is used as it is (rebuilding it here with
//! other features than the outer `cargo test` would overwrite it and
//! rebuild mlops-cli), so after editing mlops-cli run `cargo test --workspace`
//! or `cargo build -p mlops-cli` first. `MLOPS_BIN` overrides the lookup.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The bundled IBM Telco churn file.
pub fn telco_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/telco_churn.csv")
}

/// The `mlops` binary: `$MLOPS_BIN`, else `target/<profile>/mlops` beside
/// this test's `deps/` directory, built first if absent.
pub fn mlops_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("MLOPS_BIN") {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test>-<hash> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable inside target/<profile>/deps");
        let bin = profile_dir.join(format!("mlops{}", std::env::consts::EXE_SUFFIX));
        if !bin.exists() {
            build(profile_dir);
        }
        assert!(bin.exists(), "no mlops binary at {}", bin.display());
        bin
    })
}

/// `cargo build -p mlops-cli --bin mlops` for the profile the tests run in.
fn build(profile_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "mlops-cli", "--bin", "mlops"])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(profile) => {
            cmd.args(["--profile", profile]);
        }
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p mlops-cli failed");
}

/// `mlops ARGS...` against `store`, with no log filter and a fixed user.
pub fn mlops(store: &Path, args: &[&str]) -> Output {
    Command::new(mlops_bin())
        .args(args)
        .env("MLOPS_STORE", store)
        .env("USER", "ana")
        .env_remove("RUST_LOG")
        .output()
        .expect("run mlops")
}

/// Runs a command that must succeed; returns its stdout as text.
pub fn ok_text(store: &Path, args: &[&str]) -> String {
    let out = mlops(store, args);
    assert!(
        out.status.success(),
        "mlops {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// `mlops --json ARGS...`, which must succeed with one JSON document.
pub fn ok_json(store: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok_text(store, &all)).expect("stdout is one JSON document")
}
