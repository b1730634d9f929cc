-- +goose Up
-- quarantined_files: uploads the malware scanner found infected. Their
-- objects are kept, encrypted like any other, for an administrator's
-- review, but no file refers to them, so nothing ever serves them; they
-- are purged after the organisation's file retention.
CREATE TABLE quarantined_files (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    binder_id   TEXT NOT NULL REFERENCES binders(id),
    file_id     TEXT,
    blob_id     TEXT NOT NULL REFERENCES blobs(id),
    name        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    signature   TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX quarantined_files_created ON quarantined_files(created_at);
CREATE INDEX quarantined_files_org ON quarantined_files(org_id, id);
