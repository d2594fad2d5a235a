//! The DTSEN family record: [`Keluarga`] (family, keyed by No. KK) and its
//! [`Anggota`] (members, keyed by NIK).
//!
//! Coded answers are the integer codes of BPS's Regsosek 2022 family questionnaire
//! (REGSOSEK22-K, DTSEN.md §4), with the question number on each field, so a DTSEN
//! extract maps to this JSON one to one. Which codes are allowed, when a question is
//! asked (skip logic) and how answers relate is rulebook data (`crate::rulebook`), not
//! Rust types: a wrong code parses and becomes a finding, never a panic.
//!
//! JSON shape: snake_case field names; an unanswered question is an absent field
//! (`null` is accepted on input too); unknown fields are rejected.

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::nik::Sex;

/// A Regsosek integer code (all code lists fit in 0..=255).
pub type Code = u8;

/// The lifecycle of a family in the register (DTSEN.md §4, end).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FamilyStatus {
    /// Aktif: lives at the recorded address.
    #[default]
    Active,
    /// Pindah: the whole family moved away.
    Moved,
    /// Pecah KK: this card was split; see the new families' `origin_kk`.
    Split,
    /// Gabung: merged into another family (`merged_into`).
    Merged,
    /// Tidak ditemukan: not found at the address.
    NotFound,
    /// Berakhir: every member has died; the card is closed and kept for history.
    Ended,
}

/// A GPS point (WGS 84), e.g. the house location recorded at a visit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GeoPoint {
    /// Latitude in degrees, −90..=90 (Indonesia: about −11..6).
    pub lat: f64,
    /// Longitude in degrees, −180..=180 (Indonesia: about 95..141).
    pub lon: f64,
    /// Horizontal accuracy in metres, as reported by the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
}

impl GeoPoint {
    /// The great-circle distance to `other` in metres (haversine on a sphere of the
    /// WGS 84 mean radius; within a few metres of the ellipsoid at a village's scale).
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let rad = |d: f64| d * core::f64::consts::PI / 180.0;
        let (phi1, phi2) = (rad(self.lat), rad(other.lat));
        let dphi = phi2 - phi1;
        let dlambda = rad(other.lon - self.lon);
        let s1 = libm::sin(dphi / 2.0);
        let s2 = libm::sin(dlambda / 2.0);
        let a = s1 * s1 + libm::cos(phi1) * libm::cos(phi2) * s2 * s2;
        2.0 * EARTH_RADIUS_M * libm::asin(libm::sqrt(a.clamp(0.0, 1.0)))
    }
}

/// Block I: where the family lives. Region codes are dotted Kemendagri codes as in
/// `data/wilayah.csv` (`11`, `11.01`, `11.01.01`, `11.01.01.2001`); each level must
/// be the parent of the next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Address {
    /// Provinsi, e.g. `11`.
    pub province: String,
    /// Kabupaten/kota, e.g. `11.01`.
    pub regency: String,
    /// Kecamatan, e.g. `11.01.01`.
    pub district: String,
    /// Desa/kelurahan, e.g. `11.01.01.2001`.
    pub village: String,
    /// RT (SLS), digits, e.g. `003`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rt: Option<String>,
    /// RW (SLS), digits, e.g. `001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rw: Option<String>,
    /// Street address (alamat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
}

/// Block III: housing (questions 301a–310), plus the PLN customer id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Housing {
    /// 301a Status kepemilikan bangunan tempat tinggal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<Code>,
    /// 301b Bukti kepemilikan tanah (only if 301a = 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub land_proof: Option<Code>,
    /// 302 Luas lantai, m².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_area_m2: Option<u32>,
    /// 303 Jenis lantai terluas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Code>,
    /// 304 Jenis dinding terluas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<Code>,
    /// 305 Jenis atap terluas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roof: Option<Code>,
    /// 306a Sumber air minum utama.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drinking_water: Option<Code>,
    /// 306b Jarak sumber air ke penampungan kotoran terdekat (if 306a in 4–8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_distance: Option<Code>,
    /// 307a Sumber penerangan utama.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lighting: Option<Code>,
    /// 307b Daya terpasang (only if 307a = 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<Code>,
    /// ID pelanggan PLN (IDPEL), 12 digits; only with a PLN meter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pln_customer_id: Option<String>,
    /// 308 Bahan bakar utama untuk memasak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooking_fuel: Option<Code>,
    /// 309a Fasilitas tempat buang air besar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toilet: Option<Code>,
    /// 309b Jenis kloset (if 309a in 1–3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toilet_type: Option<Code>,
    /// 310 Tempat pembuangan akhir tinja.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sewage_disposal: Option<Code>,
}

/// 501 Programs received (each 1 Ya / 2 Tidak).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Programs {
    /// 501a Sembako/BPNT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sembako: Option<Code>,
    /// 501b PKH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkh: Option<Code>,
    /// 501c BLT Desa.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blt_desa: Option<Code>,
    /// 501d Subsidi listrik.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub electricity_subsidy: Option<Code>,
    /// 501e Bantuan pemerintah daerah.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_government_aid: Option<Code>,
    /// 501f Subsidi pupuk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fertilizer_subsidy: Option<Code>,
    /// 501g Subsidi LPG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lpg_subsidy: Option<Code>,
}

/// 502 Movable assets (each 1 Ya / 2 Tidak).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MovableAssets {
    /// 502a Tabung gas ≥ 5,5 kg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_cylinder: Option<Code>,
    /// 502b Lemari es/kulkas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refrigerator: Option<Code>,
    /// 502c AC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub air_conditioner: Option<Code>,
    /// 502d Pemanas air (water heater).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_heater: Option<Code>,
    /// 502e Telepon rumah (PSTN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landline: Option<Code>,
    /// 502f Televisi layar datar ≥ 30 inci.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat_tv: Option<Code>,
    /// 502g Emas/perhiasan ≥ 10 gram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold: Option<Code>,
    /// 502h Komputer/laptop/tablet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computer: Option<Code>,
    /// 502i Sepeda motor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motorcycle: Option<Code>,
    /// 502j Sepeda.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bicycle: Option<Code>,
    /// 502k Mobil.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub car: Option<Code>,
    /// 502l Perahu.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boat: Option<Code>,
    /// 502m Kapal/perahu motor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motorboat: Option<Code>,
    /// 502n Smartphone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smartphone: Option<Code>,
}

/// 503 Immovable assets (each 1 Ya / 2 Tidak).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImmovableAssets {
    /// 503a Lahan selain yang ditempati.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_land: Option<Code>,
    /// 503b Rumah/bangunan di tempat lain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_house: Option<Code>,
}

/// 504 Livestock, head counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Livestock {
    /// 504a Sapi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cattle: Option<u32>,
    /// 504b Kerbau.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffalo: Option<u32>,
    /// 504c Kuda.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horse: Option<u32>,
    /// 504d Babi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pig: Option<u32>,
    /// 504e Kambing/domba.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goat_sheep: Option<u32>,
}

/// Block V: programs and assets (501–506).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Assets {
    /// 501 Programs received.
    #[serde(default)]
    pub programs: Programs,
    /// 502 Movable assets.
    #[serde(default)]
    pub movable: MovableAssets,
    /// 503 Immovable assets.
    #[serde(default)]
    pub immovable: ImmovableAssets,
    /// 504 Livestock.
    #[serde(default)]
    pub livestock: Livestock,
    /// 505 Akses internet utama.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Code>,
    /// 506 Rekening aktif atau dompet digital.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_account: Option<Code>,
}

/// Disability, Washington Group items. Each: 1 Sama sekali tidak bisa,
/// 2 Banyak kesulitan dan membutuhkan bantuan, 3 Sedikit kesulitan tanpa bantuan,
/// 4 Tidak mengalami kesulitan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Disability {
    /// Melihat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeing: Option<Code>,
    /// Mendengar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing: Option<Code>,
    /// Berjalan atau naik tangga.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walking: Option<Code>,
    /// Menggunakan tangan dan jari.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hands: Option<Code>,
    /// Belajar / kemampuan intelektual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning: Option<Code>,
    /// Mengendalikan perilaku / emosi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviour: Option<Code>,
    /// Berbicara / berkomunikasi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaking: Option<Code>,
    /// Mengurus diri sendiri.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_care: Option<Code>,
    /// Mengingat / berkonsentrasi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembering: Option<Code>,
}

impl Disability {
    /// Every item, in questionnaire order.
    pub fn items(&self) -> [Option<Code>; 9] {
        [
            self.seeing,
            self.hearing,
            self.walking,
            self.hands,
            self.learning,
            self.behaviour,
            self.speaking,
            self.self_care,
            self.remembering,
        ]
    }

    /// "Severe" for PKH: any item answered 1 (sama sekali tidak bisa) or 2 (banyak kesulitan).
    pub fn is_severe(&self) -> bool {
        self.items().iter().any(|c| matches!(c, Some(1 | 2)))
    }
}

/// A family member (Block IV), keyed by NIK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Anggota {
    /// 403 NIK, 16 digits.
    pub nik: String,
    /// 402 Nama.
    pub name: String,
    /// 401 Nomor urut anggota keluarga.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u16>,
    /// 404 Keberadaan (presence / member status): 1 tinggal bersama keluarga,
    /// 2 meninggal, 3 pindah dalam negeri, 4 pindah ke luar negeri,
    /// 5 anggota keluarga baru, 6 tidak ditemukan. Active = 1 or 5.
    #[serde(default = "default_presence")]
    pub presence: Code,
    /// Date of the death or move recorded in `presence` (2, 3, 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_date: Option<Date>,
    /// Destination of a move within Indonesia (404 = 3): a Kemendagri region code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    /// 405 Jenis kelamin.
    pub sex: Sex,
    /// 406 Tanggal lahir.
    pub birth_date: Date,
    /// 408 Status perkawinan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<Code>,
    /// 409 Hubungan dengan kepala keluarga.
    pub relationship: Code,
    /// 411 Kepemilikan dokumen identitas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_document: Option<Code>,
    /// 412 Partisipasi sekolah.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_participation: Option<Code>,
    /// 413 Jenjang pendidikan tertinggi yang pernah/sedang diduduki.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education_level: Option<Code>,
    /// 414 Kelas tertinggi yang pernah/sedang diduduki.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest_grade: Option<Code>,
    /// 415 Ijazah tertinggi (413's codes plus 23 tidak punya ijazah SD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Code>,
    /// 416a Bekerja paling sedikit 1 jam seminggu yang lalu (1 Ya / 2 Tidak).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worked_last_week: Option<Code>,
    /// 416b Jumlah jam kerja seminggu.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_hours: Option<u8>,
    /// 417 Lapangan usaha pekerjaan utama (1–26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<Code>,
    /// 418 Status kedudukan dalam pekerjaan utama.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employment_status: Option<Code>,
    /// 425 Omzet usaha per bulan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_turnover: Option<Code>,
    /// 427 Status gizi anak umur 0–4 tahun.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_nutrition: Option<Code>,
    /// Disabilitas (Washington Group items).
    #[serde(default)]
    pub disability: Disability,
    /// 430 Penyakit kronis/menahun.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chronic_illness: Option<Code>,
    /// 431a Jaminan kesehatan, additive bit codes (0, 1, 2, 4, 8 and sums up to 15; 99 tidak tahu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkn: Option<Code>,
    /// Sedang hamil (women aged 10–54; 1 Ya / 2 Tidak).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pregnant: Option<Code>,
}

fn default_presence() -> Code {
    crate::codes::presence::LIVES_WITH_FAMILY
}

impl Anggota {
    /// A member with the required answers and every optional question unanswered.
    pub fn new(nik: &str, name: &str, sex: Sex, birth_date: Date, relationship: Code) -> Anggota {
        Anggota {
            nik: nik.to_owned(),
            name: name.to_owned(),
            number: None,
            presence: crate::codes::presence::LIVES_WITH_FAMILY,
            presence_date: None,
            moved_to: None,
            sex,
            birth_date,
            marital_status: None,
            relationship,
            id_document: None,
            school_participation: None,
            education_level: None,
            highest_grade: None,
            certificate: None,
            worked_last_week: None,
            work_hours: None,
            sector: None,
            employment_status: None,
            business_turnover: None,
            child_nutrition: None,
            disability: Disability::default(),
            chronic_illness: None,
            jkn: None,
            pregnant: None,
        }
    }

    /// Still a member of the family: 404 = 1 (tinggal bersama) or 5 (anggota baru).
    pub fn is_active(&self) -> bool {
        crate::codes::presence::is_active(self.presence)
    }

    /// Completed years at `on`.
    pub fn age_on(&self, on: Date) -> i32 {
        self.birth_date.age_on(on)
    }
}

/// The kind of a graduation (graduasi) from PKH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum GraduationKind {
    /// Graduasi alamiah (natural): no PKH component left, or the desil above the
    /// program's range.
    Alamiah,
    /// Graduasi sejahtera mandiri (self-sufficient): the facilitator's record that the
    /// family is ready to leave.
    Mandiri,
}

impl GraduationKind {
    /// The wire name (`alamiah`, `mandiri`).
    pub fn name(self) -> &'static str {
        match self {
            GraduationKind::Alamiah => "alamiah",
            GraduationKind::Mandiri => "mandiri",
        }
    }
}

/// A recorded graduation: the family left PKH.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Graduated {
    pub kind: GraduationKind,
    /// The date the graduation took effect.
    pub date: Date,
    /// The facilitator's account of the family's readiness (free text).
    pub reason: String,
}

/// The family's PKH status as Tepat records it, beside the questionnaire's 501b answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PkhStatus {
    /// Set by an approved graduation (graduasi) change; the core's eligibility then
    /// excludes the family from PKH (`pkh.graduated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graduated: Option<Graduated>,
}

impl PkhStatus {
    pub fn is_empty(&self) -> bool {
        self.graduated.is_none()
    }
}

/// A family (keluarga), keyed by the 16-digit No. KK: one Regsosek family form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Keluarga {
    /// No. KK, 16 digits.
    pub no_kk: String,
    /// Record version: 1 for the first accepted version, +1 per accepted change.
    #[serde(default)]
    pub version: u32,
    /// The rulebook version this record was last validated with (e.g. `regsosek2022-2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rulebook_version: Option<String>,
    /// Lifecycle status of the family.
    #[serde(default)]
    pub status: FamilyStatus,
    /// For a family made by a split (pecah KK): the No. KK it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_kk: Option<String>,
    /// For a merged family: the No. KK it was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// Date of the last ground check (uji petik) that confirmed or corrected this
    /// record at a home visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground_checked: Option<Date>,
    /// Block I: location.
    pub address: Address,
    /// Klasifikasi desa/kelurahan: 1 perkotaan (urban), 2 perdesaan (rural). When
    /// absent, Tepat derives it from the region codes (kelurahan or kota = urban).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urban_rural: Option<Code>,
    /// Location of the dwelling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<GeoPoint>,
    /// Block I: jumlah anggota keluarga as reported; must equal the active members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u16>,
    /// Block III: housing.
    #[serde(default)]
    pub housing: Housing,
    /// Block V: programs and assets.
    #[serde(default)]
    pub assets: Assets,
    /// Block IV: members, in questionnaire order (401).
    #[serde(default)]
    pub anggota: Vec<Anggota>,
    /// PKH status recorded by Tepat (a graduation); absent when nothing is recorded.
    #[serde(default, skip_serializing_if = "PkhStatus::is_empty")]
    pub pkh: PkhStatus,
}

impl Keluarga {
    /// Members still in the family (404 = 1 or 5).
    pub fn active_members(&self) -> impl Iterator<Item = &Anggota> {
        self.anggota.iter().filter(|a| a.is_active())
    }

    /// The active head (409 = 1), if exactly one exists.
    pub fn head(&self) -> Option<&Anggota> {
        let mut heads = self
            .active_members()
            .filter(|a| a.relationship == crate::codes::relationship::HEAD);
        let first = heads.next()?;
        heads.next().is_none().then_some(first)
    }

    /// Urban (true) or rural (false): the recorded classification, else derived from
    /// the village and regency codes (DTSEN.md §3, Tepat's design). `None` when the
    /// village code is malformed and nothing is recorded.
    pub fn is_urban(&self) -> Option<bool> {
        match self.urban_rural {
            Some(1) => Some(true),
            Some(2) => Some(false),
            _ => crate::region::is_urban(&self.address.village),
        }
    }
}

#[cfg(test)]
mod geo_tests {
    use super::GeoPoint;

    fn p(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint {
            lat,
            lon,
            accuracy_m: None,
        }
    }

    #[test]
    fn distance_is_the_great_circle_in_metres() {
        // One degree of a meridian on the mean-radius sphere: 2πR / 360.
        let d = p(0.0, 0.0).distance_m(&p(1.0, 0.0));
        assert!((d - 111_195.08).abs() < 0.1, "{d}");
        assert_eq!(p(-6.2, 106.8).distance_m(&p(-6.2, 106.8)), 0.0);
        let (a, b) = (p(-6.9175, 107.6191), p(-6.9147, 107.6098));
        assert!((a.distance_m(&b) - b.distance_m(&a)).abs() < 1e-9);
        // Bandung, about a kilometre apart.
        assert!(
            (1_000.0..1_150.0).contains(&a.distance_m(&b)),
            "{}",
            a.distance_m(&b)
        );
    }
}
