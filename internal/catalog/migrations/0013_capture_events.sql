-- The event inbox of continuous backup: one row per S3 event notification
-- record received at POST /events/s3, inserted in the transaction the 200
-- answer waits for and deleted once the capture worker has read the
-- version it names. Events are hints: the worker reads the version from
-- the endpoint itself. object_key is the key in clear (the worker needs
-- it, and docs/operations.md says so). Times are nanoseconds, and id is
-- received_at-ordered within a bucket by (received_at, id).
CREATE TABLE capture_events (
    id          TEXT PRIMARY KEY,
    bucket      TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    version_id  TEXT NOT NULL DEFAULT '',
    event_name  TEXT NOT NULL,
    event_time  BIGINT NOT NULL,
    sequencer   TEXT NOT NULL DEFAULT '',
    etag        TEXT NOT NULL DEFAULT '',
    size        BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL
);
CREATE INDEX capture_events_bucket ON capture_events (bucket, received_at, id);
