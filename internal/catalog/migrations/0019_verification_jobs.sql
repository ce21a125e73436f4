-- Verification jobs: one vault's integrity check (vault.Verify) run on
-- the job core. seed is the uint64 seed as a signed 64-bit integer. stats
-- holds the report's counts, problem kinds and the affected recovery
-- points' ARNs (no object key), problems the list of problems sealed under
-- a key derived from the master key (AES-256-GCM).
CREATE TABLE verification_jobs (
    id                TEXT PRIMARY KEY,
    vault_name        TEXT NOT NULL,
    vault_arn         TEXT NOT NULL,
    state             TEXT NOT NULL,
    status_message    TEXT NOT NULL DEFAULT '',
    read_data_percent DOUBLE PRECISION NOT NULL DEFAULT 0,
    seed              BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    started_at        BIGINT NOT NULL DEFAULT 0,
    completed_at      BIGINT NOT NULL DEFAULT 0,
    owner             TEXT NOT NULL DEFAULT '',
    run               INTEGER NOT NULL DEFAULT 0,
    stats             TEXT NOT NULL DEFAULT '{}',
    problems          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX verification_jobs_created ON verification_jobs (created_at);
CREATE INDEX verification_jobs_vault ON verification_jobs (vault_name, state);
