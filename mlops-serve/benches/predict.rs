//! Placeholder until the predict benchmark lands.
fn main() {}
