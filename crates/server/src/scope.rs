//! Scope helpers over the region table: which villages and districts a user covers.

use tepat_core::RegionTable;
use tepat_core::region::Level;

use crate::auth::User;

/// Districts (dotted codes) touching the user's scope; empty for national roles.
pub fn districts_of(regions: &RegionTable, user: &User) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &user.regions {
        match Level::of(r) {
            Some(Level::Village) | Some(Level::District) => out.push(r[..8].to_owned()),
            Some(Level::Regency) => {
                out.extend(regions.children(r).map(|(c, _)| c.to_owned()));
            }
            Some(Level::Province) => {
                for (reg, _) in regions.children(r) {
                    out.extend(regions.children(reg).map(|(c, _)| c.to_owned()));
                }
            }
            None => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Villages (dotted codes) in the user's scope; empty for national roles.
pub fn villages_of(regions: &RegionTable, user: &User) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in districts_of(regions, user) {
        out.extend(
            regions
                .children(&d)
                .map(|(c, _)| c.to_owned())
                .filter(|c| user.covers(c)),
        );
    }
    out
}

/// A SQL condition that keeps the rows whose `column` (a dotted village code) lies in the
/// user's scope, with its bind values (`$first`, `$first+1`, …): `None` for everything
/// (no user, or a national role), `1 = 0` for a user with no region. The same rule as
/// [`User::covers`], decided by the database so out-of-scope rows are never read.
pub fn sql_condition(
    user: Option<&User>,
    column: &str,
    first: usize,
) -> Option<(String, Vec<String>)> {
    let user = user.filter(|u| !u.role.is_national())?;
    if user.regions.is_empty() {
        return Some(("1 = 0".to_owned(), Vec::new()));
    }
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    for r in &user.regions {
        let n = first + binds.len();
        parts.push(format!("{column} = ${n} OR {column} LIKE ${}", n + 1));
        binds.push(r.clone());
        binds.push(format!("{r}.%"));
    }
    Some((format!("({})", parts.join(" OR ")), binds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn user(role: Role, regions: &[&str]) -> User {
        User {
            id: 1,
            username: "u".into(),
            role,
            regions: regions.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn sql_condition_follows_covers() {
        assert!(sql_condition(None, "v", 1).is_none());
        assert!(sql_condition(Some(&user(Role::Analyst, &[])), "v", 1).is_none());
        let (sql, binds) = sql_condition(Some(&user(Role::Supervisor, &[])), "v", 1).unwrap();
        assert_eq!((sql.as_str(), binds.len()), ("1 = 0", 0));
        let (sql, binds) = sql_condition(
            Some(&user(Role::Supervisor, &["32.01.01", "32.02"])),
            "h.village",
            3,
        )
        .unwrap();
        assert_eq!(
            sql,
            "(h.village = $3 OR h.village LIKE $4 OR h.village = $5 OR h.village LIKE $6)"
        );
        assert_eq!(binds, ["32.01.01", "32.01.01.%", "32.02", "32.02.%"]);
    }
}
