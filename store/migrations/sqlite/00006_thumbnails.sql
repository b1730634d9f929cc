-- +goose Up
-- thumbnails: a small preview of an image file's version, stored as an
-- encrypted object like any other.
CREATE TABLE thumbnails (
    file_id      TEXT NOT NULL REFERENCES files(id),
    version      BIGINT NOT NULL,
    blob_id      TEXT NOT NULL REFERENCES blobs(id),
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (file_id, version)
);
