-- Every ranking model (tepat-pmt/1: variables, coefficients, static cut points, its
-- fit record) ever published, as published (JSON text). A version never changes. A
-- ranking run uses the model version it is given, or the latest published; devices get
-- a model with the published run that used it. The builtin model is registered at
-- start when its version is not here.
CREATE TABLE ranking_models (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    version      TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    published_by TEXT NOT NULL
);
CREATE TRIGGER ranking_models_no_update BEFORE UPDATE ON ranking_models
BEGIN SELECT RAISE(ABORT, 'ranking_models is append-only'); END;
CREATE TRIGGER ranking_models_no_delete BEFORE DELETE ON ranking_models
BEGIN SELECT RAISE(ABORT, 'ranking_models is append-only'); END;
