//! Built-in given names for synthetic people.
//!
//! **Synthetic:** these are common Indonesian given names combined at random. They
//! name no real person; any match with a real person's name is chance. Many
//! Indonesians carry a single name, others two or three; the generator mixes both.

use crate::rng::Rng;

pub const MALE: &[&str] = &[
    "Agus",
    "Ahmad",
    "Andi",
    "Arif",
    "Bambang",
    "Budi",
    "Dedi",
    "Dian",
    "Dimas",
    "Eko",
    "Fajar",
    "Farhan",
    "Hadi",
    "Hendra",
    "Heru",
    "Ilham",
    "Imam",
    "Iwan",
    "Joko",
    "Kurniawan",
    "Made",
    "Muhammad",
    "Nyoman",
    "Putu",
    "Rahmat",
    "Reza",
    "Rizki",
    "Rudi",
    "Slamet",
    "Sugeng",
    "Suharto",
    "Sutrisno",
    "Taufik",
    "Teguh",
    "Wahyu",
    "Wayan",
    "Yanto",
    "Yusuf",
    "Zainal",
    "Aditya",
    "Bayu",
    "Darmawan",
    "Gilang",
    "Hasan",
    "Irfan",
    "Ketut",
    "Nanda",
    "Rizal",
    "Samsul",
    "Firman",
];

pub const FEMALE: &[&str] = &[
    "Aisyah",
    "Ani",
    "Ayu",
    "Dewi",
    "Dwi",
    "Endang",
    "Fitri",
    "Indah",
    "Intan",
    "Kartini",
    "Lestari",
    "Lina",
    "Maya",
    "Nur",
    "Nurul",
    "Puspita",
    "Putri",
    "Rani",
    "Ratna",
    "Rina",
    "Sari",
    "Siti",
    "Sri",
    "Suryani",
    "Tuti",
    "Wati",
    "Widya",
    "Yanti",
    "Yuliana",
    "Zahra",
    "Anisa",
    "Citra",
    "Desi",
    "Eka",
    "Fatimah",
    "Handayani",
    "Kadek",
    "Komang",
    "Mega",
    "Novita",
    "Rahayu",
    "Ratih",
    "Safitri",
    "Sinta",
    "Utami",
    "Wulandari",
    "Yulia",
    "Nadia",
    "Salsabila",
    "Annisa",
];

/// Second names used by either sex (family and clan names).
const SECOND: &[&str] = &[
    "Wijaya",
    "Hidayat",
    "Nugroho",
    "Santoso",
    "Setiawan",
    "Kusuma",
    "Permana",
    "Hakim",
    "Purnama",
    "Siregar",
    "Nasution",
    "Lubis",
    "Harahap",
    "Simanjuntak",
    "Sembiring",
    "Tarigan",
    "Pohan",
    "Daulay",
];

/// Second names of men.
const SECOND_MALE: &[&str] = &[
    "Pratama",
    "Saputra",
    "Ramadhan",
    "Hidayatullah",
    "Firmansyah",
];

/// Second names of women.
const SECOND_FEMALE: &[&str] = &["Saputri", "Lestari", "Rahmawati", "Kurniasih", "Pertiwi"];

/// A synthetic full name: one given name, with a second name two times in three.
pub fn name(rng: &mut Rng, female: bool) -> String {
    let first = rng
        .pick(if female { FEMALE } else { MALE })
        .copied()
        .unwrap_or("Anonim");
    if rng.below(3) == 0 {
        return first.to_owned();
    }
    let list = if rng.below(2) == 0 {
        SECOND
    } else if female {
        SECOND_FEMALE
    } else {
        SECOND_MALE
    };
    let second = rng.pick(list).copied().unwrap_or("");
    if second == first {
        return first.to_owned();
    }
    format!("{first} {second}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_non_empty_and_vary() {
        let mut rng = Rng::new(11);
        let names: std::collections::BTreeSet<String> =
            (0..500).map(|i| name(&mut rng, i % 2 == 0)).collect();
        assert!(names.len() > 200, "{}", names.len());
        assert!(names.iter().all(|n| !n.trim().is_empty()));
    }
}
