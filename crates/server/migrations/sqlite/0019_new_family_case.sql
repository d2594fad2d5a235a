-- An usul of a family not in the register: the `new_family` change that registers the
-- family (set when it is queued for review, cleared when a reviewer rejects it). Its
-- approval creates the family and sets the case's `no_kk`.
ALTER TABLE participation_cases ADD COLUMN family_change_id TEXT;
CREATE UNIQUE INDEX participation_cases_family_change ON participation_cases (family_change_id);
