CREATE TABLE plan_runs (
    plan_id      TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    scheduled_at BIGINT NOT NULL,
    status       TEXT NOT NULL,
    jobs         BIGINT NOT NULL DEFAULT 0,
    message      TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (plan_id, rule_id, scheduled_at)
);

ALTER TABLE backup_jobs ADD COLUMN plan_id TEXT NOT NULL DEFAULT '';
ALTER TABLE backup_jobs ADD COLUMN plan_version TEXT NOT NULL DEFAULT '';
ALTER TABLE backup_jobs ADD COLUMN rule_id TEXT NOT NULL DEFAULT '';
