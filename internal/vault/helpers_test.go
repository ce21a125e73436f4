package vault

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

const testSecret = "correct horse battery staple"

func testCtx(t testing.TB) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)

	return ctx
}

func createVault(t testing.TB, dir string) *Vault {
	t.Helper()

	return createVaultOpts(t, dir, Options{})
}

func createVaultOpts(t testing.TB, dir string, opts Options) *Vault {
	t.Helper()

	v, err := Create(testCtx(t), dir, testSecret, opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	return v
}

func openVault(t testing.TB, dir string) *Vault {
	t.Helper()

	return openVaultOpts(t, dir, Options{})
}

func openVaultOpts(t testing.TB, dir string, opts Options) *Vault {
	t.Helper()

	v, err := Open(testCtx(t), dir, testSecret, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}

	return v
}

func closeVault(t testing.TB, v *Vault) {
	t.Helper()

	if err := v.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// randomBytes returns n deterministic pseudo-random (incompressible) bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	_, _ = rand.NewChaCha8(s).Read(b)

	return b
}

// testObject is one object version of a test recovery point.
type testObject struct {
	key  string
	data []byte
	meta map[string]string
}

// writeObjects writes all objects concurrently in w and returns their ids
// by key.
func writeObjects(t testing.TB, ctx context.Context, w *Writer, objs []testObject) map[string]ObjectID {
	t.Helper()

	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		ids = map[string]ObjectID{}
	)

	for _, o := range objs {
		wg.Go(func() {
			id, n, err := w.WriteObject(ctx, bytes.NewReader(o.data))
			if err != nil {
				t.Errorf("WriteObject %q: %v", o.key, err)
				return
			}

			if n != int64(len(o.data)) {
				t.Errorf("WriteObject %q: n = %d, want %d", o.key, n, len(o.data))
			}

			if id == "" {
				t.Errorf("WriteObject %q: empty id", o.key)
			}

			mu.Lock()
			ids[o.key] = id
			mu.Unlock()
		})
	}

	wg.Wait()

	if t.Failed() {
		t.FailNow()
	}

	return ids
}

// writeRecords writes a record stream for objs (data ids from ids) and
// returns its object id.
func writeRecords(t testing.TB, ctx context.Context, w *Writer, objs []testObject, ids map[string]ObjectID) ObjectID {
	t.Helper()

	sorted := append([]testObject(nil), objs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].key < sorted[j].key })

	var buf bytes.Buffer

	rw, err := recpoint.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}

	for _, o := range sorted {
		rec := recpoint.Record{
			Key:          o.key,
			VersionID:    "v1",
			IsLatest:     true,
			LastModified: time.Unix(1700000000, 0).UTC(),
			Size:         int64(len(o.data)),
			UserMetadata: o.meta,
			Data:         string(ids[o.key]),
		}
		if err := rw.Write(&rec); err != nil {
			t.Fatal(err)
		}
	}

	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}

	id, _, err := w.WriteObject(ctx, &buf)
	if err != nil {
		t.Fatalf("write records: %v", err)
	}

	return id
}

// putRP writes objs and a record stream in one session, registers
// recovery point rpID and commits.
func putRP(t testing.TB, v *Vault, rpID string, objs []testObject) (recpoint.Manifest, map[string]ObjectID) {
	t.Helper()

	ctx := testCtx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}

	ids := writeObjects(t, ctx, w, objs)
	m := manifestFor(rpID, objs, writeRecords(t, ctx, w, objs, ids))

	if err := w.PutRecoveryPoint(ctx, m); err != nil {
		t.Fatalf("PutRecoveryPoint: %v", err)
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	return m, ids
}

func manifestFor(rpID string, objs []testObject, records ObjectID) recpoint.Manifest {
	var total int64
	for _, o := range objs {
		total += int64(len(o.data))
	}

	return recpoint.Manifest{
		ID:           rpID,
		ARN:          "arn:aws:backup:us-east-1:000000000000:recovery-point:" + rpID,
		VaultName:    "test-vault",
		ResourceType: "S3",
		Bucket:       "bucket",
		Status:       recpoint.StatusCompleted,
		CreatedAt:    time.Now().UTC().Truncate(time.Second),
		Records:      string(records),
		RecordCount:  int64(len(objs)),
		ObjectCount:  int64(len(objs)),
		TotalBytes:   total,
	}
}

func readObject(t testing.TB, v *Vault, id ObjectID) []byte {
	t.Helper()

	r, err := v.OpenObject(testCtx(t), id)
	if err != nil {
		t.Fatalf("OpenObject %q: %v", id, err)
	}
	defer r.Close()

	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", id, err)
	}

	return b
}

// readRP reads the record stream of m and returns each record's data.
func readRP(t testing.TB, v *Vault, m recpoint.Manifest) map[string][]byte {
	t.Helper()

	r, err := v.OpenObject(testCtx(t), ObjectID(m.Records))
	if err != nil {
		t.Fatalf("open records: %v", err)
	}
	defer r.Close()

	rd, err := recpoint.NewReader(r)
	if err != nil {
		t.Fatalf("records: %v", err)
	}

	out := map[string][]byte{}

	for {
		var rec recpoint.Record
		if err := rd.Next(&rec); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("records: %v", err)
		}

		out[rec.Key] = readObject(t, v, ObjectID(rec.Data))
	}
}

func checkRP(t testing.TB, v *Vault, m recpoint.Manifest, objs []testObject) {
	t.Helper()

	got := readRP(t, v, m)
	if len(got) != len(objs) {
		t.Errorf("recovery point %s: %d records, want %d", m.ID, len(got), len(objs))
	}

	for _, o := range objs {
		if !bytes.Equal(got[o.key], o.data) {
			t.Errorf("recovery point %s: object %q differs (got %d bytes, want %d)", m.ID, o.key, len(got[o.key]), len(o.data))
		}
	}
}

// dirSize sums the sizes of regular files under dir.
func dirSize(t testing.TB, dir string) int64 {
	t.Helper()

	var n int64

	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}

		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}

			n += fi.Size()
		}

		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	return n
}

func mustNotExist(t testing.TB, path string) {
	t.Helper()

	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s exists", path)
	}
}
