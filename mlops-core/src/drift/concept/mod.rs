//! Concept-drift detectors over an error or loss stream: feed one value per
//! scored-and-labelled request; a detector says when the error level moved.
//!
//! - [`Adwin`]: adaptive window (Bifet & Gavaldà 2007, ADWIN2 with
//!   exponential histograms as in river / scikit-multiflow), delta 0.002.
//! - [`PageHinkley`]: cumulative deviation test (river defaults: 30 minimum
//!   instances, delta 0.005, threshold 50, forgetting factor 0.9999).
//! - [`Ddm`]: drift detection method (Gama et al. 2004) over 0/1 errors:
//!   warning at 2 sigma, drift at 3 sigma, 30 warm-up instances.

mod adwin;
mod ddm;
mod page_hinkley;

pub use adwin::Adwin;
pub use ddm::Ddm;
pub use page_hinkley::PageHinkley;

/// What a detector concluded after one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Nothing changed.
    Stable,
    /// Early warning (DDM only).
    Warning,
    /// A change was detected; the detector has adapted (reset or shrunk).
    Drift,
}

#[cfg(test)]
#[allow(clippy::print_stderr)] // delays are reported on purpose
mod tests {
    use super::*;
    use rand::Rng;

    /// Bernoulli error stream: rate p0 before `change`, p1 after.
    fn stream(seed: u64, n: usize, change: usize, p0: f64, p1: f64) -> Vec<f64> {
        let mut rng = crate::seed::Seed(seed).rng();
        (0..n)
            .map(|i| {
                let p = if i < change { p0 } else { p1 };
                f64::from(u8::from(rng.r#gen::<f64>() < p))
            })
            .collect()
    }

    /// Runs a detector; returns (false alarms before change, delay).
    fn run(
        mut update: impl FnMut(f64) -> Signal,
        s: &[f64],
        change: usize,
    ) -> (usize, Option<usize>) {
        let mut false_alarms = 0;
        for (i, &x) in s.iter().enumerate() {
            if update(x) == Signal::Drift {
                if i < change {
                    false_alarms += 1;
                } else {
                    return (false_alarms, Some(i - change));
                }
            }
        }
        (false_alarms, None)
    }

    // Streams: 2,000 values before the change, seeds 1..=5. Delays are
    // printed (`--nocapture`) and bounded below.
    #[test]
    fn adwin_detects_abrupt_change_without_false_alarm() {
        for seed in 1..=5 {
            let s = stream(seed, 4_000, 2_000, 0.1, 0.5);
            let mut d = Adwin::new(0.002).unwrap();
            let (fa, delay) = run(|x| d.update(x), &s, 2_000);
            assert_eq!(fa, 0, "seed {seed}");
            let delay = delay.expect("drift detected");
            assert!(delay <= 100, "seed {seed}: delay {delay}");
            eprintln!("adwin seed {seed}: delay {delay}");
        }
    }

    #[test]
    fn page_hinkley_detects_mean_shift() {
        for seed in 1..=5 {
            let mut rng = crate::seed::Seed(seed).rng();
            let s: Vec<f64> = (0..4_000)
                .map(|i| rng.r#gen::<f64>() + if i >= 2_000 { 2.0 } else { 0.0 })
                .collect();
            let mut d = PageHinkley::default();
            let (fa, delay) = run(|x| d.update(x), &s, 2_000);
            assert_eq!(fa, 0, "seed {seed}");
            let delay = delay.expect("drift detected");
            // Cumulative excess ~ 2 per step after the change: about 25 steps.
            assert!(delay <= 40, "seed {seed}: delay {delay}");
            eprintln!("page-hinkley seed {seed}: delay {delay}");
        }
    }

    #[test]
    fn ddm_warns_then_detects() {
        // DDM fixes its minimum early (after 30 values), so a noisy start can
        // cause a rare false alarm: measured 1 in 5 seeds (seed 5). Bounded,
        // not hidden.
        let mut total_false_alarms = 0;
        for seed in 1..=5 {
            let s = stream(seed, 4_000, 2_000, 0.1, 0.5);
            let mut d = Ddm::default();
            let mut warned = false;
            let (fa, delay) = run(
                |x| {
                    let sig = d.update(x);
                    warned |= sig == Signal::Warning;
                    sig
                },
                &s,
                2_000,
            );
            total_false_alarms += fa;
            let delay = delay.expect("drift detected");
            // DDM compares with the mean error since the last reset, so after
            // a long stable stretch it needs a few hundred errors to cross 3 sigma.
            assert!(delay <= 400, "seed {seed}: delay {delay}");
            eprintln!("ddm seed {seed}: false alarms {fa}, delay {delay}");
            assert!(warned);
        }
        assert!(total_false_alarms <= 1, "{total_false_alarms} false alarms");
    }

    #[test]
    fn stationary_streams_raise_no_alarm() {
        for seed in 10..15 {
            let s = stream(seed, 5_000, 5_000, 0.2, 0.2);
            let mut a = Adwin::default();
            let mut p = PageHinkley::default();
            let mut d = Ddm::default();
            assert_eq!(run(|x| a.update(x), &s, 5_000).0, 0, "adwin seed {seed}");
            assert_eq!(run(|x| p.update(x), &s, 5_000).0, 0, "ph seed {seed}");
            assert_eq!(run(|x| d.update(x), &s, 5_000).0, 0, "ddm seed {seed}");
        }
    }
}
