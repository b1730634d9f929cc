-- +goose Up
-- exports: a user's own data, prepared in the background as a ZIP
-- archive stored encrypted like any object, downloadable until it
-- expires.
CREATE TABLE exports (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    status      TEXT NOT NULL,
    blob_id     TEXT REFERENCES blobs(id),
    size        BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX exports_user ON exports(user_id, id);
CREATE INDEX exports_status ON exports(status, created_at);
CREATE INDEX messages_sender ON messages(sender_id, id);
CREATE INDEX files_created_by ON files(created_by, id);
