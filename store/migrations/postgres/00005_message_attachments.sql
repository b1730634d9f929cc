-- +goose Up
-- attachments: the ids of the binder's files a message attaches, as a JSON
-- array; NULL when it attaches none.
ALTER TABLE messages ADD COLUMN attachments TEXT;
