//! Estimation of one regression: weighted least squares (Cholesky of X'WX through
//! nalgebra), quantile regression by iteratively reweighted least squares, robust
//! standard errors, and the naming of variables that cannot be estimated.
//!
//! The design is row-major: `x[i * p .. (i + 1) * p]` are household i's regressors
//! (without the intercept, which is added here).

use nalgebra::{DMatrix, DVector};

/// Which estimator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Ordinary least squares: the survey weights are ignored.
    Ols,
    /// Weighted least squares with the survey weights.
    Wls,
    /// Weighted quantile regression at quantile `tau` (0 < tau < 1).
    Quantile(f64),
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Ols => "ols",
            Method::Wls => "wls",
            Method::Quantile(_) => "quantile",
        }
    }
}

/// The data of one fit.
pub struct Design<'a> {
    /// Number of regressors per row (without the intercept).
    pub p: usize,
    pub x: &'a [f64],
    /// Dependent: log per-capita expenditure.
    pub y: &'a [f64],
    /// Survey weights.
    pub w: &'a [f64],
}

/// What one regression estimated.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub intercept: f64,
    /// One per regressor; a variable not estimated carries its `prior` value.
    pub coef: Vec<f64>,
    /// Robust standard errors: intercept first, then per regressor (`None` when not
    /// estimated).
    pub intercept_se: Option<f64>,
    pub se: Vec<Option<f64>>,
    /// Weighted R² (for quantile regression: of the fitted conditional quantile).
    pub r2: f64,
    pub n: u64,
    pub weighted_n: f64,
    /// Regressor indices with no variance in these rows.
    pub zero_variance: Vec<usize>,
    /// Regressor indices dropped because they are a linear combination of others.
    pub collinear: Vec<usize>,
}

/// Why a regression could not be estimated.
#[derive(Clone, Debug, PartialEq)]
pub struct EstimateError(pub String);

/// Relative size below which an eigenvalue of the scaled cross-product matrix means
/// collinearity.
const COLLINEAR_EIGEN: f64 = 1e-9;
/// Quantile IRLS: a residual's weight is capped at 1/`IRLS_FLOOR`.
const IRLS_FLOOR: f64 = 1e-6;
const IRLS_MAX_ITER: usize = 200;
const IRLS_TOL: f64 = 1e-8;

/// Fits `rows` of the design. Variables that cannot be estimated here (no variance,
/// collinear) keep their `prior` coefficient (the next level's), entering as an
/// offset so the intercept absorbs the rest.
pub fn estimate(
    d: &Design,
    rows: &[usize],
    method: Method,
    prior: &[f64],
) -> Result<Estimate, EstimateError> {
    estimate_with(d, rows, method, prior, true)
}

/// [`estimate`], computing the standard errors only when `with_se` (the
/// cross-validation needs only the coefficients).
pub fn estimate_with(
    d: &Design,
    rows: &[usize],
    method: Method,
    prior: &[f64],
    with_se: bool,
) -> Result<Estimate, EstimateError> {
    let p = d.p;
    let n = rows.len();
    if n == 0 {
        return Err(EstimateError(
            "tidak ada rumah tangga / no households".into(),
        ));
    }
    let w_of = |i: usize| match method {
        Method::Ols => 1.0,
        _ => d.w[i],
    };
    let weighted_n: f64 = rows.iter().map(|&i| d.w[i]).sum();
    // Zero variance: every row has the same value.
    // Row by row, as the design is stored (column by column would miss the cache on
    // every value).
    let first = &d.x[rows[0] * p..(rows[0] + 1) * p];
    let mut varies = vec![false; p];
    for &i in rows {
        for ((v, x), f) in varies.iter_mut().zip(&d.x[i * p..(i + 1) * p]).zip(first) {
            *v |= x != f;
        }
    }
    let zero_variance: Vec<usize> = (0..p).filter(|&j| !varies[j]).collect();
    let mut kept: Vec<usize> = (0..p).filter(|j| !zero_variance.contains(j)).collect();
    let mut collinear = Vec::new();
    // Collinearity on the scaled cross-product of sqrt(w)·[1, x_kept], computed once;
    // collinear columns are removed one at a time. The same product, without the
    // removed columns, is the first solve's X'WX.
    let xs = scaled_rows(d, rows, &kept, |r| w_of(rows[r]).sqrt());
    let a = cross(&xs);
    // Positions in `a` of the columns still in: 0 the intercept, c+1 kept[c].
    let mut cols: Vec<usize> = (0..=kept.len()).collect();
    {
        loop {
            let diag: Vec<f64> = cols
                .iter()
                .map(|&c| a[(c, c)].max(f64::MIN_POSITIVE).sqrt())
                .collect();
            let m = DMatrix::from_fn(cols.len(), cols.len(), |r, s| {
                a[(cols[r], cols[s])] / (diag[r] * diag[s])
            });
            let eig = m.symmetric_eigen();
            let (imin, lmin) = eig.eigenvalues.iter().copied().enumerate().fold(
                (0, f64::INFINITY),
                |acc, (i, l)| if l < acc.1 { (i, l) } else { acc },
            );
            let lmax = eig.eigenvalues.iter().copied().fold(0.0, f64::max);
            if cols.len() == 1 || lmin > COLLINEAR_EIGEN * lmax {
                break;
            }
            // Drop the regressor (never the intercept) that loads most on the null
            // direction; on a tie the later one.
            let v = eig.eigenvectors.column(imin);
            let top = (1..v.len()).map(|r| v[r].abs()).fold(0.0, f64::max);
            let worst = (1..v.len())
                .rev()
                .find(|&r| v[r].abs() >= top * (1.0 - 1e-6))
                .unwrap_or(1);
            collinear.push(kept[cols[worst] - 1]);
            cols.remove(worst);
        }
        kept.retain(|j| !collinear.contains(j));
    }
    collinear.sort_unstable();
    let k = kept.len() + 1;
    if n < k {
        return Err(EstimateError(format!(
            "{n} rumah tangga untuk {k} parameter / {n} households for {k} parameters"
        )));
    }
    // Offset: the fixed coefficients' part of each prediction.
    let fixed: Vec<usize> = (0..p).filter(|j| !kept.contains(j)).collect();
    let offset: Vec<f64> = rows
        .iter()
        .map(|&i| fixed.iter().map(|&j| prior[j] * d.x[i * p + j]).sum())
        .collect();
    let yr: Vec<f64> = rows.iter().zip(&offset).map(|(&i, o)| d.y[i] - o).collect();

    let chol_solve =
        |a: DMatrix<f64>, b: DVector<f64>| -> Result<(DVector<f64>, DMatrix<f64>), EstimateError> {
            let chol = a.cholesky().ok_or_else(|| {
                EstimateError(
                    "matriks X'WX tidak definit positif / X'WX is not positive definite".into(),
                )
            })?;
            let beta = chol.solve(&b);
            Ok((beta, chol.inverse()))
        };
    let solve = |weights: &[f64]| -> Result<(DVector<f64>, DMatrix<f64>), EstimateError> {
        let xs = scaled_rows(d, rows, &kept, |r| weights[r].sqrt());
        let ys = DVector::from_iterator(n, (0..n).map(|r| weights[r].sqrt() * yr[r]));
        chol_solve(cross(&xs), xs.tr_mul(&ys))
    };
    let base: Vec<f64> = rows.iter().map(|&i| w_of(i)).collect();
    // The first solve reuses the collinearity check's product, its rows and columns
    // `cols`; X'Wy over the same scaled rows.
    let (mut beta, mut a_inv) = {
        let ys = DVector::from_iterator(n, (0..n).map(|r| base[r].sqrt() * yr[r]));
        let b_all = xs.tr_mul(&ys);
        drop(xs);
        let m = cols.len();
        chol_solve(
            DMatrix::from_fn(m, m, |r, c| a[(cols[r], cols[c])]),
            DVector::from_fn(m, |r, _| b_all[cols[r]]),
        )?
    };
    let x_row = |r: usize, beta: &DVector<f64>| -> f64 {
        let i = rows[r];
        let mut s = beta[0];
        for (c, &j) in kept.iter().enumerate() {
            s += beta[c + 1] * d.x[i * p + j];
        }
        s
    };
    if let Method::Quantile(tau) = method {
        // IRLS on the check loss: Σ w ρτ(r) = Σ [w·(τ or 1−τ)/|r|]·r², so each step is a
        // weighted least squares with those weights (Schlossmacher 1973), the
        // residual floored to keep the weights finite.
        for _ in 0..IRLS_MAX_ITER {
            let u: Vec<f64> = (0..n)
                .map(|r| {
                    let res = yr[r] - x_row(r, &beta);
                    let side = if res >= 0.0 { tau } else { 1.0 - tau };
                    base[r] * side / res.abs().max(IRLS_FLOOR)
                })
                .collect();
            let (next, inv) = solve(&u)?;
            let change = (&next - &beta).amax();
            beta = next;
            a_inv = inv;
            if change < IRLS_TOL {
                break;
            }
        }
    }
    let resid: Vec<f64> = (0..n).map(|r| yr[r] - x_row(r, &beta)).collect();
    // Weighted R² of log expenditure (the offset counts as part of the prediction).
    let wsum: f64 = base.iter().sum();
    let ybar = rows
        .iter()
        .zip(&base)
        .map(|(&i, w)| w * d.y[i])
        .sum::<f64>()
        / wsum;
    let sst: f64 = rows
        .iter()
        .zip(&base)
        .map(|(&i, w)| w * (d.y[i] - ybar).powi(2))
        .sum();
    let sse: f64 = resid.iter().zip(&base).map(|(e, w)| w * e * e).sum();
    let r2 = if sst > 0.0 { 1.0 - sse / sst } else { 0.0 };

    // Robust covariance.
    let cov = match method {
        _ if !with_se => DMatrix::from_element(k, k, f64::NAN),
        Method::Ols | Method::Wls => {
            // HC1: (X'WX)⁻¹ [Σ (w e)² x x'] (X'WX)⁻¹ · n / (n − k).
            let m = scaled_rows(d, rows, &kept, |r| base[r] * resid[r]);
            let meat = cross(&m);
            let scale = if n > k {
                n as f64 / (n - k) as f64
            } else {
                f64::NAN
            };
            &a_inv * meat * &a_inv * scale
        }
        Method::Quantile(tau) => {
            // Powell's kernel sandwich: τ(1−τ) D1⁻¹ D0 D1⁻¹ with D0 = Σ w² x x' and
            // D1 = Σ w·1(|e| ≤ h)/(2h)·x x', bandwidth h = 1.06·σ̂·n^(−1/5) (σ̂ the
            // weighted standard deviation of the residuals).
            let mean = resid.iter().zip(&base).map(|(e, w)| w * e).sum::<f64>() / wsum;
            let sd = (resid
                .iter()
                .zip(&base)
                .map(|(e, w)| w * (e - mean).powi(2))
                .sum::<f64>()
                / wsum)
                .sqrt();
            let h = (1.06 * sd * (n as f64).powf(-0.2)).max(1e-12);
            let m0 = scaled_rows(d, rows, &kept, |r| base[r]);
            let d0 = cross(&m0);
            let m1 = scaled_rows(d, rows, &kept, |r| {
                if resid[r].abs() <= h {
                    (base[r] / (2.0 * h)).sqrt()
                } else {
                    0.0
                }
            });
            let d1 = cross(&m1);
            match d1.try_inverse() {
                Some(inv) => &inv * d0 * &inv * (tau * (1.0 - tau)),
                None => DMatrix::from_element(k, k, f64::NAN),
            }
        }
    };
    let se_of = |c: usize| {
        let v = cov[(c, c)];
        (v.is_finite() && v >= 0.0).then(|| v.sqrt())
    };
    let mut coef = prior.to_vec();
    let mut se = vec![None; p];
    for (c, &j) in kept.iter().enumerate() {
        coef[j] = beta[c + 1];
        se[j] = se_of(c + 1);
    }
    Ok(Estimate {
        intercept: beta[0],
        coef,
        intercept_se: se_of(0),
        se,
        r2,
        n: n as u64,
        weighted_n,
        zero_variance,
        collinear,
    })
}

/// M′M through a general matrix product (nalgebra hands it to matrixmultiply's
/// blocked kernel, much faster on tall matrices than column dot products).
fn cross(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.transpose() * m
}

/// `[1, x_kept]` of `rows`, row r multiplied by `factor(r)` (r the position in `rows`).
fn scaled_rows(
    d: &Design,
    rows: &[usize],
    kept: &[usize],
    factor: impl Fn(usize) -> f64,
) -> DMatrix<f64> {
    let k = kept.len() + 1;
    let p = d.p;
    // Row by row, as the design is stored (a column-major fill would read it with a
    // stride of `p`, one cache miss per value); the transpose copies it sequentially.
    let mut buf = Vec::with_capacity(rows.len() * k);
    for (r, &i) in rows.iter().enumerate() {
        let f = factor(r);
        let x = &d.x[i * p..(i + 1) * p];
        buf.push(f);
        buf.extend(kept.iter().map(|&j| f * x[j]));
    }
    DMatrix::from_vec(k, rows.len(), buf).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn quantile_regression_recovers_a_known_conditional_quantile() {
        // y = 1 + 2x + (0.5 + x)·ε with ε uniform on (−1, 1): the τ-quantile of y given x
        // is 1 + 2x + (0.5 + x)(2τ − 1), so at τ = 0.25: 0.75 + 1.5x.
        let mut rng = Rng::new(11);
        let n = 20_000;
        let mut x = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let xi = rng.unit() * 2.0;
            let e = rng.unit() * 2.0 - 1.0;
            x.push(xi);
            y.push(1.0 + 2.0 * xi + (0.5 + xi) * e);
        }
        let w = vec![1.0; n];
        let d = Design {
            p: 1,
            x: &x,
            y: &y,
            w: &w,
        };
        let rows: Vec<usize> = (0..n).collect();
        let q = estimate(&d, &rows, Method::Quantile(0.25), &[0.0]).unwrap();
        // Standard errors are about 0.015 at this size: within four of them.
        assert!((q.intercept - 0.75).abs() < 0.06, "{q:?}");
        assert!((q.coef[0] - 1.5).abs() < 0.06, "{q:?}");
        let se = q.se[0].unwrap();
        assert!(se > 0.001 && se < 0.03, "{se}");
        // Least squares estimates the mean, 1 + 2x: the quantile fit is not that.
        let m = estimate(&d, &rows, Method::Wls, &[0.0]).unwrap();
        assert!((m.coef[0] - 2.0).abs() < 0.03, "{m:?}");
        assert!((m.coef[0] - q.coef[0]).abs() > 0.3);
    }

    #[test]
    fn weighted_median_of_a_small_table() {
        // Intercept only, τ = 0.5: the weighted median. Values 1..5 with weights
        // 1,1,1,1,5: half the weight (4.5 of 9) lies below 5, so the median is 5.
        let y = [1.0, 2.0, 3.0, 4.0, 5.0];
        let w = [1.0, 1.0, 1.0, 1.0, 5.0];
        let x = [0.0; 5];
        let d = Design {
            p: 1,
            x: &x,
            y: &y,
            w: &w,
        };
        let q = estimate(&d, &[0, 1, 2, 3, 4], Method::Quantile(0.5), &[0.0]).unwrap();
        assert!((q.intercept - 5.0).abs() < 1e-4, "{q:?}");
        assert_eq!(q.zero_variance, vec![0]);
        // Unweighted, the median is 3.
        let d2 = Design {
            p: 1,
            x: &x,
            y: &y,
            w: &[1.0; 5],
        };
        let u2 = estimate(&d2, &[0, 1, 2, 3, 4], Method::Quantile(0.5), &[0.0]).unwrap();
        assert!((u2.intercept - 3.0).abs() < 1e-4, "{u2:?}");
    }

    #[test]
    fn collinear_and_constant_variables_are_named_and_keep_the_prior() {
        // x2 = 2·x1 exactly, x3 constant.
        let mut rng = Rng::new(5);
        let n = 500;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let a = rng.unit();
            let b = rng.unit();
            x.extend_from_slice(&[a, 2.0 * a, 1.0, b]);
            y.push(0.5 + 1.0 * a + 0.3 * b + 0.01 * rng.normalish());
        }
        let w = vec![1.0; n];
        let d = Design {
            p: 4,
            x: &x,
            y: &y,
            w: &w,
        };
        let rows: Vec<usize> = (0..n).collect();
        let prior = [0.0, 0.0, 0.2, 0.0];
        let e = estimate(&d, &rows, Method::Wls, &prior).unwrap();
        assert_eq!(e.zero_variance, vec![2]);
        assert_eq!(e.collinear, vec![1]);
        assert_eq!(e.coef[1], 0.0);
        assert_eq!(e.coef[2], 0.2);
        assert!(e.se[1].is_none() && e.se[2].is_none());
        // The constant's prior contribution (0.2) comes off the intercept.
        assert!((e.intercept - 0.3).abs() < 0.01, "{e:?}");
        assert!((e.coef[0] - 1.0).abs() < 0.01 && (e.coef[3] - 0.3).abs() < 0.01);
    }
}
