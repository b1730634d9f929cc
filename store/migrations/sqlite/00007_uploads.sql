-- +goose Up
-- uploads: resumable uploads in progress. Each part received is stored
-- encrypted as an object of its own; the file is made when the last byte
-- arrives.
CREATE TABLE uploads (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    binder_id   TEXT NOT NULL REFERENCES binders(id),
    file_id     TEXT,
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    length      BIGINT NOT NULL,
    received    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX uploads_expiry ON uploads(expires_at);

CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL REFERENCES uploads(id),
    idx       BIGINT NOT NULL,
    blob_id   TEXT NOT NULL REFERENCES blobs(id),
    size      BIGINT NOT NULL,
    PRIMARY KEY (upload_id, idx)
);
