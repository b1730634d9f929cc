-- +goose Up
-- identity_providers: an organisation's OpenID Connect providers and
-- SAML IdPs. settings is JSON (issuer, client id, scopes, claim mapping;
-- IdP metadata); an OpenID client secret, or this server's SAML key, is
-- kept wrapped under the organisation's key.
CREATE TABLE identity_providers (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    protocol       TEXT NOT NULL,
    name           TEXT NOT NULL,
    provision      TEXT NOT NULL,
    settings       TEXT NOT NULL,
    secret_wrapped TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    disabled_at    BIGINT
);
CREATE INDEX identity_providers_org ON identity_providers(org_id, id);
-- idp_identities: a provider's subject, mapped to the Atrium user it signs in.
CREATE TABLE idp_identities (
    provider_id TEXT NOT NULL REFERENCES identity_providers(id),
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (provider_id, subject)
);
CREATE INDEX idp_identities_user ON idp_identities(user_id);
-- login_flows: sign-ins sent to a provider and not back yet, by the hash
-- of their state. The PKCE verifier and nonce are useless without the
-- provider's code, and live ten minutes. code_challenge is the app's own
-- (S256), which its login code will need the verifier of.
CREATE TABLE login_flows (
    state_hash     TEXT PRIMARY KEY,
    provider_id    TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    verifier       TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX login_flows_expiry ON login_flows(expires_at);
-- login_codes: one-time codes that hand a finished sign-in to the app that
-- started it, exchanged for a session within a minute.
CREATE TABLE login_codes (
    code_hash      TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    provider_id    TEXT NOT NULL,
    method         TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX login_codes_expiry ON login_codes(expires_at);
