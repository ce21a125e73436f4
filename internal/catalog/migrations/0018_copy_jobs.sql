-- Copy jobs (StartCopyJob, and the CopyActions of plan rules): one
-- recovery point of a source vault copied into a destination vault as a
-- recovery point of its own (destination_recovery_point_arn).
CREATE TABLE copy_jobs (
    id                             TEXT PRIMARY KEY,
    source_vault_name              TEXT NOT NULL,
    source_vault_arn               TEXT NOT NULL,
    source_recovery_point_arn      TEXT NOT NULL,
    destination_vault_name         TEXT NOT NULL,
    destination_vault_arn          TEXT NOT NULL,
    destination_recovery_point_arn TEXT NOT NULL,
    resource_arn                   TEXT NOT NULL,
    resource_type                  TEXT NOT NULL,
    state                          TEXT NOT NULL,
    status_message                 TEXT NOT NULL DEFAULT '',
    idempotency_token              TEXT NOT NULL DEFAULT '',
    iam_role_arn                   TEXT NOT NULL DEFAULT '',
    delete_after_days              BIGINT NOT NULL DEFAULT 0,
    move_to_cold_after_days        BIGINT NOT NULL DEFAULT 0,
    created_at                     BIGINT NOT NULL,
    started_at                     BIGINT NOT NULL DEFAULT 0,
    completed_at                   BIGINT NOT NULL DEFAULT 0,
    backup_size                    BIGINT NOT NULL DEFAULT 0,
    bytes_transferred              BIGINT NOT NULL DEFAULT 0,
    stats                          TEXT NOT NULL DEFAULT '{}',
    created_by_backup_job_id       TEXT NOT NULL DEFAULT '',
    plan_id                        TEXT NOT NULL DEFAULT '',
    plan_version                   TEXT NOT NULL DEFAULT '',
    rule_id                        TEXT NOT NULL DEFAULT '',
    owner                          TEXT NOT NULL DEFAULT '',
    run                            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX copy_jobs_created ON copy_jobs (created_at);
CREATE UNIQUE INDEX copy_jobs_token ON copy_jobs (idempotency_token) WHERE idempotency_token <> '';
-- A copy's recovery point names the vault it was copied from
-- (DescribeRecoveryPoint's SourceBackupVaultArn), empty for backups.
ALTER TABLE recovery_points ADD COLUMN source_backup_vault_arn TEXT NOT NULL DEFAULT '';
