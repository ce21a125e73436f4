CREATE TABLE vaults (
    name               TEXT PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    arn                TEXT NOT NULL,
    creator_request_id TEXT NOT NULL DEFAULT '',
    encryption_key_arn TEXT NOT NULL DEFAULT '',
    tags               TEXT NOT NULL DEFAULT '{}',
    created_at         BIGINT NOT NULL
);

CREATE TABLE recovery_points (
    arn               TEXT PRIMARY KEY,
    id                TEXT NOT NULL,
    vault_name        TEXT NOT NULL REFERENCES vaults(name),
    resource_arn      TEXT NOT NULL,
    resource_type     TEXT NOT NULL,
    backup_job_id     TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    status_message    TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    completed_at      BIGINT NOT NULL DEFAULT 0,
    delete_after_days BIGINT NOT NULL DEFAULT 0,
    delete_at         BIGINT NOT NULL DEFAULT 0,
    size_bytes        BIGINT NOT NULL DEFAULT 0,
    object_count      BIGINT NOT NULL DEFAULT 0,
    tags              TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX recovery_points_vault ON recovery_points (vault_name, created_at);
CREATE INDEX recovery_points_resource ON recovery_points (resource_arn, created_at);

CREATE TABLE backup_jobs (
    id                 TEXT PRIMARY KEY,
    vault_name         TEXT NOT NULL,
    vault_arn          TEXT NOT NULL,
    resource_arn       TEXT NOT NULL,
    resource_type      TEXT NOT NULL,
    state              TEXT NOT NULL,
    status_message     TEXT NOT NULL DEFAULT '',
    recovery_point_arn TEXT NOT NULL DEFAULT '',
    idempotency_token  TEXT NOT NULL DEFAULT '',
    iam_role_arn       TEXT NOT NULL DEFAULT '',
    backup_options     TEXT NOT NULL DEFAULT '{}',
    delete_after_days  BIGINT NOT NULL DEFAULT 0,
    recovery_point_tags TEXT NOT NULL DEFAULT '{}',
    created_at         BIGINT NOT NULL,
    started_at         BIGINT NOT NULL DEFAULT 0,
    completed_at       BIGINT NOT NULL DEFAULT 0,
    start_by           BIGINT NOT NULL DEFAULT 0,
    percent_done       TEXT NOT NULL DEFAULT '0.0',
    bytes_transferred  BIGINT NOT NULL DEFAULT 0,
    backup_size        BIGINT NOT NULL DEFAULT 0,
    stats              TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX backup_jobs_created ON backup_jobs (created_at);
CREATE INDEX backup_jobs_token ON backup_jobs (idempotency_token);

CREATE TABLE restore_jobs (
    id                  TEXT PRIMARY KEY,
    recovery_point_arn  TEXT NOT NULL,
    vault_name          TEXT NOT NULL,
    vault_arn           TEXT NOT NULL,
    source_resource_arn TEXT NOT NULL DEFAULT '',
    resource_type       TEXT NOT NULL,
    status              TEXT NOT NULL,
    status_message      TEXT NOT NULL DEFAULT '',
    idempotency_token   TEXT NOT NULL DEFAULT '',
    iam_role_arn        TEXT NOT NULL DEFAULT '',
    metadata            TEXT NOT NULL DEFAULT '{}',
    created_resource_arn TEXT NOT NULL DEFAULT '',
    recovery_point_created_at BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    completed_at        BIGINT NOT NULL DEFAULT 0,
    percent_done        TEXT NOT NULL DEFAULT '0.0',
    bytes_restored      BIGINT NOT NULL DEFAULT 0,
    backup_size         BIGINT NOT NULL DEFAULT 0,
    stats               TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX restore_jobs_created ON restore_jobs (created_at);
CREATE INDEX restore_jobs_token ON restore_jobs (idempotency_token);
