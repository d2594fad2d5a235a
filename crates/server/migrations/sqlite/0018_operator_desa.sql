-- The village operator role (`operator_desa`, scoped to villages). SQLite cannot alter
-- a CHECK, so the accounts table is rebuilt with the wider one, in this migration's
-- transaction: foreign keys are checked at its commit, the accounts keep their ids, and
-- the rows that dropping the old table cascades away (sessions, assignments) are put
-- back from copies.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE users_copy AS SELECT * FROM users;
CREATE TEMP TABLE sessions_copy AS SELECT * FROM sessions;
CREATE TEMP TABLE assignments_copy AS SELECT * FROM assignments;
DROP TABLE users;
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('facilitator', 'supervisor', 'dinsos_admin', 'analyst', 'admin', 'operator_desa')),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    display_name  TEXT
);
INSERT INTO users (id, username, role, password_hash, created_at, disabled, display_name)
    SELECT id, username, role, password_hash, created_at, disabled, display_name FROM users_copy;
DELETE FROM sessions;
INSERT INTO sessions SELECT * FROM sessions_copy;
DELETE FROM assignments;
INSERT INTO assignments SELECT * FROM assignments_copy;
DROP TABLE users_copy;
DROP TABLE sessions_copy;
DROP TABLE assignments_copy;
