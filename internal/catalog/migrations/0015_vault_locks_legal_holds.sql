-- Vault lock (PutBackupVaultLockConfiguration) and legal holds
-- (CreateLegalHold). The vault holds a copy of both (its descriptor and
-- its legal-hold manifests), so a rebuilt catalog gets them back.
-- Days are 0 when unset, times are nanoseconds (0 when unset).
CREATE TABLE vault_locks (
    vault_name         TEXT PRIMARY KEY,
    min_retention_days BIGINT NOT NULL DEFAULT 0,
    max_retention_days BIGINT NOT NULL DEFAULT 0,
    lock_date          BIGINT NOT NULL DEFAULT 0,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE legal_holds (
    id                  TEXT PRIMARY KEY,
    arn                 TEXT NOT NULL,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL,
    status              TEXT NOT NULL,
    cancel_description  TEXT NOT NULL DEFAULT '',
    selection           TEXT NOT NULL DEFAULT '{}',
    idempotency_token   TEXT NOT NULL DEFAULT '',
    tags                TEXT NOT NULL DEFAULT '{}',
    created_at          BIGINT NOT NULL,
    cancelled_at        BIGINT NOT NULL DEFAULT 0,
    retain_record_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX legal_holds_created ON legal_holds (created_at, id);

-- The recovery points a hold holds: those its selection matched when it
-- was created. A row outlives its recovery point only while the hold is
-- active (nothing deletes a held recovery point).
CREATE TABLE legal_hold_points (
    hold_id       TEXT NOT NULL,
    rp_arn        TEXT NOT NULL,
    vault_name    TEXT NOT NULL,
    resource_arn  TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    PRIMARY KEY (hold_id, rp_arn)
);
CREATE INDEX legal_hold_points_rp ON legal_hold_points (rp_arn);

-- an empty vault_type is a BACKUP_VAULT, else AWS's VaultType (LOGICALLY_AIR_GAPPED_BACKUP_VAULT).
ALTER TABLE vaults ADD COLUMN vault_type TEXT NOT NULL DEFAULT '';
