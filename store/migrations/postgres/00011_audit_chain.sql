-- +goose Up
-- The audit log becomes a hash chain per organisation: seq numbers an
-- organisation's entries from 1, prev_hash is the hash of the entry
-- before and hash covers it and every field. Entries written before this
-- migration keep seq 0 and no hash: they predate the chain.
ALTER TABLE audit_log ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN binder_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX audit_log_chain ON audit_log(org_id, seq) WHERE seq > 0;
CREATE INDEX audit_log_actor ON audit_log(org_id, actor_id, seq);
CREATE INDEX audit_log_binder ON audit_log(org_id, binder_id, seq) WHERE binder_id <> '';

-- audit_heads: the last entry of each organisation's chain, locked by the
-- writer that appends to it.
CREATE TABLE audit_heads (
    org_id TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL
);

-- audit_checkpoints: signed statements of a chain's length and last hash.
CREATE TABLE audit_checkpoints (
    org_id     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
