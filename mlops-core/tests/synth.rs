//! The synthetic churn generator: determinism, schema fidelity to the real
//! Telco file, and a realistic churn signal.

// Helpers outside #[test] fns unwrap too: failing loudly is their job.
#![allow(clippy::unwrap_used)]

use mlops_core::data::{CsvReader, Frame};
use mlops_core::seed::Seed;
use mlops_core::synth::{ChurnSynth, TELCO_COLUMNS};

fn csv(seed: u64, rows: u64, shift: f64) -> Vec<u8> {
    let mut out = Vec::new();
    let n = ChurnSynth::new(Seed(seed))
        .rows(rows)
        .shift(shift)
        .write_csv(&mut out)
        .unwrap();
    assert_eq!(n, rows);
    out
}

fn telco() -> Frame {
    Frame::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/data/telco_churn.csv"
    ))
    .unwrap()
}

/// Share of rows with `Churn == Yes` among rows where `col == value`.
fn churn_rate(frame: &Frame, col: &str, value: &str) -> f64 {
    let c = frame.categorical(col).unwrap();
    let churn = frame.categorical("Churn").unwrap();
    let (mut n, mut yes) = (0usize, 0usize);
    for i in 0..frame.n_rows() {
        if c.get(i) == Some(value) {
            n += 1;
            yes += usize::from(churn.get(i) == Some("Yes"));
        }
    }
    assert!(n > 0, "no rows with {col} = {value}");
    yes as f64 / n as f64
}

fn share(frame: &Frame, col: &str, value: &str) -> f64 {
    let c = frame.categorical(col).unwrap();
    c.iter().filter(|v| *v == Some(value)).count() as f64 / frame.n_rows() as f64
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    assert_eq!(csv(42, 3_000, 0.0), csv(42, 3_000, 0.0));
    assert_ne!(csv(42, 3_000, 0.0), csv(43, 3_000, 0.0));
    assert_ne!(csv(42, 3_000, 0.0), csv(42, 3_000, 0.5));
    // A prefix of a longer file is the shorter file: rows do not depend on n.
    let long = csv(42, 200, 0.0);
    let short = csv(42, 100, 0.0);
    assert!(long.starts_with(&short));
}

#[test]
fn output_has_the_telco_schema_and_vocabularies() {
    let bytes = csv(7, 20_000, 0.0);
    let text = std::str::from_utf8(&bytes).unwrap();
    assert_eq!(text.lines().next().unwrap(), TELCO_COLUMNS.join(","));
    let ours = CsvReader::new()
        .read(bytes.as_slice(), "synth.csv")
        .unwrap()
        .frame;
    let real = telco();
    assert_eq!(ours.schema(), real.schema());
    assert_eq!(ours.n_rows(), 20_000);

    let ours_summary = ours.describe();
    let real_summary = real.describe();
    for (o, r) in ours_summary.columns.iter().zip(&real_summary.columns) {
        if o.name == "customerID" {
            assert_eq!(
                o.categorical.as_ref().unwrap().distinct,
                20_000,
                "ids unique"
            );
            continue;
        }
        if let (Some(oc), Some(rc)) = (&o.categorical, &r.categorical) {
            let mut ov: Vec<&str> = oc.top.iter().map(|t| t.value.as_str()).collect();
            let mut rv: Vec<&str> = rc.top.iter().map(|t| t.value.as_str()).collect();
            ov.sort_unstable();
            rv.sort_unstable();
            assert_eq!(ov, rv, "vocabulary of {}", o.name);
        }
        if let (Some(on), Some(rn)) = (&o.numeric, &r.numeric) {
            // Same range and a mean within 15% of the real one.
            assert!(on.min.unwrap() >= rn.min.unwrap() * 0.95, "{} min", o.name);
            assert!(on.max.unwrap() <= rn.max.unwrap() * 1.05, "{} max", o.name);
            let (om, rm) = (on.mean.unwrap(), rn.mean.unwrap());
            assert!(
                (om - rm).abs() <= 0.15 * rm,
                "{} mean {om} vs real {rm}",
                o.name
            );
        }
    }
    let senior = ours.numeric("SeniorCitizen").unwrap();
    assert!(senior.present().all(|v| v == 0.0 || v == 1.0));

    // TotalCharges is blank exactly when tenure is 0, else near tenure x monthly.
    let tenure = ours.numeric("tenure").unwrap();
    let monthly = ours.numeric("MonthlyCharges").unwrap();
    let total = ours.numeric("TotalCharges").unwrap();
    assert!(tenure.present().any(|t| t == 0.0), "some new customers");
    for i in 0..ours.n_rows() {
        let t = tenure.get(i).unwrap();
        match total.get(i) {
            None => assert_eq!(t, 0.0, "row {i}"),
            Some(tc) => {
                let expected = t * monthly.get(i).unwrap();
                assert!(
                    (tc / expected - 1.0).abs() < 0.5,
                    "row {i}: {tc} vs {expected}"
                );
            }
        }
    }
    // As in the real file, a blank TotalCharges is one space.
    assert!(text.contains(", ,No\n") || text.contains(", ,Yes\n"));
}

#[test]
fn to_frame_equals_the_csv_read_back() {
    let synth = ChurnSynth::new(Seed(11)).rows(2_000).shift(0.3);
    let mut bytes = Vec::new();
    synth.write_csv(&mut bytes).unwrap();
    let read = CsvReader::new()
        .read(bytes.as_slice(), "synth.csv")
        .unwrap()
        .frame;
    let built = synth.to_frame().unwrap();
    assert_eq!(built.schema(), read.schema());
    assert_eq!(built.n_rows(), 2_000);
    for ((name, a), (_, b)) in built.columns().zip(read.columns()) {
        // Compared cell by cell: missing numbers are NaN inside, never equal.
        match (a.as_numeric(), b.as_numeric()) {
            (Some(a), Some(b)) => assert!(a.iter().eq(b.iter()), "{name}"),
            _ => {
                let (a, b) = (a.as_categorical().unwrap(), b.as_categorical().unwrap());
                assert!(a.iter().eq(b.iter()), "{name}");
            }
        }
    }
}

#[test]
fn churn_signal_is_realistic() {
    let frame = ChurnSynth::new(Seed(5)).rows(30_000).to_frame().unwrap();
    let churn = share(&frame, "Churn", "Yes");
    assert!((0.22..=0.31).contains(&churn), "churn rate {churn}");
    let m2m = churn_rate(&frame, "Contract", "Month-to-month");
    let two = churn_rate(&frame, "Contract", "Two year");
    assert!(
        m2m > 0.35 && two < 0.08,
        "month-to-month {m2m}, two-year {two}"
    );
    assert!(
        churn_rate(&frame, "InternetService", "Fiber optic")
            > churn_rate(&frame, "InternetService", "DSL") + 0.1
    );
    assert!(
        churn_rate(&frame, "PaymentMethod", "Electronic check")
            > churn_rate(&frame, "PaymentMethod", "Credit card (automatic)") + 0.15
    );
    let m2m_share = share(&frame, "Contract", "Month-to-month");
    assert!(
        (0.5..=0.6).contains(&m2m_share),
        "month-to-month share {m2m_share}"
    );
}

#[test]
fn shift_moves_the_population() {
    let base = ChurnSynth::new(Seed(5)).rows(20_000).to_frame().unwrap();
    let shifted = ChurnSynth::new(Seed(5))
        .rows(20_000)
        .shift(1.0)
        .to_frame()
        .unwrap();
    assert!(
        share(&shifted, "Contract", "Month-to-month")
            > share(&base, "Contract", "Month-to-month") + 0.15
    );
    assert!(share(&shifted, "Churn", "Yes") > share(&base, "Churn", "Yes") + 0.1);
    let mean = |f: &Frame| {
        f.describe()
            .column("MonthlyCharges")
            .unwrap()
            .numeric
            .unwrap()
            .mean
            .unwrap()
    };
    assert!(mean(&shifted) > mean(&base) * 1.1);
}
