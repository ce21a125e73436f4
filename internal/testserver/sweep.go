package testserver

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ownerFile in a server's folder holds the pid of the test process that
// owns it. A test binary that dies (panic, kill) cannot remove its
// servers' folders (Pdeathsig still kills the servers); the next Launch
// in any test process removes folders whose owner is gone.
const ownerFile = "owner.pid"

var sweepOnce sync.Once

func writeOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// sweepStale removes server folders left behind by dead test processes.
func sweepStale() {
	for _, kind := range Kinds() {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "coffer-"+kind+"-*"))
		for _, d := range dirs {
			b, err := os.ReadFile(filepath.Join(d, ownerFile))
			if err != nil {
				continue // not ours to judge
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
				continue
			}
			_ = os.RemoveAll(d)
		}
	}
}
