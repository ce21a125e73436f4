package vaultmaint

import (
	"testing"

	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
)

// mustMaintain runs Maintain and fails the test on error.
func mustMaintain(t testing.TB, v *vault.Vault) Stats {
	t.Helper()

	st, err := Maintain(vaulttest.Ctx(t), v)
	if err != nil {
		t.Fatalf("Maintain: %v", err)
	}

	return st
}
