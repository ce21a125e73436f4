package vaultcmd

import (
	"testing"

	"github.com/cofferbackup/coffer/internal/testserver"
	// The end-to-end tests drive the whole command table: the other
	// families register their commands too.
	_ "github.com/cofferbackup/coffer/internal/cli/jobcmd"
	_ "github.com/cofferbackup/coffer/internal/cli/plancmd"
)

func TestMain(m *testing.M) { testserver.Main(m) }
