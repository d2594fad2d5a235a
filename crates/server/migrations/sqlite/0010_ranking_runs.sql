-- The quarterly ranking run (docs/scoring.md): every current family scored with the
-- ranking model, national person-weighted cut points, and each family's desil.
-- Runs are append-only: a run's row changes only while it runs (progress), when it
-- ends, and once when it is published; it is never deleted. A period has at most one
-- published run.
CREATE TABLE ranking_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    period          TEXT NOT NULL,
    model_version   TEXT NOT NULL,
    -- The last household version (household_versions.seq) the snapshot contains.
    snapshot_seq    INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    -- While running: 'snapshot', 'scoring', 'storing'; the families done of the total.
    stage           TEXT NOT NULL,
    done            INTEGER NOT NULL DEFAULT 0,
    total           INTEGER NOT NULL DEFAULT 0,
    heartbeat_at    INTEGER NOT NULL,
    min_persons     INTEGER NOT NULL,
    families        INTEGER,
    persons         INTEGER,
    rejected        INTEGER,
    -- The cut points (the model's `cut_points` shape, JSON) and the model with them,
    -- which devices and previews use once the run is published.
    cut_points      TEXT,
    model           TEXT,
    error           TEXT,
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    started_by      INTEGER REFERENCES users (id),
    started_by_name TEXT NOT NULL,
    published_at    INTEGER,
    published_by    INTEGER REFERENCES users (id)
);
CREATE UNIQUE INDEX ranking_runs_published_period ON ranking_runs (period)
    WHERE published_at IS NOT NULL;

-- Each family's result in a run: the version ranked, its score (predicted per-capita
-- expenditure) and desil national, in its province and in its regency (NULL where the
-- region had too few persons for cut points), or why it could not be ranked.
CREATE TABLE ranking_results (
    province       TEXT NOT NULL,
    run_id         INTEGER NOT NULL REFERENCES ranking_runs (id),
    household_id   TEXT NOT NULL,
    version        INTEGER NOT NULL,
    village        TEXT NOT NULL,
    persons        INTEGER,
    per_capita     REAL,
    desil          INTEGER,
    desil_province INTEGER,
    desil_regency  INTEGER,
    error          TEXT,
    PRIMARY KEY (province, run_id, household_id)
);
CREATE INDEX ranking_results_run ON ranking_results (run_id, household_id);

CREATE TRIGGER ranking_runs_no_delete BEFORE DELETE ON ranking_runs
BEGIN SELECT RAISE(ABORT, 'ranking_runs is append-only'); END;
CREATE TRIGGER ranking_results_no_update BEFORE UPDATE ON ranking_results
BEGIN SELECT RAISE(ABORT, 'ranking_results is append-only'); END;
CREATE TRIGGER ranking_results_no_delete BEFORE DELETE ON ranking_results
BEGIN SELECT RAISE(ABORT, 'ranking_results is append-only'); END;
