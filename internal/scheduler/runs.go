package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/planstore"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/schedule"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// RunSchedules starts the backups of every plan rule whose scheduled time
// has come, for the buckets its plan's selections match now. It is
// idempotent: each scheduled run is recorded once (after its jobs exist,
// whose idempotency tokens are derived from the run), so calling it again,
// or after a crash, neither repeats nor loses a run. Runs whose start
// window has passed, and runs superseded by a newer due run of the same
// rule, are recorded as MISSED without jobs. A rule that fails (the
// endpoint cannot list buckets, the catalog errs) does not keep the others
// from running; its run is not recorded, so the next pass retries it. It
// returns the jobs started and the rules' errors.
func (s *Scheduler) RunSchedules(ctx context.Context) (int, error) {
	now := s.clock.Now()
	res := s.newResolver()
	started := 0
	var errs []error
	pg := catalog.Page{Max: 1000}
	for {
		plans, tok, err := s.ListPlans(ctx, false, pg)
		if err != nil {
			return started, errors.Join(append(errs, err)...)
		}
		for _, p := range plans {
			n, perrs := s.runPlan(ctx, p, now, res)
			started += n
			errs = append(errs, perrs...)
		}
		if tok == "" {
			return started, errors.Join(errs...)
		}
		pg.Token = tok
	}
}

// runPlan runs the due runs of each of the plan's rules.
func (s *Scheduler) runPlan(ctx context.Context, p Plan, now time.Time, res *resolver) (int, []error) {
	started := 0
	var errs []error
	for i := range p.Doc.Rules {
		n, err := s.runRule(ctx, p, &p.Doc.Rules[i], now, res)
		started += n
		if err != nil {
			errs = append(errs, fmt.Errorf("plan %s rule %s: %w", p.ID, p.Doc.Rules[i].RuleName, err))
		}
	}
	return started, errs
}

// ruleSchedule returns the rule's schedule and the time its due runs count
// from: its last recorded run, or the plan version's creation if later (an
// update does not bring back runs from before it). A rate() schedule is
// anchored on the last run, so updating a plan does not shift it.
func (s *Scheduler) ruleSchedule(ctx context.Context, p Plan, r *plan.Rule) (*schedule.Schedule, time.Time, error) {
	from, anchor := p.CreatedAt, p.CreatedAt
	last, err := s.plans.LastPlanRun(ctx, p.ID, r.RuleId)
	switch {
	case err == nil:
		anchor = last.ScheduledAt
		if last.ScheduledAt.After(from) {
			from = last.ScheduledAt
		}
	case !errors.Is(err, catalog.ErrNotFound):
		return nil, from, err
	}
	sched, err := r.Schedule(anchor)
	return sched, from, err
}

// dueRuns lists the rule's scheduled times after its last recorded run (or
// the plan version's creation) up to now.
func (s *Scheduler) dueRuns(ctx context.Context, p Plan, r *plan.Rule, now time.Time) ([]time.Time, error) {
	sched, from, err := s.ruleSchedule(ctx, p, r)
	if err != nil || sched == nil {
		return nil, err
	}
	var due []time.Time
	for t := sched.Next(from); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		due = append(due, t)
		if len(due) > 10000 { // a schedule far in the past: keep the newest
			due = due[1:]
		}
	}
	return due, nil
}

func (s *Scheduler) runRule(ctx context.Context, p Plan, r *plan.Rule, now time.Time, res *resolver) (int, error) {
	due, err := s.dueRuns(ctx, p, r, now)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	window := r.StartWindow()
	for i, t := range due {
		open := now.Before(vocab.AddMinutes(t, window)) // saturates: no overflow for a plan stored before the bounds
		if i == len(due)-1 && open {
			return s.startRun(ctx, p, r, t, res)
		}
		msg := "start window passed before coffer could start it"
		if open {
			msg = "superseded by a newer scheduled run"
		}
		if err := s.recordRun(ctx, planstore.PlanRun{PlanID: p.ID, RuleID: r.RuleId, ScheduledAt: t, Status: RunMissed, Message: msg}); err != nil {
			return 0, err
		}
		s.log.Warn("scheduled backup missed", "plan", p.ID, "rule", r.RuleName, "scheduled", t, "reason", msg)
	}
	return 0, nil
}

func (s *Scheduler) startRun(ctx context.Context, p Plan, r *plan.Rule, at time.Time, res *resolver) (int, error) {
	arns, err := res.resources(ctx, p.ID)
	if err != nil {
		return 0, err
	}
	opts := map[string]string{}
	for _, a := range p.Doc.AdvancedBackupSettings {
		if a.ResourceType == "S3" {
			for k, v := range a.BackupOptions {
				opts[k] = v
			}
		}
	}
	for _, arn := range arns {
		in := ScheduledBackup{VaultName: r.TargetBackupVaultName, ResourceARN: arn, BackupOptions: opts,
			IdempotencyToken:   fmt.Sprintf("plan:%s:%s:%d:%s", p.ID, r.RuleId, at.Unix(), arn),
			StartWindowMinutes: r.StartWindow(), CompleteWindowMinutes: r.CompletionWindow(),
			RecoveryPointTags: r.RecoveryPointTags, ScheduledAt: at, PlanID: p.ID, PlanVersion: p.VersionID, RuleID: r.RuleId}
		if r.Lifecycle != nil && r.Lifecycle.DeleteAfterDays != nil {
			in.DeleteAfterDays = *r.Lifecycle.DeleteAfterDays
		}
		err := s.backups.StartScheduled(ctx, in)
		if isRequestError(err) {
			// The rule cannot back this bucket up (its vault was deleted,
			// say): record a FAILED job that says why, where operators look.
			err = s.backups.RecordRefused(ctx, in, err)
		}
		if err != nil {
			return 0, fmt.Errorf("start backup of %s: %w", arn, err)
		}
	}
	run := planstore.PlanRun{PlanID: p.ID, RuleID: r.RuleId, ScheduledAt: at, Status: RunStarted, Jobs: int64(len(arns)),
		Message: strings.Join(arns, ", ")}
	if err := s.recordRun(ctx, run); err != nil {
		return 0, err
	}
	if err := s.plans.SetPlanLastExecution(ctx, p.ID, s.clock.Now()); err != nil {
		return 0, err
	}
	s.log.Info("scheduled backups started", "plan", p.ID, "rule", r.RuleName, "scheduled", at, "resources", len(arns))
	return len(arns), nil
}

// isRequestError reports whether err is a refusal of the request itself,
// which retrying does not change.
func isRequestError(err error) bool {
	for _, e := range []error{vocab.ErrNotFound, vocab.ErrInvalidParameter, vocab.ErrMissingParameter, vocab.ErrInvalidRequest, vocab.ErrInvalidState} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *Scheduler) recordRun(ctx context.Context, r planstore.PlanRun) error {
	r.CreatedAt = s.clock.Now()
	if err := s.plans.InsertPlanRun(ctx, r); err != nil && !errors.Is(err, catalog.ErrExists) {
		return err
	}
	return nil
}

// resolver evaluates selections against the buckets of every
// connection, reading each bucket list and each bucket's tags at most
// once per scheduler pass.
type resolver struct {
	s       *Scheduler
	buckets []string // bucket ARNs of every connection; nil until listed
	tags    map[string]map[string]string
}

func (s *Scheduler) newResolver() *resolver {
	return &resolver{s: s, tags: map[string]map[string]string{}}
}

// listBuckets lists the buckets of every connection as ARNs.
func (r *resolver) listBuckets(ctx context.Context) error {
	conns := []string{vocab.DefaultConnection}
	if r.s.conns != nil {
		var err error
		if conns, err = r.s.conns(ctx); err != nil {
			return err
		}
	}
	r.buckets = []string{}
	for _, conn := range conns {
		src, err := r.s.buckets(ctx, conn)
		if err != nil {
			return err
		}
		names, err := src.ListBuckets(ctx)
		if err != nil {
			return fmt.Errorf("list the buckets of connection %q: %w", conn, err)
		}
		for _, b := range names {
			r.buckets = append(r.buckets, vocab.BucketARN(conn, b))
		}
	}
	return nil
}

// resources returns the bucket ARNs a plan's selections match, sorted.
func (r *resolver) resources(ctx context.Context, planID string) ([]string, error) {
	sels, err := r.s.allSelections(ctx, planID)
	if err != nil || len(sels) == 0 {
		return nil, err
	}
	if r.buckets == nil {
		if err := r.listBuckets(ctx); err != nil {
			return nil, err
		}
	}
	set := map[string]bool{}
	for _, sel := range sels {
		candidates := map[string]bool{}
		for _, arn := range r.buckets {
			candidates[arn] = true
		}
		for _, arn := range sel.Doc.Resources {
			if !strings.ContainsAny(arn, "*?") {
				candidates[arn] = true // named explicitly: tried even if not listed, so a missing bucket fails visibly
			}
		}
		for arn := range candidates {
			tags, err := r.bucketTags(ctx, arn)
			if err != nil {
				return nil, err
			}
			if sel.Doc.Matches(arn, tags) {
				set[arn] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for arn := range set {
		out = append(out, arn)
	}
	sort.Strings(out)
	return out, nil
}

func (r *resolver) bucketTags(ctx context.Context, arn string) (map[string]string, error) {
	if t, ok := r.tags[arn]; ok {
		return t, nil
	}
	conn, bucket, err := vocab.ParseS3ARN(arn)
	if err != nil {
		return nil, err
	}
	src, err := r.s.buckets(ctx, conn)
	if err != nil {
		return nil, err
	}
	t, err := src.BucketTags(ctx, bucket)
	if err != nil {
		return nil, err
	}
	r.tags[arn] = t
	return t, nil
}
