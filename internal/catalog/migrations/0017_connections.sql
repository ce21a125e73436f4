-- Named S3 connections (coffer connection create). secret_sealed is the
-- secret key sealed with AES-256-GCM under a key derived from the master
-- key (internal/connections), never in clear. ca_pem is the PEM of a
-- private CA, empty for the system's.
CREATE TABLE connections (
    name          TEXT PRIMARY KEY,
    endpoint      TEXT NOT NULL,
    region        TEXT NOT NULL DEFAULT '',
    access_key    TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    virtual_hosted BIGINT NOT NULL DEFAULT 0,
    ca_pem        TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
