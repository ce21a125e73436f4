-- Liveness of the coffer processes sharing this catalog. beat_at is the
-- database's own clock (milliseconds since the epoch), so processes on
-- machines whose clocks differ still agree on who is alive.
CREATE TABLE processes (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    pid        BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    beat_at    BIGINT NOT NULL,
    stopped    BIGINT NOT NULL DEFAULT 0
);
-- owner: the process running (or last claiming) the job. run: raised each
-- time another process takes the job over after its owner died.
ALTER TABLE backup_jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE backup_jobs ADD COLUMN run BIGINT NOT NULL DEFAULT 0;
ALTER TABLE restore_jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE restore_jobs ADD COLUMN run BIGINT NOT NULL DEFAULT 0;
