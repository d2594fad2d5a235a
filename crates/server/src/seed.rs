//! `tepat serve --demo`: on an empty database, a real district from data/wilayah.csv,
//! demo accounts and synthetic families. A database that has users is never re-seeded.

use std::io::Write;

use anyhow::bail;
use tepat_core::RegionTable;
use tepat_core::region::Level;

use crate::auth::{Role, add_user};
use crate::db::Db;
use crate::state::AppState;

pub const DEMO_PASSWORD: &str = "tepat-demo-2026";
/// How many villages of the demo district the facilitators cover.
pub const DEMO_VILLAGES: usize = 6;
/// The province the demo district is taken from (Jawa Barat).
pub const DEMO_PROVINCE: &str = "32";

/// The demo area: a district with at least 4 villages, and its first villages.
#[derive(Clone, Debug)]
pub struct DemoArea {
    pub regency: String,
    pub district: String,
    pub villages: Vec<String>,
}

pub fn demo_area(regions: &RegionTable) -> anyhow::Result<DemoArea> {
    for (regency, _) in regions.children(DEMO_PROVINCE) {
        for (district, _) in regions.children(regency) {
            let villages: Vec<String> = regions
                .children(district)
                .filter(|(c, _)| Level::of(c) == Some(Level::Village))
                .map(|(c, _)| c.to_owned())
                .take(DEMO_VILLAGES)
                .collect();
            if villages.len() >= 4 {
                return Ok(DemoArea {
                    regency: regency.to_owned(),
                    district: district.to_owned(),
                    villages,
                });
            }
        }
    }
    bail!("no district with at least 4 villages in province {DEMO_PROVINCE}")
}

/// Assigns regions to a user (keeping its others), as the system
/// ([`crate::accounts::assign`]): each code must exist and fit the role's level.
pub async fn assign(
    db: &Db,
    regions: &RegionTable,
    username: &str,
    codes: &[String],
) -> anyhow::Result<()> {
    crate::accounts::assign(
        db,
        regions,
        None,
        username,
        codes,
        crate::accounts::Assign::Add,
    )
    .await?;
    Ok(())
}

/// Seeds an empty database; prints what it did. Returns false when data was present.
pub async fn seed_demo(state: &AppState, out: &mut impl Write) -> anyhow::Result<bool> {
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&state.db.pool)
        .await?;
    if users > 0 {
        writeln!(out, "Demo: database already has data; not seeding again.")?;
        return Ok(false);
    }
    let area = demo_area(&state.regions)?;
    let half = area.villages.len().div_ceil(2);
    let accounts: [(&str, Role, Vec<String>); 7] = [
        (
            "pendamping1",
            Role::Facilitator,
            area.villages[..half].to_vec(),
        ),
        (
            "pendamping2",
            Role::Facilitator,
            area.villages[half..].to_vec(),
        ),
        (
            "koordinator1",
            Role::Supervisor,
            vec![area.district.clone()],
        ),
        ("dinsos1", Role::DinsosAdmin, vec![area.regency.clone()]),
        (
            "operator_desa1",
            Role::OperatorDesa,
            vec![area.villages[0].clone()],
        ),
        ("analis1", Role::Analyst, vec![]),
        ("admin", Role::Admin, vec![]),
    ];
    for (name, role, codes) in &accounts {
        add_user(&state.db, name, *role, DEMO_PASSWORD).await?;
        if !codes.is_empty() {
            assign(&state.db, &state.regions, name, codes).await?;
        }
    }
    // The demo facilitators' quarterly ground-check target, per village (data).
    sqlx::query(
        "UPDATE assignments SET visit_target = $1 WHERE user_id IN (SELECT id FROM users WHERE role = 'facilitator')",
    )
    .bind(DEMO_VISIT_TARGET)
    .execute(&state.db.pool)
    .await?;
    let families = crate::demo_families::seed(state, &area).await?;
    let queued = seed_review_queue(state).await?;
    let ranked = seed_ranking(state).await?;
    let cases = seed_participation(state, &area.villages[0]).await?;
    let matched = seed_padan(state).await?;
    let name = |c: &str| state.regions.name(c).unwrap_or("?").to_owned();
    writeln!(
        out,
        "Demo: kecamatan {} {} ({}), {} desa/kelurahan, {} keluarga.",
        area.district,
        name(&area.district),
        name(&area.regency),
        area.villages.len(),
        families
    )?;
    writeln!(
        out,
        "Demo: {queued} perubahan menunggu tinjauan koordinator / changes waiting for review."
    )?;
    writeln!(
        out,
        "Demo: pemeringkatan {ranked} diterbitkan (desil resmi) / ranking {ranked} published (official deciles)."
    )?;
    writeln!(
        out,
        "Demo: {cases} usul/sanggah di desa operator_desa1 / participation cases in operator_desa1's village."
    )?;
    writeln!(
        out,
        "Demo: {matched} temuan padan Dukcapil/PLN menunggu tinjauan / matching findings waiting for review."
    )?;
    writeln!(out, "Demo accounts (password {DEMO_PASSWORD}):")?;
    for (name_, role, codes) in &accounts {
        let scope = if codes.is_empty() {
            "national".to_owned()
        } else {
            codes
                .iter()
                .map(|c| format!("{c} {}", name(c)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(out, "  {name_:<13} {:<12} {scope}", role.as_str())?;
    }
    out.flush()?;
    Ok(true)
}

/// Matches the demo register with a small synthetic Dukcapil extract (a few deaths,
/// inactive NIKs and people Dukcapil does not know) and a PLN extract (half the families
/// are customers), through the server's own padan import, so the console shows matching
/// items. After the published ranking: PLN findings read the official desil. Returns how
/// many review items were queued.
pub async fn seed_padan(state: &AppState) -> anyhow::Result<usize> {
    use tepat_data::padan::noise::{Noise, dukcapil_extract, pln_extract};
    use tepat_data::padan::register::Register;
    let mut jsonl = Vec::new();
    crate::transfer::export_with(
        &state.db,
        None,
        crate::transfer::What::Households,
        crate::transfer::Format::Jsonl,
        &crate::transfer::Identity::Full,
        &mut jsonl,
    )
    .await?;
    let register = Register::read(&jsonl[..])?;
    let today = crate::ranking::utc_date(state.now());
    let dukcapil = Noise {
        died: 0.004,
        inactive: 0.004,
        missing: 0.002,
        ..Noise::NONE
    };
    let mut csv = Vec::new();
    dukcapil_extract(&register, &dukcapil, DEMO_PADAN_SEED, today, &mut csv)?;
    let d = crate::padan::import(&state.db, None, crate::padan::Source::Dukcapil, &csv, today)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pln = Noise {
        pln_unrecorded: 0.1,
        pln_nik: 0.4,
        ..Noise::NONE
    };
    let mut csv = Vec::new();
    pln_extract(&register, &pln, DEMO_PADAN_SEED, &mut csv)?;
    let p = crate::padan::import(&state.db, None, crate::padan::Source::Pln, &csv, today)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(d.created + p.created)
}

/// The demo extracts' seed (deterministic demo).
const DEMO_PADAN_SEED: u64 = 2026;

/// Ground checks (uji petik) a quarter each demo facilitator is to make per village.
pub const DEMO_VISIT_TARGET: i64 = 15;

/// Runs and publishes the current quarter's ranking of the demo register, so devices
/// and the console show official deciles. Returns the period.
pub async fn seed_ranking(state: &AppState) -> anyhow::Result<String> {
    let now = state.now();
    let started =
        crate::ranking::start(&state.db, None, crate::ranking::RunRequest::default(), now).await?;
    let (id, period) = (started.id, started.period.clone());
    crate::ranking::execute(&state.db, started, crate::ranking::utc_date(now), None).await?;
    crate::ranking::publish(&state.db, None, id, now).await?;
    Ok(period)
}

/// How many deaths each demo facilitator has waiting in the review queue.
pub const DEMO_QUEUED_PER_FACILITATOR: usize = 2;
/// Demo families passed over before the queued ones: the first families of a worklist
/// are the ones a new user opens first, and stay as the register has them.
const DEMO_QUEUE_SKIP: usize = 8;
/// The first queued change is dated this many days back, past the review SLA.
const DEMO_QUEUE_OLDEST_DAYS: i64 = 9;

/// Queues, through the real push pipeline, a few deaths recorded by each demo
/// facilitator (a child of a family in the middle of their worklist), so the review
/// queue is not empty; the first is backdated past the review SLA. Returns how many.
pub async fn seed_review_queue(state: &AppState) -> anyhow::Result<usize> {
    use tepat_core::codes::relationship;
    use tepat_core::event::{ChangeRequest, Event, seal};
    let mut queued = Vec::new();
    for facilitator in ["pendamping1", "pendamping2"] {
        let (token, _, user) = crate::auth::login(state, facilitator, DEMO_PASSWORD)
            .await
            .map_err(|e| anyhow::anyhow!("demo login {facilitator}: {e:?}"))?;
        let today = state.today_in(user.regions.first().map_or("", String::as_str));
        let date =
            tepat_core::Date::from_days_since_epoch(today.days_since_epoch() - 10).unwrap_or(today);
        let mut ids: Vec<(String,)> = Vec::new();
        for v in &user.regions {
            ids.extend(
                sqlx::query_as::<_, (String,)>(
                    "SELECT id FROM households WHERE village = $1 ORDER BY id",
                )
                .bind(v)
                .fetch_all(&state.db.pool)
                .await?,
            );
        }
        let mut items = Vec::new();
        for (no_kk,) in ids.iter().skip(DEMO_QUEUE_SKIP) {
            if items.len() == DEMO_QUEUED_PER_FACILITATOR {
                break;
            }
            let Some(head) = crate::store::head(&state.db.pool, no_kk).await? else {
                continue;
            };
            let k = head.keluarga()?;
            let Some(child) = k
                .active_members()
                .find(|a| a.relationship == relationship::CHILD)
            else {
                continue;
            };
            items.push(seal(&ChangeRequest {
                id: uuid::Uuid::new_v4().to_string(),
                no_kk: k.no_kk.clone(),
                base_version: k.version,
                author: facilitator.to_owned(),
                time: format!("{today}T09:00:00+07:00"),
                reason: "Meninggal dunia (data demo) / Died (demo data)".into(),
                evidence: Vec::new(),
                event: Event::MemberDied {
                    nik: child.nik.clone(),
                    date,
                    new_head: None,
                },
                confirmed_warnings: Vec::new(),
                hash: None,
            }));
        }
        let session = crate::auth::token_hash(&token);
        let answer = crate::push::submit(state, user, session, items, None)
            .await
            .map_err(|e| anyhow::anyhow!("demo review queue: {e:?}"))?;
        crate::auth::revoke(&state.db, &token).await?;
        queued.extend(
            answer
                .results
                .into_iter()
                .filter(|r| r.status == "pending_review")
                .map(|r| r.id),
        );
    }
    if let Some(first) = queued.first() {
        sqlx::query("UPDATE change_requests SET created_at = created_at - $1 WHERE id = $2")
            .bind(DEMO_QUEUE_OLDEST_DAYS * 86_400)
            .bind(first)
            .execute(&state.db.pool)
            .await?;
    }
    Ok(queued.len())
}

/// A few participation cases in `village` (the demo operator's), in various states,
/// filed and moved through the same functions the API uses: a sanggah waiting in the
/// village, an usul of a new family with a facilitator's visit asked, an usul agreed by
/// the deliberation and under Dinsos verification, and a declined sanggah. Returns how
/// many.
pub async fn seed_participation(state: &AppState, village: &str) -> anyhow::Result<usize> {
    use tepat_core::participation::{Filer, Filing, Kind, ProposedMember};
    let api = |e: crate::error::ApiError| anyhow::anyhow!("demo participation: {e:?}");
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM households WHERE village = $1 ORDER BY id LIMIT 4")
            .bind(village)
            .fetch_all(&state.db.pool)
            .await?;
    if ids.len() < 3 {
        return Ok(0);
    }
    let Some(home) = crate::store::head(&state.db.pool, &ids[0].0).await? else {
        return Ok(0);
    };
    let home = home.keluarga()?;
    let Some(filer) = home.active_members().next() else {
        return Ok(0);
    };
    let filer = Filer {
        nik: filer.nik.clone(),
        no_kk: home.no_kk.clone(),
        name: filer.name.clone(),
        phone: "081234567890".into(),
    };
    let photo = (DEMO_JPEG.to_vec(), "image/jpeg");
    let gps = home.gps.or(Some(tepat_core::GeoPoint {
        lat: -6.9,
        lon: 107.6,
        accuracy_m: Some(10.0),
    }));
    let sanggah = |no_kk: &str, reason: &str| Filing {
        kind: Kind::Sanggah,
        filer: filer.clone(),
        no_kk: Some(no_kk.to_owned()),
        village: None,
        address: None,
        members: Vec::new(),
        reasons: vec![reason.to_owned()],
        text: "Keluarga ini tampak mampu (data demo) / This family looks well off (demo data)"
            .into(),
        gps,
        has_photo: true,
    };
    let usul = |head: &str| {
        Filing {
        kind: Kind::Usul,
        filer: filer.clone(),
        no_kk: None,
        village: Some(village.to_owned()),
        address: Some("Dusun Demo RT 02 RW 01".into()),
        members: vec![ProposedMember {
            name: head.to_owned(),
            nik: None,
        }],
        reasons: vec!["miskin_tidak_terdaftar".into()],
        text: "Keluarga miskin belum terdaftar (data demo) / A poor family not yet registered (demo data)".into(),
        gps: None,
        has_photo: false,
    }
    };
    let ticket = |f: crate::participation::Filed| f.ticket;
    // The first stays waiting in the village.
    crate::participation::file(
        state,
        sanggah(&ids[1].0, "aset_mewah"),
        Some(photo.clone()),
        None,
    )
    .await
    .map_err(api)?;
    let t2 = ticket(
        crate::participation::file(state, usul("Sutrisno"), None, None)
            .await
            .map_err(api)?,
    );
    let t3 = ticket(
        crate::participation::file(state, usul("Wartini"), None, None)
            .await
            .map_err(api)?,
    );
    let t4 = ticket(
        crate::participation::file(state, sanggah(&ids[2].0, "mampu"), Some(photo), None)
            .await
            .map_err(api)?,
    );
    let user = |name: &str| {
        let name = name.to_owned();
        async move {
            let id = crate::auth::find_user_id(&state.db, &name)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo account {name}"))?;
            crate::auth::load_user(&state.db, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo account {name}"))
        }
    };
    let operator = user("operator_desa1").await?;
    let dinsos = user("dinsos1").await?;
    let case_id = |t: String| async move {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM participation_cases WHERE ticket = $1")
            .bind(t)
            .fetch_one(&state.db.pool)
            .await?;
        anyhow::Ok(id)
    };
    let (c2, c3, c4) = (case_id(t2).await?, case_id(t3).await?, case_id(t4).await?);
    let step = |action: &'static str,
                reason: Option<&'static str>,
                deliberation: Option<i64>,
                facilitator: Option<&'static str>| crate::participation::Decision {
        action,
        reason,
        note: Some("Data demo / demo data"),
        deliberation_id: deliberation,
        facilitator,
    };
    let decide = |u: &crate::auth::User, id: i64, d: crate::participation::Decision<'static>| {
        let u = u.clone();
        async move {
            crate::participation::decide(state, &u, id, d)
                .await
                .map_err(api)
        }
    };
    decide(
        &operator,
        c2,
        step("request_visit", None, None, Some("pendamping1")),
    )
    .await?;
    let record = crate::participation::add_deliberation(
        state,
        &operator,
        crate::participation::NewDeliberation {
            village,
            held_on: state.today_in(village),
            participants: 24,
            record: "berita_acara",
            document: (DEMO_PDF.to_vec(), "application/pdf"),
        },
    )
    .await
    .map_err(api)?;
    for c in [c3, c4] {
        decide(&operator, c, step("open_deliberation", None, None, None)).await?;
        decide(&operator, c, step("agree", None, Some(record), None)).await?;
        decide(&dinsos, c, step("start_verification", None, None, None)).await?;
    }
    decide(
        &dinsos,
        c4,
        step("decline", Some("tidak_layak"), None, None),
    )
    .await?;
    Ok(4)
}

/// The smallest JPEG header the file check accepts (a demo house photo).
const DEMO_JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9,
];
/// A one-line PDF (a demo berita acara).
const DEMO_PDF: &[u8] = b"%PDF-1.4\n% Berita acara musyawarah desa (data demo)\n%%EOF\n";
