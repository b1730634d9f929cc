-- +goose Up
-- MembershipAt reads one user's membership events after a position.
-- (A replay reads one organisation's events after a position through
-- events_pos: resumed cursors are recent, and one more index on the
-- outbox would cost every write.)
CREATE INDEX events_user_pos ON events(user_id, tx, id);
