//! Histogram bin edges as numpy computes them, and counting into given edges
//! as `numpy.histogram(values, edges)` does.

/// `numpy.histogram_bin_edges(values, bins="sturges")` for finite, non-empty
/// float data: width = range / (log2(n) + 1), bin count = ceil(range /
/// width), edges by `numpy.linspace`. A constant sample gets the range
/// [v - 0.5, v + 0.5] and one bin, like numpy.
///
/// numpy also forces a width of at least 1 for integer dtypes; a Frame holds
/// f64 only, so that rule is not applied (it matters only for integer
/// columns spanning fewer than log2(n) + 1 units).
pub fn sturges_edges(min: f64, max: f64, n: usize) -> Vec<f64> {
    let (mut first, mut last) = (min, max);
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    let ptp = max - min;
    let width = ptp / ((n as f64).log2() + 1.0);
    let bins = if width > 0.0 {
        ((last - first) / width).ceil() as usize
    } else {
        1
    };
    linspace(first, last, bins.max(1) + 1)
}

/// `numpy.linspace(start, stop, num)` with `num >= 2`.
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = (num - 1) as f64;
    let step = (stop - start) / div;
    let mut out: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    if let Some(last) = out.last_mut() {
        *last = stop;
    }
    out
}

/// Bin index of `v` under `numpy.histogram` rules: bins are half-open
/// `[e_i, e_{i+1})` except the last, which is closed; values outside the
/// edges (or NaN) fall in no bin.
#[inline]
pub fn bin_index(edges: &[f64], v: f64) -> Option<usize> {
    let n_bins = edges.len().checked_sub(1)?;
    let (first, last) = (*edges.first()?, *edges.last()?);
    if !(v >= first && v <= last) {
        return None;
    }
    if v == last {
        return Some(n_bins - 1);
    }
    Some(edges.partition_point(|&e| e <= v) - 1)
}

/// Counts per bin of `values` under [`bin_index`] rules.
pub fn histogram(values: &[f64], edges: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; edges.len().saturating_sub(1)];
    for &v in values {
        if let Some(i) = bin_index(edges, v) {
            counts[i] += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sturges_matches_numpy() {
        // numpy.histogram_bin_edges(np.arange(10.), bins="sturges")
        // -> linspace(0, 9, 6)   (log2(10)+1 = 4.32, 9/2.08 -> 5 bins)
        let e = sturges_edges(0.0, 9.0, 10);
        assert_eq!(e, linspace(0.0, 9.0, 6));
        assert_eq!(sturges_edges(3.0, 3.0, 4), vec![2.5, 3.5]);
    }

    #[test]
    fn last_bin_is_closed() {
        let e = [0.0, 1.0, 2.0];
        assert_eq!(histogram(&[0.0, 1.0, 2.0, 2.5, -1.0], &e), vec![1, 2]);
    }
}
