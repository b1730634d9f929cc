-- +goose Up
-- user_permissions: one user's overrides of the organisation's feature
-- defaults (feature name → on or off).
CREATE TABLE user_permissions (
    user_id    TEXT NOT NULL REFERENCES users(id),
    feature    TEXT NOT NULL,
    allowed    BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, feature)
);
