-- +goose Up
-- org_keys: each organisation's key, wrapped under a master key (kek_id).
-- Destroying it (wrapped_key emptied, destroyed_at set) makes every object
-- of the organisation unreadable.
CREATE TABLE org_keys (
    org_id       TEXT PRIMARY KEY REFERENCES orgs(id),
    kek_id       TEXT NOT NULL,
    wrapped_key  BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    destroyed_at BIGINT
);
CREATE INDEX org_keys_kek ON org_keys(kek_id);

-- blobs: stored objects, each with its data key wrapped under its
-- organisation's key.
CREATE TABLE blobs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    stored_size BIGINT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

-- files: a binder's files, with their current version's fields.
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    binder_id    TEXT NOT NULL REFERENCES binders(id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    version      BIGINT NOT NULL,
    blob_id      TEXT NOT NULL REFERENCES blobs(id),
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    deleted_at   BIGINT
);
CREATE INDEX files_binder ON files(binder_id, id);

-- file_versions: every version of every file.
CREATE TABLE file_versions (
    file_id      TEXT NOT NULL REFERENCES files(id),
    version      BIGINT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    blob_id      TEXT NOT NULL REFERENCES blobs(id),
    uploaded_by  TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (file_id, version)
);
