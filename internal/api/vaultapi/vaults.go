package vaultapi

import (
	"net/http"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/service"
)

type vaultJSON struct {
	BackupVaultName        string
	BackupVaultArn         string
	VaultType              string
	VaultState             string
	EncryptionKeyArn       string      `json:",omitempty"`
	CreationDate           *wire.Epoch `json:",omitempty"`
	CreatorRequestId       string      `json:",omitempty"`
	NumberOfRecoveryPoints int64
	Locked                 bool
	MinRetentionDays       int64       `json:",omitempty"`
	MaxRetentionDays       int64       `json:",omitempty"`
	LockDate               *wire.Epoch `json:",omitempty"`
	StorageLocation        string      `json:",omitempty"` // coffer extension
}

func toVaultJSON(v catalog.Vault) vaultJSON {
	out := vaultJSON{
		BackupVaultName: v.Name, BackupVaultArn: v.ARN, VaultType: vaultType(v), VaultState: "AVAILABLE",
		EncryptionKeyArn: v.EncryptionKeyARN, CreationDate: wire.TS(v.CreatedAt), CreatorRequestId: v.CreatorRequestID,
		NumberOfRecoveryPoints: v.RecoveryPoints, StorageLocation: v.StorageLocation,
	}
	if l := v.Lock; l != nil {
		out.Locked, out.MinRetentionDays, out.MaxRetentionDays, out.LockDate = true, l.MinRetentionDays, l.MaxRetentionDays, wire.TS(l.LockDate)
	}
	return out
}

func vaultType(v catalog.Vault) string {
	if v.VaultType == "" {
		return "BACKUP_VAULT"
	}
	return v.VaultType
}

func (s *handlers) createVault(r *http.Request, body []byte) (any, error) {
	var in struct {
		BackupVaultTags  map[string]string
		EncryptionKeyArn string
		CreatorRequestId string
		StorageLocation  string // coffer extension: s3://CONNECTION/BUCKET[/PREFIX]
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	v, err := s.svc.CreateVault(r.Context(), service.CreateVaultInput{
		Name: r.PathValue("name"), Tags: in.BackupVaultTags, EncryptionKeyARN: in.EncryptionKeyArn, CreatorRequestID: in.CreatorRequestId,
		Location: in.StorageLocation,
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"BackupVaultName": v.Name, "BackupVaultArn": v.ARN, "CreationDate": wire.TS(v.CreatedAt)}
	if v.StorageLocation != "" {
		out["StorageLocation"] = v.StorageLocation
	}
	return out, nil
}

func (s *handlers) describeVault(r *http.Request, _ []byte) (any, error) {
	v, err := s.svc.Vault(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return toVaultJSON(v), nil
}

func (s *handlers) listVaults(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	typ := r.URL.Query().Get("vaultType")
	vs, tok, err := s.svc.ListVaults(r.Context(), p)
	if err != nil {
		return nil, err
	}
	out := make([]vaultJSON, 0, len(vs))
	for _, v := range vs {
		if typ == "" || typ == vaultType(v) { // a filtered page may come out short, as AWS's may
			out = append(out, toVaultJSON(v))
		}
	}
	return wire.ListOut("BackupVaultList", out, tok), nil
}

func (s *handlers) deleteVault(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.DeleteVault(r.Context(), r.PathValue("name"))
}

// attachVault is coffer's extension AttachBackupVault: PUT
// /backup-vault-attachments with {"Path", "BackupVaultName"} (docs/api.md).
func (s *handlers) attachVault(r *http.Request, body []byte) (any, error) {
	var in struct {
		Path            string
		BackupVaultName string
		StorageLocation string // an S3-backed vault's, instead of Path
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	a, err := s.svc.AttachVault(r.Context(), service.AttachVaultInput{Path: in.Path, Name: in.BackupVaultName, Location: in.StorageLocation})
	if err != nil {
		return nil, err
	}
	return struct {
		vaultJSON
		RecoveryPointsAttached int
		Moved                  bool
	}{toVaultJSON(a.Vault), a.RecoveryPoints, a.Moved}, nil
}

func (s *handlers) supportedResourceTypes(*http.Request, []byte) (any, error) {
	return map[string]any{"ResourceTypes": []string{"S3"}}, nil
}
