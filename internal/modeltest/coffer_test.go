package modeltest

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/testserver"
)

func (r *runner) createVault(name string) {
	if _, err := r.env.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(name)}); err != nil {
		r.fatalf("create vault %s: %v", name, err)
	}
	r.vaults = append(r.vaults, name)
}

// opBackup backs a random bucket up into a random vault and records what
// the recovery point must hold; with restart, coffer is restarted while
// the job runs (it runs again from the start).
func (r *runner) opBackup(restart bool) {
	b := r.pickBucket(false)
	vault := r.vaults[r.rng.IntN(len(r.vaults))]
	deep := r.rng.IntN(10) == 0
	r.logf("backup %s into %s (restart %v, source check with data %v)", b.name, vault, restart, deep)
	r.checkSource(b, deep)
	out := coffertest.StartBackup(r.t, r.env.Client, vault, b.name)
	if restart {
		r.restartSoon("backup")
	}
	j := r.env.WaitBackup(r.t, aws.ToString(out.BackupJobId))
	if j.State != types.BackupJobStateCompleted {
		r.fatalf("backup job %s of %s: %s %q", aws.ToString(out.BackupJobId), b.name, j.State, aws.ToString(j.StatusMessage))
	}
	rp := &recoveryPoint{arn: aws.ToString(j.RecoveryPointArn), vault: vault, bucket: b, op: r.op, hist: b.history(), versions: b.entries()}
	r.rps = append(r.rps, rp)
	r.n.backups++
	r.logf("  -> %s, %d entries", rp.arn, rp.versions)
}

// checkSource compares the bucket's listing (every version id, delete
// markers, sizes and ETags, in order) with the model, and with deep also
// every version's bytes, metadata and tags: a difference is a fault of the
// model or of the S3 server, not of coffer, and is reported as such.
func (r *runner) checkSource(b *bucketModel, deep bool) {
	r.n.sourceChecks++
	var got []string
	for _, o := range bt.ListVersions(r.t, r.mc, b.name) {
		vid := o.VersionID
		if !b.versioned && vid == "null" {
			vid = ""
		}
		got = append(got, entryLine(o.Key, vid, o.IsDeleteMarker, o.Size, strings.Trim(o.ETag, `"`)))
	}
	var want []string
	for _, k := range b.sortedKeys() {
		h := b.keys[k]
		for i := len(h) - 1; i >= 0; i-- {
			want = append(want, entryLine(k, h[i].vid, h[i].dm, h[i].size, h[i].etag))
		}
	}
	if !slices.Equal(got, want) {
		r.fatalf("model and source bucket %s differ (a fault of the test or the S3 server):\nsource:\n  %s\nmodel:\n  %s",
			b.name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if !deep {
		return
	}
	if d := bt.Diff(b.history(), bt.Histories(bt.Snapshot(r.t, r.mc, b.name))); len(d) > 0 {
		r.fatalf("model and source bucket %s differ in contents (a fault of the test or the S3 server):\n  %s",
			b.name, strings.Join(d, "\n  "))
	}
}

func entryLine(key, vid string, dm bool, size int64, etag string) string {
	if dm {
		return strconv.Quote(key) + " " + vid + " delete-marker"
	}
	return strconv.Quote(key) + " " + vid + " " + strconv.FormatInt(size, 10) + " " + etag
}

// pickMode draws a restore mode: the latest version (the default), two or
// three, or all of them, of the whole bucket or of one to three prefixes.
func (r *runner) pickMode(rp *recoveryPoint) restoreMode {
	var m restoreMode
	switch p := r.rng.IntN(10); {
	case p < 4:
		m.versions = 1
	case p < 6:
		m.versions = 2 + r.rng.IntN(2)
	}
	if r.rng.IntN(3) == 0 {
		keys := rp.hist.Keys()
		for range 1 + r.rng.IntN(3) {
			if len(keys) == 0 || r.rng.IntN(5) == 0 {
				m.items = append(m.items, []string{"d1/", "d2/k2", "", "no-such-prefix/"}[r.rng.IntN(4)])
				continue
			}
			m.items = append(m.items, runePrefix(keys[r.rng.IntN(len(keys))], r.rng.IntN(12)))
		}
	}
	return m
}

// runePrefix is key cut after n runes (the whole key if shorter or n is 0):
// an exact key, or a prefix of it that is still valid UTF-8.
func runePrefix(key string, n int) string {
	if n == 0 {
		return key
	}
	for i := range key {
		if n == 0 {
			return key[:i]
		}
		n--
	}
	return key
}

func (m restoreMode) metadata(bucket string) map[string]string {
	md := map[string]string{}
	switch m.versions {
	case 0:
		md["RestoreLatestVersionsUpTo"] = "all"
	case 1:
		// the default
	default:
		md["RestoreLatestVersionsUpTo"] = strconv.Itoa(m.versions)
	}
	if len(m.items) > 0 {
		items := make([]string, len(m.items))
		for i, p := range m.items {
			items[i] = "s3://" + bucket + "/" + p
		}
		b, _ := json.Marshal(items)
		md["ItemsToRestore"] = string(b)
	}
	return md
}

// opRestore restores a random live recovery point into a new bucket and
// compares it with the model; with restart, coffer is restarted while the
// restore runs.
func (r *runner) opRestore(restart bool) {
	rp := r.rps[r.rng.IntN(len(r.rps))]
	m := r.pickMode(rp)
	r.restoreAndCompare(rp, m, restart)
}

func (r *runner) restoreAndCompare(rp *recoveryPoint, m restoreMode, restart bool) {
	want := m.expect(rp.hist)
	if r.tg.s3 == testserver.MinIO {
		want = want.OneOfStackedMarkers()
	}
	r.logf("restore %s (bucket %s, op #%d) %s (restart %v): %d keys expected", rp.arn, rp.bucket.name, rp.op, m, restart, len(want))
	dest, id := coffertest.StartRestoreToNewBucket(r.t, r.env.Client, rp.arn, m.metadata(rp.bucket.name))
	if restart {
		r.restartSoon("restore")
	}
	j := r.env.WaitRestore(r.t, id)
	if j.Status != types.RestoreJobStatusCompleted {
		r.fatalf("restore job %s of %s into %s: %s %q", id, rp.arn, dest, j.Status, aws.ToString(j.StatusMessage))
	}
	got := bt.Histories(bt.Snapshot(r.t, r.mc, dest))
	if strings.Contains(aws.ToString(j.StatusMessage), "restored by the earlier run") {
		r.n.resumed++ // held to the whole promise: a resumed restore finishes begun keys
	}
	if d := bt.Diff(want, got); len(d) > 0 {
		r.fatalf("restore of %s (%s) into %s differs from the model (job message %q):\n  %s",
			rp.arn, m, dest, aws.ToString(j.StatusMessage), strings.Join(d, "\n  "))
	}
	r.n.restores++
	if len(m.items) > 0 {
		r.n.restoresItems++
	}
	if m.versions == 0 {
		r.n.restoresAll++
	}
	for _, vs := range want {
		r.n.versionsCompared += len(vs)
	}
	coffertest.RemoveBucket(r.t, r.mc, dest)
}

// opDeleteRP deletes a random live recovery point (its maintenance is
// queued by coffer and runs among the next operations).
func (r *runner) opDeleteRP() {
	i := r.rng.IntN(len(r.rps))
	rp := r.rps[i]
	r.logf("delete recovery point %s of %s (op #%d)", rp.arn, rp.vault, rp.op)
	if _, err := r.env.Client.DeleteRecoveryPoint(ctx, &backup.DeleteRecoveryPointInput{
		BackupVaultName: aws.String(rp.vault), RecoveryPointArn: aws.String(rp.arn)}); err != nil {
		r.fatalf("delete recovery point %s: %v", rp.arn, err)
	}
	r.rps = slices.Delete(r.rps, i, i+1)
	r.deleted = append(r.deleted, rp)
	r.n.rpDeleted++
}

// opMaintain runs maintenance of a vault in this goroutine (MaintainVault).
func (r *runner) opMaintain() {
	vault := r.vaults[r.rng.IntN(len(r.vaults))]
	r.logf("maintain %s", vault)
	st, err := r.env.Service.MaintainVault(ctx, vault)
	if err != nil {
		r.fatalf("maintain %s: %v", vault, err)
	}
	r.n.maintenance++
	r.logf("  -> %+v", st)
}

// opMaintenanceJob queues a maintenance job and waits for its end.
func (r *runner) opMaintenanceJob() {
	vault := r.vaults[r.rng.IntN(len(r.vaults))]
	r.logf("maintenance job of %s", vault)
	j, err := r.env.Service.StartMaintenanceJob(ctx, vault)
	if err != nil {
		r.fatalf("start maintenance of %s: %v", vault, err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		cur, err := r.env.Service.MaintenanceJob(ctx, j.ID)
		if err != nil {
			r.fatalf("maintenance job %s: %v", j.ID, err)
		}
		switch cur.State {
		case "COMPLETED":
			r.n.maintenance++
			return
		case "FAILED", "ABORTED":
			r.fatalf("maintenance job %s of %s: %s %q", j.ID, vault, cur.State, cur.StatusMessage)
		}
		if time.Now().After(deadline) {
			r.fatalf("maintenance job %s of %s still %s after 5 minutes", j.ID, vault, cur.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// restartSoon restarts coffer after a random short while (the job may have
// ended by then, or not yet begun).
func (r *runner) restartSoon(during string) {
	wait := time.Duration(r.rng.IntN(400)) * time.Millisecond
	time.Sleep(wait)
	r.restart(during)
	r.n.restartsInJob++
}

func (r *runner) restart(during string) {
	r.logf("restart %s", during)
	r.env.Restart(r.t)
	r.n.restarts++
}

// opAudit compares each vault's recovery points with the model's, and
// checks that a deleted one is gone.
func (r *runner) opAudit() {
	r.logf("audit recovery points")
	for _, v := range r.vaults {
		var got, want []string
		p := backup.NewListRecoveryPointsByBackupVaultPaginator(r.env.Client, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(v)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				r.fatalf("list recovery points of %s: %v", v, err)
			}
			for _, rp := range page.RecoveryPoints {
				if rp.Status != types.RecoveryPointStatusCompleted {
					r.fatalf("recovery point %s of %s is %s", aws.ToString(rp.RecoveryPointArn), v, rp.Status)
				}
				got = append(got, aws.ToString(rp.RecoveryPointArn))
			}
		}
		for _, rp := range r.rps {
			if rp.vault == v {
				want = append(want, rp.arn)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			r.fatalf("recovery points of %s: %v, model %v", v, got, want)
		}
	}
	if len(r.deleted) == 0 {
		return
	}
	rp := r.deleted[r.rng.IntN(len(r.deleted))]
	_, err := r.env.Client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{
		BackupVaultName: aws.String(rp.vault), RecoveryPointArn: aws.String(rp.arn)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		r.fatalf("deleted recovery point %s: DescribeRecoveryPoint answered %v, want ResourceNotFoundException", rp.arn, err)
	}
}

// final restores, after maintenance of every vault, each vault's oldest
// and newest live recovery point with every version: the oldest is the
// one that deletions and maintenance around it put most at risk.
func (r *runner) final() {
	r.op++
	r.logf("final checks")
	for _, v := range r.vaults {
		if _, err := r.env.Service.MaintainVault(ctx, v); err != nil {
			r.fatalf("maintain %s: %v", v, err)
		}
		r.n.maintenance++
		var mine []*recoveryPoint
		for _, rp := range r.rps {
			if rp.vault == v {
				mine = append(mine, rp)
			}
		}
		if len(mine) == 0 {
			continue
		}
		r.restoreAndCompare(mine[0], restoreMode{}, false)
		if len(mine) > 1 {
			r.restoreAndCompare(mine[len(mine)-1], restoreMode{}, false)
		}
	}
	r.opAudit()
}
