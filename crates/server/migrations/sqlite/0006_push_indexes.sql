-- Fewer index pages written per pushed change (issue 6). Each index entry of a pushed
-- change lands at a random place of its B-tree, so each costs about one page in the WAL
-- (and again at the checkpoint).
-- No query reads change requests by household: the index was written and never read.
DROP INDEX change_requests_household;
-- The review queue lists only the changes that went to review (pending, approved,
-- review-rejected); most pushed changes are applied at once or rejected and never need
-- the queue's index. The queue's query repeats the condition so the index is usable.
DROP INDEX change_requests_queue;
CREATE INDEX change_requests_review ON change_requests (status, village)
    WHERE status IN ('pending_review', 'approved', 'review_rejected');
