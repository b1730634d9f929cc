-- +goose Up
-- blobs_org_size: an organisation's stored bytes (the quota check) read
-- from the index alone. files_deleted: the files housekeeping purges.
CREATE INDEX blobs_org_size ON blobs(org_id, stored_size);
CREATE INDEX files_deleted ON files(deleted_at) WHERE deleted_at IS NOT NULL;
