//! The register side of a linkage: the members of a JSONL register (the format of
//! `tepat gen` and the server's export), read with only the fields matching needs.

use std::io::BufRead;

use serde::Deserialize;
use tepat_core::Date;
use tepat_core::nik::Sex;

use super::compare::address_tokens;
use super::normalize::NameKey;

#[derive(Deserialize)]
struct Family {
    no_kk: String,
    #[serde(default)]
    address: Address,
    #[serde(default)]
    housing: Housing,
    #[serde(default)]
    anggota: Vec<Member>,
}

#[derive(Default, Deserialize)]
struct Address {
    #[serde(default)]
    village: String,
    #[serde(default)]
    rt: Option<String>,
    #[serde(default)]
    rw: Option<String>,
    #[serde(default)]
    street: Option<String>,
}

#[derive(Default, Deserialize)]
struct Housing {
    #[serde(default)]
    pln_customer_id: Option<String>,
}

#[derive(Deserialize)]
struct Member {
    nik: String,
    name: String,
    #[serde(default)]
    number: Option<u16>,
    #[serde(default = "active")]
    presence: u8,
    sex: Sex,
    birth_date: Date,
    #[serde(default)]
    relationship: u8,
}

fn active() -> u8 {
    tepat_core::codes::presence::LIVES_WITH_FAMILY
}

/// One family of the register.
#[derive(Clone, Debug, PartialEq)]
pub struct RegFamily {
    pub no_kk: String,
    pub village: String,
    /// Street, RT and RW as written (`Jl. Melati RT 003 RW 002`).
    pub address_text: String,
    /// The same as address tokens.
    pub address: Vec<String>,
    pub pln_customer_id: String,
    /// The line of the register file.
    pub line: u64,
}

/// One member of the register (active or not).
#[derive(Clone, Debug, PartialEq)]
pub struct RegMember {
    /// Index into [`Register::families`].
    pub family: u32,
    /// 401, or the position in the family (from 1) when absent.
    pub number: u16,
    pub nik: String,
    /// The name as written in the register.
    pub raw_name: String,
    pub name: NameKey,
    pub sex: u8,
    pub birth: Date,
    pub active: bool,
    pub head: bool,
    pub village: String,
}

/// The register, flattened for matching.
#[derive(Clone, Debug, Default)]
pub struct Register {
    pub families: Vec<RegFamily>,
    pub members: Vec<RegMember>,
    /// Lines that could not be read: (line, message).
    pub bad: Vec<(u64, String)>,
}

impl Register {
    /// Reads a JSONL register; a malformed line is reported and skipped.
    pub fn read(input: impl BufRead) -> std::io::Result<Register> {
        let mut reg = Register::default();
        for (i, line) in input.split(b'\n').enumerate() {
            let line = line?;
            let n = i as u64 + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Family>(&line) {
                Ok(f) => reg.push(f, n),
                Err(e) => reg.bad.push((
                    n,
                    format!(
                        "baris register tidak sah (kolom {}) / invalid register line (column {})",
                        e.column(),
                        e.column()
                    ),
                )),
            }
        }
        Ok(reg)
    }

    fn push(&mut self, f: Family, line: u64) {
        let family = self.families.len() as u32;
        let mut addr = f.address.street.clone().unwrap_or_default();
        for (label, part) in [("RT", &f.address.rt), ("RW", &f.address.rw)] {
            if let Some(p) = part {
                addr.push_str(&format!(" {label} {p}"));
            }
        }
        let addr = addr.trim().to_owned();
        for (pos, m) in f.anggota.into_iter().enumerate() {
            self.members.push(RegMember {
                family,
                number: m.number.unwrap_or(pos as u16 + 1),
                nik: m.nik,
                name: NameKey::new(&m.name),
                raw_name: m.name,
                sex: m.sex.code(),
                birth: m.birth_date,
                active: tepat_core::codes::presence::is_active(m.presence),
                head: m.relationship == tepat_core::codes::relationship::HEAD,
                village: f.address.village.clone(),
            });
        }
        self.families.push(RegFamily {
            no_kk: f.no_kk,
            village: f.address.village,
            address: address_tokens(&addr),
            address_text: addr,
            pln_customer_id: f.housing.pln_customer_id.unwrap_or_default(),
            line,
        });
    }
}
