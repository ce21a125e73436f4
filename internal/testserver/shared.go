package testserver

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

// shared servers, one per kind per test process, started on first use.
var (
	sharedMu      sync.Mutex
	sharedServers = map[string]*sharedEntry{}
	mainActive    atomic.Bool
)

type sharedEntry struct {
	once sync.Once
	srv  *Server
	err  error
}

// Main runs the tests of a package that uses Shared and stops the shared
// servers afterwards. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testserver.Main(m) }
func Main(m *testing.M) {
	mainActive.Store(true)
	code := m.Run()
	if err := StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Shared returns the test process's server of kind, starting it on first
// use. Tests isolate themselves with unique buckets (NewBucket). Without
// Main in the package's TestMain it falls back to Start (a server per
// test), since nothing would stop a shared one.
func Shared(t testing.TB, kind string) *Server {
	t.Helper()
	if !mainActive.Load() {
		t.Logf("testserver: TestMain does not call testserver.Main; starting a %s server for this test only", kind)
		return Start(t, kind)
	}
	sharedMu.Lock()
	e, ok := sharedServers[kind]
	if !ok {
		e = &sharedEntry{}
		sharedServers[kind] = e
	}
	sharedMu.Unlock()
	e.once.Do(func() { e.srv, e.err = Launch(kind, Options{}) })
	if e.err != nil {
		t.Fatalf("%v", e.err)
	}
	if !e.srv.Alive() {
		t.Fatalf("testserver: shared %s server has exited\n--- server log tail ---\n%s", kind, e.srv.LogTail(40))
	}
	return e.srv
}

// StopShared stops every shared server. Main calls it.
func StopShared() error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	var first error
	for kind, e := range sharedServers {
		if e.srv != nil {
			if err := e.srv.Stop(); err != nil && first == nil {
				first = err
			}
		}
		delete(sharedServers, kind)
	}
	return first
}
