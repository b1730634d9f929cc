-- +goose Up
-- org_keys: each organisation's key, wrapped under a master key (kek_id).
-- Destroying it (wrapped_key emptied, destroyed_at set) makes every object
-- of the organisation unreadable.
CREATE TABLE org_keys (
    org_id       TEXT PRIMARY KEY REFERENCES orgs(id),
    kek_id       TEXT NOT NULL,
    wrapped_key  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    destroyed_at INTEGER
);
CREATE INDEX org_keys_kek ON org_keys(kek_id);

-- blobs: stored objects, each with its data key wrapped under its
-- organisation's key.
CREATE TABLE blobs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    stored_size INTEGER NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

-- files: a binder's files, with their current version's fields.
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    binder_id    TEXT NOT NULL REFERENCES binders(id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    blob_id      TEXT NOT NULL REFERENCES blobs(id),
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);
CREATE INDEX files_binder ON files(binder_id, id);

-- file_versions: every version of every file.
CREATE TABLE file_versions (
    file_id      TEXT NOT NULL REFERENCES files(id),
    version      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    blob_id      TEXT NOT NULL REFERENCES blobs(id),
    uploaded_by  TEXT NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (file_id, version)
);
