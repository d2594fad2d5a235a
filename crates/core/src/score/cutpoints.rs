//! Person-weighted desil cut points (BPS counts deciles of persons, not families).
//!
//! Every active member carries the family's predicted per-capita value. Sorting the
//! families by value and accumulating their member counts gives the person
//! distribution; the k-th cut point is the value of the first family at which the
//! cumulative persons reach k/10 of all persons. A family is never split, so a desil
//! holds a tenth of the persons to within one family (plus any families tied at the
//! cut point's value). The computation is exact: integer weights, no interpolation.

use super::model::CUTS;

/// Exact person-weighted cut points of `(per_capita, persons)` pairs. Sorts `values`
/// in place. `None` when there are no persons or a value is not finite.
pub fn person_cut_points(values: &mut [(f64, u32)]) -> Option<[f64; CUTS]> {
    if values.iter().any(|(v, _)| !v.is_finite()) {
        return None;
    }
    let total: u64 = values.iter().map(|&(_, w)| u64::from(w)).sum();
    if total == 0 {
        return None;
    }
    values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut cuts = [0.0; CUTS];
    let mut k = 1u64;
    let mut cumulative = 0u64;
    for &(v, w) in values.iter() {
        cumulative += u64::from(w);
        while k <= CUTS as u64 && cumulative * 10 >= k * total {
            cuts[(k - 1) as usize] = v;
            k += 1;
        }
        if k > CUTS as u64 {
            break;
        }
    }
    Some(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::model::desil_of;

    #[test]
    fn ten_equal_families_give_one_family_per_desil() {
        let mut v: Vec<(f64, u32)> = (1..=10).rev().map(|i| (f64::from(i) * 100.0, 4)).collect();
        let cuts = person_cut_points(&mut v).unwrap();
        assert_eq!(
            cuts,
            [
                100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0
            ]
        );
        assert_eq!(desil_of(&cuts, 100.0), 1);
        assert_eq!(desil_of(&cuts, 150.0), 2);
        assert_eq!(desil_of(&cuts, 1000.0), 10);
    }

    #[test]
    fn deciles_count_persons_not_families() {
        // One poor family of 10 persons and ten richer singles: 20 persons. The big
        // family alone is half the population, so it spans desil 1–5.
        let mut v = vec![(50.0, 10)];
        v.extend((1..=10).map(|i| (100.0 + f64::from(i), 1)));
        let cuts = person_cut_points(&mut v).unwrap();
        assert_eq!(&cuts[..5], &[50.0; 5]);
        assert_eq!(cuts[5], 102.0);
        assert_eq!(cuts[8], 108.0);
        let persons_in = |d: u8| -> u32 {
            v.iter()
                .filter(|(x, _)| desil_of(&cuts, *x) == d)
                .map(|(_, w)| w)
                .sum()
        };
        assert_eq!(persons_in(1), 10);
        for d in 6..=10 {
            assert_eq!(persons_in(d), 2, "desil {d}");
        }
    }

    #[test]
    fn empty_or_non_finite_input_gives_none() {
        assert_eq!(person_cut_points(&mut []), None);
        assert_eq!(person_cut_points(&mut [(1.0, 0)]), None);
        assert_eq!(person_cut_points(&mut [(f64::NAN, 3)]), None);
    }
}
