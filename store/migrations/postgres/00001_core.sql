-- +goose Up
CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    email          TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    role           TEXT NOT NULL,
    status         TEXT NOT NULL,
    password_hash  TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX users_org ON users(org_id, id);
-- An address is unique within an organisation; a person may have accounts
-- in several organisations, which never learn of each other.
CREATE UNIQUE INDEX users_org_email ON users(org_id, email);
CREATE INDEX users_email ON users(email);

CREATE TABLE invitations (
    token_hash  BYTEA PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX invitations_user ON invitations(user_id);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    org_id        TEXT NOT NULL,
    token_hash    BYTEA NOT NULL UNIQUE,
    device_name   TEXT NOT NULL,
    platform      TEXT NOT NULL,
    ip            TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id, id);

CREATE TABLE binders (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    title       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    last_seq    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
CREATE INDEX binders_org ON binders(org_id, id);

CREATE TABLE binder_members (
    binder_id   TEXT NOT NULL REFERENCES binders(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    read_seq    BIGINT NOT NULL DEFAULT 0,
    added_by    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (binder_id, user_id)
);
CREATE INDEX binder_members_user ON binder_members(user_id, binder_id);

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    binder_id   TEXT NOT NULL REFERENCES binders(id),
    seq         BIGINT NOT NULL,
    sender_id   TEXT NOT NULL REFERENCES users(id),
    text        TEXT NOT NULL,
    reply_to    TEXT,
    mentions    TEXT NOT NULL DEFAULT '[]',
    client_key  TEXT,
    created_at  BIGINT NOT NULL,
    edited_at   BIGINT,
    deleted_at  BIGINT,
    UNIQUE (binder_id, seq),
    UNIQUE (binder_id, sender_id, client_key)
);

CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    tx          BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    org_id      TEXT NOT NULL,
    binder_id   TEXT NOT NULL DEFAULT '',
    user_id     TEXT NOT NULL DEFAULT '',
    type        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX events_pos ON events(tx, id);

CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, created_at);

CREATE TABLE idempotency_keys (
    user_id       TEXT NOT NULL,
    key           TEXT NOT NULL,
    op            TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    response      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
