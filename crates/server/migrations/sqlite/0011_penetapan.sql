-- The program determination (penetapan) of a published ranking run (docs/scoring.md):
-- for each family the run ranked and each program of the program rules, eligible or
-- not, why not, the counted components and the amount. Computed once per run (when it
-- is published), by tepat-core; append-only. A run's `determinations` row is written
-- after its results, in the same transaction: a run with the row is complete.
CREATE TABLE determinations (
    run_id           INTEGER PRIMARY KEY REFERENCES ranking_runs (id),
    period           TEXT NOT NULL,
    programs_version TEXT NOT NULL,
    -- The reference date (ages) the rules were applied at: the run's.
    reference_date   TEXT NOT NULL,
    families         INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);

-- One family's determination for one program. `reason` is the first reason of
-- exclusion's rule id (NULL when eligible), `reasons` all of them with their texts
-- (JSON), `components` the counted components (JSON); amounts are Rupiah per year.
CREATE TABLE determination_results (
    province     TEXT NOT NULL,
    run_id       INTEGER NOT NULL REFERENCES ranking_runs (id),
    program      TEXT NOT NULL,
    household_id TEXT NOT NULL,
    version      INTEGER NOT NULL,
    village      TEXT NOT NULL,
    desil        INTEGER NOT NULL,
    persons      INTEGER NOT NULL,
    eligible     INTEGER NOT NULL,
    reason       TEXT,
    reasons      TEXT NOT NULL,
    components   TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    PRIMARY KEY (province, run_id, program, household_id)
);
CREATE INDEX determination_results_family ON determination_results (run_id, program, household_id);
CREATE INDEX determination_results_village ON determination_results (run_id, village);

CREATE TRIGGER determinations_no_update BEFORE UPDATE ON determinations
BEGIN SELECT RAISE(ABORT, 'determinations is append-only'); END;
CREATE TRIGGER determinations_no_delete BEFORE DELETE ON determinations
BEGIN SELECT RAISE(ABORT, 'determinations is append-only'); END;
CREATE TRIGGER determination_results_no_update BEFORE UPDATE ON determination_results
BEGIN SELECT RAISE(ABORT, 'determination_results is append-only'); END;
CREATE TRIGGER determination_results_no_delete BEFORE DELETE ON determination_results
BEGIN SELECT RAISE(ABORT, 'determination_results is append-only'); END;
