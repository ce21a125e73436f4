package vault_test

import (
	"testing"

	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
	"github.com/cofferbackup/coffer/internal/vaultmaint"
)

// mustMaintain runs vaultmaint.Maintain and fails the test on error: the
// external tests check that maintenance keeps what the vault stores.
func mustMaintain(t testing.TB, v *vault.Vault) vaultmaint.Stats {
	t.Helper()

	st, err := vaultmaint.Maintain(vaulttest.Ctx(t), v)
	if err != nil {
		t.Fatalf("Maintain: %v", err)
	}

	return st
}
