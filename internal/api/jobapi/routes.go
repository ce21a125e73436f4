package jobapi

import (
	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/service"
)

// handlers serves the job operations of svc; account is the AccountId
// the jobs are answered with.
type handlers struct {
	svc     *service.Service
	account string
}

// Register routes the job operations to svc.
func Register(rt wire.Routes, svc *service.Service, account string) {
	s := &handlers{svc: svc, account: account}
	rt.Handle("PUT /backup-jobs", s.startBackupJob)
	rt.Handle("GET /backup-jobs/{id}", s.describeBackupJob)
	rt.Handle("GET /backup-jobs", s.listBackupJobs)
	rt.Handle("POST /backup-jobs/{id}", s.stopBackupJob)
	rt.Handle("PUT /restore-jobs", s.startRestoreJob)
	rt.Handle("GET /restore-jobs/{id}", s.describeRestoreJob)
	rt.Handle("GET /restore-jobs", s.listRestoreJobs)
	s.maintenanceRoutes(rt) // coffer extension
	s.reportRoutes(rt)      // coffer extension
	s.copyRoutes(rt)
	s.previewRoutes(rt)      // coffer extension
	s.verificationRoutes(rt) // coffer extension
}
