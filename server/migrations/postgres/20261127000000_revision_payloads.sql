-- PostgreSQL's copy of ../sqlite/'s migration of the same version: the same tables and columns, with
-- BIGINT for INTEGER and BYTEA for BLOB.
-- A revision's manifests and sealed state move to their own table. They are written once, when
-- the revision begins, and are most of its row (about 95 KB for PostHog). An operation rewrites
-- its revision's row as each batch of results is recorded, and SQLite rewrites a row whole, so
-- every batch wrote the manifests again: about 1 MB of journal for one create. Without them the
-- row is a few KB. Listing an instance's revisions no longer reads them either.
CREATE TABLE revision_payloads (
    instance_id    TEXT NOT NULL,
    number         BIGINT NOT NULL,
    -- the full rendered manifests (JSON array) with Secret values redacted
    manifests_json TEXT NOT NULL,
    -- Secret values needed for rollback, encrypted with the store key (nullable)
    secrets_sealed BYTEA,
    PRIMARY KEY (instance_id, number),
    FOREIGN KEY (instance_id, number) REFERENCES revisions (instance_id, number) ON DELETE CASCADE
);

INSERT INTO revision_payloads (instance_id, number, manifests_json, secrets_sealed)
    SELECT instance_id, number, manifests_json, secrets_sealed FROM revisions;

ALTER TABLE revisions DROP COLUMN manifests_json;
ALTER TABLE revisions DROP COLUMN secrets_sealed;
