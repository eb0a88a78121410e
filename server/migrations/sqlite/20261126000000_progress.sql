-- Durable progress: how many objects an operation planned to touch, so that one interrupted by
-- a crash can say "after k of n objects" (k is the length of `results_json`, which now grows as
-- each object is applied rather than only when the operation ends).
ALTER TABLE revisions ADD COLUMN planned INTEGER NOT NULL DEFAULT 0;
