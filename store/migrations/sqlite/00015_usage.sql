-- +goose Up
-- Usage aggregates, kept up to date from the event outbox so that reports
-- never scan messages: per organisation, UTC day, binder and user, the
-- messages posted and files shared, and the first-response times of
-- internal users to client messages as a histogram.
CREATE TABLE usage_daily (
    org_id    TEXT NOT NULL,
    day       BIGINT NOT NULL,
    binder_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    client    BOOLEAN NOT NULL,
    messages  BIGINT NOT NULL DEFAULT 0,
    files     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, day, binder_id, user_id)
);
CREATE TABLE usage_responses (
    org_id    TEXT NOT NULL,
    day       BIGINT NOT NULL,
    binder_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    bucket    INTEGER NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, binder_id, user_id, bucket)
);
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
