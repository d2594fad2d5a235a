//! Targeting accuracy of a ranking model on a survey: the surveyed households ranked
//! by the model's prediction and by the truth (measured per-capita expenditure),
//! person-weighted with the survey weights; inclusion error (both definitions),
//! exclusion error and total misclassification at each desil cut-off, nationally,
//! per province and per urban/rural. Definitions: docs/scoring.md.

use std::collections::BTreeMap;

use serde::Serialize;

/// One surveyed household as the evaluation sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Obs {
    /// Log measured per-capita expenditure.
    pub truth: f64,
    pub weight: f64,
    pub members: u32,
    /// Two-digit province code.
    pub province: String,
    pub urban: Option<bool>,
}

/// The four weighted cells of a cut-off's table (survey weights: households).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Cells {
    /// Poor (true desil ≤ cut-off) and selected (predicted desil ≤ cut-off).
    pub poor_selected: f64,
    pub poor_missed: f64,
    pub nonpoor_selected: f64,
    pub nonpoor_excluded: f64,
    /// Surveyed households (unweighted).
    pub n: u64,
}

/// The error rates of one table.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Errors {
    pub cells: Cells,
    /// Non-poor households that are selected, as a share of the non-poor (Alatas et al. 2012).
    pub inclusion_error_of_nonpoor: Option<f64>,
    /// Selected households that are not poor, as a share of the selected (World Bank;
    /// Brown, Ravallion and van de Walle 2018).
    pub inclusion_error_of_selected: Option<f64>,
    /// Poor households not selected, as a share of the poor.
    pub exclusion_error: Option<f64>,
    /// Wrongly selected plus wrongly left out, as a share of all households.
    pub misclassification: Option<f64>,
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

impl Cells {
    pub fn errors(self) -> Errors {
        let poor = self.poor_selected + self.poor_missed;
        let nonpoor = self.nonpoor_selected + self.nonpoor_excluded;
        let selected = self.poor_selected + self.nonpoor_selected;
        Errors {
            cells: self,
            inclusion_error_of_nonpoor: ratio(self.nonpoor_selected, nonpoor),
            inclusion_error_of_selected: ratio(self.nonpoor_selected, selected),
            exclusion_error: ratio(self.poor_missed, poor),
            misclassification: ratio(self.nonpoor_selected + self.poor_missed, poor + nonpoor),
        }
    }

    fn add(&mut self, poor: bool, selected: bool, w: f64) {
        self.n += 1;
        match (poor, selected) {
            (true, true) => self.poor_selected += w,
            (true, false) => self.poor_missed += w,
            (false, true) => self.nonpoor_selected += w,
            (false, false) => self.nonpoor_excluded += w,
        }
    }
}

/// The tables of one model at one cut-off.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CutoffErrors {
    pub national: Errors,
    pub by_province: BTreeMap<String, Errors>,
    /// `urban`, `rural`.
    pub by_area: BTreeMap<String, Errors>,
}

/// The person-weighted quantile `q` of `(value, weight)`: the first value (in
/// ascending order) at which the cumulative weight reaches `q` of the total.
pub fn weighted_quantile(sorted: &[(f64, f64)], total: f64, q: f64) -> f64 {
    let mut cumulative = 0.0;
    for &(v, w) in sorted {
        cumulative += w;
        if cumulative >= q * total * (1.0 - 1e-12) {
            return v;
        }
    }
    sorted.last().map_or(f64::NAN, |v| v.0)
}

fn sorted_person_weighted(obs: &[Obs], values: &[f64]) -> (Vec<(f64, f64)>, f64) {
    let mut v: Vec<(f64, f64)> = obs
        .iter()
        .zip(values)
        .map(|(o, &x)| (x, o.weight * f64::from(o.members)))
        .collect();
    v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let total = v.iter().map(|x| x.1).sum();
    (v, total)
}

/// The errors at cut-off `desil` (1–9) of a model whose predictions (log per-capita
/// expenditure) are `pred`: poor are households whose measured expenditure is in the
/// lowest `desil` tenths of persons, selected those whose prediction is.
pub fn errors_at(obs: &[Obs], pred: &[f64], desil: u8) -> CutoffErrors {
    let q = f64::from(desil) / 10.0;
    let truth: Vec<f64> = obs.iter().map(|o| o.truth).collect();
    let (ts, tt) = sorted_person_weighted(obs, &truth);
    let (ps, pt) = sorted_person_weighted(obs, pred);
    let poor_line = weighted_quantile(&ts, tt, q);
    let select_line = weighted_quantile(&ps, pt, q);
    let mut national = Cells::default();
    let mut by_province: BTreeMap<String, Cells> = BTreeMap::new();
    let mut by_area: BTreeMap<String, Cells> = BTreeMap::new();
    for (o, &p) in obs.iter().zip(pred) {
        let poor = o.truth <= poor_line;
        let selected = p <= select_line;
        national.add(poor, selected, o.weight);
        by_province
            .entry(o.province.clone())
            .or_default()
            .add(poor, selected, o.weight);
        if let Some(u) = o.urban {
            let key = if u { "urban" } else { "rural" };
            by_area
                .entry(key.into())
                .or_default()
                .add(poor, selected, o.weight);
        }
    }
    CutoffErrors {
        national: national.errors(),
        by_province: by_province
            .into_iter()
            .map(|(k, c)| (k, c.errors()))
            .collect(),
        by_area: by_area.into_iter().map(|(k, c)| (k, c.errors())).collect(),
    }
}

/// The targeting curve: households ordered by prediction, poorest first; at each
/// coverage (share of households, weighted) the share of the poor (true desil ≤
/// `desil`) covered. `points + 1` points from 0 to 1.
pub fn targeting_curve(obs: &[Obs], pred: &[f64], desil: u8, points: usize) -> Vec<(f64, f64)> {
    let truth: Vec<f64> = obs.iter().map(|o| o.truth).collect();
    let (ts, tt) = sorted_person_weighted(obs, &truth);
    let poor_line = weighted_quantile(&ts, tt, f64::from(desil) / 10.0);
    let mut order: Vec<usize> = (0..obs.len()).collect();
    order.sort_unstable_by(|&a, &b| pred[a].total_cmp(&pred[b]));
    let total: f64 = obs.iter().map(|o| o.weight).sum();
    let poor_total: f64 = obs
        .iter()
        .filter(|o| o.truth <= poor_line)
        .map(|o| o.weight)
        .sum();
    let mut out = vec![(0.0, 0.0)];
    if total <= 0.0 || poor_total <= 0.0 {
        return out;
    }
    let (mut cw, mut cp) = (0.0, 0.0);
    let mut next = 1;
    for i in order {
        cw += obs[i].weight;
        if obs[i].truth <= poor_line {
            cp += obs[i].weight;
        }
        while next <= points && cw >= total * next as f64 / points as f64 * (1.0 - 1e-12) {
            out.push((next as f64 / points as f64, cp / poor_total));
            next += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(truth: f64, weight: f64) -> Obs {
        Obs {
            truth,
            weight,
            members: 1,
            province: "11".into(),
            urban: Some(truth > 5.0),
        }
    }

    #[test]
    fn error_rates_match_a_hand_computation() {
        // Ten households of one person each, weight 1 except the last (weight 2 ⇒
        // 11 persons). Truth 1..10; the cut-off desil 4 takes the lowest 40 % of
        // persons: cumulative weight reaches 4.4 at truth 5, so the poor are truth 1–5.
        let o: Vec<Obs> = (1..=10)
            .map(|t| obs(f64::from(t), if t == 10 { 2.0 } else { 1.0 }))
            .collect();
        // The model's order swaps households 2 and 9 and 5 and 6: it selects the
        // households with the five lowest predictions, 1, 9, 3, 4, 6.
        let pred = [1.0, 9.0, 3.0, 4.0, 6.0, 5.0, 7.0, 8.0, 2.0, 10.0];
        let e = errors_at(&o, &pred, 4);
        let c = e.national.cells;
        // Poor: 1,2,3,4,5 (weight 5). Selected: 1,3,4,6,9.
        assert_eq!(c.poor_selected, 3.0); // 1, 3, 4
        assert_eq!(c.poor_missed, 2.0); // 2, 5
        assert_eq!(c.nonpoor_selected, 2.0); // 6, 9
        assert_eq!(c.nonpoor_excluded, 4.0); // 7, 8, 10 (weight 2)
        let n = e.national;
        assert_eq!(n.exclusion_error, Some(2.0 / 5.0));
        assert_eq!(n.inclusion_error_of_nonpoor, Some(2.0 / 6.0));
        assert_eq!(n.inclusion_error_of_selected, Some(2.0 / 5.0));
        assert_eq!(n.misclassification, Some(4.0 / 11.0));
        // Urban (truth > 5): households 6–10; of them 6 and 9 are selected, none poor.
        let u = e.by_area["urban"].cells;
        assert_eq!((u.nonpoor_selected, u.poor_selected, u.n), (2.0, 0.0, 5));
        // A perfect ranking has no error.
        let truth: Vec<f64> = o.iter().map(|o| o.truth).collect();
        let p = errors_at(&o, &truth, 4).national;
        assert_eq!(p.exclusion_error, Some(0.0));
        assert_eq!(p.misclassification, Some(0.0));
    }

    #[test]
    fn targeting_curve_of_a_perfect_and_a_reversed_ranking() {
        let o: Vec<Obs> = (1..=10).map(|t| obs(f64::from(t), 1.0)).collect();
        let truth: Vec<f64> = o.iter().map(|o| o.truth).collect();
        let perfect = targeting_curve(&o, &truth, 4, 10);
        assert_eq!(perfect[4], (0.4, 1.0));
        let reversed: Vec<f64> = truth.iter().map(|t| -t).collect();
        let r = targeting_curve(&o, &reversed, 4, 10);
        assert_eq!(r[6], (0.6, 0.0));
        assert_eq!(r[10], (1.0, 1.0));
    }
}
