//! The demo's worklists look like the field's: each facilitator's families are mostly
//! beneficiary families in desil 1–5, and most qualify for a program.

mod common;

use serde_json::json;
use tepat_core::Keluarga;
use tepat_core::score::{ProgramRules, RankingModel};

both!(
    each_facilitator_worklist_is_mostly_poor_beneficiaries,
    |ctx| {
        let mut banner = Vec::new();
        assert!(
            tepat_server::seed::seed_demo(&ctx.state, &mut banner)
                .await
                .unwrap()
        );
        let model = RankingModel::builtin();
        let programs = ProgramRules::builtin();
        for name in ["pendamping1", "pendamping2"] {
            let r = ctx
                .post(
                    "/api/v1/auth/login",
                    None,
                    json!({"username": name, "password": tepat_server::seed::DEMO_PASSWORD}),
                )
                .await;
            let token = r.json["token"].as_str().unwrap().to_owned();
            let pulled = ctx
                .get("/api/v1/sync/pull?cursor=0&limit=2000", Some(&token))
                .await;
            let families: Vec<Keluarga> = pulled.json["households"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| serde_json::from_value(h["keluarga"].clone()).unwrap())
                .collect();
            let n = families.len();
            assert!(n >= 100, "{name}: {n} families");
            // The demo's published ranking: every family has its official desil.
            let period = pulled.json["ranking"]["period"].as_str().unwrap();
            for h in pulled.json["households"].as_array().unwrap() {
                assert_eq!(h["official"]["period"], period, "{name}");
                assert!((1..=10).contains(&h["official"]["desil"].as_i64().unwrap()));
            }
            let (mut poor, mut qualifies, mut beneficiary) = (0, 0, 0);
            for k in &families {
                let today = ctx.state.today_in(&k.address.village);
                let desil = model.predict(k, today).unwrap().desil;
                poor += usize::from(desil <= 5);
                let d = programs.decide(k, desil, today);
                qualifies += usize::from(d.programs.iter().any(|p| p.eligible));
                let p = &k.assets.programs;
                beneficiary += usize::from(p.pkh == Some(1) || p.sembako == Some(1));
            }
            assert!(poor * 10 >= n * 7, "{name}: {poor} of {n} in desil 1–5");
            assert!(
                qualifies * 10 >= n * 6,
                "{name}: {qualifies} of {n} qualify"
            );
            assert_eq!(beneficiary, n, "{name}: every family receives a program");
            // Not only the poor: a worklist also holds families a ground check may graduate.
            assert!(poor < n, "{name}: some families in desil 6–10");
        }
        // Matching: the koordinator's queue holds Dukcapil deaths (proposed) and PLN
        // findings, and the banner says how many were queued.
        let r = ctx
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": "koordinator1", "password": tepat_server::seed::DEMO_PASSWORD}),
            )
            .await;
        let token = r.json["token"].as_str().unwrap().to_owned();
        let q = ctx
            .get("/api/v1/review?kind=padan&limit=1000", Some(&token))
            .await;
        let items = q.json["items"].as_array().unwrap();
        let kinds: Vec<&str> = items
            .iter()
            .map(|i| i["padan"]["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"meninggal"), "{kinds:?}");
        assert!(
            items.iter().any(|i| i["padan"]["source"] == "pln"),
            "{kinds:?}"
        );
        let mut counts = std::collections::BTreeMap::new();
        for k in &kinds {
            *counts.entry(*k).or_insert(0) += 1;
        }
        assert!(
            items.len() < 100,
            "{} items flood the queue: {counts:?}",
            items.len()
        );
        let banner = String::from_utf8(banner).unwrap();
        assert!(
            banner.contains(&format!("Demo: {} temuan padan", items.len())),
            "{banner}"
        );
    }
);
