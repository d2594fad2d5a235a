//! Named Regsosek codes (DTSEN.md §4) that Rust code refers to. The full code lists,
//! with labels, live in the rulebook; these constants only name the few codes the
//! structural and household checks need, so no magic numbers appear in the logic.

/// 404 Keberadaan anggota keluarga.
pub mod presence {
    use crate::model::Code;
    pub const LIVES_WITH_FAMILY: Code = 1;
    pub const DIED: Code = 2;
    pub const MOVED_DOMESTIC: Code = 3;
    pub const MOVED_ABROAD: Code = 4;
    pub const NEW_MEMBER: Code = 5;
    pub const NOT_FOUND: Code = 6;

    /// Still a member: lives with the family or is a new member.
    pub fn is_active(code: Code) -> bool {
        code == LIVES_WITH_FAMILY || code == NEW_MEMBER
    }
}

/// 408 Status perkawinan.
pub mod marital {
    use crate::model::Code;
    pub const NEVER_MARRIED: Code = 1;
    pub const MARRIED: Code = 2;
    pub const DIVORCED: Code = 3;
    pub const WIDOWED: Code = 4;
}

/// 409 Hubungan dengan kepala keluarga.
pub mod relationship {
    use crate::model::Code;
    pub const HEAD: Code = 1;
    pub const SPOUSE: Code = 2;
    pub const CHILD: Code = 3;
    pub const CHILD_IN_LAW: Code = 4;
    pub const GRANDCHILD: Code = 5;
    pub const PARENT: Code = 6;
    pub const DOMESTIC_WORKER: Code = 7;
    pub const OTHER: Code = 8;
}

/// 412 Partisipasi sekolah.
pub mod school {
    use crate::model::Code;
    pub const NEVER: Code = 1;
    pub const STILL: Code = 2;
    pub const NO_LONGER: Code = 3;
}

/// 307a Sumber penerangan utama.
pub mod lighting {
    use crate::model::Code;
    pub const PLN_METER: Code = 1;
    pub const PLN_NO_METER: Code = 2;
    pub const NON_PLN: Code = 3;
    pub const NOT_ELECTRIC: Code = 4;
}

/// 1 Ya / 2 Tidak answers (501, 502, 503, 416a, pregnancy).
pub mod yes_no {
    use crate::model::Code;
    pub const YES: Code = 1;
    pub const NO: Code = 2;
}

/// Urban/rural classification.
pub mod urban_rural {
    use crate::model::Code;
    pub const URBAN: Code = 1;
    pub const RURAL: Code = 2;
}
