//! Distances between distributions: Jensen-Shannon (scipy
//! `spatial.distance.jensenshannon`, natural log), Hellinger, KL divergence
//! (scipy `stats.entropy`), and the Wasserstein-1 distance (scipy
//! `stats.wasserstein_distance`) normed by the reference standard deviation
//! as Evidently does.

fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

fn normalized(v: &[f64]) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    v.iter().map(|x| x / s).collect()
}

/// Jensen-Shannon distance (square root of the divergence, natural log) of
/// two share vectors; each is normalised to sum 1 first, like scipy.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (p, q) = (normalized(p), normalized(q));
    let mut js = 0.0;
    for (&a, &b) in p.iter().zip(&q) {
        let m = (a + b) / 2.0;
        js += rel_entr(a, m) + rel_entr(b, m);
    }
    (js / 2.0).sqrt()
}

/// Hellinger distance of two share vectors (in [0, 1]).
pub fn hellinger(p: &[f64], q: &[f64]) -> f64 {
    let s: f64 = p
        .iter()
        .zip(q)
        .map(|(a, b)| (a.sqrt() - b.sqrt()).powi(2))
        .sum();
    s.sqrt() / std::f64::consts::SQRT_2
}

/// Kullback-Leibler divergence KL(p || q) as `scipy.stats.entropy(p, q)`
/// (both normalised to sum 1).
pub fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    let (p, q) = (normalized(p), normalized(q));
    p.iter().zip(&q).map(|(&a, &b)| rel_entr(a, b)).sum()
}

/// `scipy.stats.wasserstein_distance(u, v)` for sorted, finite, non-empty
/// samples: the integral of |U(t) - V(t)| over t.
pub fn wasserstein_sorted(u: &[f64], v: &[f64]) -> f64 {
    let (nu, nv) = (u.len() as f64, v.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0.0;
    let mut prev: Option<f64> = None;
    while i < u.len() || j < v.len() {
        let x = match (u.get(i), v.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        if let Some(p) = prev {
            // CDFs are constant on [p, x): counts of values <= p.
            total += (i as f64 / nu - j as f64 / nv).abs() * (x - p);
        }
        while i < u.len() && u[i] <= x {
            i += 1;
        }
        while j < v.len() && v[j] <= x {
            j += 1;
        }
        prev = Some(x);
    }
    total
}

/// Population standard deviation (numpy `std`, ddof 0).
pub fn population_std(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// Evidently's normed Wasserstein distance:
/// `wasserstein_distance(ref, cur) / max(std(ref), 0.001)`.
pub fn wasserstein_normed_sorted(reference: &[f64], current: &[f64]) -> f64 {
    wasserstein_sorted(reference, current) / population_std(reference).max(0.001)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_of_disjoint_is_sqrt_ln2() {
        let d = jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]);
        assert!((d - std::f64::consts::LN_2.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn wasserstein_matches_scipy_doc_example() {
        // scipy docs: wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        assert!((wasserstein_sorted(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn hellinger_bounds() {
        assert_eq!(hellinger(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        assert!((hellinger(&[1.0, 0.0], &[0.0, 1.0]) - 1.0).abs() < 1e-15);
    }
}
