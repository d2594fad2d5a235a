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
