-- The head no longer carries a second copy of the household JSON: `households.seq`
-- points at the version row (household_versions.seq), whose `payload` is read by a join.
-- Each change writes its household JSON once (issue 6). Every head's seq is its version's
-- (store::Writes::flush), so nothing is lost by dropping the copy.
-- The table is rebuilt rather than `DROP COLUMN`ed: that would leave each head alone on
-- the page its JSON had filled (20,000 heads on ~17,000 pages instead of ~700).
CREATE TABLE households_heads (
    province   TEXT NOT NULL,
    id         TEXT NOT NULL PRIMARY KEY,
    village    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
INSERT INTO households_heads (province, id, village, version, seq, hash, deleted, updated_at)
    SELECT province, id, village, version, seq, hash, deleted, updated_at FROM households ORDER BY id;
DROP TABLE households;
ALTER TABLE households_heads RENAME TO households;
CREATE INDEX households_seq ON households (seq);
CREATE INDEX households_village_seq ON households (village, seq);
