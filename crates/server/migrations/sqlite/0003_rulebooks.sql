-- Every rulebook version the server has served, as published (JSON text). A version
-- never changes; the current rulebook is the latest published one (highest seq).
-- The builtin rulebook is registered at start when its version is not here yet.
CREATE TABLE rulebooks (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    version      TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    published_at INTEGER NOT NULL
);
