package vaultapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/catalog"
)

type recoveryPointJSON struct {
	RecoveryPointArn    string
	BackupVaultName     string
	BackupVaultArn      string
	ResourceArn         string
	ResourceName        string
	ResourceType        string
	Status              string
	StatusMessage       string      `json:",omitempty"`
	CreationDate        *wire.Epoch `json:",omitempty"`
	InitiationDate      *wire.Epoch `json:",omitempty"`
	CompletionDate      *wire.Epoch `json:",omitempty"`
	BackupSizeInBytes   int64
	CalculatedLifecycle *struct{ DeleteAt *wire.Epoch } `json:",omitempty"`
	Lifecycle           *wire.Lifecycle                 `json:",omitempty"`
	IsEncrypted         bool
	StorageClass        string `json:",omitempty"`
	VaultType           string
	CreatedBy           map[string]string `json:",omitempty"`
	// ObjectCount is coffer's extension: object versions held.
	ObjectCount int64
	// SourceBackupVaultArn: the vault a copy was copied from.
	SourceBackupVaultArn string `json:",omitempty"`
	// EarliestRestorableTime and LatestRestorableTime are coffer's
	// extension for continuous recovery points: the window a restore's
	// RestoreTime may fall in.
	EarliestRestorableTime *wire.Epoch `json:",omitempty"`
	LatestRestorableTime   *wire.Epoch `json:",omitempty"`
}

func (s *handlers) toRecoveryPointJSON(rp catalog.RecoveryPoint, vaultARN string, describe bool) recoveryPointJSON {
	out := recoveryPointJSON{
		RecoveryPointArn: rp.ARN, BackupVaultName: rp.VaultName, BackupVaultArn: vaultARN, ResourceArn: rp.ResourceARN,
		ResourceName: strings.TrimPrefix(rp.ResourceARN, "arn:aws:s3:::"), ResourceType: rp.ResourceType,
		Status: rp.Status, StatusMessage: rp.StatusMessage, CreationDate: wire.TS(rp.CreatedAt), InitiationDate: wire.TS(rp.CreatedAt),
		CompletionDate: wire.TS(rp.CompletedAt), BackupSizeInBytes: rp.SizeBytes, IsEncrypted: true, VaultType: "BACKUP_VAULT",
		ObjectCount: rp.ObjectCount, CreatedBy: wire.CreatedBy(vaultARN, rp.VaultName, rp.PlanID, rp.PlanVersion, rp.RuleID),
		SourceBackupVaultArn: rp.SourceBackupVaultARN,
	}
	if describe {
		out.StorageClass = "WARM"
	}
	if rp.Kind == catalog.KindContinuous {
		out.EarliestRestorableTime, out.LatestRestorableTime = wire.TS(rp.EarliestRestorable), wire.TS(rp.LatestRestorable)
	}
	if rp.DeleteAfterDays > 0 {
		out.Lifecycle = &wire.Lifecycle{DeleteAfterDays: rp.DeleteAfterDays}
		out.CalculatedLifecycle = &struct{ DeleteAt *wire.Epoch }{wire.TS(rp.DeleteAt)}
	}
	return out
}

func (s *handlers) listRecoveryPoints(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := catalog.RecoveryPointFilter{VaultName: r.PathValue("name"), ResourceARN: q.Get("resourceArn"), ResourceType: q.Get("resourceType"),
		PlanID: q.Get("backupPlanId")}
	if err := wire.QueryTimes(r, map[string]*time.Time{"createdAfter": &f.CreatedAfter, "createdBefore": &f.CreatedBefore}); err != nil {
		return nil, err
	}
	v, err := s.svc.Vault(r.Context(), f.VaultName)
	if err != nil {
		return nil, err
	}
	rps, tok, err := s.svc.ListRecoveryPoints(r.Context(), f, p)
	if err != nil {
		return nil, err
	}
	out := make([]recoveryPointJSON, 0, len(rps))
	for _, rp := range rps {
		out = append(out, s.toRecoveryPointJSON(rp, v.ARN, false))
	}
	return wire.ListOut("RecoveryPoints", out, tok), nil
}

func (s *handlers) describeRecoveryPoint(r *http.Request, _ []byte) (any, error) {
	v, err := s.svc.Vault(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	rp, err := s.svc.RecoveryPoint(r.Context(), v.Name, r.PathValue("arn"))
	if err != nil {
		return nil, err
	}
	return s.toRecoveryPointJSON(rp, v.ARN, true), nil
}

func (s *handlers) deleteRecoveryPoint(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.DeleteRecoveryPoint(r.Context(), r.PathValue("name"), r.PathValue("arn"))
}

// recoveryPointByResourceJSON is one entry of ListRecoveryPointsByResource
// (AWS's RecoveryPointByResource, with coffer's window fields).
type recoveryPointByResourceJSON struct {
	RecoveryPointArn       string
	BackupVaultName        string
	ResourceName           string
	Status                 string
	StatusMessage          string      `json:",omitempty"`
	CreationDate           *wire.Epoch `json:",omitempty"`
	BackupSizeBytes        int64
	VaultType              string
	IsParent               bool
	EarliestRestorableTime *wire.Epoch `json:",omitempty"`
	LatestRestorableTime   *wire.Epoch `json:",omitempty"`
}

func (s *handlers) listRecoveryPointsByResource(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	rps, tok, err := s.svc.ListRecoveryPointsByResource(r.Context(), r.PathValue("arn"), p)
	if err != nil {
		return nil, err
	}
	out := make([]recoveryPointByResourceJSON, 0, len(rps))
	for _, rp := range rps {
		e := recoveryPointByResourceJSON{RecoveryPointArn: rp.ARN, BackupVaultName: rp.VaultName,
			ResourceName: strings.TrimPrefix(rp.ResourceARN, "arn:aws:s3:::"), Status: rp.Status, StatusMessage: rp.StatusMessage,
			CreationDate: wire.TS(rp.CreatedAt), BackupSizeBytes: rp.SizeBytes, VaultType: "BACKUP_VAULT"}
		if rp.Kind == catalog.KindContinuous {
			e.EarliestRestorableTime, e.LatestRestorableTime = wire.TS(rp.EarliestRestorable), wire.TS(rp.LatestRestorable)
		}
		out = append(out, e)
	}
	return wire.ListOut("RecoveryPoints", out, tok), nil
}
