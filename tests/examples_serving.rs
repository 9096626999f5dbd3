//! Runs the serving examples (`churn_serve`, `churn_retrain`) at small sizes
//! in temporary directories and checks what they print.
//!
//! The examples are separate binaries that `cargo test` builds into
//! `target/<profile>/examples/`; this test runs those binaries. With
//! `cargo test --test examples_serving` alone, build them first:
//! `cargo build --examples --all-features`.

use std::path::PathBuf;
use std::process::Command;

/// The built example `name`, next to this test binary's `deps/` folder.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "example binary {} is missing: run `cargo build --examples --all-features` \
         (plain `cargo test` builds it)",
        path.display()
    );
    path
}

/// Runs an example to completion; panics with its stderr if it fails.
fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(example(name))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The whitespace-separated fields of the line starting with `key`.
#[cfg(feature = "http")]
fn fields<'a>(out: &'a str, key: &str) -> Vec<&'a str> {
    out.lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no `{key}` line in:\n{out}"))
        .split_whitespace()
        .collect()
}

#[cfg(feature = "http")]
#[test]
fn churn_serve_answers_every_request_through_the_canary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(
        "churn_serve",
        &[
            "--requests",
            "120",
            "--canary-weight",
            "0.25",
            "--out",
            dir.path().to_str().expect("utf-8 path"),
        ],
    );
    // requests  120  errors 0
    assert_eq!(
        fields(&out, "requests")[1..],
        ["120", "errors", "0"],
        "{out}"
    );
    // answered  churn/1 N1  churn/2 N2  (canary share X%)
    let answered = fields(&out, "answered");
    assert_eq!((answered[1], answered[3]), ("churn/1", "churn/2"), "{out}");
    let stable: u32 = answered[2].parse().expect("count");
    let canary: u32 = answered[4].parse().expect("count");
    assert_eq!(stable + canary, 120, "{out}");
    // 25% of 120 is 30; the routing is a hash of the request ids, so
    // allow sampling noise but not a missing side.
    assert!(
        (15..=45).contains(&canary),
        "canary answered {canary}:\n{out}"
    );
    // The server's own counters agree with what the client saw.
    assert!(
        out.contains(&format!(
            "mlops_canary_routed_total{{model=\"churn\",arm=\"canary\",version=\"2\"}} {canary}"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "mlops_predictions_total{{model=\"churn\",version=\"1\"}} {stable}"
        )),
        "{out}"
    );
    let latency = fields(&out, "latency");
    let p50: f64 = latency[2].parse().expect("p50");
    let p99: f64 = latency[5].parse().expect("p99");
    assert!(p50 > 0.0 && p99 >= p50, "{out}");
    assert!(
        out.contains("stopped   server shut down gracefully"),
        "{out}"
    );
}

#[test]
fn churn_retrain_triggers_after_the_shift_promotes_and_rolls_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_str().expect("utf-8 path");
    let args = [
        "--months",
        "4",
        "--rows-per-month",
        "1000",
        "--shift-month",
        "2",
        "--out",
        path,
    ];
    let out = run("churn_retrain", &args);
    // The month table: month, rows, auc, log loss, drift share, drifted,
    // trigger, action..., champion.
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("month"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "months 1..4:\n{out}");
    for r in &rows {
        assert_eq!(r[1], "1000", "{out}");
        let auc: f64 = r[2].parse().expect("auc");
        assert!((0.6..1.0).contains(&auc), "live AUC {auc}:\n{out}");
    }
    // No trigger before the shift; one at the shift month, where the
    // retrained v2 passes the gate and becomes champion.
    assert_eq!((rows[0][6], rows[0][7]), ("-", "-"), "{out}");
    assert_eq!(rows[0].last(), Some(&"v1"), "{out}");
    assert_ne!(rows[1][6], "-", "trigger at the shift:\n{out}");
    assert_eq!((rows[1][7], rows[1][8]), ("v2", "promoted"), "{out}");
    assert_eq!(rows[1].last(), Some(&"v2"), "{out}");
    // The new champion's live log loss is lower than the old one's at the
    // shift.
    let loss_at_shift: f64 = rows[1][3].parse().expect("log loss");
    let loss_after: f64 = rows[2][3].parse().expect("log loss");
    assert!(loss_after < loss_at_shift, "{out}");
    // The rollback returns the alias to v1, and the audit log shows it.
    assert!(
        out.contains("rollback  churn@champion -> v1 (serving v1)"),
        "{out}"
    );
    let audit: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("audit log"))
        .skip(1)
        .collect();
    assert!(
        audit
            .iter()
            .any(|l| l.contains("gate: promoted   v1 -> v2")),
        "{out}"
    );
    assert!(
        audit
            .last()
            .is_some_and(|l| l.contains("rollback") && l.contains("v2 -> v1")),
        "{out}"
    );
    // Seeded: a second run prints the same thing.
    assert_eq!(run("churn_retrain", &args), out);
}
