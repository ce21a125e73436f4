-- An idempotency token names one request: two jobs never share one, even
-- when two callers (or two scheduler passes) insert at the same moment.
DROP INDEX backup_jobs_token;
CREATE UNIQUE INDEX backup_jobs_token ON backup_jobs (idempotency_token) WHERE idempotency_token <> '';
DROP INDEX restore_jobs_token;
CREATE UNIQUE INDEX restore_jobs_token ON restore_jobs (idempotency_token) WHERE idempotency_token <> '';
-- ClaimBackupJob looks for another active job of the same resource.
CREATE INDEX backup_jobs_resource_state ON backup_jobs (resource_arn, state);
