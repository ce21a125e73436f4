package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/planstore"
	"github.com/cofferbackup/coffer/internal/clock"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// Plan run statuses recorded by the scheduler.
const (
	RunStarted = "STARTED"
	RunMissed  = "MISSED"
)

// Plan is a stored plan with its decoded document.
type Plan struct {
	planstore.Plan
	Doc plan.Document
}

// Selection is a stored selection with its decoded document.
type Selection struct {
	planstore.Selection
	Doc plan.Selection
}

// ScheduledRun is one upcoming run of a plan rule.
type ScheduledRun struct {
	Time   time.Time
	RuleID string
}

// ScheduledBackup is one backup a plan rule's run asks for.
type ScheduledBackup struct {
	VaultName, ResourceARN, IdempotencyToken  string
	StartWindowMinutes, CompleteWindowMinutes int64
	DeleteAfterDays                           int64
	RecoveryPointTags, BackupOptions          map[string]string
	ScheduledAt                               time.Time
	PlanID, PlanVersion, RuleID               string
}

// Backups is what the scheduler needs of the owner of backup jobs.
type Backups interface {
	// StartScheduled starts (or finds, by its idempotency token) one
	// backup job. A refusal of the request itself wraps one of vocab's
	// sentinel errors.
	StartScheduled(ctx context.Context, b ScheduledBackup) error
	// RecordRefused records a backup that could not start as a FAILED
	// job carrying the reason, where operators look for it.
	RecordRefused(ctx context.Context, b ScheduledBackup, reason error) error
}

// Buckets is the endpoint selections are evaluated against.
type Buckets interface {
	ListBuckets(ctx context.Context) ([]string, error)
	BucketTags(ctx context.Context, bucket string) (map[string]string, error)
}

// Config gives the scheduler what it uses.
type Config struct {
	DB      *catalog.DB
	Plans   *planstore.Store // plans, selections and their runs
	Clock   clock.Clock
	Log     *slog.Logger
	Names   vocab.Names // ARNs of plans
	Backups Backups
	// Buckets returns the endpoint of connection conn's buckets
	// (arn:aws:s3:CONN::bucket; an error if there is no such connection).
	Buckets func(ctx context.Context, conn string) (Buckets, error)
	// Connections lists the connections whose buckets selections look at;
	// nil: the default connection only.
	Connections func(ctx context.Context) ([]string, error)
}

// Scheduler owns plans, selections and their runs. Safe for concurrent use.
type Scheduler struct {
	db      *catalog.DB
	plans   *planstore.Store
	clock   clock.Clock
	log     *slog.Logger
	names   vocab.Names
	backups Backups
	buckets func(ctx context.Context, conn string) (Buckets, error)
	conns   func(ctx context.Context) ([]string, error)
}

// New returns the scheduler over cfg.
func New(cfg Config) *Scheduler {
	return &Scheduler{db: cfg.DB, plans: cfg.Plans, clock: cfg.Clock, log: cfg.Log, names: cfg.Names, backups: cfg.Backups, buckets: cfg.Buckets,
		conns: cfg.Connections}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("scheduler: marshal %T: %v", v, err)) // plan documents always marshal
	}
	return string(b)
}

// wrapPage maps the catalog's bad-token error to the API's vocabulary.
func wrapPage[T any](items []T, tok string, err error) ([]T, string, error) {
	if err == catalog.ErrBadToken {
		return nil, "", fmt.Errorf("%w: invalid NextToken", vocab.ErrInvalidParameter)
	}
	return items, tok, err
}
