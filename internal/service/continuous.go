package service

import (
	"context"

	"github.com/cofferbackup/coffer/internal/capture"
)

// continuousTargets is what continuous rules protect now, for capture.
func (s *Service) continuousTargets(ctx context.Context) ([]capture.Target, map[string]error, error) {
	ts, failed, err := s.plans.ContinuousTargets(ctx)
	out := make([]capture.Target, len(ts))
	for i, t := range ts {
		out[i] = capture.Target{PlanID: t.PlanID, RuleID: t.RuleID, VaultName: t.VaultName, ResourceARN: t.ResourceARN,
			DeleteAfterDays: t.DeleteAfterDays, BackupOptions: t.BackupOptions}
	}
	return out, failed, err
}

// ProtectContinuously makes and stops continuous protections from the
// plans and queues the due scans now (the leader does it periodically).
func (s *Service) ProtectContinuously(ctx context.Context) (int, error) {
	return s.captures.Protect(ctx)
}

// EventsStored is called once S3 events are stored in the inbox: it asks
// for their capture to be queued without waiting for the leader's next
// poll, behind the answer (an endpoint such as MinIO sends its events one
// request at a time: the answer must not wait for the queueing). Requests
// that arrive while a queueing runs are served by one more.
func (s *Service) EventsStored(context.Context) {
	select {
	case s.eventsKick <- struct{}{}:
	default: // one is pending already (or no process: the poll does it)
	}
}

// captureEventsBehind queues the capture of stored events each time
// EventsStored asks, until the service closes.
func (s *Service) captureEventsBehind() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.eventsKick:
			if _, err := s.captures.EventsArrived(s.ctx); err != nil && s.ctx.Err() == nil {
				s.log.Warn("queue capture of events", "err", err)
			}
		}
	}
}
