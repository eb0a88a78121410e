-- PostgreSQL's copy of ../sqlite/'s migration of the same version: the same tables and columns, with
-- BIGINT for INTEGER and BYTEA for BLOB.
-- API tokens and browser sessions. Only hashes of secrets are stored.

CREATE TABLE tokens (
    -- public part of the token (`berth_<id>_<secret>`), 16 hex characters
    id          TEXT PRIMARY KEY NOT NULL,
    -- who it is: recorded as the actor of everything done with it
    name        TEXT NOT NULL UNIQUE,
    -- viewer | operator | admin
    role        TEXT NOT NULL,
    -- SHA-256 of the secret part, hex
    secret_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    -- set when revoked; a revoked token (and its sessions) no longer works
    revoked_at  TEXT
);

CREATE TABLE sessions (
    -- SHA-256 of the session cookie's value, hex
    id_hash    TEXT PRIMARY KEY NOT NULL,
    token_id   TEXT NOT NULL REFERENCES tokens (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
