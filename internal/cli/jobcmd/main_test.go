package jobcmd

import (
	"testing"

	"github.com/cofferbackup/coffer/internal/testserver"
	// The end-to-end tests drive the whole command table: the other
	// families register their commands too.
	_ "github.com/cofferbackup/coffer/internal/cli/plancmd"
	_ "github.com/cofferbackup/coffer/internal/cli/vaultcmd"
)

func TestMain(m *testing.M) { testserver.Main(m) }
