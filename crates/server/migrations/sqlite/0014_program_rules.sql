-- Every program-rules version (programs file: desil ranges, components, amounts per
-- period, exclusions, graduation) ever published, as published (JSON text). A version
-- never changes. A determination uses the version in force for its run's period: the
-- latest effective_date on or before the period's first day (ties: the latest
-- published). The builtin rules are registered at start when their version is not here.
CREATE TABLE program_rules (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    version        TEXT NOT NULL UNIQUE,
    effective_date TEXT NOT NULL,
    source         TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    published_at   INTEGER NOT NULL
);
CREATE TRIGGER program_rules_no_update BEFORE UPDATE ON program_rules
BEGIN SELECT RAISE(ABORT, 'program_rules is append-only'); END;
CREATE TRIGGER program_rules_no_delete BEFORE DELETE ON program_rules
BEGIN SELECT RAISE(ABORT, 'program_rules is append-only'); END;

-- A determination row's amount as paid (JSON: Rupiah per period, the period, the text;
-- NULL when not eligible), whether the family receives the program at the run and has
-- not graduated from it, and (the graduation program) the graduation candidate kind
-- at the run (`alamiah`, `mandiri`; NULL when none), all decided by tepat-core.
ALTER TABLE determination_results ADD COLUMN payment TEXT;
ALTER TABLE determination_results ADD COLUMN receiving INTEGER NOT NULL DEFAULT 0;
ALTER TABLE determination_results ADD COLUMN graduation TEXT;
