-- The connection whose endpoint sent an event (POST /events/s3?connection=NAME,
-- the default connection without one): a bucket name is only unique per
-- endpoint, and the capture worker reads the version from that endpoint.
ALTER TABLE capture_events ADD COLUMN connection TEXT NOT NULL DEFAULT 'default';
CREATE INDEX capture_events_connection ON capture_events (connection, bucket, received_at, id);
