-- +goose Up
-- A resumed stream replays one organisation's events; MembershipAt reads
-- one user's membership events.
CREATE INDEX events_org_pos ON events(org_id, tx, id);
CREATE INDEX events_user_pos ON events(user_id, tx, id);
