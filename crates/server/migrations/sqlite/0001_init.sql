-- Tepat schema, SQLite dialect. Append-only: never edit an applied migration.
-- `province` on household tables is the future sharding key (see ARCHITECTURE.md).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('facilitator', 'supervisor', 'dinsos_admin', 'analyst', 'admin')),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

-- Region codes a user works in: villages (facilitator), a district (supervisor),
-- a regency (dinsos admin). Analysts and admins are national and need none.
CREATE TABLE assignments (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    region  TEXT NOT NULL,
    PRIMARY KEY (user_id, region)
);

-- Opaque bearer tokens, stored as SHA-256 hashes.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Every version of every household, append-only. `seq` is the global change order
-- that pull cursors follow.
CREATE TABLE household_versions (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    province     TEXT NOT NULL,
    household_id TEXT NOT NULL,
    version      INTEGER NOT NULL,
    village      TEXT NOT NULL,
    hash         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    created_by   INTEGER REFERENCES users (id),
    change_id    TEXT,
    UNIQUE (household_id, version)
);

-- The head: the current version of each household (a pointer into household_versions).
CREATE TABLE households (
    province   TEXT NOT NULL,
    id         TEXT NOT NULL PRIMARY KEY,
    village    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX households_seq ON households (seq);
CREATE INDEX households_village_seq ON households (village, seq);

-- NIKs of current members, for duplicate checks across households (one row per member).
CREATE TABLE member_niks (
    nik          TEXT NOT NULL PRIMARY KEY,
    province     TEXT NOT NULL,
    household_id TEXT NOT NULL
);
CREATE INDEX member_niks_household ON member_niks (household_id);

-- Pushed change requests, keyed by the client's UUID (idempotency). `payload` is frozen;
-- `content_hash` is checked again when a reviewer approves it.
CREATE TABLE change_requests (
    id               TEXT PRIMARY KEY,
    province         TEXT NOT NULL,
    village          TEXT NOT NULL,
    household_id     TEXT NOT NULL,
    user_id          INTEGER NOT NULL REFERENCES users (id),
    kind             TEXT NOT NULL,
    base_version     INTEGER,
    rulebook_version TEXT NOT NULL,
    payload          TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    outcome          TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'conflict')),
    status           TEXT NOT NULL CHECK (status IN ('applied', 'pending_review', 'rejected', 'approved', 'review_rejected')),
    review_reasons   TEXT NOT NULL DEFAULT '[]',
    findings         TEXT NOT NULL,
    result_version   INTEGER,
    response         TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    reviewed_by      INTEGER REFERENCES users (id),
    reviewed_at      INTEGER,
    review_note      TEXT
);
CREATE INDEX change_requests_queue ON change_requests (status, village);
CREATE INDEX change_requests_household ON change_requests (household_id);

-- Who did what, when, with before/after values. Append-only, enforced by triggers.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    user_id      INTEGER,
    username     TEXT NOT NULL,
    action       TEXT NOT NULL,
    province     TEXT,
    household_id TEXT,
    change_id    TEXT,
    before       TEXT,
    after        TEXT,
    details      TEXT
);
CREATE INDEX audit_household ON audit_log (household_id);
CREATE INDEX audit_user ON audit_log (user_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER household_versions_no_update BEFORE UPDATE ON household_versions
BEGIN SELECT RAISE(ABORT, 'household_versions is append-only'); END;
CREATE TRIGGER household_versions_no_delete BEFORE DELETE ON household_versions
BEGIN SELECT RAISE(ABORT, 'household_versions is append-only'); END;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
