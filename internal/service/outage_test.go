package service_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/coffertest"
	"github.com/cofferbackup/coffer/internal/service"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestCatalogOutageMidJob takes the PostgreSQL catalog away from a running
// restore (a proxy drops every connection), for a moment and then for
// longer than DeadAfter. A short outage: the job records its end once the
// database is back. A long one: the process fences its job off, and once
// the database is back takes it over itself; the restore resumes and
// completes. Both restores match their source byte for byte.
func TestCatalogOutageMidJob(t *testing.T) {
	for _, tt := range []struct {
		name   string
		outage time.Duration
		note   string // in the final StatusMessage
	}{
		// Whether the job meets the outage reading the catalog (then it is
		// taken over once the database is back) or writing its end (then it
		// retries), it completes.
		{"short", 1500 * time.Millisecond, "restored"},
		{"longer than DeadAfter", 5 * time.Second, "taken over"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := coffertest.Database(t, "postgres")
			u, err := url.Parse(base)
			if err != nil {
				t.Fatal(err)
			}
			px := coffertest.NewCutProxy(t, u.Host)
			var once sync.Once
			held, release := make(chan struct{}), make(chan struct{})
			hooks := &service.TestHooks{RestoreRunning: func(ctx context.Context, _ string) {
				once.Do(func() { // only the first run is held
					close(held)
					select {
					case <-release:
					case <-ctx.Done():
					}
				})
			}}
			e := coffertest.Start(t, coffertest.Options{Database: px.ViaProxy(t, base), TestHooks: hooks,
				Configure: func(c *service.Config) {
					c.HeartbeatInterval, c.DeadAfter, c.TakeoverInterval = 250*time.Millisecond, 3*time.Second, 500*time.Millisecond
				}})
			mc := e.S3.Client(t)
			bucket := e.S3.NewBucket(t, true)
			want := coffertest.FillBucket(t, mc, bucket, "o/", 30, 20000)
			createVault(t, e.Client, "outage")
			b := startBackup(t, e.Client, "outage", bucket, 0)
			if j := e.WaitBackup(t, aws.ToString(b.BackupJobId)); j.State != types.BackupJobStateCompleted {
				t.Fatalf("backup: %s", j.State)
			}
			dest := testserver.UniqueBucketName("outage")
			r, err := e.Client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: b.RecoveryPointArn,
				IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"),
				Metadata:   map[string]string{"DestinationBucketName": dest, "NewBucket": "true"}})
			if err != nil {
				t.Fatal(err)
			}
			<-held
			px.Cut()
			close(release) // the restore goes on without its database
			time.Sleep(tt.outage)
			px.Restore()
			out := coffertest.WaitRestoreJob(t, e.Client, aws.ToString(r.RestoreJobId))
			if out.Status != types.RestoreJobStatusCompleted || !strings.Contains(aws.ToString(out.StatusMessage), tt.note) {

				t.Fatalf("restore after a %v outage: %s %q, want COMPLETED saying %q", tt.outage, out.Status, aws.ToString(out.StatusMessage), tt.note)
			}
			coffertest.CheckBucket(t, mc, dest, want)
		})
	}
}
