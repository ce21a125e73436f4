package vaultapi

import (
	"net/http"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/vaultverify"
)

// verifyVault is coffer's extension VerifyBackupVault: POST
// /backup-vaults/{name}/verification with {"ReadDataPercent", "Seed"},
// answered when the check is done (docs/api.md).
func (s *handlers) verifyVault(r *http.Request, body []byte) (any, error) {
	var in struct {
		ReadDataPercent float64
		Seed            uint64
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	name := r.PathValue("name")
	rep, err := s.svc.VerifyVault(r.Context(), name, vaultverify.Options{ReadDataPercent: in.ReadDataPercent, Seed: in.Seed})
	if err != nil {
		return nil, err
	}
	return struct {
		BackupVaultName string
		OK              bool
		vaultverify.Report
	}{name, rep.OK(), rep}, nil
}
