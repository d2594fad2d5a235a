-- member_niks is keyed by the sharding key first, like households and household_versions
-- (ARCHITECTURE.md): (province, nik, household). `province` is the household's.
-- The duplicate-NIK check looks a NIK up in every province (index on nik).
CREATE TABLE member_niks_by_province (
    province     TEXT NOT NULL,
    nik          TEXT NOT NULL,
    household_id TEXT NOT NULL,
    PRIMARY KEY (province, nik, household_id)
);
INSERT INTO member_niks_by_province (province, nik, household_id)
    SELECT province, nik, household_id FROM member_niks;
DROP TABLE member_niks;
ALTER TABLE member_niks_by_province RENAME TO member_niks;
CREATE INDEX member_niks_nik ON member_niks (nik);
CREATE INDEX member_niks_household ON member_niks (household_id);
