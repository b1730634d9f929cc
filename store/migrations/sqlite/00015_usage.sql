-- +goose Up
-- The state of the usage aggregates (00016), which are kept up to date
-- from the event outbox so that reports never scan messages.
-- The earliest client message of each binder no internal user has
-- answered yet.
CREATE TABLE usage_pending (
    binder_id TEXT PRIMARY KEY,
    since     BIGINT NOT NULL
);
-- How far the aggregates have read the outbox.
CREATE TABLE usage_cursor (
    id  INTEGER PRIMARY KEY,
    tx  BIGINT NOT NULL,
    eid BIGINT NOT NULL
);
INSERT INTO usage_cursor (id, tx, eid) VALUES (1, 0, 0);
