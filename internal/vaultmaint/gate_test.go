package vaultmaint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
)

// TestMaintainWaitsForWriter checks the in-process half of the Maintain
// contract: Maintain does not run while a write session is open.
func TestMaintainWaitsForWriter(t *testing.T) {
	t.Parallel()

	v := vaulttest.Create(t, t.TempDir())
	defer vaulttest.Close(t, v)

	ctx := vaulttest.Ctx(t)

	w, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()

	if _, err := Maintain(short, v); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Maintain with open writer = %v, want deadline exceeded", err)
	}

	// A waiting or failed Maintain does not block writers.
	w2, err := v.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}

	for _, w := range []*vault.Writer{w, w2} {
		if err := w.Abort(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := Maintain(ctx, v); err != nil {
		t.Fatalf("Maintain: %v", err)
	}
}
