//! The linkage engine: blocking, comparison, EM, scoring, decisions and the
//! one-to-one assignment, generic over the two sides' record types.
//!
//! 1. **Blocking.** Each rule gives every record a key (a hash; 0 = no key). A pair is
//!    compared when the two agree on some rule's key; a pair that an earlier rule
//!    already produced is not produced again, so every pair is compared once. The
//!    left side is indexed per rule (records sorted by key, and a map from each key to
//!    its range); each right record looks its keys up. Blocks larger than [`Settings::max_block`] are skipped
//!    and counted.
//! 2. **Comparison.** The spec's `compare` writes one level per comparison; the levels
//!    are packed into a [`Pattern`].
//! 3. **EM** over the pattern counts ([`Model::estimate`]).
//! 4. **Scoring.** The match weight of the pattern, plus a term-frequency adjustment
//!    when the names agree exactly: `log2(ū / tf)`, where `tf` is the share of records
//!    carrying that name and `ū` the chance that two random records share a name, so
//!    that a common name (Siti, Muhammad, Nur) counts for less than a rare one.
//! 5. **Deterministic links first:** a pair the spec calls deterministic (for people:
//!    the same NIK, with name and birth date agreeing) is a match with probability 1.
//! 6. **Decisions** by thresholds on the probability, then **one-to-one**: pairs in
//!    order of strength, each left group and each right record used at most once.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;

use super::model::{Comparison, Model, Pattern, pack, probability, unpack};

/// The most levels one spec may have.
pub const MAX_COMPARISONS: usize = 8;

/// What a run decides about a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Match,
    Possible,
    Nonmatch,
}

impl Decision {
    pub fn name(self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::Possible => "possible",
            Decision::Nonmatch => "nonmatch",
        }
    }
}

/// The thresholds and limits of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// A pair at or above this probability is a `match`.
    pub match_threshold: f64,
    /// A pair at or above this probability (and below the match threshold) is
    /// `possible`: a person should look.
    pub possible_threshold: f64,
    /// Blocks with more left records than this are skipped (and counted).
    pub max_block: usize,
    /// EM iterations at most.
    pub max_iter: u32,
    /// Apply the term-frequency adjustment to exact name agreement.
    pub term_frequency: bool,
    /// Threads comparing pairs (0: as many as the machine has).
    pub threads: usize,
    /// Random pairs compared to estimate u.
    pub u_samples: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            match_threshold: DEFAULT_MATCH_THRESHOLD,
            possible_threshold: DEFAULT_POSSIBLE_THRESHOLD,
            max_block: 5_000,
            max_iter: 200,
            term_frequency: true,
            threads: 0,
            u_samples: 300_000,
        }
    }
}

/// Default probability for `match`.
pub const DEFAULT_MATCH_THRESHOLD: f64 = 0.99;
/// Default probability for `possible`.
pub const DEFAULT_POSSIBLE_THRESHOLD: f64 = 0.5;

/// How to link two record types: the blocking rules, the comparisons and the
/// deterministic rule.
pub struct Spec<L, R> {
    pub comparisons: &'static [Comparison],
    /// Names of the blocking rules, in order.
    pub rules: &'static [&'static str],
    /// The key of a left record under rule `r` (0: none).
    pub left_key: fn(&L, usize) -> u64,
    pub right_key: fn(&R, usize) -> u64,
    /// Writes one level per comparison.
    pub compare: fn(&L, &R, &mut [u8]),
    /// A pair that is a match whatever the model says.
    pub deterministic: fn(&[u8]) -> bool,
    /// The comparison whose exact level (its last) gets the term-frequency adjustment.
    pub tf_comparison: Option<usize>,
    pub left_name: fn(&L) -> &str,
    pub right_name: fn(&R) -> &str,
    /// Linking a set with itself: only pairs `left < right` are compared, and
    /// `skip_self` can exclude more (the same family, the same NIK).
    pub self_link: bool,
    /// m fixed in advance, with the share of records expected to have a match, instead
    /// of EM: for a register with itself, where true duplicates are too few for EM to
    /// learn from.
    pub fixed_m: Option<(&'static [&'static [f64]], f64)>,
}

/// A hash of the parts of a blocking key, never 0.
pub fn key_of(parts: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish().max(1)
}

/// Each blocking key's range in a rule's sorted records.
type KeyRanges = HashMap<u64, (u32, u32), BuildIdentity>;

/// A hasher for keys that are hashes already.
#[derive(Clone, Copy, Default)]
struct BuildIdentity;

struct Identity(u64);

impl std::hash::BuildHasher for BuildIdentity {
    type Hasher = Identity;
    fn build_hasher(&self) -> Identity {
        Identity(0)
    }
}

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A compared pair.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    left: u32,
    right: u32,
    pattern: Pattern,
}

/// A scored pair, as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Link {
    pub left: u32,
    pub right: u32,
    pub decision: Decision,
    pub probability: f64,
    /// The total match weight (log2 odds): prior + comparisons + term frequency.
    pub weight: f64,
    pub levels: Vec<u8>,
    /// The term-frequency adjustment included in `weight`.
    pub tf_adjustment: f64,
    pub deterministic: bool,
}

/// What a run gives.
#[derive(Clone, Debug)]
pub struct Linkage {
    pub model: Model,
    pub comparisons: &'static [Comparison],
    /// Pairs compared, in all.
    pub pairs_compared: u64,
    /// Pairs each blocking rule produced (new pairs only), with the rule's name.
    pub pairs_by_rule: Vec<(&'static str, u64)>,
    /// Blocks skipped for their size.
    pub blocks_skipped: u64,
    /// The links kept: `match` and `possible`, at most one per left group and one per
    /// right record (or every pair above the possible threshold when not one-to-one).
    pub links: Vec<Link>,
    /// For each right record without a link, its strongest compared pair (a
    /// `nonmatch`), if any.
    pub best_nonmatch: Vec<Option<Link>>,
    /// Seconds spent per stage (blocking and comparison, EM, u, scoring, assignment).
    pub timings: Vec<(&'static str, f64)>,
}

impl Linkage {
    /// The weight of each comparison of a link, by name (with the prior and the
    /// term-frequency adjustment), for a reviewer.
    pub fn explain(&self, link: &Link) -> Vec<(&'static str, f64)> {
        let mut out = vec![("prior", self.model.prior_weight())];
        for (k, c) in self.comparisons.iter().enumerate() {
            out.push((c.name, self.model.weight(k, link.levels[k])));
        }
        if link.tf_adjustment != 0.0 {
            out.push(("tf_nama", link.tf_adjustment));
        }
        out
    }
}

/// Runs a linkage. `group` gives each left record its group for the one-to-one rule
/// (a member's own index, or its family's); `None` keeps every pair above the
/// possible threshold (deduplication). `skip` excludes pairs before comparison.
pub fn link<L: Sync, R: Sync>(
    spec: &Spec<L, R>,
    left: &[L],
    right: &[R],
    group: Option<&[u32]>,
    skip: &(dyn Fn(u32, u32) -> bool + Sync),
    settings: &Settings,
) -> Linkage {
    let nrules = spec.rules.len();
    let clock = std::time::Instant::now();
    let mut timings: Vec<(&'static str, f64)> = Vec::new();
    let mut lap = |name: &'static str| {
        timings.push((name, clock.elapsed().as_secs_f64()));
    };
    // Keys per record and rule.
    let lkeys: Vec<u64> = left
        .iter()
        .flat_map(|l| (0..nrules).map(move |r| (spec.left_key)(l, r)))
        .collect();
    let rkeys: Vec<u64> = if spec.self_link {
        lkeys.clone()
    } else {
        right
            .iter()
            .flat_map(|x| (0..nrules).map(move |r| (spec.right_key)(x, r)))
            .collect()
    };
    // Index per rule: the left records sorted by key, and each key's range in it (the
    // keys are hashes already, so the map hashes nothing again).
    let index: Vec<(Vec<u32>, KeyRanges)> = (0..nrules)
        .map(|r| {
            let mut v: Vec<(u64, u32)> = (0..left.len())
                .filter_map(|i| {
                    let k = lkeys[i * nrules + r];
                    (k != 0).then_some((k, i as u32))
                })
                .collect();
            v.sort_unstable();
            let mut ranges = KeyRanges::with_capacity_and_hasher(v.len(), BuildIdentity);
            let mut start = 0;
            while start < v.len() {
                let k = v[start].0;
                let mut end = start + 1;
                while end < v.len() && v[end].0 == k {
                    end += 1;
                }
                ranges.insert(k, (start as u32, end as u32));
                start = end;
            }
            (v.into_iter().map(|(_, i)| i).collect(), ranges)
        })
        .collect();

    let threads = if settings.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        settings.threads
    }
    .clamp(1, 64);
    let chunk = right.len().div_ceil(threads).max(1);
    struct Part {
        pairs: Vec<Candidate>,
        by_rule: Vec<u64>,
        skipped: u64,
    }
    let parts: Vec<Part> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..right.len())
            .step_by(chunk)
            .map(|start| {
                let (lkeys, rkeys, index) = (&lkeys, &rkeys, &index);
                s.spawn(move || {
                    let end = (start + chunk).min(right.len());
                    let mut part = Part {
                        pairs: Vec::new(),
                        by_rule: vec![0; nrules],
                        skipped: 0,
                    };
                    let mut levels = [0u8; MAX_COMPARISONS];
                    let nc = spec.comparisons.len();
                    for j in start..end {
                        let rk = &rkeys[j * nrules..(j + 1) * nrules];
                        for r in 0..nrules {
                            let k = rk[r];
                            if k == 0 {
                                continue;
                            }
                            let (ix, ranges) = &index[r];
                            let Some(&(lo, hi)) = ranges.get(&k) else {
                                continue;
                            };
                            let (lo, hi) = (lo as usize, hi as usize);
                            if hi - lo > settings.max_block {
                                part.skipped += 1;
                                continue;
                            }
                            for &i in &ix[lo..hi] {
                                if spec.self_link && i as usize >= j {
                                    continue;
                                }
                                let lk = &lkeys[i as usize * nrules..(i as usize + 1) * nrules];
                                if (0..r).any(|q| lk[q] != 0 && lk[q] == rk[q]) {
                                    continue;
                                }
                                if skip(i, j as u32) {
                                    continue;
                                }
                                (spec.compare)(&left[i as usize], &right[j], &mut levels[..nc]);
                                part.by_rule[r] += 1;
                                part.pairs.push(Candidate {
                                    left: i,
                                    right: j as u32,
                                    pattern: pack(spec.comparisons, &levels[..nc]),
                                });
                            }
                        }
                    }
                    part
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a comparison thread panicked"))
            .collect()
    });
    let mut pairs: Vec<Candidate> = Vec::with_capacity(parts.iter().map(|p| p.pairs.len()).sum());
    let mut by_rule = vec![0u64; nrules];
    let mut blocks_skipped = 0;
    for p in parts {
        pairs.extend_from_slice(&p.pairs);
        for (a, b) in by_rule.iter_mut().zip(&p.by_rule) {
            *a += b;
        }
        blocks_skipped += p.skipped;
    }

    lap("compare");
    // EM over the pattern counts.
    let mut counts: HashMap<Pattern, u64> = HashMap::new();
    for c in &pairs {
        *counts.entry(c.pattern).or_insert(0) += 1;
    }
    let em = if spec.fixed_m.is_some() {
        Model::initial(spec.comparisons)
    } else {
        Model::estimate(Model::initial(spec.comparisons), &counts, settings.max_iter)
    };
    // u from random pairs: blocking makes the compared non-matches agree more often than
    // non-matches do (same district, same birth year), so EM's u among the compared
    // pairs is not the u of a non-match. The prior is the expected number of matches
    // (λ of the compared pairs times their number) over all pairs.
    let all_pairs = if spec.self_link {
        (left.len() as f64) * (left.len() as f64 - 1.0) / 2.0
    } else {
        left.len() as f64 * right.len() as f64
    };
    lap("em");
    let u = random_u(spec, left, right, settings.u_samples, threads);
    lap("u");
    let model = match spec.fixed_m {
        None => Model {
            u,
            lambda: (em.lambda * pairs.len() as f64 / all_pairs.max(1.0)).clamp(1e-12, 0.5),
            ..em
        },
        Some((m, share)) => Model {
            m: m.iter().map(|v| v.to_vec()).collect(),
            u,
            lambda: (share * left.len() as f64 / all_pairs.max(1.0)).clamp(1e-12, 0.5),
            comparisons: spec.comparisons.to_vec(),
            iterations: 0,
        },
    };
    let table: HashMap<Pattern, (f64, Vec<u8>, bool)> = counts
        .keys()
        .map(|&p| {
            let levels = unpack(spec.comparisons, p);
            let det = (spec.deterministic)(&levels);
            (p, (model.match_weight(&levels), levels, det))
        })
        .collect();

    // Term frequencies of names over both sides.
    let tf = settings
        .term_frequency
        .then_some(spec.tf_comparison)
        .flatten()
        .map(|k| NameFrequency::new(spec, left, right, k));

    // Score, decide.
    let mut scored: Vec<Link> = Vec::new();
    let mut best: Vec<Option<(f64, usize)>> = vec![None; right.len()];
    let mut weak: Vec<Link> = Vec::new();
    for c in &pairs {
        let (w, levels, det) = &table[&c.pattern];
        let tf_adj = match &tf {
            Some(tf)
                if levels[tf.comparison] as usize + 1 == spec.comparisons[tf.comparison].levels =>
            {
                tf.adjustment(c.left, c.right)
            }
            _ => 0.0,
        };
        let weight = w + tf_adj;
        let p = if *det { 1.0 } else { probability(weight) };
        let decision = if *det || p >= settings.match_threshold {
            Decision::Match
        } else if p >= settings.possible_threshold {
            Decision::Possible
        } else {
            Decision::Nonmatch
        };
        let link = Link {
            left: c.left,
            right: c.right,
            decision,
            probability: p,
            weight,
            levels: levels.clone(),
            tf_adjustment: tf_adj,
            deterministic: *det,
        };
        if decision == Decision::Nonmatch {
            let slot = &mut best[c.right as usize];
            if slot.is_none_or(|(bp, _)| weight > bp) {
                *slot = Some((weight, weak.len()));
                weak.push(link);
            }
        } else {
            scored.push(link);
        }
    }
    lap("score");
    scored.sort_by(|a, b| {
        b.deterministic
            .cmp(&a.deterministic)
            .then(b.probability.total_cmp(&a.probability))
            .then(b.weight.total_cmp(&a.weight))
            .then(a.left.cmp(&b.left))
            .then(a.right.cmp(&b.right))
    });
    let links: Vec<Link> = match group {
        None => scored,
        Some(group) => {
            let groups = group.iter().copied().max().map_or(0, |g| g as usize + 1);
            let mut used_left = vec![false; groups];
            let mut used_right = vec![false; right.len()];
            scored
                .into_iter()
                .filter(|l| {
                    let g = group[l.left as usize] as usize;
                    if used_left[g] || used_right[l.right as usize] {
                        return false;
                    }
                    used_left[g] = true;
                    used_right[l.right as usize] = true;
                    true
                })
                .collect()
        }
    };
    let mut linked = vec![false; right.len()];
    for l in &links {
        linked[l.right as usize] = true;
    }
    let best_nonmatch = best
        .into_iter()
        .enumerate()
        .map(|(j, b)| {
            if linked[j] {
                return None;
            }
            b.map(|(_, i)| weak[i].clone())
        })
        .collect();
    lap("assign");
    Linkage {
        timings,
        model,
        comparisons: spec.comparisons,
        pairs_compared: pairs.len() as u64,
        pairs_by_rule: spec.rules.iter().copied().zip(by_rule).collect(),
        blocks_skipped,
        links,
        best_nonmatch,
    }
}

/// u, the level probabilities among non-matches, from up to `samples` random pairs
/// (a random pair is almost never a match), smoothed so that no level is 0.
fn random_u<L: Sync, R: Sync>(
    spec: &Spec<L, R>,
    left: &[L],
    right: &[R],
    samples: usize,
    threads: usize,
) -> Vec<Vec<f64>> {
    let nc = spec.comparisons.len();
    let zero: Vec<Vec<f64>> = spec
        .comparisons
        .iter()
        .map(|c| vec![0.0; c.levels])
        .collect();
    let mut counts = zero.clone();
    if !left.is_empty() && !right.is_empty() {
        let n = samples.min(left.len().saturating_mul(right.len()));
        let per = n.div_ceil(threads);
        let parts: Vec<Vec<Vec<f64>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let mut counts = zero.clone();
                    s.spawn(move || {
                        let mut rng = crate::rng::Rng::stream(0x0070_6164_616e, t as u64);
                        let mut levels = [0u8; MAX_COMPARISONS];
                        for _ in 0..per {
                            let i = rng.below(left.len() as u64) as usize;
                            let j = rng.below(right.len() as u64) as usize;
                            if spec.self_link && i == j {
                                continue;
                            }
                            (spec.compare)(&left[i], &right[j], &mut levels[..nc]);
                            for (k, &l) in levels[..nc].iter().enumerate() {
                                if l != super::compare::MISSING {
                                    counts[k][l as usize] += 1.0;
                                }
                            }
                        }
                        counts
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a sampling thread panicked"))
                .collect()
        });
        for p in parts {
            for (c, q) in counts.iter_mut().zip(p) {
                for (x, y) in c.iter_mut().zip(q) {
                    *x += y;
                }
            }
        }
    }
    counts
        .into_iter()
        .map(|c| {
            let total: f64 = c.iter().sum::<f64>() + 0.5 * c.len() as f64;
            c.iter().map(|x| (x + 0.5) / total).collect()
        })
        .collect()
}

/// How often each name occurs over both sides.
struct NameFrequency {
    comparison: usize,
    /// Count of each left record's name, and each right record's.
    left: Vec<u32>,
    right: Vec<u32>,
    total: f64,
    /// The chance that two random records share a name.
    u_bar: f64,
}

impl NameFrequency {
    fn new<L, R>(spec: &Spec<L, R>, left: &[L], right: &[R], comparison: usize) -> NameFrequency {
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for l in left {
            *counts.entry((spec.left_name)(l)).or_insert(0) += 1;
        }
        if !spec.self_link {
            for r in right {
                *counts.entry((spec.right_name)(r)).or_insert(0) += 1;
            }
        }
        let total: f64 = counts.values().map(|&c| f64::from(c)).sum::<f64>().max(1.0);
        let u_bar = counts
            .values()
            .map(|&c| (f64::from(c) / total).powi(2))
            .sum::<f64>();
        let lc: Vec<u32> = left.iter().map(|l| counts[(spec.left_name)(l)]).collect();
        let rc: Vec<u32> = if spec.self_link {
            lc.clone()
        } else {
            right.iter().map(|r| counts[(spec.right_name)(r)]).collect()
        };
        NameFrequency {
            comparison,
            left: lc,
            right: rc,
            total,
            u_bar,
        }
    }

    /// `log2(ū / tf)` for an exact name agreement, within ±6.
    fn adjustment(&self, left: u32, right: u32) -> f64 {
        let c = self.left[left as usize].max(self.right[right as usize]);
        let tf = f64::from(c) / self.total;
        if tf <= 0.0 || self.u_bar <= 0.0 {
            return 0.0;
        }
        (self.u_bar / tf).log2().clamp(-6.0, 6.0)
    }
}
