-- Maintenance jobs: one vault's reclaiming of the space of deleted
-- recovery points, visible and cancellable like backups and restores.
-- cause says what asked for it (RECOVERY_POINT_DELETED, EXPIRY, PERIODIC,
-- ON_DEMAND), and stats is the JSON of the run's vault.MaintenanceStats.
CREATE TABLE maintenance_jobs (
    id             TEXT PRIMARY KEY,
    vault_name     TEXT NOT NULL,
    vault_arn      TEXT NOT NULL,
    state          TEXT NOT NULL,
    status_message TEXT NOT NULL DEFAULT '',
    cause          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    started_at     BIGINT NOT NULL DEFAULT 0,
    completed_at   BIGINT NOT NULL DEFAULT 0,
    owner          TEXT NOT NULL DEFAULT '',
    run            BIGINT NOT NULL DEFAULT 0,
    stats          TEXT NOT NULL DEFAULT '{}'
);
-- At most one queued and one running maintenance job per vault: a request
-- while one is queued is absorbed by it, and one may queue while another runs.
CREATE UNIQUE INDEX maintenance_jobs_queued ON maintenance_jobs (vault_name) WHERE state = 'CREATED';
CREATE UNIQUE INDEX maintenance_jobs_running ON maintenance_jobs (vault_name) WHERE state = 'RUNNING';
CREATE INDEX maintenance_jobs_created ON maintenance_jobs (created_at);
