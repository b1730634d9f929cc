-- +goose Up
-- api_clients: apps an organisation's administrators registered for
-- "unique ID + signature" single sign-on. The secret is kept wrapped
-- (encrypted) under the organisation's key, never in the clear.
CREATE TABLE api_clients (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    name           TEXT NOT NULL,
    provision      TEXT NOT NULL,
    secret_wrapped TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX api_clients_org ON api_clients(org_id, id);
-- external_identities: an app's own stable user id, mapped to the Atrium
-- user it signs in.
CREATE TABLE external_identities (
    client_id  TEXT NOT NULL REFERENCES api_clients(id),
    unique_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, unique_id)
);
-- sso_nonces: nonces already used with a client, until they could no
-- longer be accepted anyway.
CREATE TABLE sso_nonces (
    client_id  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, nonce)
);
CREATE INDEX sso_nonces_expiry ON sso_nonces(expires_at);
