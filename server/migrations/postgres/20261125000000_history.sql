-- PostgreSQL's copy of ../sqlite/'s migration of the same version: the same tables and columns, with
-- BIGINT for INTEGER and BYTEA for BLOB.
-- Instances and their revision history.
--
-- An instance is a template deployed with inputs into a namespace. Every deploy, change, rollback
-- and delete of it is a revision. Rows are only ever added to `revisions`; nothing deletes them.

CREATE TABLE instances (
    -- "<namespace>/<name>"
    id               TEXT PRIMARY KEY NOT NULL,
    namespace        TEXT NOT NULL,
    name             TEXT NOT NULL,
    -- template id, e.g. "posthog"
    template         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    -- number of the newest revision that finished applying (0 before the first)
    current_revision BIGINT NOT NULL DEFAULT 0,
    -- set when the instance was deleted; its history stays readable
    deleted_at       TEXT,
    UNIQUE (namespace, name)
);

CREATE TABLE revisions (
    instance_id    TEXT NOT NULL REFERENCES instances (id),
    number         BIGINT NOT NULL,
    -- deploy | change | rollback | delete
    kind           TEXT NOT NULL,
    actor          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    finished_at    TEXT,
    -- running | succeeded | failed | interrupted
    status         TEXT NOT NULL,
    message        TEXT NOT NULL DEFAULT '',
    -- the typed change set (JSON), or null for a deploy
    change_json    TEXT,
    -- input values (JSON), secrets redacted
    inputs_json    TEXT NOT NULL,
    -- the full rendered manifests (JSON array) with Secret values redacted
    manifests_json TEXT NOT NULL,
    -- Secret values needed for rollback, encrypted with the store key (nullable)
    secrets_sealed BYTEA,
    -- per-object results (JSON array)
    results_json   TEXT NOT NULL DEFAULT '[]',
    -- overall health when the operation finished
    health         TEXT,
    PRIMARY KEY (instance_id, number)
);

CREATE INDEX revisions_running ON revisions (status) WHERE status = 'running';
