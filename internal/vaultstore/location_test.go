package vaultstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/testserver"
	"github.com/cofferbackup/coffer/internal/vault"
)

func TestMain(m *testing.M) { testserver.Main(m) }

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Location
		bad  bool
	}{
		{in: "s3://default/bucket", want: Location{Connection: "default", Bucket: "bucket"}},
		{in: "s3://c/b/some/prefix/", want: Location{Connection: "c", Bucket: "b", Prefix: "some/prefix"}},
		{in: "s3://c", bad: true},
		{in: "s3:///b", bad: true},
		{in: "file:///tmp", bad: true},
	} {
		got, err := ParseLocation(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("ParseLocation(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// TestS3VaultWithObjectLock: a vault on a MinIO bucket with Object Lock
// writes every blob under a COMPLIANCE retention: no version of it can
// be deleted through the S3 API; it reopens, and a new store (another
// server with the same secret) attaches it from the bucket alone.
func TestS3VaultWithObjectLock(t *testing.T) {
	ctx := testCtx(t)
	srv := testserver.Shared(t, testserver.MinIO)
	bucket := srv.NewBucketWith(t, testserver.BucketOptions{ObjectLock: true})
	resolve := func(_ context.Context, conn string) (vault.S3Location, error) {
		return vault.S3Location{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}, nil
	}
	newStore := func() *FS {
		f, err := NewFS(filepath.Join(t.TempDir(), "vaults"), vault.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return f.WithResolver(resolve)
	}
	loc := Location{Connection: "default", Bucket: bucket, Prefix: "coffer"}
	f := newStore()
	lock := &vault.ObjectLock{Mode: "COMPLIANCE", Period: 72 * time.Hour}
	v, err := f.CreateS3(ctx, "v-1", secret, loc, lock)
	if err != nil {
		t.Fatal(err)
	}
	want := vault.Descriptor{ID: "v-1", Name: "locked", ARN: "arn:x", CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := v.PutDescriptor(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := v.ObjectLocked(ctx)
	if err != nil || !ok || got != *lock {
		t.Fatalf("ObjectLocked = %+v %v %v, want %+v", got, ok, err, *lock)
	}
	if err := v.Close(ctx); err != nil {
		t.Fatal(err)
	}

	mc := srv.Client(t)
	n, kinds := 0, map[string]bool{}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: "coffer/v-1/", Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if strings.HasPrefix(strings.TrimPrefix(o.Key, "coffer/v-1/"), "s") {
			// kopia's session markers: written and removed by each write
			// session, never needed to read the vault.
			continue
		}
		n++
		kinds[strings.TrimPrefix(o.Key, "coffer/v-1/")[:1]] = true
		if err := mc.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID}); err == nil {
			t.Errorf("version %s of %s was deleted through the S3 API", o.VersionID, o.Key)
		}
	}
	// The repository's format (k), metadata packs holding the manifests
	// (q) and indexes (x) were all tried.
	if n == 0 || !kinds["k"] || !kinds["q"] || !kinds["x"] {
		t.Fatalf("%d blobs of kinds %v under coffer/v-1/; want the format, metadata packs and indexes", n, kinds)
	}

	check := func(what string, v *vault.Vault) {
		t.Helper()
		d, err := v.Descriptor(ctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d.Name != want.Name || d.ID != want.ID {
			t.Fatalf("%s: descriptor %+v", what, d)
		}
		_ = v.Close(ctx)
	}
	v, err = f.Open(ctx, "v-1", secret)
	if err != nil {
		t.Fatal(err)
	}
	check("reopened", v)
	other := newStore()
	v, err = other.AttachS3(ctx, "v-1", secret, loc)
	if err != nil {
		t.Fatal(err)
	}
	check("attached by another store", v)
	if _, err := other.AttachS3(ctx, "v-2", secret, loc); err == nil {
		t.Error("attach of a vault id with no blobs at the location succeeded")
	}
	if ok, err := other.Exists(ctx, "v-2"); err != nil || ok {
		t.Errorf("a failed attach left vault v-2 in the store: %v %v", ok, err)
	}
}
