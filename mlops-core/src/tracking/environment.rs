//! Environment capture: what ran the run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::seed::Seed;

/// The software and machine a run executed on.
///
/// [`Environment::capture`] records what the process can see by itself
/// (mlops crate version, OS, architecture, host name, CPU count); the git
/// commit, the seed and any further crate versions come from the caller,
/// since a library cannot know them reliably.
///
/// ```
/// use mlops_core::seed::Seed;
/// use mlops_core::tracking::Environment;
///
/// let env = Environment::capture()
///     .with_git_commit("4f1c2e9")
///     .with_seed(Seed(42))
///     .with_crate("linfa", "0.8.1");
/// assert_eq!(env.crates["mlops-core"], env!("CARGO_PKG_VERSION"));
/// assert_eq!(env.seed, Some(42));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// Crate name to version; always holds `mlops-core`.
    pub crates: BTreeMap<String, String>,
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// Host name, when the OS tells it.
    pub host: Option<String>,
    /// Logical CPUs available to the process.
    pub cpus: Option<usize>,
    /// The root seed of the run.
    pub seed: Option<u64>,
    /// The source commit, as supplied by the caller.
    pub git_commit: Option<String>,
}

impl Environment {
    /// Captures what the process can observe about itself.
    pub fn capture() -> Self {
        let mut crates = BTreeMap::new();
        crates.insert(
            env!("CARGO_PKG_NAME").to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        );
        Self {
            crates,
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            host: host_name(),
            cpus: std::thread::available_parallelism().ok().map(usize::from),
            seed: None,
            git_commit: None,
        }
    }

    /// Records the source commit.
    pub fn with_git_commit(mut self, commit: impl Into<String>) -> Self {
        self.git_commit = Some(commit.into());
        self
    }

    /// Records the root seed.
    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed.0);
        self
    }

    /// Records one more crate version (for example the learner's crate).
    pub fn with_crate(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.crates.insert(name.into(), version.into());
        self
    }
}

/// The host name from the environment or, on Linux, procfs; `None` if
/// neither says.
fn host_name() -> Option<String> {
    ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}
