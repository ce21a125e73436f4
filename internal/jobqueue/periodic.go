package jobqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Periodic is work run every Every, cluster-wide once: River's elected
// leader enqueues it (so a single process or many, it runs once per
// interval), on the control queue, whose workers are apart from the job
// workers. Runs are unique per interval, not while one runs: a run held by
// a process that died stays "running" in River for days, and must not
// stop the next interval's run. So a run slower than the interval may
// overlap the next one: Run must be idempotent and safe to run twice at
// once (coffer's are: every change they make is a conditional
// transition). Run's error is logged and the next interval tries again.
type Periodic struct {
	Name  string // unique among the Queue's periodic work
	Every time.Duration
	Run   func(ctx context.Context) error
	// Timeout bounds one run (default the interval, at least a minute).
	Timeout time.Duration
}

// controlQueue runs periodic work apart from the job workers.
const controlQueue = "control"

// periodicKind is the River kind of every periodic run.
const periodicKind = "coffer_periodic"

type periodicArgs struct {
	Name string `json:"name"`
}

func (periodicArgs) Kind() string          { return periodicKind }
func (a periodicArgs) CofferJobID() string { return a.Name }

type periodicWorker struct {
	river.WorkerDefaults[periodicArgs]
	runs     map[string]Periodic
	timeouts map[string]time.Duration
}

func (w *periodicWorker) Work(ctx context.Context, job *river.Job[periodicArgs]) error {
	p, ok := w.runs[job.Args.Name]
	if !ok {
		return nil // work no longer configured (an older process enqueued it)
	}
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("periodic %s: %w", p.Name, err)
	}
	return nil
}

func (w *periodicWorker) Timeout(job *river.Job[periodicArgs]) time.Duration {
	if d, ok := w.timeouts[job.Args.Name]; ok {
		return d
	}
	return time.Minute
}

// notFinished is the unique-state set of periodic runs within their
// interval: a second insert in the same interval is absorbed while the
// first waits or runs.
var notFinished = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled}

func registerPeriodic(workers *river.Workers, ps []Periodic) ([]*river.PeriodicJob, error) {
	w := &periodicWorker{runs: map[string]Periodic{}, timeouts: map[string]time.Duration{}}
	var jobs []*river.PeriodicJob
	for _, p := range ps {
		if p.Name == "" || p.Every <= 0 || p.Run == nil {
			return nil, errors.New("jobqueue: a Periodic needs a Name, a positive Every and Run")
		}
		if _, dup := w.runs[p.Name]; dup {
			return nil, fmt.Errorf("jobqueue: two Periodic named %q", p.Name)
		}
		w.runs[p.Name] = p
		w.timeouts[p.Name] = p.Timeout
		if p.Timeout <= 0 {
			w.timeouts[p.Name] = max(p.Every, time.Minute)
		}
		args, period := periodicArgs{Name: p.Name}, max(p.Every, time.Second)
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(p.Every),
			func() (river.JobArgs, *river.InsertOpts) {
				return args, &river.InsertOpts{Queue: controlQueue, MaxAttempts: 1,
					UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: period, ByState: notFinished}}
			},
			&river.PeriodicJobOpts{ID: p.Name, RunOnStart: true}))
	}
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, fmt.Errorf("jobqueue: register periodic work: %w", err)
	}
	return jobs, nil
}
