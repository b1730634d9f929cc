-- +goose Up
CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
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
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id, id);
-- An address is unique within an organisation; a person may have accounts
-- in several organisations, which never learn of each other.
CREATE UNIQUE INDEX users_org_email ON users(org_id, email);
CREATE INDEX users_email ON users(email);

CREATE TABLE invitations (
    token_hash  BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX invitations_user ON invitations(user_id);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    org_id        TEXT NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    device_name   TEXT NOT NULL,
    platform      TEXT NOT NULL,
    ip            TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id, id);

CREATE TABLE binders (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    title       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX binders_org ON binders(org_id, id);

CREATE TABLE binder_members (
    binder_id   TEXT NOT NULL REFERENCES binders(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    read_seq    INTEGER NOT NULL DEFAULT 0,
    added_by    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (binder_id, user_id)
);
CREATE INDEX binder_members_user ON binder_members(user_id, binder_id);

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    binder_id   TEXT NOT NULL REFERENCES binders(id),
    seq         INTEGER NOT NULL,
    sender_id   TEXT NOT NULL REFERENCES users(id),
    text        TEXT NOT NULL,
    reply_to    TEXT,
    mentions    TEXT NOT NULL DEFAULT '[]',
    client_key  TEXT,
    created_at  INTEGER NOT NULL,
    edited_at   INTEGER,
    deleted_at  INTEGER,
    UNIQUE (binder_id, seq),
    UNIQUE (binder_id, sender_id, client_key)
);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tx          INTEGER NOT NULL DEFAULT 0,
    org_id      TEXT NOT NULL,
    binder_id   TEXT NOT NULL DEFAULT '',
    user_id     TEXT NOT NULL DEFAULT '',
    type        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
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
    created_at   INTEGER NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, created_at);

CREATE TABLE idempotency_keys (
    user_id       TEXT NOT NULL,
    key           TEXT NOT NULL,
    op            TEXT NOT NULL,
    request_hash  BLOB NOT NULL,
    response      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
