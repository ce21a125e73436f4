package capturelog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
	"github.com/cofferbackup/coffer/internal/vaultmaint"
)

// TestMaintainKeepsCaptureLog: Maintain keeps a capture-log stream and the
// data objects its records name while a capture manifest names the
// stream, reclaims them once it is deleted, and refuses manifest types
// outside the capture log.
func TestMaintainKeepsCaptureLog(t *testing.T) {
	t.Parallel()

	ctx := vaulttest.Ctx(t)
	v := vaulttest.CreateOpts(t, t.TempDir(), vaulttest.SoleWriter)
	defer func() { vaulttest.Close(t, v) }()

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	data := vaulttest.RandomBytes(300<<10, 7)

	dataID, _, err := w.WriteObject(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}

	stream := fmt.Sprintf("{\"format\":\"coffer-changes\",\"version\":1}\n{\"k\":\"a\",\"vid\":\"1\",\"data\":%q}\n{\"k\":\"b\",\"op\":\"tags\"}\n", dataID)

	streamID, _, err := writeStream(ctx, w, strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}

	if err := putManifest(ctx, w, "coffer-recovery-point", nil, nil); err == nil {
		t.Fatal("putManifest took a type outside the capture log")
	}

	labels := map[string]string{"rp": "continuous:b-1", "seq": "1"}
	if err := putManifest(ctx, w, vault.CaptureManifestPrefix+"segment", labels, map[string]any{"object": streamID}); err != nil {
		t.Fatal(err)
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	if _, err := vaultmaint.Maintain(ctx, v); err != nil {
		t.Fatal(err)
	}

	if got := vaulttest.ReadObject(t, v, dataID); !bytes.Equal(got, data) {
		t.Fatal("data object named by the capture log changed")
	}

	if got := vaulttest.ReadObject(t, v, streamID); string(got) != stream {
		t.Fatalf("capture stream read back as %q", got)
	}

	raws, err := manifests(ctx, v, vault.CaptureManifestPrefix+"segment", map[string]string{"rp": "continuous:b-1"})
	if err != nil || len(raws) != 1 {
		t.Fatalf("manifests: %d, %v", len(raws), err)
	}

	w, err = v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if n, err := DeleteManifests(ctx, w, vault.CaptureManifestPrefix+"segment", labels); err != nil || n != 1 {
		t.Fatalf("DeleteManifests: %d, %v", n, err)
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	if _, err := vaultmaint.Maintain(ctx, v); err != nil {
		t.Fatal(err)
	}

	for _, id := range []vault.ObjectID{dataID, streamID} {
		if _, err := v.OpenObject(ctx, id); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("object %q after its manifest was deleted: %v, want vault.ErrNotFound", id, err)
		}
	}
}
