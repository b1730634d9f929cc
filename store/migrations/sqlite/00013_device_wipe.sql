-- +goose Up
-- Devices: each session's device key (released at login, destroyed at
-- logout, revocation and wipe) and its remote wipe's state.
ALTER TABLE sessions ADD COLUMN device_key BLOB;
ALTER TABLE sessions ADD COLUMN wipe_requested_at INTEGER;
ALTER TABLE sessions ADD COLUMN wipe_requested_by TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN wipe_confirmed_at INTEGER;
