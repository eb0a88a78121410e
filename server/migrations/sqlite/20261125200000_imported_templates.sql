-- Templates imported through the console or the API (those in the templates directory are read
-- from there at every start). Kept as their source text, and loaded again at start.

CREATE TABLE imported_templates (
    -- the Template CR's metadata.name
    id          TEXT PRIMARY KEY NOT NULL,
    -- the whole file as imported
    source      TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
