-- The console dashboard's figures, computed in SQL.
-- Each household version carries what the core's scoring says of it when written: the
-- desil (ranking model), the active members (the desil distribution is person-weighted)
-- and the graduation flag ('alamiah' natural, 'mandiri' self-sufficient; NULL when none).
-- Versions written before this migration have NULL and count as not scored: the table is
-- append-only, and SQL cannot score a family.
ALTER TABLE household_versions ADD COLUMN desil INTEGER;
ALTER TABLE household_versions ADD COLUMN persons INTEGER;
ALTER TABLE household_versions ADD COLUMN graduation TEXT;

-- The quarterly ground-check (uji petik) visit target, set per assignment (a
-- facilitator's village). Data, not code: change the row to change the target.
ALTER TABLE assignments ADD COLUMN visit_target INTEGER NOT NULL DEFAULT 20;
