-- +goose Up
-- The OAuth 2.0 authorization server for third-party apps.
-- oauth_apps: apps an organisation's administrators registered. A
-- confidential app's secret is kept as a SHA-256 hash (it is 256 random
-- bits); redirect_uris and scopes are JSON lists. service_grant_id: for a
-- server-to-server app (client credentials), the grant it acts under.
CREATE TABLE oauth_apps (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    name          TEXT NOT NULL,
    public        BOOLEAN NOT NULL,
    secret_hash   TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    service_grant_id TEXT,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX oauth_apps_org ON oauth_apps(org_id, id);
-- oauth_requests: authorization requests waiting for the user's consent
-- (in the browser that started them: browser_hash, the hash of a cookie),
-- then for their code to be exchanged, once (code_used_at; the row stays
-- until it expires, so that a code played again is recognised).
CREATE TABLE oauth_requests (
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL,
    request        TEXT NOT NULL,
    user_id        TEXT,
    grant_id       TEXT,
    scopes         TEXT NOT NULL,
    code_hash      TEXT,
    code_used_at   BIGINT,
    browser_hash   TEXT,
    auth_time      BIGINT,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX oauth_requests_code ON oauth_requests(code_hash);
CREATE INDEX oauth_requests_expiry ON oauth_requests(expires_at);
-- oauth_grants: a user's authorisation of an app, with the scopes given.
-- Revoking it ends every token it issued.
CREATE TABLE oauth_grants (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES oauth_apps(id),
    user_id    TEXT NOT NULL REFERENCES users(id),
    org_id     TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oauth_grants_user ON oauth_grants(user_id);
CREATE INDEX oauth_grants_org ON oauth_grants(org_id, id);
-- oauth_tokens: access tokens (by id; the bearer string carries the id,
-- encrypted) and refresh tokens (by the hash of their random value). A
-- refresh token is used once: used_at set when it is rotated.
CREATE TABLE oauth_tokens (
    id         TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants(id),
    kind       TEXT NOT NULL,
    token_hash TEXT,
    scopes     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX oauth_tokens_hash ON oauth_tokens(token_hash);
CREATE INDEX oauth_tokens_grant ON oauth_tokens(grant_id);
-- server_secrets: keys of the server itself (the OAuth server's token
-- key), wrapped under the master key like organisations' keys.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    kek_id     TEXT NOT NULL,
    wrapped    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
