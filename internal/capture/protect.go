package capture

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/capturestore"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// notProtected starts the status message of a protection stopped because
// no rule protects its bucket any more (other stops are health stops: a
// scan may heal them).
const notProtected = "not protected by any continuous rule since "

// lostJobAfter is how long a recorded capture job may be missing from
// River before it is forgotten (its process died before it ran).
const lostJobAfter = time.Minute

func targetKey(conn, bucket, vaultName string) string {
	return conn + "\x00" + bucket + "\x00" + vaultName
}

// Protect is the leader's periodic pass: it makes a protection (and its
// continuous recovery point, CREATING) for each bucket a continuous rule
// selects, stops those no rule selects any more, queues the scans that
// are due and forgets capture jobs lost with their process. It returns
// how many protections it created or stopped and scans it queued.
func (c *Captures) Protect(ctx context.Context) (int, error) {
	targets, failed, err := c.cfg.Targets(ctx)
	if err != nil {
		return 0, err
	}
	prots, err := c.cfg.Captures.Protections(ctx)
	if err != nil {
		return 0, err
	}
	byTarget := map[string]*capturestore.Protection{}
	byBucket := map[string]*capturestore.Protection{} // the one live protection of a bucket
	for i := range prots {
		p := &prots[i]
		byTarget[targetKey(p.Connection, p.Bucket, p.VaultName)] = p
		if !ruleStopped(p) {
			byBucket[p.Connection+"\x00"+p.Bucket] = p
		}
	}
	n := 0
	var errs []error
	wanted := map[string]bool{}
	for _, t := range targets {
		conn, bucket, err := vocab.ParseS3ARN(t.ResourceARN)
		if err != nil {
			continue
		}
		k := targetKey(conn, bucket, t.VaultName)
		if other := byBucket[conn+"\x00"+bucket]; other != nil && other.VaultName != t.VaultName {
			c.cfg.Log.Warn("bucket already protected continuously into another vault; rule ignored for it",
				"plan", t.PlanID, "rule", t.RuleID, "vault", t.VaultName, "protected_into", other.VaultName)
			continue
		}
		wanted[k] = true
		if p := byTarget[k]; p != nil {
			changed, err := c.refresh(ctx, p, t)
			if err != nil {
				errs = append(errs, err)
			} else if changed {
				n++
			}
			continue
		}
		p, err := c.create(ctx, conn, bucket, t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		byBucket[conn+"\x00"+bucket], byTarget[k] = &p, &p
		prots = append(prots, p)
		n++
	}
	for i := range prots {
		p := &prots[i]
		if !wanted[targetKey(p.Connection, p.Bucket, p.VaultName)] && !ruleStopped(p) && failed[p.PlanID] == nil {
			if err := c.stopUnprotected(ctx, p); err != nil {
				errs = append(errs, err)
			} else {
				n++
			}
		}
	}
	m, err := c.queueDue(ctx)
	return n + m, errors.Join(append(errs, err)...)
}

func ruleStopped(p *capturestore.Protection) bool {
	return p.State == StateStopped && strings.HasPrefix(p.StatusMessage, notProtected)
}

// create records a new protection of bucket for t; its scan is due now.
func (c *Captures) create(ctx context.Context, conn, bucket string, t Target) (capturestore.Protection, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return capturestore.Protection{}, err
	}
	id := "continuous:" + bucket + "-" + hex.EncodeToString(b[:])
	now := c.cfg.Clock.Now()
	p := capturestore.Protection{RPARN: c.cfg.Names.RecoveryPointARN(id), RPID: id, VaultName: t.VaultName,
		Connection: conn, Bucket: bucket, ResourceARN: t.ResourceARN, PlanID: t.PlanID, RuleID: t.RuleID,
		State: StateCreating, StatusMessage: "initial capture of every version", DeleteAfterDays: t.DeleteAfterDays,
		Options: t.BackupOptions, CreatedAt: now, NextScanAt: now}
	rp := catalog.RecoveryPoint{ARN: p.RPARN, ID: id, VaultName: t.VaultName, ResourceARN: t.ResourceARN, ResourceType: "S3",
		Status: StateCreating, StatusMessage: p.StatusMessage, CreatedAt: now, DeleteAfterDays: t.DeleteAfterDays,
		Kind: catalog.KindContinuous}
	if err := c.cfg.Captures.CreateProtection(ctx, p, rp); err != nil {
		return capturestore.Protection{}, err
	}
	c.cfg.Log.Info("continuous protection created", "rp", p.RPARN, "vault", t.VaultName, "plan", t.PlanID, "rule", t.RuleID)
	return p, nil
}

// refresh brings a protection in line with its rule (retention, options,
// which rule) and resumes it if it was stopped for want of a rule.
func (c *Captures) refresh(ctx context.Context, p *capturestore.Protection, t Target) (bool, error) {
	resumed := ruleStopped(p)
	same := p.PlanID == t.PlanID && p.RuleID == t.RuleID && p.DeleteAfterDays == t.DeleteAfterDays && sameMap(p.Options, t.BackupOptions)
	if same && !resumed {
		return false, nil
	}
	p.PlanID, p.RuleID, p.DeleteAfterDays, p.Options = t.PlanID, t.RuleID, t.DeleteAfterDays, t.BackupOptions
	if resumed {
		// The time unprotected is a gap: a scan heals it (see the scan).
		p.State, p.StatusMessage, p.NextScanAt = StateAvailable, "protection resumed: reconciliation scan queued", c.cfg.Clock.Now()
		c.cfg.Log.Info("continuous protection resumed", "rp", p.RPARN)
	}
	return true, c.saveCatalog(ctx, p, nil)
}

// stopUnprotected stops a protection no rule selects any more; its
// recovery point stays restorable.
func (c *Captures) stopUnprotected(ctx context.Context, p *capturestore.Protection) error {
	p.State = StateStopped
	p.StatusMessage = notProtected + c.cfg.Clock.Now().UTC().Format(time.RFC3339)
	c.cfg.Log.Info("continuous protection stopped: no rule selects its bucket", "rp", p.RPARN)
	return c.saveCatalog(ctx, p, nil)
}

// saveCatalog stores p with its recovery point's window (st, when the
// vault's state is at hand; else the catalog's values are kept).
func (c *Captures) saveCatalog(ctx context.Context, p *capturestore.Protection, st *windowCounts) error {
	var w windowCounts
	if st != nil {
		w = *st
	} else if rp, err := c.cfg.DB.RecoveryPointByARN(ctx, p.RPARN); err == nil {
		w = windowCounts{earliest: rp.EarliestRestorable, size: rp.SizeBytes, objects: rp.ObjectCount}
	}
	return c.cfg.Captures.UpdateProtection(ctx, *p, w.earliest, w.size, w.objects)
}

type windowCounts struct {
	earliest      time.Time
	size, objects int64
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// queueDue queues the scans that are due and forgets lost jobs.
func (c *Captures) queueDue(ctx context.Context) (int, error) {
	prots, err := c.cfg.Captures.Protections(ctx)
	if err != nil {
		return 0, err
	}
	now := c.cfg.Clock.Now()
	n := 0
	var errs []error
	for i := range prots {
		p := &prots[i]
		if p.JobID != "" {
			errs = append(errs, c.forgetLost(ctx, p, now))
			continue
		}
		if ruleStopped(p) || p.NextScanAt.After(now) {
			continue
		}
		ok, err := c.queue(ctx, p, ModeScan)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// forgetLost clears a recorded job that River no longer runs or holds
// (its process died, or it ended without clearing itself).
func (c *Captures) forgetLost(ctx context.Context, p *capturestore.Protection, now time.Time) error {
	if now.Sub(p.JobQueuedAt) < lostJobAfter {
		return nil
	}
	state, err := c.cfg.Core.QueueState(ctx, kind, p.JobID)
	if err != nil {
		return err
	}
	switch state {
	case "available", "pending", "retryable", "running", "scheduled":
		return nil
	}
	if ok, err := c.cfg.Captures.ClearCapture(ctx, p.RPARN, p.JobID); err != nil || !ok {
		return err
	}
	c.cfg.Log.Warn("capture job lost; forgotten", "rp", p.RPARN, "job", p.JobID, "river_state", state)
	return nil
}

// queue records and queues a capture job of p in mode, unless one is
// recorded already.
func (c *Captures) queue(ctx context.Context, p *capturestore.Protection, mode string) (bool, error) {
	id := fmt.Sprintf("%s#%d", p.RPARN, p.JobSeq+1)
	return c.cfg.Captures.QueueCapture(ctx, p.RPARN, id, mode, c.cfg.Clock.Now(), c.cfg.Core.Enqueue(ctx, kind, id, 0))
}

// PollEvents queues an events job for every bucket with events in the
// inbox whose protection is AVAILABLE and idle, and drops the events of
// buckets no protection captures (they are hints: nothing is lost). The
// leader runs it every second.
func (c *Captures) PollEvents(ctx context.Context) (int, error) { return c.pollEvents(ctx, true) }

// EventsArrived is PollEvents without the dropping, run after events
// are stored so that their capture starts at once.
func (c *Captures) EventsArrived(ctx context.Context) (int, error) { return c.pollEvents(ctx, false) }

func (c *Captures) pollEvents(ctx context.Context, drop bool) (int, error) {
	sources, err := c.cfg.Captures.InboxSources(ctx)
	if err != nil || len(sources) == 0 {
		return 0, err
	}
	prots, err := c.cfg.Captures.Protections(ctx)
	if err != nil {
		return 0, err
	}
	live := map[capturestore.InboxSource]*capturestore.Protection{}
	for i := range prots {
		if p := &prots[i]; !ruleStopped(p) {
			live[capturestore.InboxSource{Connection: p.Connection, Bucket: p.Bucket}] = p
		}
	}
	n := 0
	var errs []error
	for _, src := range sources {
		p := live[src]
		switch {
		case p == nil:
			if drop {
				errs = append(errs, c.dropEvents(ctx, src))
			}
		case p.State != StateAvailable || p.JobID != "":
			// The initial scan (or a job) runs: the events wait.
		default:
			ok, err := c.queue(ctx, p, ModeEvents)
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				n++
			}
		}
	}
	return n, errors.Join(errs...)
}

func (c *Captures) dropEvents(ctx context.Context, src capturestore.InboxSource) error {
	for {
		evs, err := c.cfg.Captures.InboxEventsOf(ctx, src.Connection, src.Bucket, 1000)
		if err != nil || len(evs) == 0 {
			return err
		}
		ids := make([]string, len(evs))
		for i, e := range evs {
			ids[i] = e.ID
		}
		if _, err := c.cfg.Captures.DeleteInboxEvents(ctx, src.Bucket, ids); err != nil {
			return err
		}
	}
}
