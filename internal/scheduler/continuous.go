package scheduler

import (
	"context"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// ContinuousTarget is one bucket a continuous rule protects now: the
// leader makes one continuous protection of it (internal/capture).
type ContinuousTarget struct {
	PlanID, RuleID, RuleName, VaultName, ResourceARN string
	DeleteAfterDays                                  int64             // 0: the longest (plan.MaxContinuousDays)
	BackupOptions                                    map[string]string // the plan's S3 AdvancedBackupSettings
}

// ContinuousTargets lists, for every live plan's continuous rule, the
// buckets its selections match now. Plans whose selections cannot be
// evaluated (the endpoint is unreachable) are returned in failed, so
// that their protections are not stopped for a passing outage.
func (s *Scheduler) ContinuousTargets(ctx context.Context) (targets []ContinuousTarget, failed map[string]error, err error) {
	plans, err := s.allPlans(ctx)
	if err != nil {
		return nil, nil, err
	}
	res := s.newResolver()
	failed = map[string]error{}
	for _, p := range plans {
		for i := range p.Doc.Rules {
			r := &p.Doc.Rules[i]
			if !r.Continuous() {
				continue
			}
			arns, err := res.resources(ctx, p.ID)
			if err != nil {
				failed[p.ID] = err
				continue
			}
			for _, arn := range arns {
				t := ContinuousTarget{PlanID: p.ID, RuleID: r.RuleId, RuleName: r.RuleName, VaultName: r.TargetBackupVaultName,
					ResourceARN: arn, BackupOptions: s3Options(p.Doc)}
				if r.Lifecycle != nil && r.Lifecycle.DeleteAfterDays != nil {
					t.DeleteAfterDays = *r.Lifecycle.DeleteAfterDays
				}
				targets = append(targets, t)
			}
		}
	}
	return targets, failed, nil
}

func s3Options(doc plan.Document) map[string]string {
	opts := map[string]string{}
	for _, a := range doc.AdvancedBackupSettings {
		if a.ResourceType == "S3" {
			for k, v := range a.BackupOptions {
				opts[k] = v
			}
		}
	}
	return opts
}

func (s *Scheduler) allPlans(ctx context.Context) ([]Plan, error) {
	var all []Plan
	pg := catalog.Page{Max: 1000}
	for {
		plans, tok, err := s.ListPlans(ctx, false, pg)
		if err != nil {
			return nil, err
		}
		all = append(all, plans...)
		if tok == "" {
			return all, nil
		}
		pg.Token = tok
	}
}

// checkContinuousOverlap refuses a continuous rule of plan planID (doc)
// whose selections (sels, with extra if not nil) name a bucket that
// another live plan's continuous rule selects: one continuous rule per
// bucket, as AWS. Only what the documents tell is compared (named
// resources against the other plan's patterns); a bucket matched by two
// plans through tags or wildcards alone is caught when protections are
// made (the older protection keeps it).
func (s *Scheduler) checkContinuousOverlap(ctx context.Context, planID string, doc *plan.Document, extra *plan.Selection) error {
	if !hasContinuous(doc) {
		return nil
	}
	mine, err := s.allSelections(ctx, planID)
	if err != nil && planID != "" {
		return err
	}
	docs := make([]plan.Selection, 0, len(mine)+1)
	for _, m := range mine {
		docs = append(docs, m.Doc)
	}
	if extra != nil {
		docs = append(docs, *extra)
	}
	plans, err := s.allPlans(ctx)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.ID == planID || !hasContinuous(&p.Doc) {
			continue
		}
		theirs, err := s.allSelections(ctx, p.ID)
		if err != nil {
			return err
		}
		for _, a := range docs {
			for _, b := range theirs {
				if arn := overlap(a, b.Doc); arn != "" {
					return fmt.Errorf("%w: bucket %s is already protected by the continuous rule of backup plan %s: only one continuous rule may protect a bucket",
						vocab.ErrInvalidParameter, strings.TrimPrefix(arn, "arn:aws:s3:::"), p.ID)
				}
			}
		}
	}
	return nil
}

func hasContinuous(doc *plan.Document) bool {
	for i := range doc.Rules {
		if doc.Rules[i].Continuous() {
			return true
		}
	}
	return false
}

// overlap returns a named resource of one selection that the other
// matches by its resource patterns, or "".
func overlap(a, b plan.Selection) string {
	for _, pair := range [][2]plan.Selection{{a, b}, {b, a}} {
		for _, arn := range pair[0].Resources {
			if strings.ContainsAny(arn, "*?") {
				continue
			}
			for _, pat := range pair[1].Resources {
				if plan.Wildcard(pat, arn) {
					return arn
				}
			}
		}
	}
	return ""
}
