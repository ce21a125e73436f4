package vaultmaint

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestMaintainKeepsCaptureLog: Maintain keeps a capture-log stream and the
// data objects its records name while a capture manifest names the
// stream, reclaims them once it is deleted, and refuses manifest types
// outside the capture log.
func TestMaintainKeepsCaptureLog(t *testing.T) {
	t.Parallel()

	ctx := testCtx(t)
	v := createVaultOpts(t, t.TempDir(), soleWriter)
	defer func() { closeVault(t, v) }()

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	data := randomBytes(300<<10, 7)

	dataID, _, err := w.WriteObject(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}

	stream := fmt.Sprintf("{\"format\":\"coffer-changes\",\"version\":1}\n{\"k\":\"a\",\"vid\":\"1\",\"data\":%q}\n{\"k\":\"b\",\"op\":\"tags\"}\n", dataID)

	streamID, _, err := w.WriteCaptureObject(ctx, strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}

	if err := w.PutCaptureManifest(ctx, "coffer-recovery-point", nil, nil); err == nil {
		t.Fatal("PutCaptureManifest took a type outside the capture log")
	}

	labels := map[string]string{"rp": "continuous:b-1", "seq": "1"}
	if err := w.PutCaptureManifest(ctx, CaptureManifestPrefix+"segment", labels, map[string]any{"object": streamID}); err != nil {
		t.Fatal(err)
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	maintain(t, v)

	if got := readObject(t, v, dataID); !bytes.Equal(got, data) {
		t.Fatal("data object named by the capture log changed")
	}

	if got := readObject(t, v, streamID); string(got) != stream {
		t.Fatalf("capture stream read back as %q", got)
	}

	raws, err := v.CaptureManifests(ctx, CaptureManifestPrefix+"segment", map[string]string{"rp": "continuous:b-1"})
	if err != nil || len(raws) != 1 {
		t.Fatalf("CaptureManifests: %d, %v", len(raws), err)
	}

	w, err = v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if n, err := w.DeleteCaptureManifests(ctx, CaptureManifestPrefix+"segment", labels); err != nil || n != 1 {
		t.Fatalf("DeleteCaptureManifests: %d, %v", n, err)
	}

	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	maintain(t, v)

	for _, id := range []ObjectID{dataID, streamID} {
		if _, err := v.OpenObject(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("object %q after its manifest was deleted: %v, want ErrNotFound", id, err)
		}
	}
}
