package backuptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/backup"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/vault"
)

var rpSeq atomic.Int64

// Options returns backup options for bucket with a fresh recovery point id.
func Options(bucket string, prev *recpoint.Manifest) backup.Options {
	id := fmt.Sprintf("rp-%d-%d", time.Now().UnixNano(), rpSeq.Add(1))
	return backup.Options{
		JobID: "job-" + id, VaultName: "test-vault", RecoveryPointID: id,
		RecoveryPointARN: "arn:aws:backup:us-east-1:000000000000:recovery-point:" + id,
		ResourceARN:      "arn:aws:s3:::" + bucket, Bucket: bucket, Connection: "default",
		BackupACLs: true, BackupTags: true, Previous: prev,
	}
}

// Backup runs a backup of bucket that must succeed. mod may adjust the options.
func Backup(t testing.TB, src *s3source.Client, v *vault.Vault, bucket string, prev *recpoint.Manifest,
	mod func(*backup.Options)) backup.Result {
	t.Helper()
	opts := Options(bucket, prev)
	if mod != nil {
		mod(&opts)
	}
	res, err := backup.Run(context.Background(), src, v, opts, nil)
	if err != nil {
		t.Fatalf("backup of %s: %v", bucket, err)
	}
	return res
}

// Restore runs a restore that must not fail as a whole.
func Restore(t testing.TB, dst *s3source.Client, v *vault.Vault, m recpoint.Manifest, opts restore.Options) restore.Result {
	t.Helper()
	res, err := restore.Run(context.Background(), dst, v, m, opts, nil)
	if err != nil {
		t.Fatalf("restore of %s to %s: %v", m.ID, opts.DestBucket, err)
	}
	return res
}

// Records reads a recovery point's record stream.
func Records(t testing.TB, v *vault.Vault, m recpoint.Manifest) []recpoint.Record {
	t.Helper()
	rc, err := v.OpenObject(context.Background(), vault.ObjectID(m.Records))
	if err != nil {
		t.Fatalf("open records of %s: %v", m.ID, err)
	}
	defer rc.Close()
	rd, err := recpoint.NewReader(rc)
	if err != nil {
		t.Fatalf("records of %s: %v", m.ID, err)
	}
	var out []recpoint.Record
	for {
		var r recpoint.Record
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("records of %s: %v", m.ID, err)
		}
		out = append(out, r)
	}
}
