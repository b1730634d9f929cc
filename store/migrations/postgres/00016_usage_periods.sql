-- +goose Up
-- Usage totals per organisation and day ('d') or week ('w', starting on
-- Monday), with the period's distinct active users and binders counted as
-- each first appears (usage_presence), and per organisation, day or week,
-- and user ('u:ID') or binder ('b:ID'): a year's report reads these, tens
-- of thousands of rows at most, not a row per day, binder and user.
CREATE TABLE usage_period (
    org_id         TEXT NOT NULL,
    grain          TEXT NOT NULL,
    period         BIGINT NOT NULL,
    messages       BIGINT NOT NULL DEFAULT 0,
    files          BIGINT NOT NULL DEFAULT 0,
    internal_users BIGINT NOT NULL DEFAULT 0,
    client_users   BIGINT NOT NULL DEFAULT 0,
    binders        BIGINT NOT NULL DEFAULT 0,
    -- the period's response-time histogram, "bucket:count" pairs
    hist           TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, grain, period)
);
CREATE TABLE usage_presence (
    org_id  TEXT NOT NULL,
    grain   TEXT NOT NULL,
    period  BIGINT NOT NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (org_id, grain, period, subject)
);
CREATE TABLE usage_subject (
    org_id   TEXT NOT NULL,
    grain    TEXT NOT NULL,
    period   BIGINT NOT NULL,
    subject  TEXT NOT NULL,
    client   BOOLEAN NOT NULL,
    messages BIGINT NOT NULL DEFAULT 0,
    files    BIGINT NOT NULL DEFAULT 0,
    -- the period's response-time histogram, "bucket:count" pairs
    hist     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, grain, period, subject)
);
