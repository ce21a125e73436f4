-- The job event log: one row per state change of any job, appended in the
-- transaction that makes the change. Audit reports, metrics and
-- notifications read it. seq numbers the events of one job from 1, and the
-- job row's update lock orders concurrent changes of a job.
CREATE TABLE job_events (
    job_id     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    at         BIGINT NOT NULL,
    message    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX job_events_at ON job_events (at);
