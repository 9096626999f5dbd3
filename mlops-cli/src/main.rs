//! The `mlops` command line.
fn main() {}
