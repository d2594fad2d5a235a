//! The Fellegi–Sunter model: for each comparison, the probability of each agreement
//! level among true matches (m) and among non-matches (u), and the share of matches
//! among the compared pairs (λ). [`Model::estimate`] finds them by
//! expectation–maximisation from the comparison vectors alone (no labels).
//!
//! A comparison vector is packed into one `u32` ([`Pattern`]): the pairs of a run
//! collapse to a few hundred distinct patterns with their counts, so EM runs over the
//! counts and costs nothing next to the comparisons themselves.

use std::collections::HashMap;

use serde::Serialize;

use super::compare::MISSING;

/// One comparison of a model: its name (the field's name in the extract) and its
/// number of levels (0 = "else" … last = exact).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub name: &'static str,
    pub levels: usize,
}

/// A packed comparison vector: comparison `k` takes `(levels + 1)` values, the last
/// being "missing".
pub type Pattern = u32;

/// Packs levels into a [`Pattern`].
pub fn pack(comparisons: &[Comparison], levels: &[u8]) -> Pattern {
    let mut p: u32 = 0;
    for (c, &l) in comparisons.iter().zip(levels).rev() {
        let v = if l == MISSING {
            c.levels as u32
        } else {
            u32::from(l).min(c.levels as u32 - 1)
        };
        p = p * (c.levels as u32 + 1) + v;
    }
    p
}

/// Unpacks a [`Pattern`]; a missing value is [`MISSING`].
pub fn unpack(comparisons: &[Comparison], mut p: Pattern) -> Vec<u8> {
    comparisons
        .iter()
        .map(|c| {
            let radix = c.levels as u32 + 1;
            let v = p % radix;
            p /= radix;
            if v == c.levels as u32 {
                MISSING
            } else {
                v as u8
            }
        })
        .collect()
}

/// The estimated model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Model {
    pub comparisons: Vec<Comparison>,
    /// `m[k][level]`: P(level | match).
    pub m: Vec<Vec<f64>>,
    /// `u[k][level]`: P(level | non-match).
    pub u: Vec<Vec<f64>>,
    /// P(match) among the compared pairs.
    pub lambda: f64,
    /// EM iterations run.
    pub iterations: u32,
}

/// Probabilities are kept inside `[FLOOR, 1 - FLOOR]`, so no weight is infinite.
const FLOOR: f64 = 1e-6;

impl Model {
    /// The starting point of EM: matches agree, non-matches mostly do not.
    pub fn initial(comparisons: &[Comparison]) -> Model {
        let m = comparisons
            .iter()
            .map(|c| {
                let n = c.levels;
                (0..n)
                    .map(|l| {
                        if l + 1 == n {
                            0.9
                        } else {
                            0.1 / (n - 1) as f64
                        }
                    })
                    .collect()
            })
            .collect();
        let u = comparisons
            .iter()
            .map(|c| {
                let n = c.levels;
                (0..n)
                    .map(|l| if l == 0 { 0.9 } else { 0.1 / (n - 1) as f64 })
                    .collect()
            })
            .collect();
        Model {
            comparisons: comparisons.to_vec(),
            m,
            u,
            lambda: 0.3,
            iterations: 0,
        }
    }

    /// Estimates m, u and λ by EM over pattern counts, from `start`, until no
    /// probability moves by more than `1e-7` or after `max_iter` iterations.
    pub fn estimate(start: Model, counts: &HashMap<Pattern, u64>, max_iter: u32) -> Model {
        let mut model = start;
        let k = model.comparisons.len();
        let patterns: Vec<(Vec<u8>, f64)> = counts
            .iter()
            .map(|(&p, &n)| (unpack(&model.comparisons, p), n as f64))
            .collect();
        if patterns.is_empty() {
            return model;
        }
        for it in 1..=max_iter {
            let mut m_acc: Vec<Vec<f64>> = model.m.iter().map(|v| vec![0.0; v.len()]).collect();
            let mut u_acc = m_acc.clone();
            let (mut matches, mut total) = (0.0, 0.0);
            for (levels, n) in &patterns {
                let p = model.posterior(levels);
                matches += p * n;
                total += n;
                for j in 0..k {
                    let l = levels[j];
                    if l != MISSING {
                        m_acc[j][l as usize] += p * n;
                        u_acc[j][l as usize] += (1.0 - p) * n;
                    }
                }
            }
            let norm = |acc: Vec<Vec<f64>>| -> Vec<Vec<f64>> {
                acc.into_iter()
                    .map(|v| {
                        let s: f64 = v.iter().sum();
                        if s <= 0.0 {
                            return vec![1.0 / v.len() as f64; v.len()];
                        }
                        v.iter()
                            .map(|x| (x / s).clamp(FLOOR, 1.0 - FLOOR))
                            .collect()
                    })
                    .collect()
            };
            let m = norm(m_acc);
            let u = norm(u_acc);
            let lambda = (matches / total).clamp(FLOOR, 1.0 - FLOOR);
            let delta = m
                .iter()
                .flatten()
                .zip(model.m.iter().flatten())
                .chain(u.iter().flatten().zip(model.u.iter().flatten()))
                .map(|(a, b)| (a - b).abs())
                .fold((lambda - model.lambda).abs(), f64::max);
            model.m = m;
            model.u = u;
            model.lambda = lambda;
            model.iterations = it;
            if delta < 1e-7 {
                break;
            }
        }
        model
    }

    /// The weight (log2 Bayes factor) of comparison `k` at `level`; 0 when missing.
    pub fn weight(&self, k: usize, level: u8) -> f64 {
        if level == MISSING {
            return 0.0;
        }
        let l = level as usize;
        (self.m[k][l] / self.u[k][l]).log2()
    }

    /// The prior weight: log2 of the prior odds λ / (1 − λ).
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// The match weight of a comparison vector: the prior plus every comparison's.
    pub fn match_weight(&self, levels: &[u8]) -> f64 {
        self.prior_weight()
            + levels
                .iter()
                .enumerate()
                .map(|(k, &l)| self.weight(k, l))
                .sum::<f64>()
    }

    /// P(match | levels) under the model.
    pub fn posterior(&self, levels: &[u8]) -> f64 {
        probability(self.match_weight(levels))
    }
}

/// The probability of a match weight (log2 odds).
pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    const C: &[Comparison] = &[
        Comparison {
            name: "a",
            levels: 3,
        },
        Comparison {
            name: "b",
            levels: 2,
        },
        Comparison {
            name: "c",
            levels: 4,
        },
    ];

    #[test]
    fn patterns_pack_and_unpack() {
        for levels in [
            [0u8, 0, 0],
            [2, 1, 3],
            [MISSING, 0, 2],
            [1, MISSING, MISSING],
        ] {
            assert_eq!(unpack(C, pack(C, &levels)), levels);
        }
    }

    fn draw(rng: &mut Rng, probs: &[f64]) -> u8 {
        let x = rng.unit();
        let mut acc = 0.0;
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if x < acc {
                return i as u8;
            }
        }
        (probs.len() - 1) as u8
    }

    #[test]
    fn em_recovers_m_and_u_of_a_known_mixture() {
        let m = [
            vec![0.05, 0.15, 0.80],
            vec![0.1, 0.9],
            vec![0.02, 0.08, 0.2, 0.7],
        ];
        let u = [
            vec![0.85, 0.1, 0.05],
            vec![0.5, 0.5],
            vec![0.7, 0.2, 0.07, 0.03],
        ];
        let lambda = 0.2;
        let mut rng = Rng::new(7);
        let mut counts: HashMap<Pattern, u64> = HashMap::new();
        for _ in 0..200_000 {
            let is_match = rng.chance(lambda);
            let probs = if is_match { &m } else { &u };
            let levels: Vec<u8> = probs.iter().map(|p| draw(&mut rng, p)).collect();
            *counts.entry(pack(C, &levels)).or_insert(0) += 1;
        }
        let est = Model::estimate(Model::initial(C), &counts, 500);
        assert!((est.lambda - lambda).abs() < 0.01, "λ {}", est.lambda);
        for k in 0..C.len() {
            for l in 0..C[k].levels {
                assert!(
                    (est.m[k][l] - m[k][l]).abs() < 0.02,
                    "m[{k}][{l}] {}",
                    est.m[k][l]
                );
                assert!(
                    (est.u[k][l] - u[k][l]).abs() < 0.02,
                    "u[{k}][{l}] {}",
                    est.u[k][l]
                );
            }
        }
        // The weights point the right way.
        assert!(est.weight(0, 2) > 3.0 && est.weight(0, 0) < -3.0);
    }
}
