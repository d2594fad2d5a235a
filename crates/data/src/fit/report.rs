//! The evaluation report a person reads: one self-contained HTML page with inline
//! SVG charts (no script, no external file), from the same [`Report`] that goes out
//! as JSON.

use std::fmt::Write;

use serde::Serialize;

use super::evaluate::{CutoffErrors, Errors};

/// One variable's coefficient in the model's national group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coefficient {
    pub variable: String,
    pub label_id: String,
    pub label_en: String,
    pub coefficient: f64,
    /// Robust standard error, when the model file carries its fit record.
    pub standard_error: Option<f64>,
}

/// A model's identity in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub version: Option<String>,
    pub official: Option<bool>,
}

/// Errors of the model and the baseline at one cut-off.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CutoffReport {
    pub desil: u8,
    pub model: CutoffErrors,
    pub baseline: CutoffErrors,
}

/// Everything `tepat model evaluate` measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub survey: String,
    pub households: u64,
    pub weighted_households: f64,
    pub bad_lines: u64,
    pub model: ModelInfo,
    pub baseline: ModelInfo,
    /// Weighted R² of log expenditure on the survey, model and baseline.
    pub r2_model: f64,
    pub r2_baseline: f64,
    pub cutoffs: Vec<CutoffReport>,
    /// Share of the poor (true desil ≤ the first cut-off) covered at each coverage.
    pub targeting_curve_desil: u8,
    pub targeting_curve_model: Vec<(f64, f64)>,
    pub targeting_curve_baseline: Vec<(f64, f64)>,
    pub coefficients: Vec<Coefficient>,
    /// The model's fit record, when it has one.
    pub fit: Option<serde_json::Value>,
    /// A sample of (predicted, true) log expenditure for the scatter plot.
    pub scatter: Vec<(f64, f64)>,
}

fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.1}%", v * 100.0))
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "—".into()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn error_cells(out: &mut String, e: &Errors) {
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        pct(e.inclusion_error_of_nonpoor),
        pct(e.inclusion_error_of_selected),
        pct(e.exclusion_error),
        pct(e.misclassification)
    );
}

const HEAD: &str = "<th>Inklusi (% bukan miskin terpilih) / Inclusion (% of non-poor selected)</th><th>Inklusi (% penerima bukan miskin) / Inclusion (% of selected not poor)</th><th>Eksklusi (% miskin tak terpilih) / Exclusion (% of poor left out)</th><th>Salah klasifikasi / Misclassified</th>";

/// Maps data to a plot box of 420×300 with a 40-pixel margin.
struct Axes {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Axes {
    fn px(&self, x: f64) -> f64 {
        40.0 + (x - self.x0) / (self.x1 - self.x0).max(1e-12) * 360.0
    }
    fn py(&self, y: f64) -> f64 {
        260.0 - (y - self.y0) / (self.y1 - self.y0).max(1e-12) * 240.0
    }
    fn frame(&self, out: &mut String, xlabel: &str, ylabel: &str) {
        let _ = write!(
            out,
            "<rect x='40' y='20' width='360' height='240' fill='none' stroke='#888'/>\
             <text x='220' y='292' text-anchor='middle' font-size='12'>{}</text>\
             <text x='12' y='140' text-anchor='middle' font-size='12' transform='rotate(-90 12 140)'>{}</text>\
             <text x='40' y='275' font-size='10'>{:.2}</text><text x='400' y='275' font-size='10' text-anchor='end'>{:.2}</text>\
             <text x='36' y='260' font-size='10' text-anchor='end'>{:.2}</text><text x='36' y='26' font-size='10' text-anchor='end'>{:.2}</text>",
            esc(xlabel),
            esc(ylabel),
            self.x0,
            self.x1,
            self.y0,
            self.y1
        );
    }
}

fn scatter_svg(points: &[(f64, f64)]) -> String {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &(a, b) in points {
        lo = lo.min(a).min(b);
        hi = hi.max(a).max(b);
    }
    if !lo.is_finite() {
        lo = 0.0;
        hi = 1.0;
    }
    let ax = Axes {
        x0: lo,
        x1: hi,
        y0: lo,
        y1: hi,
    };
    let mut s = String::from(
        "<svg xmlns='http://www.w3.org/2000/svg' width='420' height='300' role='img'>",
    );
    ax.frame(
        &mut s,
        "log pengeluaran prediksi / predicted log expenditure",
        "log pengeluaran sebenarnya / true",
    );
    let _ = write!(
        s,
        "<line x1='{:.1}' y1='{:.1}' x2='{:.1}' y2='{:.1}' stroke='#c33' stroke-dasharray='4'/>",
        ax.px(lo),
        ax.py(lo),
        ax.px(hi),
        ax.py(hi)
    );
    for &(p, t) in points {
        let _ = write!(
            s,
            "<circle cx='{:.1}' cy='{:.1}' r='1.3' fill='#2a6' fill-opacity='0.5'/>",
            ax.px(p),
            ax.py(t)
        );
    }
    s.push_str("</svg>");
    s
}

fn curve_svg(model: &[(f64, f64)], baseline: &[(f64, f64)]) -> String {
    let ax = Axes {
        x0: 0.0,
        x1: 1.0,
        y0: 0.0,
        y1: 1.0,
    };
    let mut s = String::from(
        "<svg xmlns='http://www.w3.org/2000/svg' width='420' height='300' role='img'>",
    );
    ax.frame(
        &mut s,
        "cakupan (porsi rumah tangga) / coverage (share of households)",
        "porsi miskin tercakup / share of poor covered",
    );
    let line = |s: &mut String, pts: &[(f64, f64)], color: &str, dash: &str| {
        let d: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", ax.px(x), ax.py(y)))
            .collect();
        let _ = write!(
            s,
            "<polyline fill='none' stroke='{color}' stroke-width='2' stroke-dasharray='{dash}' points='{}'/>",
            d.join(" ")
        );
    };
    line(&mut s, &[(0.0, 0.0), (1.0, 1.0)], "#aaa", "3");
    line(&mut s, baseline, "#c63", "6");
    line(&mut s, model, "#26a", "0");
    s.push_str("<text x='50' y='36' font-size='11' fill='#26a'>model</text><text x='50' y='50' font-size='11' fill='#c63'>pembanding / baseline</text></svg>");
    s
}

fn bar_svg(rows: &[(String, Option<f64>, Option<f64>)]) -> String {
    // Exclusion error per cut-off, model against baseline.
    let h = 30 + rows.len() * 44;
    let mut s =
        format!("<svg xmlns='http://www.w3.org/2000/svg' width='420' height='{h}' role='img'>");
    for (i, (label, m, b)) in rows.iter().enumerate() {
        let y = 10 + i * 44;
        let _ = write!(
            s,
            "<text x='0' y='{}' font-size='11'>{}</text>",
            y + 14,
            esc(label)
        );
        for (k, (v, color)) in [(m, "#26a"), (b, "#c63")].into_iter().enumerate() {
            let w = v.unwrap_or(0.0) * 300.0;
            let yy = y + 18 + k * 12;
            let _ = write!(
                s,
                "<rect x='80' y='{yy}' width='{w:.1}' height='10' fill='{color}'/><text x='{:.1}' y='{}' font-size='10'>{}</text>",
                84.0 + w,
                yy + 9,
                pct(*v)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The report as one HTML page.
pub fn html(r: &Report) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html><html lang='id'><head><meta charset='utf-8'><title>Akurasi penargetan / Targeting accuracy — {}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 7px;text-align:right}}\
         th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}.charts{{display:flex;flex-wrap:wrap;gap:1em}}</style></head><body>",
        esc(&r.model.name)
    );
    let _ = write!(
        o,
        "<h1>Akurasi penargetan model pemeringkatan / Ranking model targeting accuracy</h1>\
         <p>Model: <b>{}</b>{}; pembanding / baseline: <b>{}</b>. Survei / survey: {} — {} rumah tangga / households (tertimbang / weighted {:.0}), {} baris dilewati / lines skipped.</p>\
         <p>R² log pengeluaran / of log expenditure: model {}, pembanding / baseline {}.</p>",
        esc(&r.model.name),
        r.model.official.map_or(String::new(), |o| if o {
            " (resmi / official)".into()
        } else {
            " (bukan resmi / not official)".into()
        }),
        esc(&r.baseline.name),
        esc(&r.survey),
        r.households,
        r.weighted_households,
        r.bad_lines,
        num(r.r2_model),
        num(r.r2_baseline)
    );
    o.push_str("<p>Miskin = desil sebenarnya ≤ batas; terpilih = desil prediksi ≤ batas (peringkat tertimbang jiwa). Porsi dengan bobot survei (rumah tangga). / Poor = true desil ≤ the cut-off; selected = predicted desil ≤ the cut-off (person-weighted ranks). Shares with the survey weights (households).</p>");
    o.push_str("<h2>Galat menurut batas desil / Errors by desil cut-off</h2><table><tr><th>Batas / cut-off</th><th>Model</th>");
    o.push_str(HEAD);
    o.push_str("</tr>");
    for c in &r.cutoffs {
        for (name, e) in [("model", &c.model), ("pembanding / baseline", &c.baseline)] {
            let _ = write!(o, "<tr><td>desil ≤ {}</td><td>{name}</td>", c.desil);
            error_cells(&mut o, &e.national);
            o.push_str("</tr>");
        }
    }
    o.push_str("</table>");
    let bars: Vec<(String, Option<f64>, Option<f64>)> = r
        .cutoffs
        .iter()
        .map(|c| {
            (
                format!("desil ≤ {}", c.desil),
                c.model.national.exclusion_error,
                c.baseline.national.exclusion_error,
            )
        })
        .collect();
    let _ = write!(
        o,
        "<div class='charts'><figure><figcaption>Prediksi vs sebenarnya (log) / Predicted vs true (log)</figcaption>{}</figure>\
         <figure><figcaption>Kurva penargetan (miskin = desil ≤ {}) / Targeting curve</figcaption>{}</figure>\
         <figure><figcaption>Galat eksklusi: model (biru) vs pembanding (jingga) / Exclusion error: model (blue) vs baseline (orange)</figcaption>{}</figure></div>",
        scatter_svg(&r.scatter),
        r.targeting_curve_desil,
        curve_svg(&r.targeting_curve_model, &r.targeting_curve_baseline),
        bar_svg(&bars)
    );
    for c in &r.cutoffs {
        let _ = write!(
            o,
            "<h2>Desil ≤ {}: per kota/desa dan provinsi / by urban-rural and province</h2><table><tr><th>Wilayah / region</th><th>n</th><th>Model</th>",
            c.desil
        );
        o.push_str(HEAD);
        o.push_str("</tr>");
        let rows = c.model.by_area.iter().chain(c.model.by_province.iter());
        for (key, e) in rows {
            let base = c
                .baseline
                .by_area
                .get(key)
                .or_else(|| c.baseline.by_province.get(key));
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>model</td>",
                esc(key),
                e.cells.n
            );
            error_cells(&mut o, e);
            o.push_str("</tr>");
            if let Some(b) = base {
                let _ = write!(o, "<tr><td></td><td></td><td>pembanding / baseline</td>");
                error_cells(&mut o, b);
                o.push_str("</tr>");
            }
        }
        o.push_str("</table>");
    }
    o.push_str("<h2>Koefisien (kelompok nasional) / Coefficients (national group)</h2><table><tr><th>Variabel / variable</th><th>Koefisien / coefficient</th><th>Galat baku robust (HC1) / robust SE</th><th>t</th></tr>");
    for c in &r.coefficients {
        let t = c
            .standard_error
            .filter(|s| *s > 0.0)
            .map_or("—".into(), |s| format!("{:.1}", c.coefficient / s));
        let _ = write!(
            o,
            "<tr><td>{} / {} <small>({})</small></td><td>{:.4}</td><td>{}</td><td>{t}</td></tr>",
            esc(&c.label_id),
            esc(&c.label_en),
            esc(&c.variable),
            c.coefficient,
            c.standard_error.map_or("—".into(), |s| format!("{s:.4}"))
        );
    }
    o.push_str("</table>");
    if let Some(fit) = &r.fit {
        let _ = write!(
            o,
            "<h2>Catatan fit / Fit record</h2><pre>{}</pre>",
            esc(&serde_json::to_string_pretty(fit).unwrap_or_default())
        );
    }
    o.push_str("</body></html>\n");
    o
}
