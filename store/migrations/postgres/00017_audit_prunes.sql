-- +goose Up
-- audit_prunes: signed statements that an organisation's audit entries up
-- to seq were removed by its retention, the chain's new start vouched for
-- by the hash of the last one removed. Unlike a checkpoint, only such a
-- statement lets verification accept a chain that does not start at 1.
CREATE TABLE audit_prunes (
    org_id     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX file_versions_uploaded_by ON file_versions(uploaded_by, file_id, version);
