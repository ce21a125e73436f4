package service

import (
	"context"

	"github.com/cofferbackup/coffer/internal/jobqueue"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// The River kinds of coffer's jobs, registered by the control plane
// (jobqueue knows no kind).
const (
	kindBackup      = string(vocab.KindBackup)
	kindRestore     = string(vocab.KindRestore)
	kindMaintenance = string(vocab.KindMaintenance)
)

// backupArgs and restoreArgs are the River args of a backup and a restore
// job: the coffer job id, and the run number, raised when another process
// takes the job over so that the job gets a new River job.
type backupArgs struct {
	JobID string `json:"job_id"`
	Run   int    `json:"run,omitempty"`
}

func (backupArgs) Kind() string          { return kindBackup }
func (a backupArgs) CofferJobID() string { return a.JobID }

type restoreArgs struct {
	JobID string `json:"job_id"`
	Run   int    `json:"run,omitempty"`
}

func (restoreArgs) Kind() string          { return kindRestore }
func (a restoreArgs) CofferJobID() string { return a.JobID }

// maintenanceArgs are the River args of a maintenance job.
type maintenanceArgs struct {
	JobID string `json:"job_id"`
	Run   int    `json:"run,omitempty"`
}

func (maintenanceArgs) Kind() string          { return kindMaintenance }
func (a maintenanceArgs) CofferJobID() string { return a.JobID }

// argsFor returns the River args of run of job id of kind.
func argsFor(kind, id string, run int) jobqueue.Args {
	switch kind {
	case kindRestore:
		return restoreArgs{JobID: id, Run: run}
	case kindMaintenance:
		return maintenanceArgs{JobID: id, Run: run}
	}
	return backupArgs{JobID: id, Run: run}
}

// jobKinds registers the handlers of coffer's job kinds.
func (s *Service) jobKinds() (*jobqueue.Kinds, error) {
	k := jobqueue.NewKinds()
	if err := jobqueue.Register(k, func(ctx context.Context, a backupArgs) error { return s.handleBackup(ctx, a.JobID, a.Run) }); err != nil {
		return nil, err
	}
	if err := jobqueue.Register(k, func(ctx context.Context, a restoreArgs) error { return s.handleRestore(ctx, a.JobID, a.Run) }); err != nil {
		return nil, err
	}
	if err := jobqueue.Register(k, func(ctx context.Context, a maintenanceArgs) error { return s.handleMaintenance(ctx, a.JobID, a.Run) }); err != nil {
		return nil, err
	}
	return k, nil
}
