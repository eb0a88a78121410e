-- This Berth installation's id. Every object Berth applies carries it as a label, and the health
-- watches select on it, so two Berths with different databases never see or touch each other's
-- objects. One row, written when the database is first opened.
CREATE TABLE installation (
    id         TEXT NOT NULL PRIMARY KEY,
    created_at TEXT NOT NULL
);
