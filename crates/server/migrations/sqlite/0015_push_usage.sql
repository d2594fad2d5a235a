-- What each account's pushes stored per day (the day in WIB, as days since 1970-01-01):
-- change rows and their bytes, against the daily cap (Settings::push_items_per_day,
-- push_bytes_per_day). Written in the push writer's transaction.
CREATE TABLE push_usage (
    user_id INTEGER NOT NULL REFERENCES users(id),
    day     INTEGER NOT NULL,
    items   INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
