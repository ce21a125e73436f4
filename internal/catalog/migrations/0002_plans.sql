CREATE TABLE backup_plans (
    id                 TEXT PRIMARY KEY,
    arn                TEXT NOT NULL,
    name               TEXT NOT NULL,
    version_id         TEXT NOT NULL,
    creator_request_id TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    deleted_at         BIGINT NOT NULL DEFAULT 0,
    last_execution_at  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE backup_plan_versions (
    plan_id    TEXT NOT NULL REFERENCES backup_plans(id),
    version_id TEXT NOT NULL,
    document   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (plan_id, version_id)
);

CREATE TABLE backup_selections (
    id                 TEXT PRIMARY KEY,
    plan_id            TEXT NOT NULL REFERENCES backup_plans(id),
    name               TEXT NOT NULL,
    document           TEXT NOT NULL,
    creator_request_id TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL
);
CREATE INDEX backup_selections_plan ON backup_selections (plan_id, created_at);
