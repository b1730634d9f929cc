-- +goose Up
-- acl_version counts the changes to a binder's membership. A write planned
-- from an earlier read of the binder (its members, their roles) goes ahead
-- only while the version is the one read; otherwise it is redone under the
-- binder's lock.
ALTER TABLE binders ADD COLUMN acl_version BIGINT NOT NULL DEFAULT 0;
