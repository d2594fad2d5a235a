-- A ranking run's time per stage (JSON: snapshot, reading, parsing, scoring, cut points,
-- storing and the waits between reading and scoring, in milliseconds), written when it
-- ends. Whether a running run is alive is told by `heartbeat_at` (written every ~10 s).
ALTER TABLE ranking_runs ADD COLUMN timings TEXT;
