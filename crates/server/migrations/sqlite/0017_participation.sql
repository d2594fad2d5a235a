-- Public participation (usul and sanggah): each filing is a case with a ticket number,
-- its state as tepat-core's participation rules decide, and its steps (append-only).
-- The filer's data (in `filing`) is shown only to officials of the case's village scope.

-- The last ticket number given per year. A filing takes the next one inside its own
-- insert transaction, so a rolled back filing gives its number back: no gaps.
CREATE TABLE participation_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE participation_cases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket          TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('usul', 'sanggah')),
    target          TEXT NOT NULL CHECK (target IN ('new_family', 'ground_check', 'objection')),
    -- The family the case is about (sanggah, or an usul of a registered family).
    no_kk           TEXT,
    village         TEXT NOT NULL,
    province        TEXT NOT NULL,
    state           TEXT NOT NULL,
    filer_nik       TEXT NOT NULL,
    -- SHA-256 of kind, filer and target (tepat-core): the 48-hour duplicate check.
    duplicate_key   TEXT NOT NULL,
    -- The filing as submitted (JSON), photo aside.
    filing          TEXT NOT NULL,
    rules_version   TEXT NOT NULL,
    appeal_of       INTEGER REFERENCES participation_cases (id),
    agreed_on       TEXT,
    -- The facilitator asked to visit, and when.
    visit_user_id   INTEGER REFERENCES users (id),
    visit_requested_at INTEGER,
    -- The quarter whose ranking takes a verified case (tepat-core's cut-off rule).
    ranking_quarter TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX participation_cases_village ON participation_cases (village, state);
CREATE INDEX participation_cases_duplicate ON participation_cases (duplicate_key, created_at);
CREATE INDEX participation_cases_visit ON participation_cases (visit_user_id);
CREATE INDEX participation_cases_appeal ON participation_cases (appeal_of);

-- A village deliberation (musdes/muskel) and its record, or an SPTJM instead.
CREATE TABLE participation_deliberations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    village      TEXT NOT NULL,
    held_on      TEXT NOT NULL,
    participants INTEGER NOT NULL,
    record       TEXT NOT NULL CHECK (record IN ('berita_acara', 'sptjm')),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL
);

-- Files: a filing's house photo, a deliberation's berita acara or SPTJM.
CREATE TABLE participation_attachments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         INTEGER REFERENCES participation_cases (id),
    deliberation_id INTEGER REFERENCES participation_deliberations (id),
    purpose         TEXT NOT NULL CHECK (purpose IN ('house_photo', 'berita_acara', 'sptjm')),
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    bytes           BLOB NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX participation_attachments_case ON participation_attachments (case_id);
CREATE INDEX participation_attachments_deliberation ON participation_attachments (deliberation_id);

-- Every step of a case: who (an account, the public or the system), when, what and why.
CREATE TABLE participation_transitions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         INTEGER NOT NULL REFERENCES participation_cases (id),
    action          TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    role            TEXT NOT NULL,
    user_id         INTEGER REFERENCES users (id),
    username        TEXT,
    reason          TEXT,
    note            TEXT,
    deliberation_id INTEGER REFERENCES participation_deliberations (id),
    at              INTEGER NOT NULL
);
CREATE INDEX participation_transitions_case ON participation_transitions (case_id, id);

CREATE TRIGGER participation_transitions_no_update BEFORE UPDATE ON participation_transitions
BEGIN SELECT RAISE(ABORT, 'participation_transitions is append-only'); END;
CREATE TRIGGER participation_transitions_no_delete BEFORE DELETE ON participation_transitions
BEGIN SELECT RAISE(ABORT, 'participation_transitions is append-only'); END;
