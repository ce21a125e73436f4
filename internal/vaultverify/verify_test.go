package vaultverify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
)

// packFiles lists the data pack files (kopia's p blobs) of the vault in
// dir, relative to its repository directory.
func packFiles(t testing.TB, dir string) []string {
	t.Helper()

	root := filepath.Join(dir, vaulttest.RepoDir)

	var out []string

	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}

		rel, err := filepath.Rel(root, path)
		if err == nil && strings.HasPrefix(rel, "p") && strings.HasSuffix(rel, ".f") {
			out = append(out, rel)
		}

		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	return out
}

func verify(t testing.TB, v *vault.Vault, pct float64) Report {
	t.Helper()

	rep, err := Verify(vaulttest.Ctx(t), v, Options{ReadDataPercent: pct, Seed: 1})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}

	return rep
}

// TestVerify damages one pack file of the second of two recovery points
// (written in sessions of their own, so in packs of their own) and checks
// that Verify names that recovery point only, with the problem's kind.
func TestVerify(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(t *testing.T, path string)
		readPct  float64
		wantKind string // "" for a clean vault
	}{
		{name: "clean", readPct: 100},
		{name: "pack deleted", readPct: 0, wantKind: ProblemMissingPack, damage: func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "pack truncated", readPct: 0, wantKind: ProblemTruncated, damage: func(t *testing.T, path string) {
			if err := os.Truncate(path, 100); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "pack corrupted", readPct: 100, wantKind: ProblemUnreadable, damage: func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := 64; i < len(b)-64; i += 512 { // every content, not just one
				b[i] ^= 0xff
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			v := vaulttest.Create(t, dir)
			a := []vaulttest.Object{{Key: "a/1", Data: vaulttest.RandomBytes(300<<10, 1)}, {Key: "a/2", Data: vaulttest.RandomBytes(5<<10, 2)}}
			b := []vaulttest.Object{{Key: "b/1", Data: vaulttest.RandomBytes(200<<10, 3)}, {Key: "b/2", Data: vaulttest.RandomBytes(7<<10, 4)}}
			vaulttest.PutRP(t, v, "rp-a", a)
			before := packFiles(t, dir)
			vaulttest.PutRP(t, v, "rp-b", b)
			vaulttest.Close(t, v)
			var added []string
			for _, p := range packFiles(t, dir) {
				if !slices.Contains(before, p) {
					added = append(added, p)
				}
			}
			if len(added) == 0 {
				t.Fatal("the second recovery point wrote no pack file")
			}
			if tt.damage != nil {
				tt.damage(t, filepath.Join(dir, vaulttest.RepoDir, added[0]))
			}
			// A fresh handle and cache: what the writer cached proves nothing.
			v = vaulttest.OpenOpts(t, dir, vault.Options{CacheDir: t.TempDir()})
			defer vaulttest.Close(t, v)

			rep := verify(t, v, tt.readPct)
			if rep.RecoveryPoints != 2 {
				t.Errorf("checked %d recovery points, want 2", rep.RecoveryPoints)
			}
			if tt.wantKind == "" {
				if !rep.OK() || rep.Records != 4 || rep.ObjectsRead != 4 || rep.BytesRead != int64(300<<10+5<<10+200<<10+7<<10) {
					t.Fatalf("clean vault: %+v", rep)
				}
				return
			}
			if rep.OK() || !slices.Equal(rep.AffectedRecoveryPoints, []string{"rp-b"}) || rep.ProblemKinds[tt.wantKind] == 0 {
				t.Fatalf("want %s problems of rp-b only, got %+v", tt.wantKind, rep)
			}
			for _, p := range rep.Problems {
				if strings.Contains(p.Detail, dir) || strings.Contains(p.Detail, "b/1") {
					t.Errorf("problem names a path or Key: %+v", p)
				}
			}
		})
	}
}

// TestVerifyChecksSizeAndChecksums reads objects back against what their
// records say: a wrong size or SHA256 is reported with the record's index;
// a record whose checksums match, or is not read (0%), is not.
func TestVerifyChecksSizeAndChecksums(t *testing.T) {
	data := vaulttest.RandomBytes(10<<10, 9)
	sum := sha256.Sum256(data)
	good := base64.StdEncoding.EncodeToString(sum[:])
	tests := []struct {
		name     string
		size     int64
		sha256   string
		readPct  float64
		wantKind string
	}{
		{name: "matches", size: int64(len(data)), sha256: good, readPct: 100},
		{name: "composite checksum not checked", size: int64(len(data)), sha256: "abc-2", readPct: 100},
		{name: "wrong size", size: 5, sha256: good, readPct: 100, wantKind: ProblemSize},
		{name: "wrong sha256", size: int64(len(data)), sha256: base64.StdEncoding.EncodeToString(make([]byte, 32)), readPct: 100, wantKind: ProblemChecksum},
		{name: "not read", size: 5, readPct: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := vaulttest.Create(t, t.TempDir())
			defer vaulttest.Close(t, v)
			putRecords(t, v, "rp", data, recpoint.Record{Key: "x", Size: tt.size, Checksums: map[string]string{"SHA256": tt.sha256}})

			rep := verify(t, v, tt.readPct)
			if tt.wantKind == "" {
				if !rep.OK() {
					t.Fatalf("want clean, got %+v", rep)
				}
				return
			}
			if rep.ProblemKinds[tt.wantKind] != 1 || len(rep.Problems) != 1 || rep.Problems[0].RecoveryPointID != "rp" || rep.Problems[0].Record != 1 {
				t.Fatalf("want one %s problem at record 1 of rp, got %+v", tt.wantKind, rep)
			}
		})
	}
}

// putRecords registers recovery point rpID of two records: a delete
// marker, then rec with data.
func putRecords(t testing.TB, v *vault.Vault, rpID string, data []byte, rec recpoint.Record) {
	t.Helper()

	ctx := vaulttest.Ctx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	id, _, err := w.WriteObject(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}

	rec.Data = string(id)

	var buf bytes.Buffer

	rw, err := recpoint.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}

	for _, r := range []recpoint.Record{{Key: "a", DeleteMarker: true, LastModified: time.Unix(1, 0)}, rec} {
		if err := rw.Write(&r); err != nil {
			t.Fatal(err)
		}
	}

	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}

	records, _, err := w.WriteObject(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}

	if err := w.PutRecoveryPoint(ctx, vaulttest.ManifestFor(rpID, nil, records)); err != nil {
		t.Fatal(err)
	}

	if err := w.Commit(context.WithoutCancel(ctx)); err != nil {
		t.Fatal(err)
	}
}
