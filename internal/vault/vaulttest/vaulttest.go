// Package vaulttest holds the test helpers of the packages built on the
// vault (vaultmaint, vaultverify, the vault's external tests): vaults in
// temporary directories, recovery points of generated objects, reading
// them back.
package vaulttest

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
	"github.com/cofferbackup/coffer/internal/vault"
)

// Secret is the secret of every test vault.
const Secret = "correct horse battery staple"

// Ctx is a context for one test, cancelled at its end (5 min at most).
func Ctx(t testing.TB) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)

	return ctx
}

// Create creates a vault in dir with the zero Options.
func Create(t testing.TB, dir string) *vault.Vault {
	t.Helper()

	return CreateOpts(t, dir, vault.Options{})
}

// CreateOpts creates a vault in dir.
func CreateOpts(t testing.TB, dir string, opts vault.Options) *vault.Vault {
	t.Helper()

	v, err := vault.Create(Ctx(t), dir, Secret, opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	return v
}

// Open opens the vault in dir with the zero Options.
func Open(t testing.TB, dir string) *vault.Vault {
	t.Helper()

	return OpenOpts(t, dir, vault.Options{})
}

// OpenOpts opens the vault in dir.
func OpenOpts(t testing.TB, dir string, opts vault.Options) *vault.Vault {
	t.Helper()

	v, err := vault.Open(Ctx(t), dir, Secret, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}

	return v
}

// SoleWriter are the options of a vault whose test is its only writer.
var SoleWriter = vault.Options{Safety: vault.SafetySoleWriter} //nolint:gochecknoglobals // test constant

// Close closes v.
func Close(t testing.TB, v *vault.Vault) {
	t.Helper()

	if err := v.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// RandomBytes returns n deterministic pseudo-random (incompressible) bytes.
func RandomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	_, _ = rand.NewChaCha8(s).Read(b)

	return b
}

// Object is one object version of a test recovery point.
type Object struct {
	Key  string
	Data []byte
	Meta map[string]string
}

// WriteObjects writes all objects concurrently in w and returns their ids
// by key.
func WriteObjects(t testing.TB, ctx context.Context, w *vault.Writer, objs []Object) map[string]vault.ObjectID {
	t.Helper()

	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		ids = map[string]vault.ObjectID{}
	)

	for _, o := range objs {
		wg.Go(func() {
			id, n, err := w.WriteObject(ctx, bytes.NewReader(o.Data))
			if err != nil {
				t.Errorf("WriteObject %q: %v", o.Key, err)
				return
			}

			if n != int64(len(o.Data)) {
				t.Errorf("WriteObject %q: n = %d, want %d", o.Key, n, len(o.Data))
			}

			if id == "" {
				t.Errorf("WriteObject %q: empty id", o.Key)
			}

			mu.Lock()
			ids[o.Key] = id
			mu.Unlock()
		})
	}

	wg.Wait()

	if t.Failed() {
		t.FailNow()
	}

	return ids
}

// WriteRecords writes a record stream for objs (data ids from ids) and
// returns its object id.
func WriteRecords(t testing.TB, ctx context.Context, w *vault.Writer, objs []Object, ids map[string]vault.ObjectID) vault.ObjectID {
	t.Helper()

	sorted := append([]Object(nil), objs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })

	var buf bytes.Buffer

	rw, err := recpoint.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}

	for _, o := range sorted {
		rec := recpoint.Record{
			Key:          o.Key,
			VersionID:    "v1",
			IsLatest:     true,
			LastModified: time.Unix(1700000000, 0).UTC(),
			Size:         int64(len(o.Data)),
			UserMetadata: o.Meta,
			Data:         string(ids[o.Key]),
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

// PutRP writes objs and a record stream in one session, registers
// recovery point rpID and commits.
func PutRP(t testing.TB, v *vault.Vault, rpID string, objs []Object) (recpoint.Manifest, map[string]vault.ObjectID) {
	t.Helper()

	ctx := Ctx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}

	ids := WriteObjects(t, ctx, w, objs)
	m := ManifestFor(rpID, objs, WriteRecords(t, ctx, w, objs, ids))

	if err := w.PutRecoveryPoint(ctx, m); err != nil {
		t.Fatalf("PutRecoveryPoint: %v", err)
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	return m, ids
}

// ManifestFor is the manifest of recovery point rpID of objs whose
// record stream is records.
func ManifestFor(rpID string, objs []Object, records vault.ObjectID) recpoint.Manifest {
	var total int64
	for _, o := range objs {
		total += int64(len(o.Data))
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

// ReadObject reads object id whole.
func ReadObject(t testing.TB, v *vault.Vault, id vault.ObjectID) []byte {
	t.Helper()

	r, err := v.OpenObject(Ctx(t), id)
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

// ReadRP reads the record stream of m and returns each record's data.
func ReadRP(t testing.TB, v *vault.Vault, m recpoint.Manifest) map[string][]byte {
	t.Helper()

	r, err := v.OpenObject(Ctx(t), vault.ObjectID(m.Records))
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

		out[rec.Key] = ReadObject(t, v, vault.ObjectID(rec.Data))
	}
}

// CheckRP checks that m holds exactly objs.
func CheckRP(t testing.TB, v *vault.Vault, m recpoint.Manifest, objs []Object) {
	t.Helper()

	got := ReadRP(t, v, m)
	if len(got) != len(objs) {
		t.Errorf("recovery point %s: %d records, want %d", m.ID, len(got), len(objs))
	}

	for _, o := range objs {
		if !bytes.Equal(got[o.Key], o.Data) {
			t.Errorf("recovery point %s: object %q differs (got %d bytes, want %d)", m.ID, o.Key, len(got[o.Key]), len(o.Data))
		}
	}
}

// DirSize sums the sizes of regular files under dir.
func DirSize(t testing.TB, dir string) int64 {
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

// MustNotExist fails the test if path exists.
func MustNotExist(t testing.TB, path string) {
	t.Helper()

	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s exists", path)
	}
}

// RepoDir is the directory of a vault's blobs (filesystem backend).
const RepoDir = "repo"

// ConfigFile is the vault's kopia connection config in its directory
// (kopia's local maintenance lock is named after it).
const ConfigFile = "kopia.config"
