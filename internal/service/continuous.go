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

// EventsStored is called once S3 events are stored in the inbox: it
// queues their capture without waiting for the leader's next poll.
func (s *Service) EventsStored(ctx context.Context) {
	if _, err := s.captures.EventsArrived(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("queue capture of events", "err", err)
	}
}
