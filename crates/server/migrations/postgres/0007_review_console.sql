-- The review queue's service level: how many days a change may wait for review before
-- it is overdue. Data, not code: change the row to change the target.
INSERT INTO meta (key, value) VALUES ('review_sla_days', '7');

-- House and document photos a device sends with its changes, keyed by the id the
-- device gave the photo (the change request's evidence names it as `device-photo:ID`).
-- Only the uploader's own changes can show a photo (`user_id`).
CREATE TABLE evidence_photos (
    id           TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);
