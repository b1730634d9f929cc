-- +goose Up
-- webauthn_credentials: users' passkeys (WebAuthn credentials), a second
-- factor. credential is the WebAuthn library's record as JSON: the public
-- key, flags and signature counter; nothing secret.
CREATE TABLE webauthn_credentials (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    credential   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials(user_id);
-- webauthn_ceremonies: registrations and sign-ins in flight, by the hash
-- of their token (a sign-in's is its MFA challenge's); session is the
-- library's JSON (the challenge, the credentials allowed).
CREATE TABLE webauthn_ceremonies (
    token_hash TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id),
    session    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (token_hash, purpose)
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies(expires_at);
