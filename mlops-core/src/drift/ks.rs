//! Two-sample Kolmogorov-Smirnov test, two-sided, with the p-value computed
//! exactly as `scipy.stats.ks_2samp(method='auto')` (scipy 1.17):
//!
//! - exact when `max(n1, n2) <= 10_000`, by lattice-path counting
//!   (`_compute_prob_outside_square` for equal sizes, Viehmann's "inside
//!   method" recursion `_compute_outer_prob_inside_method` otherwise); when the
//!   exact computation fails numerically scipy falls back to the asymptotic
//!   path, and so do we;
//! - asymptotic otherwise: the finite-n Kolmogorov distribution
//!   `kstwo.sf(D, round(n1 n2 / (n1 + n2)))`, ported from scipy's
//!   `scipy/stats/_ksstats.py` (Simard & L'Ecuyer 2011 choice of algorithm:
//!   Ruben-Gambino, Durbin matrix / Marsaglia-Tsang-Wang, Pomeranz, Pelz-Good,
//!   and the one-sided Smirnov sum).
//!
//! Tie handling follows scipy: empirical CDFs are evaluated at every pooled
//! value with "side = right", so tied values move both CDFs together.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// scipy's `MAX_AUTO_N`: above this sample size `method='auto'` is asymptotic.
pub const MAX_EXACT_N: usize = 10_000;

/// How a KS p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    /// Exact lattice-path count.
    Exact,
    /// Finite-n Kolmogorov distribution with the effective sample size.
    Asymptotic,
}

/// Outcome of [`ks_2samp`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsOutcome {
    /// The statistic D: the largest gap between the two empirical CDFs.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Which computation produced the p-value.
    pub method: KsMethod,
}

/// Two-sided two-sample KS test on finite values (callers drop missing
/// values first). Errors when either sample is empty or holds a non-finite
/// value.
///
/// ```
/// use mlops_core::drift::ks::ks_2samp;
/// let r = ks_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
/// assert_eq!(r.statistic, 1.0);
/// assert!((r.p_value - 0.1).abs() < 1e-12);
/// ```
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Result<KsOutcome> {
    if a.is_empty() || b.is_empty() {
        return Err(Error::InvalidParameter {
            name: "sample",
            reason: "the Kolmogorov-Smirnov test needs two non-empty samples".into(),
        });
    }
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "sample",
            reason: "the Kolmogorov-Smirnov test takes finite values only".into(),
        });
    }
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort_by(f64::total_cmp);
    y.sort_by(f64::total_cmp);
    Ok(ks_2samp_sorted(&x, &y))
}

/// [`ks_2samp`] on samples already sorted ascending, finite and non-empty.
pub(crate) fn ks_2samp_sorted(x: &[f64], y: &[f64]) -> KsOutcome {
    let d = statistic_sorted(x, y);
    let (n1, n2) = (x.len(), y.len());
    p_value_for(d, n1, n2)
}

/// The two-sided statistic, computed as scipy does (differences of
/// `count / n` at every pooled value, right-continuous).
fn statistic_sorted(x: &[f64], y: &[f64]) -> f64 {
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let (mut max_s, mut min_s) = (f64::NEG_INFINITY, f64::INFINITY);
    while i < x.len() || j < y.len() {
        let v = match (x.get(i), y.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        while i < x.len() && x[i] <= v {
            i += 1;
        }
        while j < y.len() && y[j] <= v {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_s = max_s.max(diff);
        min_s = min_s.min(diff);
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    if min_s > max_s { min_s } else { max_s }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// p-value of statistic `d` for sample sizes `n1`, `n2`, following
/// `ks_2samp(method='auto')`.
pub(crate) fn p_value_for(d: f64, n1: usize, n2: usize) -> KsOutcome {
    if n1.max(n2) <= MAX_EXACT_N
        && let Some((d_exact, p)) = attempt_exact(n1 as u64, n2 as u64, d)
    {
        return KsOutcome {
            statistic: d_exact,
            p_value: p.clamp(0.0, 1.0),
            method: KsMethod::Exact,
        };
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round_ties_even();
    KsOutcome {
        statistic: d,
        p_value: kstwo_sf(d, en as u64).clamp(0.0, 1.0),
        method: KsMethod::Asymptotic,
    }
}

/// scipy `_attempt_exact_2kssamp` (two-sided). `None` when scipy would fall
/// back to the asymptotic method.
fn attempt_exact(n1: u64, n2: u64, d: f64) -> Option<(f64, f64)> {
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    let h = (d * lcm as f64).round_ties_even() as u64;
    let d = h as f64 / lcm as f64;
    if h == 0 {
        return Some((d, 1.0));
    }
    let prob = if n1 == n2 {
        prob_outside_square(n1, h)
    } else {
        outer_prob_inside_method(n1, n2, g, h)
    };
    (prob.is_finite() && (0.0..=1.0).contains(&prob)).then_some((d, prob))
}

/// scipy `_compute_prob_outside_square`: Pr(D_{n,n} >= h/n).
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (nf, hf) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (nf / hf).floor() as i64;
    while k >= 0 {
        let kf = k as f64;
        let mut p1 = 1.0;
        for j in 0..h {
            let jf = j as f64;
            p1 = (nf - kf * hf - jf) * p1 / (nf + kf * hf + jf + 1.0);
        }
        p = p1 * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// scipy `_compute_outer_prob_inside_method` (Hodges; Viehmann's recursion
/// for 1 - p): the share of lattice paths that leave the band
/// `|x/m - y/n| < h / lcm(m, n)`.
fn outer_prob_inside_method(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = (m / g, n / g);
    let (m, n, mg, ng, h) = (m as i64, n as i64, mg as i64, ng as i64, h as i64);
    let ceil_div = |a: i64, b: i64| (a as f64 / b as f64).ceil() as i64;
    let floor_div = |a: i64, b: i64| (a as f64 / b as f64).floor() as i64;
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for v in a.iter_mut().take(maxj as usize) {
        *v = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = (floor_div(ng * i - h, mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let fi = i as f64;
        for jj in 0..(maxj - minj) {
            let j = (jj + minj) as f64;
            let src = (jj + minj - lastminj) as usize;
            let prev = a.get(src).copied().unwrap_or(f64::NAN);
            val = (prev * fi + val * j) / (fi + j);
            if let Some(slot) = a.get_mut(jj as usize) {
                *slot = val;
            }
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            let end = (start + (lastlen - curlen) as usize).min(a.len());
            for v in a.iter_mut().take(end).skip(start) {
                *v = 1.0;
            }
        }
    }
    a.get((maxj - minj - 1) as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------
// Finite-n two-sided Kolmogorov distribution: port of scipy `_kolmogn`
// (scipy/stats/_ksstats.py), survival function only.

const E128: i32 = 128;
const EP128: f64 = 3.402_823_669_209_385e38; // 2^128
const EM128: f64 = 2.938_735_877_055_719e-39; // 2^-128
const MIN_LOG: f64 = -708.0;

fn ldexp(x: f64, e: i32) -> f64 {
    // Split the exponent so intermediate powers of two stay finite.
    let mut x = x;
    let mut e = e;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e)
}

fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    const STIRLING: [f64; 8] = [
        -2.955_065_359_477_124_2e-2,
        6.410_256_410_256_41e-3,
        -1.917_526_917_526_917_5e-3,
        8.417_508_417_508_417e-4,
        -5.952_380_952_380_952e-4,
        7.936_507_936_507_936e-4,
        -2.777_777_777_777_778e-3,
        8.333_333_333_333_333e-2,
    ];
    let rn = 1.0 / n;
    let z = rn / n;
    let poly = STIRLING.iter().fold(0.0, |acc, &c| acc * z + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + rn * poly
}

/// `scipy.stats.kstwo.sf(x, n)`: Pr(D_n > x) for the two-sided one-sample
/// Kolmogorov statistic with `n` observations.
pub fn kstwo_sf(x: f64, n: u64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    let nf = n as f64;
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            (1..=n).fold(1.0, |acc, i| {
                acc * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0))
            })
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - prob).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754_693 {
            return (1.0 - kolmogn_dmtw_cdf(n, x)).clamp(0.0, 1.0);
        }
        if nxsquared <= 4.0 {
            return (1.0 - kolmogn_pomeranz_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        kolmogn_dmtw_cdf(n, x)
    } else {
        kolmogn_pelz_good_cdf(n, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// One-sided Smirnov survival function Pr(D_n^+ >= x) by the
/// Birnbaum-Tingey sum (all terms positive, summed in log space).
/// scipy evaluates the same sum (`scipy.special.smirnov`) with double-double
/// arithmetic; in plain f64 the relative error stays near 1e-12 for the sizes
/// the two-sample test produces.
pub(crate) fn smirnov_sf(n: u64, x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    if n == 1 {
        return 1.0 - x;
    }
    let vmax = (nf * (1.0 - x)).floor() as u64;
    let ln_n_fact = statrs::function::gamma::ln_gamma(nf + 1.0);
    let ln_x = x.ln();
    let mut sum = 0.0;
    for v in 0..=vmax {
        let vf = v as f64;
        let rest = 1.0 - x - vf / nf;
        if rest <= 0.0 && v < n {
            continue;
        }
        let ln_c = ln_n_fact
            - statrs::function::gamma::ln_gamma(vf + 1.0)
            - statrs::function::gamma::ln_gamma(nf - vf + 1.0);
        let ln_term = if v == 0 {
            nf * (-x).ln_1p()
        } else {
            ln_c + ln_x + (vf - 1.0) * (x + vf / nf).ln() + (nf - vf) * rest.ln()
        };
        sum += ln_term.exp();
    }
    sum.clamp(0.0, 1.0)
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                out[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    out
}

/// Durbin matrix algorithm as in Marsaglia, Tsang & Wang (2003): Pr(D_n <= d).
fn kolmogn_dmtw_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut hm = vec![0.0; m * m];
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powi(j as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut hpwr = vec![0.0; m * m];
    for i in 0..m {
        hpwr[i * m + i] = 1.0;
    }
    let mut nn = n;
    let mut expnt: i32 = 0;
    let mut hexpnt: i32 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            hpwr = matmul(&hpwr, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > EP128 {
            for v in hm.iter_mut() {
                *v /= EP128;
            }
            hexpnt += E128;
        }
        nn /= 2;
    }
    let mut p = hpwr[(k - 1) * m + (k - 1)];
    let nf = n as f64;
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < EM128 {
            p *= EP128;
            expnt -= E128;
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    p.clamp(0.0, 1.0)
}

fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (ip1div2, ip1mod2) = ((i + 1) / 2, (i + 1) % 2);
        if ip1mod2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// Pomeranz (1974) recursion: Pr(D_n <= x).
fn kolmogn_pomeranz_cdf(n: u64, x: f64) -> f64 {
    let ni = n as i64;
    let t = n as f64 * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let nf = n as f64;
    let mut gpower = vec![1.0; npwrs];
    let mut twogpower = vec![1.0; npwrs];
    let mut onem2gpower = vec![1.0; npwrs];
    let (g_n, two_g_n, one_m2g_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        gpower[m] = gpower[m - 1] * g_n / m as f64;
        twogpower[m] = twogpower[m - 1] * two_g_n / m as f64;
        onem2gpower[m] = onem2gpower[m - 1] * one_m2g_n / m as f64;
    }
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s): (i64, i64) = (0, 0);
    let mut expnt: i32 = 0;
    let mut j1 = pomeranz_j1j2(0, ni, ll, ceilf, roundf).0;
    for i in 1..(2 * ni + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|v| *v = 0.0);
        let (nj1, j2) = pomeranz_j1j2(i, ni, ll, ceilf, roundf);
        j1 = nj1;
        let pwrs = if i == 1 || i == 2 * ni + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            // numpy slices clip at the array end; mirror that.
            let start = (k1 - v0s).max(0) as usize;
            let end = (start + ln2 as usize).min(npwrs);
            let a = &v0[start.min(end)..end];
            let b = &pwrs[..(ln2 as usize).min(npwrs)];
            let conv_start = (j1 - k1) as usize;
            let conv_len = (j2 - j1 + 1).max(0) as usize;
            let mut maxv: f64 = 0.0;
            for (out, slot) in v1.iter_mut().enumerate().take(conv_len) {
                let kk = conv_start + out;
                let mut s = 0.0;
                for (ia, &av) in a.iter().enumerate() {
                    if kk >= ia
                        && let Some(&bv) = b.get(kk - ia)
                    {
                        s += av * bv;
                    }
                }
                *slot = s;
                maxv = maxv.max(s);
            }
            if 0.0 < maxv && maxv < EM128 {
                v1.iter_mut().for_each(|v| *v *= EP128);
                expnt -= E128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1.get((ni - v1s).max(0) as usize).copied().unwrap_or(0.0);
    for m in 1..=n {
        if ans.abs() > EP128 {
            ans *= EM128;
            expnt += E128;
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    ans.clamp(0.0, 1.0)
}

/// Pelz-Good (1976) approximation of Pr(D_n <= x).
fn kolmogn_pelz_good_cdf(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -PI * PI / 8.0 / z2;
    if qlog < MIN_LOG {
        return 0.0;
    }
    let q = qlog.exp();
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf(8.0 * kk as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (kv, c) in k.iter_mut().zip(coeffs) {
            *kv = *kv * qpower + c;
        }
    }
    let sqrt2pi = (2.0 * PI).sqrt();
    let denom = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (kv, dv) in k.iter_mut().zip(denom) {
        *kv = *kv * q * sqrt2pi / dv;
    }
    let q = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for kk in (1..=maxk).rev() {
        let kf = kk as f64;
        let ks2 = kf * kf;
        let qp = q.powf(ks2);
        k2extra += ks2 * qp;
        let kspi = PI * kf;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
    }
    k[2] += k2extra * pi2 * sqrt2pi / (-36.0 * z3);
    k[3] += k3extra * pi2 * sqrt2pi / (216.0 * z6);
    for (i, kv) in k.iter_mut().enumerate() {
        *kv /= nf.powf(i as f64 / 2.0);
    }
    k.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_small_samples_match_scipy() {
        // scipy.stats.ks_2samp([1,2,3],[4,5,6]) -> (1.0, 0.1)
        let r = ks_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!(r.statistic, 1.0);
        assert!((r.p_value - 0.1).abs() < 1e-15);
        assert_eq!(r.method, KsMethod::Exact);
    }

    #[test]
    fn identical_samples_give_p_one() {
        let a = [1.0, 2.0, 2.0, 3.0];
        let r = ks_2samp(&a, &a).unwrap();
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn empty_or_non_finite_is_an_error() {
        assert!(ks_2samp(&[], &[1.0]).is_err());
        assert!(ks_2samp(&[f64::NAN], &[1.0]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn p_value_is_a_probability_and_symmetric(
            a in proptest::collection::vec(-5i32..5, 1..40),
            b in proptest::collection::vec(-5i32..5, 1..40),
        ) {
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let b: Vec<f64> = b.into_iter().map(f64::from).collect();
            let x = ks_2samp(&a, &b).unwrap();
            let y = ks_2samp(&b, &a).unwrap();
            proptest::prop_assert!((0.0..=1.0).contains(&x.p_value));
            proptest::prop_assert!((0.0..=1.0).contains(&x.statistic));
            proptest::prop_assert_eq!(x.statistic, y.statistic);
            proptest::prop_assert!((x.p_value - y.p_value).abs() < 1e-12);
        }
    }
}
