-- +goose Up
-- Multi-factor authentication: a user's TOTP secret (wrapped under the
-- organisation's key; confirmed once the user proved a code), the last
-- time step accepted (no code is accepted twice), one-time recovery codes
-- (hashes only), and the short-lived challenges between a password and
-- its second factor (token hashes only).
CREATE TABLE user_mfa (
    user_id        TEXT PRIMARY KEY REFERENCES users(id),
    secret_wrapped TEXT NOT NULL,
    confirmed_at   BIGINT,
    last_step      BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);
CREATE TABLE mfa_recovery (
    user_id   TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE mfa_challenges (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    device_name TEXT NOT NULL,
    platform    TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX mfa_challenges_expiry ON mfa_challenges(expires_at);
