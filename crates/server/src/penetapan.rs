//! The program determination (penetapan) of a published ranking run: for every family
//! the run ranked and every program of the program rules, eligible or not, why not,
//! the counted components and the amount, decided by tepat-core
//! ([`ProgramRules::determine`]) at the family's official desil and the version the
//! run ranked, with the program rules in force for the run's period. It is computed as
//! the run's last step, before the run is `done` ([`compute`]), so publishing only
//! flips the run's flag; a run published before that is determined on first request
//! ([`ensure`]); it is append-only. Then the period's figures and the difference from
//! the previous published period ([`summary`], [`diff_rows`]) and the BNBA lists
//! ([`bnba_rows`]). Method: docs/scoring.md. **Invariant:** no program rule lives
//! here; the SQL only counts what the core decided.

use serde::Serialize;
use serde_json::{Value, json};
use tepat_core::Text;
use tepat_core::parse::parse_keluarga;
use tepat_core::score::{Determination, Payment, ProgramRules};

use crate::db::Db;
use crate::store::{Rows, Val};

/// Families read per query while computing.
const PAGE: i64 = 1000;

/// A published run and the one published before it.
#[derive(Clone, Debug, Serialize)]
pub struct Periods {
    pub run: i64,
    pub period: String,
    pub previous: Option<(i64, String)>,
    /// Every published period, newest first.
    pub published: Vec<String>,
}

/// The published run of `period` (the latest published period when `None`) and the
/// previous published period's run. `None` when nothing (or not that period) is
/// published.
pub async fn periods(db: &Db, period: Option<&str>) -> Result<Option<Periods>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, period FROM ranking_runs WHERE published_at IS NOT NULL ORDER BY period DESC",
    )
    .fetch_all(&db.pool)
    .await?;
    let at = match period {
        None => 0,
        Some(p) => match rows.iter().position(|r| r.1 == p) {
            Some(i) => i,
            None => return Ok(None),
        },
    };
    let Some((run, period)) = rows.get(at).cloned() else {
        return Ok(None);
    };
    Ok(Some(Periods {
        run,
        period,
        previous: rows.get(at + 1).cloned(),
        published: rows.into_iter().map(|r| r.1).collect(),
    }))
}

/// Computes and stores the determination of run `run_id`, unless it exists, with the
/// program rules in force for the run's period ([`crate::programs::in_force`]). A step
/// of the run (before it is `done`), outside the write lock: the results are written in
/// chunks, each its own transaction, and the run's `determinations` row last, so a
/// determination with its row is complete, and one cut short is finished by the next
/// call. Returns the families determined.
pub async fn compute(db: &Db, run_id: i64) -> anyhow::Result<u64> {
    let exists: Option<(i64,)> =
        sqlx::query_as("SELECT families FROM determinations WHERE run_id = $1")
            .bind(run_id)
            .fetch_optional(&db.pool)
            .await?;
    if let Some((n,)) = exists {
        return Ok(n as u64);
    }
    let (period, started_at): (String, i64) =
        sqlx::query_as("SELECT period, started_at FROM ranking_runs WHERE id = $1")
            .bind(run_id)
            .fetch_one(&db.pool)
            .await?;
    // The run's reference date: the UTC date it was started at, as the ranking used.
    let today = crate::ranking::utc_date(started_at);
    let first_day = crate::ranking::period_start(&period)
        .ok_or_else(|| anyhow::anyhow!("run {run_id} has a malformed period"))?;
    let rules = crate::programs::in_force(db, &first_day.to_string())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let head = "INSERT INTO determination_results (province, run_id, program, household_id, version, village, desil, persons, eligible, reason, reasons, components, amount, payment, receiving, graduation) VALUES";
    // A chunk cut short before is written again: its rows are there already.
    let tail = "ON CONFLICT (province, run_id, program, household_id) DO NOTHING";
    let mut after = String::new();
    let mut families = 0u64;
    type Row = (String, String, String, i64, i64, Option<i64>, String);
    loop {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT r.household_id, r.province, r.village, r.version, r.desil, r.persons, v.payload \
             FROM ranking_results r JOIN household_versions v \
             ON v.province = r.province AND v.household_id = r.household_id AND v.version = r.version \
             WHERE r.run_id = $1 AND r.desil IS NOT NULL AND r.household_id > $2 \
             ORDER BY r.household_id LIMIT $3",
        )
        .bind(run_id)
        .bind(&after)
        .bind(PAGE)
        .fetch_all(&db.pool)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let full = rows.len() as i64 == PAGE;
        // The core decides, on the blocking pool.
        let r = rules.clone();
        let decided = tokio::task::spawn_blocking(move || {
            rows.into_iter()
                .filter_map(
                    |(id, province, village, version, desil, persons, payload)| {
                        let desil = u8::try_from(desil).ok()?;
                        let k = parse_keluarga(payload.as_bytes()).ok()?;
                        let persons = persons.unwrap_or_else(|| k.active_members().count() as i64);
                        let d = r.determine(&k, desil, today);
                        Some((id, province, village, version, desil, persons, d))
                    },
                )
                .collect::<Vec<_>>()
        })
        .await?;
        let mut out = Rows::new(head, 16, tail);
        for (id, province, village, version, desil, persons, d) in decided {
            families += 1;
            for p in d {
                out.push(row_of(
                    &province, run_id, &id, version, &village, desil, persons, p,
                )?);
            }
        }
        let mut tx = db.pool.begin().await?;
        out.flush_count(&mut tx).await?;
        tx.commit().await?;
        if !full {
            break;
        }
    }
    // The header last: a run with a header has all its results.
    sqlx::query(
        "INSERT INTO determinations (run_id, period, programs_version, reference_date, families, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(run_id)
    .bind(&period)
    .bind(rules.version())
    .bind(today.to_string())
    .bind(families as i64)
    .bind(crate::db::now())
    .execute(&db.pool)
    .await?;
    Ok(families)
}

#[allow(clippy::too_many_arguments)]
fn row_of(
    province: &str,
    run_id: i64,
    id: &str,
    version: i64,
    village: &str,
    desil: u8,
    persons: i64,
    d: Determination,
) -> anyhow::Result<Vec<Val>> {
    let components: Vec<Value> = d
        .components
        .iter()
        .map(|c| {
            json!({
                "id": c.id, "persons": c.persons, "amount": c.amount,
                "rate": c.rate, "rate_label": c.rate.label(),
            })
        })
        .collect();
    let payment = d.payment.as_ref().map(serde_json::to_string).transpose()?;
    let graduation = d.graduation.map(|g| match g {
        tepat_core::GraduationKind::Alamiah => "alamiah",
        tepat_core::GraduationKind::Mandiri => "mandiri",
    });
    Ok(vec![
        Val::Text(province.to_owned()),
        Val::Int(run_id),
        Val::Text(d.program),
        Val::Text(id.to_owned()),
        Val::Int(version),
        Val::Text(village.to_owned()),
        Val::Int(i64::from(desil)),
        Val::Int(persons),
        Val::Int(i64::from(d.eligible)),
        Val::OptText(d.exclusions.first().map(|r| r.rule.clone())),
        Val::Text(serde_json::to_string(&d.exclusions)?),
        Val::Text(serde_json::to_string(&components)?),
        Val::Int(i64::try_from(d.amount)?),
        Val::OptText(payment),
        Val::Int(i64::from(d.receiving)),
        Val::OptText(graduation.map(str::to_owned)),
    ])
}

/// Computes the determination of a published run that has none (a run published
/// before determinations were a step of the run).
pub async fn ensure(db: &Db, run_id: i64) -> anyhow::Result<()> {
    compute(db, run_id).await.map(|_| ())
}

/// The program rules a run's determination was made with (the builtin ones before it
/// is made).
pub async fn rules_of(db: &Db, run_id: i64) -> anyhow::Result<std::sync::Arc<ProgramRules>> {
    let v: Option<(String,)> =
        sqlx::query_as("SELECT programs_version FROM determinations WHERE run_id = $1")
            .bind(run_id)
            .fetch_optional(&db.pool)
            .await?;
    match v {
        Some((v,)) => crate::programs::get(db, &v)
            .await
            .map_err(|e| anyhow::anyhow!("{e}")),
        None => Ok(std::sync::Arc::new(ProgramRules::builtin().clone())),
    }
}

/// Families, persons and Rupiah per year (every program's amounts over a year, so
/// they add up and compare across programs whatever each pays by).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Totals {
    pub families: i64,
    pub persons: i64,
    pub amount: i64,
}

impl Totals {
    fn add(&mut self, o: Totals) {
        self.families += o.families;
        self.persons += o.persons;
        self.amount += o.amount;
    }

    fn minus(self, o: Totals) -> Totals {
        Totals {
            families: self.families - o.families,
            persons: self.persons - o.persons,
            amount: self.amount - o.amount,
        }
    }
}

/// An area's figures for one program (or one child region of it).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// Eligible families now.
    pub current: Totals,
    /// Eligible families in the previous published period (`None` without one).
    pub previous: Option<Totals>,
    /// Eligible now and not before (with the amount now).
    pub entering: Option<Totals>,
    /// Eligible before and not now (with the amount before).
    pub leaving: Option<Totals>,
    /// `current − previous`.
    pub net: Option<Totals>,
}

/// The area a summary or a list covers: a `LIKE` pattern of its villages and the
/// length of its child codes (`None` for a village).
#[derive(Clone, Debug)]
pub struct Area {
    pub like: String,
    pub child_len: Option<usize>,
}

impl Area {
    pub fn of(region: Option<&str>) -> Area {
        use tepat_core::region::Level;
        let level = region.and_then(Level::of);
        let like = match (region, level) {
            (None, _) => "%".to_owned(),
            (Some(r), Some(Level::Village)) => r.to_owned(),
            (Some(r), _) => format!("{r}.%"),
        };
        let child_len = match level {
            None => Some(2),
            Some(Level::Province) => Some(5),
            Some(Level::Regency) => Some(8),
            Some(Level::District) => Some(13),
            Some(Level::Village) => None,
        };
        Area { like, child_len }
    }
}

type Agg = Vec<(String, String, i64, Option<i64>, Option<i64>)>;
/// Program, child region, reason, families, persons, Rupiah.
type LeavingRow = (String, String, String, i64, Option<i64>, Option<i64>);

fn totals(r: &(String, String, i64, Option<i64>, Option<i64>)) -> Totals {
    Totals {
        families: r.2,
        persons: r.3.unwrap_or(0),
        amount: r.4.unwrap_or(0),
    }
}

/// One program's figures in an area: the totals, per child region, and the counts of
/// families by reason (excluded now; leaving).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProgramSummary {
    pub totals: Figures,
    /// `(child code, figures)`, in code order.
    pub children: Vec<(String, Figures)>,
    /// `(reason rule, families)`: why the families not eligible now are not.
    pub excluded: Vec<(String, i64)>,
    /// `(reason rule, families)`: why the families leaving left (`absent`: not in the
    /// run, e.g. a family merged or deleted, or one that could not be ranked).
    pub leaving_reasons: Vec<(String, i64)>,
}

/// Every program's figures in `area` for `run` against `previous`.
pub async fn summary(
    db: &Db,
    rules: &ProgramRules,
    run: i64,
    previous: Option<i64>,
    area: &Area,
) -> Result<Vec<(String, ProgramSummary)>, sqlx::Error> {
    let len = area.child_len.unwrap_or(13);
    let pool = &db.pool;
    let group = |sql: &str| {
        sql.replace("{R}", &format!("SUBSTR(x.village, 1, {len})"))
            .replace(
                "{T}",
                "COUNT(*), CAST(SUM(x.persons) AS BIGINT), CAST(SUM(x.amount) AS BIGINT)",
            )
    };
    let totals_of = |run: i64| {
        let sql = group(
            "SELECT x.program, {R}, {T} FROM determination_results x \
             WHERE x.run_id = $1 AND x.eligible = 1 AND x.village LIKE $2 GROUP BY x.program, {R}",
        );
        async move {
            sqlx::query_as::<_, (String, String, i64, Option<i64>, Option<i64>)>(&sql)
                .bind(run)
                .bind(&area.like)
                .fetch_all(pool)
                .await
        }
    };
    let current: Agg = totals_of(run).await?;
    let excluded: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT program, reason, COUNT(*) FROM determination_results \
         WHERE run_id = $1 AND eligible = 0 AND village LIKE $2 GROUP BY program, reason ORDER BY 3 DESC",
    )
    .bind(run)
    .bind(&area.like)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<(String, ProgramSummary)> = rules
        .source()
        .programs
        .iter()
        .map(|p| (p.id.clone(), ProgramSummary::default()))
        .collect();
    let mut diff = None;
    if let Some(prev) = previous {
        let before: Agg = totals_of(prev).await?;
        // Eligible now, not eligible (or not there) before.
        let entering: Agg = sqlx::query_as(&group(
            "SELECT x.program, {R}, {T} FROM determination_results x \
             LEFT JOIN determination_results p ON p.run_id = $2 AND p.program = x.program \
             AND p.household_id = x.household_id AND p.eligible = 1 \
             WHERE x.run_id = $1 AND x.eligible = 1 AND x.village LIKE $3 AND p.household_id IS NULL \
             GROUP BY x.program, {R}",
        ))
        .bind(run)
        .bind(prev)
        .bind(&area.like)
        .fetch_all(pool)
        .await?;
        // Eligible before, not eligible (or not there) now: by the reason now.
        let leaving: Vec<LeavingRow> = sqlx::query_as(&group(
            "SELECT x.program, {R}, COALESCE(n.reason, 'absent'), {T} FROM determination_results x \
                 LEFT JOIN determination_results n ON n.run_id = $1 AND n.program = x.program \
                 AND n.household_id = x.household_id \
                 WHERE x.run_id = $2 AND x.eligible = 1 AND x.village LIKE $3 \
                 AND (n.household_id IS NULL OR n.eligible = 0) \
                 GROUP BY x.program, {R}, COALESCE(n.reason, 'absent')",
        ))
        .bind(run)
        .bind(prev)
        .bind(&area.like)
        .fetch_all(pool)
        .await?;
        diff = Some((before, entering, leaving));
    }
    for (program, s) in &mut out {
        let mut children: std::collections::BTreeMap<String, Figures> = Default::default();
        for r in current.iter().filter(|r| &r.0 == program) {
            children.entry(r.1.clone()).or_default().current = totals(r);
        }
        if let Some((before, entering, leaving)) = &diff {
            for r in before.iter().filter(|r| &r.0 == program) {
                children.entry(r.1.clone()).or_default().previous = Some(totals(r));
            }
            for r in entering.iter().filter(|r| &r.0 == program) {
                children.entry(r.1.clone()).or_default().entering = Some(totals(r));
            }
            let mut reasons: std::collections::BTreeMap<String, i64> = Default::default();
            for r in leaving.iter().filter(|r| &r.0 == program) {
                let t = Totals {
                    families: r.3,
                    persons: r.4.unwrap_or(0),
                    amount: r.5.unwrap_or(0),
                };
                children
                    .entry(r.1.clone())
                    .or_default()
                    .leaving
                    .get_or_insert_default()
                    .add(t);
                *reasons.entry(r.2.clone()).or_default() += r.3;
            }
            let mut reasons: Vec<(String, i64)> = reasons.into_iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            s.leaving_reasons = reasons;
        }
        let mut total = Figures::default();
        for f in children.values_mut() {
            if diff.is_some() {
                let prev = *f.previous.get_or_insert_default();
                f.entering.get_or_insert_default();
                f.leaving.get_or_insert_default();
                f.net = Some(f.current.minus(prev));
            }
            total.current.add(f.current);
            for (t, c) in [
                (&mut total.previous, f.previous),
                (&mut total.entering, f.entering),
                (&mut total.leaving, f.leaving),
                (&mut total.net, f.net),
            ] {
                if let Some(c) = c {
                    t.get_or_insert_default().add(c);
                }
            }
        }
        if diff.is_some() {
            for t in [
                &mut total.previous,
                &mut total.entering,
                &mut total.leaving,
                &mut total.net,
            ] {
                t.get_or_insert_default();
            }
        }
        s.totals = total;
        if area.child_len.is_some() {
            s.children = children.into_iter().collect();
        }
        s.excluded = excluded
            .iter()
            .filter(|r| &r.0 == program)
            .map(|r| (r.1.clone().unwrap_or_default(), r.2))
            .collect();
    }
    Ok(out)
}

/// A family entering or leaving a program between two periods.
#[derive(Clone, Debug, Serialize)]
pub struct DiffRow {
    /// `entering` or `leaving`.
    pub change: &'static str,
    pub program: String,
    pub no_kk: String,
    /// The village now (entering) or before (leaving).
    pub village: String,
    pub desil_before: Option<i64>,
    pub desil_now: Option<i64>,
    pub persons: i64,
    pub amount_before: i64,
    pub amount_now: i64,
    /// The amount as paid before and now (per its period), when eligible then.
    pub payment_before: Option<Payment>,
    pub payment_now: Option<Payment>,
    /// Why it was not eligible before (entering) or is not now (leaving): the core's
    /// reasons; `absent` when it was not in that period's run.
    pub reasons: Vec<tepat_core::score::Reason>,
}

fn payment_of(text: Option<&str>) -> Option<Payment> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

fn reasons_of(text: Option<&str>) -> Vec<tepat_core::score::Reason> {
    match text {
        None => vec![tepat_core::score::Reason {
            rule: "absent".into(),
            text: absent_text(),
        }],
        Some(t) => serde_json::from_str(t).unwrap_or_default(),
    }
}

/// The label of a family not in a period's run.
pub fn absent_text() -> tepat_core::Text {
    tepat_core::Text::new(
        "Tidak ada dalam pemeringkatan periode itu (digabung, dihapus atau tidak dapat diperingkat)",
        "Not in that period's ranking (merged, deleted or could not be ranked)",
    )
}

/// The families entering and leaving `program` (every program when `None`) in
/// `area` between `previous` and `run`, entering first, by No. KK.
pub async fn diff_rows(
    db: &Db,
    run: i64,
    previous: i64,
    area: &Area,
    program: Option<&str>,
) -> Result<Vec<DiffRow>, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
        i64,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let program_filter = "AND ($4 = '' OR x.program = $4)";
    let entering: Vec<Row> = sqlx::query_as(&format!(
        "SELECT x.program, x.household_id, x.village, p.desil, x.desil, x.persons, p.amount, x.amount, \
         CASE WHEN p.household_id IS NULL THEN NULL ELSE p.reasons END, p.payment, x.payment \
         FROM determination_results x LEFT JOIN determination_results p ON p.run_id = $2 \
         AND p.program = x.program AND p.household_id = x.household_id \
         WHERE x.run_id = $1 AND x.eligible = 1 AND x.village LIKE $3 {program_filter} \
         AND (p.household_id IS NULL OR p.eligible = 0) ORDER BY x.program, x.household_id"
    ))
    .bind(run)
    .bind(previous)
    .bind(&area.like)
    .bind(program.unwrap_or(""))
    .fetch_all(&db.pool)
    .await?;
    let leaving: Vec<Row> = sqlx::query_as(&format!(
        "SELECT x.program, x.household_id, x.village, x.desil, n.desil, x.persons, x.amount, n.amount, \
         CASE WHEN n.household_id IS NULL THEN NULL ELSE n.reasons END, x.payment, n.payment \
         FROM determination_results x LEFT JOIN determination_results n ON n.run_id = $1 \
         AND n.program = x.program AND n.household_id = x.household_id \
         WHERE x.run_id = $2 AND x.eligible = 1 AND x.village LIKE $3 {program_filter} \
         AND (n.household_id IS NULL OR n.eligible = 0) ORDER BY x.program, x.household_id"
    ))
    .bind(run)
    .bind(previous)
    .bind(&area.like)
    .bind(program.unwrap_or(""))
    .fetch_all(&db.pool)
    .await?;
    let row = |change: &'static str, r: Row| DiffRow {
        change,
        program: r.0,
        no_kk: r.1,
        village: r.2,
        desil_before: r.3,
        desil_now: r.4,
        persons: r.5,
        amount_before: r.6.unwrap_or(0),
        amount_now: r.7.unwrap_or(0),
        reasons: reasons_of(r.8.as_deref()),
        payment_before: payment_of(r.9.as_deref()),
        payment_now: payment_of(r.10.as_deref()),
    };
    Ok(entering
        .into_iter()
        .map(|r| row("entering", r))
        .chain(leaving.into_iter().map(|r| row("leaving", r)))
        .collect())
}

/// One line of a BNBA list (by name, by address).
#[derive(Clone, Debug, Serialize)]
pub struct BnbaRow {
    pub no_kk: String,
    pub head_name: String,
    pub head_nik: String,
    pub street: String,
    pub rt: String,
    pub rw: String,
    pub village: String,
    pub desil: i64,
    pub persons: i64,
    /// `(component id, persons, Rupiah per year, the rate as paid: `Rp900.000/tahun`)`.
    pub components: Vec<(String, i64, i64, Option<Text>)>,
    /// Rupiah per year.
    pub amount: i64,
    /// The amount as paid (per its period).
    pub payment: Option<Payment>,
}

/// The eligible families of `program` in `village` in `run`, by No. KK, with the head
/// and the address of the version the run ranked.
pub async fn bnba_rows(
    db: &Db,
    run: i64,
    program: &str,
    village: &str,
) -> anyhow::Result<Vec<BnbaRow>> {
    /// No. KK, desil, persons, components, Rupiah per year, payload, payment.
    type Row = (String, i64, i64, String, i64, String, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT d.household_id, d.desil, d.persons, d.components, d.amount, v.payload, d.payment \
         FROM determination_results d JOIN household_versions v \
         ON v.province = d.province AND v.household_id = d.household_id AND v.version = d.version \
         WHERE d.run_id = $1 AND d.program = $2 AND d.village = $3 AND d.eligible = 1 \
         ORDER BY d.household_id",
    )
    .bind(run)
    .bind(program)
    .bind(village)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (no_kk, desil, persons, components, amount, payload, payment) in rows {
        let k = parse_keluarga(payload.as_bytes())
            .map_err(|_| anyhow::anyhow!("a stored household version does not parse"))?;
        let head = k.head().or_else(|| k.active_members().next());
        let components: Vec<Value> = serde_json::from_str(&components)?;
        out.push(BnbaRow {
            no_kk,
            head_name: head.map(|a| a.name.clone()).unwrap_or_default(),
            head_nik: head.map(|a| a.nik.clone()).unwrap_or_default(),
            street: k.address.street.clone().unwrap_or_default(),
            rt: k.address.rt.clone().unwrap_or_default(),
            rw: k.address.rw.clone().unwrap_or_default(),
            village: k.address.village.clone(),
            desil,
            persons,
            components: components
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap_or_default().to_owned(),
                        c["persons"].as_i64().unwrap_or(0),
                        c["amount"].as_i64().unwrap_or(0),
                        serde_json::from_value(c["rate_label"].clone()).ok(),
                    )
                })
                .collect(),
            amount,
            payment: payment_of(payment.as_deref()),
        });
    }
    Ok(out)
}
