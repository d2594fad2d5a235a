-- A review item made by matching (padan) with Dukcapil or PLN: what the reviewer sees
-- of the finding (JSON: source, kind, message, the extract row and the register's
-- side, the match probability and weights). NULL for a change a person pushed. A
-- finding with a proposed change has it as the row's change request (`payload`); one
-- without has `payload` 'null' and is approved as followed up, changing nothing.
ALTER TABLE change_requests ADD COLUMN padan TEXT;
