package vault

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kopia/kopia/repo/format"
)

// scryptAlgorithm is kopia's format-key derivation for new repositories
// in a build without its `testing` tag, that is, in every coffer release.
const scryptAlgorithm = "scrypt-65536-8-1"

// TestScryptVaultRoundTrip: the test command builds with kopia's
// `testing` tag, under which new vaults derive their format key with a
// cheap function (scrypt costs seconds per vault open under -race). Real
// vaults use scrypt: this test writes one with it, reopens it (a second
// derivation) and reads its recovery point back, so that the production
// derivation stays covered.
func TestScryptVaultRoundTrip(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	f := newRepositoryOptions()
	f.FormatBlockKeyDerivationAlgorithm = scryptAlgorithm
	objs := []testObject{{key: "k", data: randomBytes(100_000, 7)}}

	v := createVaultOpts(t, dir, Options{format: f})
	m, _ := putRP(t, v, "rp", objs)
	closeVault(t, v)

	raw, err := os.ReadFile(filepath.Join(dir, repoDirName, format.KopiaRepositoryBlobID+".f"))
	if err != nil {
		t.Fatal(err)
	}

	var blob struct {
		KeyAlgo string `json:"keyAlgo"`
	}
	if err := json.Unmarshal(raw, &blob); err != nil || blob.KeyAlgo != scryptAlgorithm {
		t.Fatalf("format blob: keyAlgo %q (%v), want %s", blob.KeyAlgo, err, scryptAlgorithm)
	}

	v = openVault(t, dir)
	defer closeVault(t, v)
	checkRP(t, v, m, objs)
}
