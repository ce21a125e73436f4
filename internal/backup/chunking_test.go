package backup_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/object"
	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/backup"
	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
)

// TestFixedChunks: with FixedChunks a version's data is stored in 4 MiB
// chunks and the last one shorter; without, in content-defined ones. Both
// restore exactly.
func TestFixedChunks(t *testing.T) {
	t.Parallel()
	const size = 6<<20 + 123 // under the restore's part size: the ETag stays
	fixed := []int64{2<<20 + 123, 4 << 20}
	eachServer(t, true, func(t *testing.T, srv *testserver.Server, mc *minio.Client, bucket string) {
		put(t, mc, bucket, "big", 7, size, minio.PutObjectOptions{ContentType: "video/mp4"})
		put(t, mc, bucket, "small", 8, 100, minio.PutObjectOptions{})
		want := bt.Histories(bt.Snapshot(t, mc, bucket))
		src := bt.Source(t, srv, "")
		for _, tc := range []struct {
			name      string
			fixed     bool
			wantFixed bool
		}{{"fixed", true, true}, {"content-defined", false, false}} {
			v := bt.Vault(t)
			m := bt.Backup(t, src, v, bucket, nil, func(o *backup.Options) { o.FixedChunks = tc.fixed }).Manifest
			var big recpoint.Record
			for _, r := range bt.Records(t, v, m) {
				if r.Key == "big" {
					big = r
				}
			}
			lengths := chunkLengths(t, v, big.Data)
			if got := slices.Equal(lengths, fixed); got != tc.wantFixed {
				t.Errorf("%s: chunks of big %v, fixed 4 MiB ones: %v, want %v", tc.name, lengths, got, tc.wantFixed)
			}
			var sum int64
			for _, n := range lengths {
				sum += n
			}
			if sum != size {
				t.Errorf("%s: chunks of big add up to %d bytes, want %d", tc.name, sum, size)
			}
			restoreExact(t, srv, src, v, m, want)
		}
	})
}

// chunkLengths lists the original lengths of the contents holding a vault
// object's data (not its index), sorted.
func chunkLengths(t *testing.T, v *vault.Vault, id string) []int64 {
	t.Helper()
	var out []int64
	err := v.Repository(context.Background(), func(r repo.DirectRepository) error {
		oid, err := object.ParseID(id)
		if err != nil {
			return err
		}
		cids, err := r.VerifyObject(context.Background(), oid)
		if err != nil {
			return err
		}
		if idx, ok := oid.IndexObjectID(); ok {
			index, err := r.VerifyObject(context.Background(), idx)
			if err != nil {
				return err
			}
			cids = slices.DeleteFunc(cids, func(c content.ID) bool { return slices.Contains(index, c) })
		}
		for _, cid := range cids {
			ci, err := r.ContentInfo(context.Background(), cid)
			if err != nil {
				return err
			}
			out = append(out, int64(ci.OriginalLength))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("contents of %s: %v", id, err)
	}
	slices.Sort(out)
	return out
}
