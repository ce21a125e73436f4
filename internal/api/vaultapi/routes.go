package vaultapi

import (
	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/service"
)

// handlers serves the vault operations of svc.
type handlers struct {
	svc *service.Service
}

// Register routes the operations on vaults, recovery points, locks,
// legal holds, tags, protected resources and connections to svc.
func Register(rt wire.Routes, svc *service.Service) {
	s := &handlers{svc: svc}
	rt.Handle("PUT /backup-vaults/{name}", s.createVault)
	rt.Handle("GET /backup-vaults/{name}", s.describeVault)
	rt.Handle("GET /backup-vaults", s.listVaults)
	rt.Handle("DELETE /backup-vaults/{name}", s.deleteVault)
	rt.Handle("PUT /backup-vault-attachments", s.attachVault)           // coffer extension
	rt.Handle("POST /backup-vaults/{name}/verification", s.verifyVault) // coffer extension
	rt.Handle("GET /backup-vaults/{name}/recovery-points", s.listRecoveryPoints)
	rt.Handle("GET /backup-vaults/{name}/recovery-points/{arn}", s.describeRecoveryPoint)
	rt.Handle("DELETE /backup-vaults/{name}/recovery-points/{arn}", s.deleteRecoveryPoint)
	rt.Handle("GET /resources/{arn}/recovery-points", s.listRecoveryPointsByResource)
	rt.Handle("GET /supported-resource-types", s.supportedResourceTypes)
	s.tagRoutes(rt)
	s.lockRoutes(rt)
	s.connectionRoutes(rt) // coffer extension
}
