//! Pratinjau skor: what tepat-core's ranking model, program rules and graduation
//! checks say about a family (as recorded, or as being corrected in the ground check).
//! The model is the one the server serves (`GET /model`: the published ranking run's,
//! with its cut points), once the device has it ([`set_model`]); until then the core's
//! built-in model (its static cut points are the fallback). The program rules are the
//! core's built-in ones.

use leptos::prelude::*;
use tepat_core::score::{Eligibility, Graduation, GraduationKind, rupiah};
use tepat_core::{Date, Keluarga, Lang, ProgramRules, RankingModel, Score};

use crate::i18n::{tr, use_lang};
use crate::today::today;

/// How many factors the preview lists (biggest first).
pub const SHOWN_FACTORS: usize = 6;

/// Everything the preview shows, computed by the core.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub score: Score,
    pub eligibility: Eligibility,
    pub graduation: Graduation,
}

thread_local! {
    /// The server's model, once a pull fetched it (or it was read from the cache).
    static MODEL: std::cell::RefCell<Option<std::rc::Rc<RankingModel>>> =
        const { std::cell::RefCell::new(None) };
}

/// Calls `f` with the model previews score with: the server's ([`set_model`]), else
/// the built-in one.
pub fn with_model<R>(f: impl FnOnce(&RankingModel) -> R) -> R {
    match MODEL.with(|m| m.borrow().clone()) {
        Some(m) => f(&m),
        None => f(RankingModel::builtin()),
    }
}

/// The version of the model previews score with.
pub fn model_version() -> String {
    MODEL
        .with(|m| m.borrow().as_ref().map(|m| m.version().to_owned()))
        .unwrap_or_else(|| RankingModel::builtin().version().to_owned())
}

/// Makes `json` (the server's `GET /model`) the model previews score with; false when
/// it does not load (the previous model stays).
pub fn set_model(json: &str) -> bool {
    match RankingModel::from_json(json) {
        Ok(m) => {
            MODEL.with(|slot| *slot.borrow_mut() = Some(std::rc::Rc::new(m)));
            true
        }
        Err(_) => false,
    }
}

/// Scores a family with the server's model (else the built-in one) and the program rules. `Err` when the model
/// cannot rank it (no active member), with the core's message.
pub fn preview(keluarga: &Keluarga, today: Date) -> Result<Preview, tepat_core::Text> {
    let score = with_model(|m| m.score(keluarga, today)).map_err(|e| e.text())?;
    let rules = ProgramRules::builtin();
    let eligibility = rules.eligibility(keluarga, score.desil, today);
    let graduation = rules.graduation(keluarga, score.desil, today);
    Ok(Preview {
        score,
        eligibility,
        graduation,
    })
}

/// An amount in Rupiah as the core formats it (`Rp2.555.989`; `Rp2,555,989` in English).
pub fn money(lang: Lang, amount: f64) -> String {
    rupiah(
        amount,
        match lang {
            Lang::Id => '.',
            Lang::En => ',',
        },
    )
}

/// What the preview of a family shows: `None` while there is no family.
pub type PreviewResult = Option<Result<Preview, tepat_core::Text>>;

/// The preview of `keluarga`, recomputed whenever the signal changes.
pub fn preview_of(keluarga: Signal<Option<Keluarga>>) -> Memo<PreviewResult> {
    Memo::new(move |_| {
        keluarga.with(|k| {
            k.as_ref().map(|k| match today() {
                Some(now) => preview(k, now),
                None => Err(tepat_core::Text::new(
                    "Tanggal perangkat tidak valid.",
                    "The device date is not valid.",
                )),
            })
        })
    })
}

/// The score preview of `keluarga` (recomputed whenever the signal changes).
#[component]
pub fn ScorePreview(#[prop(into)] keluarga: Signal<Option<Keluarga>>) -> impl IntoView {
    view! { <ScoreCard result=preview_of(keluarga)/> }
}

/// The desil of a preview, if it has one.
pub fn desil_of(result: &PreviewResult) -> Option<u8> {
    result.as_ref()?.as_ref().ok().map(|p| p.score.desil)
}

/// The full preview card of a computed preview.
#[component]
pub fn ScoreCard(result: Memo<PreviewResult>) -> impl IntoView {
    let lang = use_lang();
    move || {
        let l = lang.get();
        let body = match result.get()? {
            Err(text) => view! { <p class="notice warn">{text.get(l).to_owned()}</p> }.into_any(),
            Ok(p) => view! { <PreviewBody p=p lang=l/> }.into_any(),
        };
        Some(view! {
            <section class="card score" aria-labelledby="score-title">
                <h2 id="score-title">{tr(l, "Pratinjau peringkat", "Ranking preview")}</h2>
                {body}
            </section>
        })
    }
}

#[component]
fn PreviewBody(p: Preview, lang: Lang) -> impl IntoView {
    let l = lang;
    let s = &p.score;
    let factors = s
        .factors
        .iter()
        .take(SHOWN_FACTORS)
        .map(|f| {
            let class = if f.contribution < 0.0 {
                "factor down"
            } else {
                "factor up"
            };
            view! { <li class=class data-variable=f.variable.clone()>{f.text.get(l).to_owned()}</li> }
        })
        .collect_view();
    let eligible: Vec<_> = p
        .eligibility
        .programs
        .iter()
        .filter(|r| r.eligible)
        .cloned()
        .collect();
    let programs = if eligible.is_empty() {
        view! { <p data-field="programs">{tr(l, "Tidak ada program yang memenuhi syarat.", "No program is eligible.")}</p> }
            .into_any()
    } else {
        view! {
            <ul class="programs" data-field="programs">
                {eligible.into_iter().map(|r| {
                    let amount = money(l, r.annual_benefit as f64);
                    view! {
                        <li data-program=r.program.clone()>
                            <strong>{r.name.get(l).to_owned()}</strong>
                            " — " {amount} {tr(l, " per tahun", " per year")}
                            <ul>{r.reasons.iter().map(|x| view! { <li>{x.text.get(l).to_owned()}</li> }).collect_view()}</ul>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let g = &p.graduation;
    let graduation = if g.graduate {
        let items = g
            .programs
            .iter()
            .filter_map(|pg| {
                let kind = match pg.kind? {
                    GraduationKind::Alamiah => tr(l, "graduasi alamiah", "natural graduation"),
                    GraduationKind::Mandiri => tr(
                        l,
                        "graduasi sejahtera mandiri",
                        "self-sufficient graduation",
                    ),
                };
                let reasons = pg
                    .reasons
                    .iter()
                    .map(|r| r.text.get(l).to_owned())
                    .collect::<Vec<_>>()
                    .join("; ");
                Some(view! { <li>{format!("{}: {kind}. {reasons}", pg.program.to_uppercase())}</li> })
            })
            .collect_view();
        view! {
            <p class="notice warn" data-field="graduation">{tr(l, "Ditandai untuk graduasi.", "Flagged for graduation.")}</p>
            <ul>{items}</ul>
        }
        .into_any()
    } else {
        view! { <p data-field="graduation">{tr(l, "Tidak ditandai untuk graduasi.", "Not flagged for graduation.")}</p> }
            .into_any()
    };
    view! {
        <p class="desil" data-field="desil" data-desil=s.desil>
            {tr(l, "Perkiraan desil", "Predicted desil")} " " <strong>{s.desil}</strong>
        </p>
        <p>{tr(l, "Perkiraan pengeluaran per kapita per bulan: ", "Predicted expenditure per person per month: ")}
            {money(l, s.per_capita)}</p>
        <p>{s.summary.get(l).to_owned()}</p>
        <h3>{tr(l, "Faktor terbesar", "Biggest factors")}</h3>
        <ol class="factors">{factors}</ol>
        <h3>{tr(l, "Program yang memenuhi syarat", "Eligible programs")}</h3>
        {programs}
        <h3>{tr(l, "Graduasi", "Graduation")}</h3>
        {graduation}
        <p class="muted">{tr(l, "Model: ", "Model: ")}{s.model_version.clone()}
            {if with_model(RankingModel::is_official) { "" } else { tr(l, " (ilustratif, bukan model resmi BPS)", " (illustrative, not the official BPS model)") }}</p>
    }
}
