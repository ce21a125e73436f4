package service

import (
	"context"
	"time"

	"github.com/cofferbackup/coffer/internal/jobqueue"
)

// periodic is the control plane's periodic work, run once per interval
// cluster-wide by River's elected leader (see jobqueue.Periodic).
func (s *Service) periodic() []jobqueue.Periodic {
	var ps []jobqueue.Periodic
	if every := s.cfg.JanitorInterval; every > 0 {
		ps = append(ps,
			jobqueue.Periodic{Name: "schedules", Every: every, Run: s.logged("run schedules", s.RunSchedules)},
			jobqueue.Periodic{Name: "windows", Every: every, Run: s.logged("enforce job windows", s.EnforceWindows)},
			jobqueue.Periodic{Name: "expiry", Every: every, Run: s.logged("expire recovery points", s.ExpireRecoveryPoints)},
			jobqueue.Periodic{Name: "continuous", Every: s.cfg.ProtectInterval, Run: s.logged("continuous protections", s.captures.Protect)},
			jobqueue.Periodic{Name: "capture-events", Every: s.cfg.EventsInterval, Run: s.logged("queue capture of events", s.captures.PollEvents)},
		)
	}
	if every := s.cfg.TakeoverInterval; every > 0 {
		ps = append(ps, jobqueue.Periodic{Name: "takeover", Every: every, Run: s.logged("take over jobs of dead processes", s.TakeOver)})
	}
	every := s.cfg.MaintenanceInterval
	if every == 0 {
		every = DefaultMaintenanceInterval
	}
	if every > 0 {
		ps = append(ps, jobqueue.Periodic{Name: "maintenance", Every: every, Timeout: time.Hour,
			Run: s.logged("queue maintenance of every vault", s.MaintainAllVaults)})
	}
	return ps
}

// logged adapts one pass of periodic work: a pass that did something is
// logged, and a failing pass is logged and retried at the next interval.
func (s *Service) logged(what string, pass func(context.Context) (int, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		n, err := pass(ctx)
		if n > 0 {
			s.log.Info(what, "count", n)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error(what, "err", err)
		}
		return nil
	}
}
