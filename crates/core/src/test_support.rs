//! Helpers shared by the crate's unit tests: the sample family varied one answer at a
//! time, for tests that compare two ways of reading a family.

use serde_json::Value as J;

/// Answers to try in place of one: unanswered, and codes from 0 to 40.
pub(crate) fn answers() -> Vec<J> {
    let mut v = Vec::from([0, 1, 2, 3, 5, 8, 40].map(J::from));
    v.push(J::Null);
    v
}

/// `base` with one family answer changed (every scalar outside the members, by its path
/// of keys), for every answer and value in `values`. Returns how many answers there are.
pub(crate) fn with_each_family_answer(base: &J, values: &[J], families: &mut Vec<J>) -> usize {
    fn leaves(v: &J, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            J::Object(m) => {
                for (key, x) in m {
                    if key == "anggota" {
                        continue;
                    }
                    path.push(key.clone());
                    leaves(x, path, out);
                    path.pop();
                }
            }
            J::Array(_) => {}
            _ => out.push(path.clone()),
        }
    }
    let mut paths = Vec::new();
    leaves(base, &mut Vec::new(), &mut paths);
    for path in &paths {
        for value in values {
            let mut f = base.clone();
            let mut at = &mut f;
            for key in path {
                at = &mut at[key.as_str()];
            }
            *at = value.clone();
            families.push(f);
        }
    }
    paths.len()
}

/// `base` with one answer of one member changed, for every member, answer and value.
pub(crate) fn with_each_member_answer(base: &J, values: &[J], families: &mut Vec<J>) {
    for (i, m) in base["anggota"].as_array().unwrap().iter().enumerate() {
        for key in m.as_object().unwrap().keys() {
            for value in values {
                let mut f = base.clone();
                f["anggota"][i][key] = value.clone();
                families.push(f);
            }
        }
    }
}
