-- PostgreSQL's copy of ../sqlite/'s migration of the same version: the same tables and columns, with
-- BIGINT for INTEGER and BYTEA for BLOB.
-- Durable progress: how many objects an operation planned to touch, so that one interrupted by
-- a crash can say "after k of n objects" (k is the length of `results_json`, which now grows as
-- each object is applied rather than only when the operation ends).
ALTER TABLE revisions ADD COLUMN planned BIGINT NOT NULL DEFAULT 0;
