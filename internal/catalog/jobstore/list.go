package jobstore

import (
	"context"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/internal/catsql"
)

// jobTable names the table of one job kind for listJobs.
type jobTable struct {
	what     string // in errors: "copy jobs"
	name     string
	cols     string // the columns its scan reads
	stateCol string // "state", or "status" (restore jobs)
}

var (
	backupJobTable       = jobTable{"backup jobs", "backup_jobs", backupJobCols, "state"}
	restoreJobTable      = jobTable{"restore jobs", "restore_jobs", restoreJobCols, "status"}
	copyJobTable         = jobTable{"copy jobs", "copy_jobs", copyJobCols, "state"}
	verificationJobTable = jobTable{"verification jobs", "verification_jobs", verificationJobCols, "state"}
	maintenanceJobTable  = jobTable{"maintenance jobs", "maintenance_jobs", maintenanceJobCols, "state"}
)

// jobFilter is the part of a job listing's filter every kind shares: the
// state (one, or any of several; both apply when both are set) and the
// ranges of creation and completion. Zero fields match everything.
type jobFilter struct {
	state                                                      string
	states                                                     []string
	createdAfter, createdBefore, completeAfter, completeBefore time.Time
}

// listJobs returns one page of the jobs of t that match w (the kind's own
// conditions) and f, newest first: the one listing of every job kind.
func listJobs[T any](ctx context.Context, s *Store, t jobTable, w catsql.Where, f jobFilter, p catalog.Page,
	scan func(catsql.Scanner) (T, error)) ([]T, string, error) {
	w.Eq(t.stateCol, f.state)
	w.In(t.stateCol, f.states)
	w.TimeRange("created_at", f.createdAfter, f.createdBefore)
	w.TimeRange("completed_at", f.completeAfter, f.completeBefore)
	return catalog.QueryPage(ctx, s.db, t.what, `SELECT `+t.cols+` FROM `+t.name+w.SQL()+` ORDER BY created_at DESC, id`, w.Args, p, scan)
}
