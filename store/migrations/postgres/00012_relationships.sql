-- +goose Up
-- relationships: internal users assigned to client users as their
-- relationship managers.
CREATE TABLE relationships (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    client_id   TEXT NOT NULL REFERENCES users(id),
    internal_id TEXT NOT NULL REFERENCES users(id),
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (client_id, internal_id)
);
CREATE INDEX relationships_org ON relationships(org_id, id);
CREATE INDEX relationships_internal ON relationships(internal_id);
