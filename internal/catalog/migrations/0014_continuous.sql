-- Continuous backup (issue 8): a recovery point is periodic or
-- continuous, and a continuous one carries its restorable window (nanoseconds,
-- 0 while unknown). continuous_protection is the capture worker's state
-- per continuous recovery point: what it protects, from which rule, its
-- health, when the last complete reconciliation scan started and when the
-- next is due, and the one capture job queued or running (job_id, '' when
-- none), so that one protection is captured by one job at a time.
ALTER TABLE recovery_points ADD COLUMN kind TEXT NOT NULL DEFAULT 'periodic';
ALTER TABLE recovery_points ADD COLUMN earliest_restorable BIGINT NOT NULL DEFAULT 0;
ALTER TABLE recovery_points ADD COLUMN latest_restorable BIGINT NOT NULL DEFAULT 0;

CREATE TABLE continuous_protection (
    rp_arn          TEXT PRIMARY KEY,
    rp_id           TEXT NOT NULL,
    vault_name      TEXT NOT NULL,
    connection      TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    resource_arn    TEXT NOT NULL,
    plan_id         TEXT NOT NULL DEFAULT '',
    rule_id         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    status_message  TEXT NOT NULL DEFAULT '',
    delete_after_days BIGINT NOT NULL DEFAULT 0,
    options         TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL,
    last_scan_start BIGINT NOT NULL DEFAULT 0,
    next_scan_at    BIGINT NOT NULL DEFAULT 0,
    covered_at      BIGINT NOT NULL DEFAULT 0,
    job_id          TEXT NOT NULL DEFAULT '',
    job_mode        TEXT NOT NULL DEFAULT '',
    job_queued_at   BIGINT NOT NULL DEFAULT 0,
    job_seq         BIGINT NOT NULL DEFAULT 0,
    failures        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX continuous_protection_target ON continuous_protection (connection, bucket, vault_name);
