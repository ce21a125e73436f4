package vaultcopy_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultcopy"
)

// BenchmarkCopy copies a recovery point of 200 versions of 64 KiB into
// a new vault per iteration, created beforehand (a full copy: every version read and
// re-encrypted); bytes/s is the throughput of the source data.
func BenchmarkCopy(b *testing.B) {
	srv := testserver.Shared(b, testserver.MinIO)
	mc := srv.Client(b)
	bucket := srv.NewBucket(b, true)
	const n, size = 200, 64 << 10
	for i := range n {
		if _, err := mc.PutObject(ctx, bucket, fmt.Sprintf("b/%05d", i), bytes.NewReader(bt.Bytes(uint64(i), size)), size, minio.PutObjectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	a := bt.Vault(b)
	m := bt.Backup(b, bt.Source(b, srv, ""), a, bucket, nil, nil).Manifest
	b.SetBytes(n * size)
	dsts := make([]*vault.Vault, b.N)
	for i := range dsts {
		dsts[i] = bt.Vault(b) // creating a vault (key derivation) is not the copy's cost
	}
	b.ResetTimer()
	for i, dst := range dsts {
		if _, err := vaultcopy.Run(ctx, a, dst, copyOpts(m, nil, fmt.Sprintf("bench-%d", i)), nil); err != nil {
			b.Fatal(err)
		}
	}
}
