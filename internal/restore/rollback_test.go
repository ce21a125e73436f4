package restore_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/s3source"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// current is a snapshot's current state (the newest entry of each key,
// when it is not a delete marker).
func current(snap []bt.Version) bt.History {
	h := bt.History{}
	for i, v := range snap {
		if (i == 0 || snap[i-1].Key != v.Key) && !v.DeleteMarker {
			h[v.Key] = []bt.Version{v}
		}
	}
	return h
}

// TestRollbackConverges: a rollback that failed on a key (as one a crash
// cut short) is finished by running it again, which compares again and
// writes only what still differs; items limit a rollback to their keys;
// each preview says what the run then does.
func TestRollbackConverges(t *testing.T) {
	t.Parallel()
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := testserver.Shared(t, kind)
			mc := srv.Client(t)
			bucket := srv.NewBucket(t, true)
			for _, k := range []string{"a", "b", "c", "d/1", "d/2", "e"} {
				putString(t, mc, bucket, k, "first "+k)
			}
			want := current(bt.Snapshot(t, mc, bucket))
			src := bt.Source(t, srv, "")
			v := bt.Vault(t)
			m := bt.Backup(t, src, v, bucket, nil, nil).Manifest
			for _, k := range []string{"a", "b", "c"} {
				putString(t, mc, bucket, k, "second "+k)
			}
			putString(t, mc, bucket, "x", "new")

			proxy := bt.NewProxy(t, srv.Endpoint)
			proxy.DenyWrites(bucket, "b")
			dst := bt.Source(t, srv, proxy.URL)
			s := restore.ManifestStream(v, m)
			opts := restore.Options{DestBucket: bucket, Rollback: true}
			res, err := restore.RunStream(ctx, dst, v, s, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			st := res.Stats
			if st.ObjectsFailed != 1 || len(res.Failures) != 1 || res.Failures[0].Key != "b" || st.ObjectsRestored != 2 ||
				st.DeleteMarkersRestored != 1 || st.ObjectsUnchanged != 3 {
				t.Fatalf("first run: %+v %v", st, res.Failures)
			}
			proxy.AllowWrites(bucket, "b")
			p, err := restore.PreviewStream(ctx, dst, v, s, opts, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p.Write.Count != 1 || !slices.Equal(p.Write.Keys, []string{"b"}) || p.DeleteMark.Count != 0 || p.Unchanged.Count != 5 {
				t.Fatalf("preview of the second run: %+v", p)
			}
			res, err = restore.RunStream(ctx, dst, v, s, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st := res.Stats; st.ObjectsFailed != 0 || st.ObjectsRestored != 1 || st.DeleteMarkersRestored != 0 || st.ObjectsUnchanged != 5 {
				t.Fatalf("second run: %+v", st)
			}
			bt.Compare(t, want, current(bt.Snapshot(t, mc, bucket)))

			// Items: only d/ is rolled back; e keeps its change.
			putString(t, mc, bucket, "d/1", "second d/1")
			putString(t, mc, bucket, "e", "second e")
			putString(t, mc, bucket, "d/3", "new d/3")
			opts.Items = []string{"s3://" + bucket + "/d/"}
			p, err = restore.PreviewStream(ctx, dst, v, s, opts, 1)
			if err != nil {
				t.Fatal(err)
			}
			if p.Write.Count != 1 || p.DeleteMark.Count != 1 || !slices.Equal(p.DeleteMark.Keys, []string{"d/3"}) ||
				p.Unchanged.Count != 1 || !slices.Equal(p.Unchanged.Keys, []string{"d/2"}) {
				t.Fatalf("preview with items: %+v", p)
			}
			res, err = restore.RunStream(ctx, dst, v, s, opts, nil)
			if err != nil || res.Stats.ObjectsRestored != 1 || res.Stats.DeleteMarkersRestored != 1 {
				t.Fatalf("rollback with items: %+v %v", res.Stats, err)
			}
			got := current(bt.Snapshot(t, mc, bucket))
			if got["e"][0].Size != int64(len("second e")) {
				t.Errorf("e outside the items was rolled back: %+v", got["e"])
			}
			delete(got, "e")
			wantD := bt.History{}
			for k, vs := range want {
				if k != "e" {
					wantD[k] = vs
				}
			}
			bt.Compare(t, wantD, got)
		})
	}
}

// TestRollbackNeedsVersioning: a bucket without versioning is refused
// before anything is written.
func TestRollbackNeedsVersioning(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, false)
	putString(t, mc, bucket, "k", "v")
	src := bt.Source(t, srv, "")
	v := bt.Vault(t)
	m := bt.Backup(t, src, v, bucket, nil, nil).Manifest
	opts := restore.Options{DestBucket: bucket, Rollback: true}
	if _, err := restore.RunStream(context.Background(), src, v, restore.ManifestStream(v, m), opts, nil); err == nil {
		t.Fatal("rollback of an unversioned bucket ran")
	}
	if _, err := restore.PreviewStream(context.Background(), src, v, restore.ManifestStream(v, m), opts, 0); err == nil {
		t.Fatal("preview of a rollback of an unversioned bucket ran")
	}
}

// TestRollbackLargeConverges: a key the rollback wrote in parts (another
// ETag than its recorded one: a single-part MD5, or a multipart ETag of
// other part sizes) compares equal afterwards, by its data's MD5 or by
// the ETag of the rollback's own upload of the recorded data, so a second
// rollback leaves it alone.
func TestRollbackLargeConverges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		size        int64
		srcPartSize uint64 // the source's upload; 0: a single PUT
	}{
		{"single-part source", 6 << 20, 0},
		{"multipart source", 13 << 20, 6 << 20},
	}
	for _, kind := range testserver.Kinds() {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				rollbackConverges(t, testserver.Shared(t, kind), tc.size, tc.srcPartSize)
			})
		}
	}
}

func rollbackConverges(t *testing.T, srv *testserver.Server, size int64, srcPartSize uint64) {
	ctx := context.Background()
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	orig := bt.Bytes(1, int(size))
	put := minio.PutObjectOptions{PartSize: srcPartSize}
	if _, err := mc.PutObject(ctx, bucket, "big", bytes.NewReader(orig), size, put); err != nil {
		t.Fatal(err)
	}
	src := bt.Source(t, srv, "")
	v := bt.Vault(t)
	m := bt.Backup(t, src, v, bucket, nil, nil).Manifest
	if _, err := mc.PutObject(ctx, bucket, "big", bytes.NewReader(bt.Bytes(2, int(size))), size, put); err != nil {
		t.Fatal(err)
	}
	dst, err := s3source.New(s3source.Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Region: srv.Region, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	s := restore.ManifestStream(v, m)
	opts := restore.Options{DestBucket: bucket, Rollback: true}
	res, err := restore.RunStream(ctx, dst, v, s, opts, nil)
	if err != nil || res.Stats.ObjectsRestored != 1 {
		t.Fatalf("rollback: %+v %v", res.Stats, err)
	}
	cur, ok, err := dst.Current(ctx, bucket, "big")
	if err != nil || !ok || !strings.Contains(cur.ETag, "-") {
		t.Fatalf("the rollback's write of big: %+v %v %v (want a multipart ETag)", cur, ok, err)
	}
	p, err := restore.PreviewStream(ctx, dst, v, s, opts, 0)
	if err != nil || p.Unchanged.Count != 1 || p.Write.Count != 0 {
		t.Fatalf("preview after the rollback: %+v %v", p, err)
	}
	if got := latest(t, mc, bucket, "big"); got != string(orig) {
		t.Fatal("big after the rollback differs from the recovery point")
	}
}
