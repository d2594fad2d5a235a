-- A NIK may be active in two families while a move is under review, so member_niks is
-- keyed by (nik, household); the duplicate check looks for other households.
DROP TABLE member_niks;
CREATE TABLE member_niks (
    nik          TEXT NOT NULL,
    household_id TEXT NOT NULL,
    province     TEXT NOT NULL,
    PRIMARY KEY (nik, household_id)
);
CREATE INDEX member_niks_household ON member_niks (household_id);

-- Writers of household versions take this row lock first, so versions get `seq` in
-- commit order on both engines (pull cursors never skip a change).
INSERT INTO meta (key, value) VALUES ('write_lock', '0');
