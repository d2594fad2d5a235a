//! A small, portable pseudo-random generator: SplitMix64 (Steele, Lea & Flood 2014).
//!
//! **Invariant:** no platform randomness and no platform floating-point functions.
//! Only integer arithmetic and IEEE-754 basic operations (`+ - * /`, exact conversions)
//! are used, so one seed gives the same numbers on every machine and target.

/// SplitMix64: 64 bits of state, one add and a 3-round mix per output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finalizer: a bijective 64-bit mix.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent stream for item `index` of a run seeded with `seed`:
    /// item `i` of a run does not depend on how many numbers item `i - 1` drew.
    pub fn stream(seed: u64, index: u64) -> Rng {
        Rng::new(mix64(seed ^ mix64(index.wrapping_add(GOLDEN))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform in `0..n` without modulo bias (Lemire's multiply-and-reject). `n = 0` gives 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in `lo..=hi` (inclusive); `hi < lo` gives `lo`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo) + 1;
        lo.wrapping_add(self.below(span) as i64)
    }

    /// Uniform in `[0, 1)` with 53 bits: an exact conversion, the same on every target.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items`, uniformly. `None` when empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }

    /// A value from `(value, weight)` pairs with integer weights. `None` when all weights are 0.
    pub fn weighted<T: Copy>(&mut self, table: &[(T, u32)]) -> Option<T> {
        let total: u64 = table.iter().map(|&(_, w)| u64::from(w)).sum();
        if total == 0 {
            return None;
        }
        let mut x = self.below(total);
        for &(v, w) in table {
            if x < u64::from(w) {
                return Some(v);
            }
            x -= u64::from(w);
        }
        None
    }

    /// An approximately normal value (mean 0, sd 1) as the scaled sum of 12 uniforms
    /// (Irwin–Hall), which needs no `ln`/`cos` and so is bit-identical everywhere.
    pub fn normalish(&mut self) -> f64 {
        let mut s = 0.0;
        for _ in 0..12 {
            s += self.unit();
        }
        s - 6.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_outputs() {
        // Reference values of SplitMix64 seeded with 0 (from the public C reference,
        // as used to seed xoshiro): first three outputs.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = Rng::new(7);
        let mut seen = [0u32; 6];
        for _ in 0..6000 {
            let x = r.below(6);
            seen[x as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (850..1150).contains(&n)), "{seen:?}");
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range(5, 5), 5);
        for _ in 0..100 {
            assert!((-3..=3).contains(&r.range(-3, 3)));
        }
    }

    #[test]
    fn weighted_respects_zero_weights_and_proportions() {
        let mut r = Rng::new(1);
        let table = [('a', 0), ('b', 3), ('c', 1)];
        let mut n = [0u32; 3];
        for _ in 0..4000 {
            match r.weighted(&table) {
                Some('b') => n[1] += 1,
                Some('c') => n[2] += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!((2800..3200).contains(&n[1]), "{n:?}");
        assert_eq!(r.weighted(&[('x', 0)]), None);
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..3).map(|_| Rng::stream(42, 9).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::stream(42, 9).next_u64(),
            Rng::stream(42, 10).next_u64()
        );
        assert_ne!(Rng::stream(42, 9).next_u64(), Rng::stream(43, 9).next_u64());
    }

    #[test]
    fn normalish_has_mean_zero_and_unit_spread() {
        let mut r = Rng::new(3);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normalish()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }
}
