package service

import (
	"context"
	"errors"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

// errFenced cancels the jobs of a process that lost the catalog database
// for about DeadAfter: the other processes hold it dead by then and take
// its jobs over, so it must not go on writing them.
var errFenced = errors.New("this process lost the catalog database for too long; its jobs are taken over")

// catalogPatience bounds how long a job waits for the catalog database to
// come back to record what it did (its recovery point, its end).
const catalogPatience = 10 * time.Minute

// catalogRetryEvery is the pause between two tries of a catalog write.
const catalogRetryEvery = 2 * time.Second

// untilCatalog runs write until it succeeds or fails for a reason other
// than the database (a refused transition, a missing row), retrying while
// the catalog database cannot be reached, for at most catalogPatience and
// while coffer runs. What a job did must not be lost because the database
// blinked: a recovery point in the vault is recorded once it is back.
func (s *Service) untilCatalog(ctx context.Context, what string, write func() error) error {
	ctx, cancel := context.WithTimeout(ctx, catalogPatience)
	defer cancel()
	t := time.NewTicker(catalogRetryEvery)
	defer t.Stop()
	for logged := false; ; {
		err := write()
		if err == nil || !unreachable(err) {
			return err
		}
		if !logged {
			s.log.Warn("catalog database unreachable; retrying", "what", what, "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return err
		case <-s.ctx.Done():
			return err
		case <-t.C:
		}
	}
}

// unreachable reports whether a catalog error may pass once the database
// answers again.
func unreachable(err error) bool {
	return catalog.IsUnavailable(err) && !errors.Is(err, context.Canceled)
}

// fence cancels every job this process runs: its heartbeats have failed
// for nearly DeadAfter, so the others are about to take them over. Each
// is left as the catalog has it (RUNNING); the takeover, by another
// process or by this one once the database is back (a job this process
// owns but no longer runs is orphaned), runs it again or resumes it.
func (s *Service) fence() int { return s.running.CancelAll(errFenced) }

// runsLocally reports whether job id runs in this process now.
func (s *Service) runsLocally(id string) bool { return s.running.Has(id) }
