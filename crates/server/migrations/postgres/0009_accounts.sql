-- An account's display name (the person's name as the console shows it); the username
-- stays the sign-in name.
ALTER TABLE users ADD COLUMN display_name TEXT;

-- The account an audit entry concerns (created, disabled, assigned …), so that a
-- user's history holds what was done to the account as well as what it did.
ALTER TABLE audit_log ADD COLUMN subject TEXT;
CREATE INDEX audit_log_subject ON audit_log (subject);
