-- The head no longer carries a second copy of the household JSON: `households.seq`
-- points at the version row (household_versions (province, seq)), whose `payload` is
-- read by a join. Each change writes its household JSON once (issue 6). Every head's seq
-- is its version's (store::Writes::flush), so nothing is lost by dropping the copy.
ALTER TABLE households DROP COLUMN payload;
