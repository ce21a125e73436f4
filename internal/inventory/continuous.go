package inventory

import (
	"context"
	"errors"

	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/vault"
)

// continuousInVault registers the continuous recovery points of vault vv
// (their capturelog state manifests) that the catalog lacks, with their
// protection (a scan is due at once: what happened while the catalog was
// lost is found by it), and returns the ARNs of all of them.
func (inv *Inventory) continuousInVault(ctx context.Context, vaultName string, vv *vault.Vault) (map[string]bool, error) {
	states, err := capturelog.States(ctx, vv)
	if err != nil {
		return nil, err
	}
	arns := map[string]bool{}
	for _, st := range states {
		arns[st.ARN] = true
		if _, err := inv.cfg.DB.RecoveryPoint(ctx, vaultName, st.ARN); err == nil {
			continue
		}
		if err := inv.registerContinuous(ctx, vaultName, st); err != nil {
			return nil, err
		}
		inv.cfg.Log.Warn("continuous recovery point found in vault but not in catalog; registered", "vault", vaultName, "rp", st.ARN)
	}
	return arns, nil
}

func (inv *Inventory) registerContinuous(ctx context.Context, vaultName string, st capturelog.State) error {
	now := inv.cfg.Clock.Now()
	earliest := st.Start
	if st.Compacted.After(earliest) {
		earliest = st.Compacted // retention moved the log's start
	}
	p := capturestore.Protection{RPARN: st.ARN, RPID: st.RP, VaultName: vaultName, Connection: st.Connection, Bucket: st.Bucket,
		ResourceARN: st.ResourceARN, PlanID: st.PlanID, RuleID: st.RuleID, State: st.Status, StatusMessage: st.StatusMessage,
		DeleteAfterDays: st.DeleteAfterDays, Options: st.Options, CreatedAt: st.CreatedAt, LastScanStart: st.LastScanStart,
		NextScanAt: now, CoveredAt: st.Covered}
	rp := catalog.RecoveryPoint{ARN: st.ARN, ID: st.RP, VaultName: vaultName, ResourceARN: st.ResourceARN, ResourceType: "S3",
		Status: st.Status, StatusMessage: st.StatusMessage, CreatedAt: st.CreatedAt, CompletedAt: st.LastScanStart,
		DeleteAfterDays: st.DeleteAfterDays, SizeBytes: st.Bytes, ObjectCount: st.Versions, Kind: catalog.KindContinuous,
		EarliestRestorable: earliest, LatestRestorable: st.Covered}
	err := inv.cfg.Captures.CreateProtection(ctx, p, rp)
	if errors.Is(err, catalog.ErrExists) {
		// The bucket is protected into this vault by another recovery
		// point already: this one is kept restorable, not captured.
		rp.Status, rp.StatusMessage = "STOPPED", "another continuous recovery point protects this bucket into this vault"
		return inv.cfg.DB.PutRecoveryPoint(ctx, rp)
	}
	return err
}

// keepContinuous reports whether catalogued recovery point rp, absent
// from its vault's manifests, is a continuous one whose first capture
// has not committed yet (its protection exists): it must not be dropped.
func (inv *Inventory) keepContinuous(ctx context.Context, rp catalog.RecoveryPoint) bool {
	if rp.Kind != catalog.KindContinuous {
		return false
	}
	_, err := inv.cfg.Captures.Protection(ctx, rp.ARN)
	return err == nil || !errors.Is(err, catalog.ErrNotFound)
}

// deleteContinuous removes a continuous recovery point's capture log
// from its vault (reclaimed by the next maintenance) and its protection.
func (inv *Inventory) deleteContinuous(ctx context.Context, vv *vault.Vault, rp catalog.RecoveryPoint) error {
	w, err := vv.NewWriter(ctx)
	if err != nil {
		return err
	}
	defer w.Abort(ctx) //nolint:errcheck // after Commit it does nothing
	for _, typ := range []string{capturelog.TypeState, capturelog.TypeSegment, capturelog.TypeCheckpoint} {
		if _, err := capturelog.DeleteManifests(ctx, w, typ, map[string]string{"rp": rp.ID}); err != nil {
			return err
		}
	}
	if err := w.Commit(ctx); err != nil {
		return err
	}
	return inv.cfg.Captures.DeleteProtection(ctx, rp.ARN)
}
