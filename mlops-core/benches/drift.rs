//! Drift monitor hot path: one numeric value update (target <= 50 ns).
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mlops_core::data::{Column, Frame, NumericColumn};
use mlops_core::drift::{DriftMonitor, DriftOptions, MonitorConfig, Profile, ProfileConfig};
use rand::Rng;

fn bench(c: &mut Criterion) {
    let mut rng = mlops_core::seed::Seed(1).rng();
    let reference: Vec<f64> = (0..10_000).map(|_| rng.r#gen::<f64>() * 100.0).collect();
    let frame = Frame::new(vec![(
        "x".into(),
        Column::Numeric(NumericColumn::from_raw(reference)),
    )])
    .expect("frame");
    let profile = Profile::from_frame(&frame, &ProfileConfig::default()).expect("profile");
    let mut monitor =
        DriftMonitor::new(&profile, MonitorConfig::default(), DriftOptions::default())
            .expect("monitor");
    let values: Vec<f64> = (0..4096)
        .map(|_| rng.r#gen::<f64>() * 120.0 - 10.0)
        .collect();
    let mut i = 0usize;
    c.bench_function("drift_monitor_observe_numeric", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            monitor.observe_numeric(0, Some(black_box(values[i])));
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
