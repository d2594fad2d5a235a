//! The event rules' findings and their messages (Bahasa Indonesia, English).

use crate::finding::{Finding, Severity, Text, values};

/// The message of an event rule.
fn message(rule: &str) -> Text {
    match rule {
        "event.id" => Text::new(
            "Id perubahan harus UUID (8-4-4-4-12 digit heksadesimal); yang diisi: {id}.",
            "The change id must be a UUID (8-4-4-4-12 hex digits); found: {id}.",
        ),
        "event.no_kk" => Text::new(
            "Perubahan ini untuk No. KK lain, bukan keluarga ini.",
            "This change is for another No. KK, not this family.",
        ),
        "event.base_version" => Text::new(
            "Data keluarga sudah berubah (versi {current}) sejak perubahan ini dibuat (versi {base}). Muat ulang data lalu ulangi.",
            "The family changed (version {current}) since this change was made (version {base}). Reload the family and try again.",
        ),
        "event.author" => Text::new(
            "Pembuat perubahan harus diisi.",
            "The author of the change is required.",
        ),
        "event.time" => Text::new(
            "Waktu perubahan harus berformat RFC 3339 (mis. 2026-11-23T08:15:00Z).",
            "The change time must be RFC 3339 (e.g. 2026-11-23T08:15:00Z).",
        ),
        "event.reason" => Text::new(
            "Alasan perubahan harus diisi.",
            "A reason for the change is required.",
        ),
        "event.family_inactive" => Text::new(
            "Keluarga berstatus {status}; perubahan anggota tidak dapat dicatat.",
            "The family's status is {status}; member changes cannot be recorded.",
        ),
        "event.member_unknown" => Text::new(
            "Tidak ada anggota aktif dengan NIK ini di keluarga.",
            "No active member of the family has this NIK.",
        ),
        "event.confirm_with_errors" => Text::new(
            "Data keluarga masih memiliki {count} kesalahan, jadi tidak dapat dinyatakan sesuai. Perbaiki jawabannya lewat uji petik.",
            "The family record still has {count} errors, so it cannot be confirmed as correct. Correct the answers in the ground check.",
        ),
        "event.date_future" => Text::new(
            "Tanggal peristiwa ({date}) ada di masa depan.",
            "The event date ({date}) lies in the future.",
        ),
        "event.date_before_birth" => Text::new(
            "Tanggal peristiwa ({date}) sebelum tanggal lahir anggota ({birth}).",
            "The event date ({date}) is before the member's birth date ({birth}).",
        ),
        "event.new_head_required" => Text::new(
            "Kepala keluarga keluar dari keluarga; pilih anggota yang menjadi kepala keluarga baru.",
            "The head leaves the family; choose the member who becomes the new head.",
        ),
        "event.new_head_required.died" => Text::new(
            "Kepala keluarga meninggal; pilih anggota yang menjadi kepala keluarga baru.",
            "The head died; choose the member who becomes the new head.",
        ),
        "event.new_head_required.not_found" => Text::new(
            "Kepala keluarga tidak ditemukan; pilih anggota yang menjadi kepala keluarga baru.",
            "The head was not found; choose the member who becomes the new head.",
        ),
        "event.new_head_unknown" => Text::new(
            "Kepala keluarga baru harus anggota aktif lain dari keluarga ini.",
            "The new head must be another active member of this family.",
        ),
        "event.destination" => Text::new(
            "Kode wilayah tujuan {region} tidak ada dalam daftar wilayah Kemendagri.",
            "Destination region code {region} is not in the Kemendagri region list.",
        ),
        "event.nik_exists" => Text::new(
            "NIK anggota baru sudah terdaftar di keluarga ini.",
            "The new member's NIK is already in this family.",
        ),
        "event.birth_relationship" => Text::new(
            "Bayi yang lahir harus dicatat sebagai anak (3), cucu (5) atau lainnya (8); yang diisi {relationship}.",
            "A newborn must be recorded as child (3), grandchild (5) or other (8); found {relationship}.",
        ),
        "event.birth_late" => Text::new(
            "Kelahiran dicatat lebih dari setahun setelah tanggal lahir ({birth}); periksa apakah ini anggota baru pindah masuk.",
            "The birth is recorded more than a year after the birth date ({birth}); check whether this is a member moving in.",
        ),
        "event.head_joins" => Text::new(
            "Anggota yang pindah masuk tidak boleh langsung menjadi kepala keluarga.",
            "A member moving in cannot join as head of the family.",
        ),
        "event.already_married" => Text::new(
            "Anggota ini sudah berstatus kawin.",
            "This member is already married.",
        ),
        "event.partner_conflict" => Text::new(
            "Isi pasangan baru atau NIK pasangan yang sudah menjadi anggota, tidak keduanya.",
            "Give either a new partner or the NIK of a partner who is already a member, not both.",
        ),
        "event.partner_self" => Text::new(
            "Pasangan tidak boleh anggota yang sama.",
            "The partner cannot be the same member.",
        ),
        "event.split_same_kk" => Text::new(
            "No. KK baru harus berbeda dari No. KK lama.",
            "The new No. KK must differ from the old one.",
        ),
        "event.split_empty" => Text::new(
            "Pecah KK harus memindahkan paling sedikit satu anggota.",
            "A family split must move at least one member.",
        ),
        "event.member_repeated" => Text::new(
            "Anggota ini disebut lebih dari sekali.",
            "This member is listed more than once.",
        ),
        "event.merge_target" => Text::new(
            "Keluarga tujuan penggabungan (No. KK {into}) tidak tersedia.",
            "The family to merge into (No. KK {into}) is not available.",
        ),
        "event.merge_self" => Text::new(
            "Keluarga tidak dapat digabung ke dirinya sendiri.",
            "A family cannot merge into itself.",
        ),
        "event.merge_member_missing" => Text::new(
            "Setiap anggota aktif harus disebut dalam penggabungan; anggota nomor {number} tidak disebut.",
            "Every active member must be listed in the merge; member number {number} is missing.",
        ),
        "event.correction_empty" => Text::new(
            "Koreksi tidak berisi perubahan.",
            "The correction contains no change.",
        ),
        "event.correction_field" => Text::new(
            "Isian {field} tidak dapat dikoreksi di sini; gunakan peristiwa yang sesuai.",
            "Field {field} cannot be corrected here; use the matching life event.",
        ),
        "event.correction_value" => Text::new(
            "Nilai koreksi untuk {field} tidak sah: {problem}",
            "The corrected value of {field} is not valid: {problem}",
        ),
        "event.last_member" => Text::new(
            "Ini anggota aktif terakhir keluarga; penutupan data keluarga dilakukan oleh operator Dinsos.",
            "This is the family's last active member; closing the family record is done by the Dinsos operator.",
        ),
        "event.not_active_family" => Text::new(
            "Keluarga tidak aktif (status {status}).",
            "The family is not active (status {status}).",
        ),
        "event.graduation_reason" => Text::new(
            "Alasan graduasi harus diisi: jelaskan kesiapan keluarga keluar dari PKH.",
            "A graduation reason is required: describe why the family is ready to leave PKH.",
        ),
        "event.graduation_reason_long" => Text::new(
            "Alasan graduasi paling banyak {max} karakter; yang diisi {length}.",
            "The graduation reason is at most {max} characters; found {length}.",
        ),
        "event.already_graduated" => Text::new(
            "Graduasi keluarga ini sudah dicatat (tanggal {date}).",
            "This family's graduation is already recorded (date {date}).",
        ),
        "event.graduation_not_kpm" => Text::new(
            "Keluarga ini tidak tercatat sebagai penerima PKH (501b), jadi graduasi tidak dapat dicatat.",
            "This family is not recorded as receiving PKH (501b), so a graduation cannot be recorded.",
        ),
        "event.new_family_existing" => Text::new(
            "Keluarga baru tidak dapat dicatat pada keluarga yang sudah terdaftar; catat keluarga baru tanpa No. KK yang ada.",
            "A new family cannot be recorded on a family already in the register; record it as a family of its own.",
        ),
        "event.new_family_kind" => Text::new(
            "Perubahan ini bukan pendaftaran keluarga baru.",
            "This change is not the registration of a new family.",
        ),
        "event.new_family_base" => Text::new(
            "Keluarga baru dibuat dari versi 0 (belum ada keluarga); yang diisi versi {base}.",
            "A new family is made from version 0 (no family yet); found version {base}.",
        ),
        "event.new_family_case" => Text::new(
            "Nomor pengajuan usul yang diverifikasi harus diisi.",
            "The id of the verified usul case is required.",
        ),
        "event.new_family_empty" => Text::new(
            "Keluarga baru harus memiliki paling sedikit satu anggota.",
            "A new family must have at least one member.",
        ),
        "event.new_family_kk_registered" => Text::new(
            "No. KK ini sudah terdaftar; usul keluarga yang sudah terdaftar menjadi uji petik keluarga itu.",
            "This No. KK is already in the register; an usul of a registered family becomes a ground check of it.",
        ),
        "event.new_family_nik_registered" => Text::new(
            "NIK ini sudah aktif sebagai anggota keluarga lain yang terdaftar.",
            "This NIK is already an active member of another registered family.",
        ),
        _ => Text::new(rule, rule),
    }
}

/// The findings an event collects while it is checked and applied.
#[derive(Default)]
pub(super) struct Out {
    pub(super) findings: Vec<Finding>,
}

impl Out {
    pub(super) fn error<const N: usize>(
        &mut self,
        rule: &str,
        path: &str,
        vals: [(&str, String); N],
    ) {
        self.push(rule, Severity::Error, path, vals);
    }
    /// An error of rule `rule` with the message of `words` (one rule, worded for the case).
    pub(super) fn error_worded<const N: usize>(
        &mut self,
        rule: &str,
        words: &str,
        path: &str,
        vals: [(&str, String); N],
    ) {
        self.findings.push(Finding::new(
            rule,
            Severity::Error,
            path,
            &message(words),
            values(vals),
        ));
    }
    pub(super) fn warning<const N: usize>(
        &mut self,
        rule: &str,
        path: &str,
        vals: [(&str, String); N],
    ) {
        self.push(rule, Severity::Warning, path, vals);
    }
    fn push<const N: usize>(
        &mut self,
        rule: &str,
        severity: Severity,
        path: &str,
        vals: [(&str, String); N],
    ) {
        self.findings.push(Finding::new(
            rule,
            severity,
            path,
            &message(rule),
            values(vals),
        ));
    }
    pub(super) fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}
