package service

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/vault"
)

// Liveness defaults: a process beats every HeartbeatInterval; one silent
// for DeadAfter is dead, and the leader's takeover pass (every
// TakeoverInterval) gives its jobs to live processes. Together well under
// the two minutes a killed process's jobs may wait.
const (
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultDeadAfter         = 30 * time.Second
	DefaultTakeoverInterval  = 10 * time.Second
)

// registerProcess records this process's liveness row and starts its
// heartbeat. Its id is also its River client id, so River's attempted_by
// names coffer processes.
func (s *Service) registerProcess(ctx context.Context) error {
	host, _ := os.Hostname()
	p := catalog.Process{ID: s.procID, Host: host, PID: int64(os.Getpid()), StartedAt: s.clock.Now()}
	if err := s.db.RegisterProcess(ctx, p); err != nil {
		return err
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.core.Heartbeat(s.cfg.HeartbeatInterval)
	}()
	s.eventsKick = make(chan struct{}, 1)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.captureEventsBehind()
	}()
	return nil
}

// shared reports whether several processes may share this catalog and
// data directory (PostgreSQL); on SQLite one process owns both.
func (s *Service) shared() bool { return IsPostgresURL(s.cfg.Database) }

// cacheRoot holds the vault caches (<root>/<vault id>) when they are not
// in the vaults' own directories: under Config.CacheDir (default
// DataDir/cache), in a directory of each process's own when processes
// share the data directory.
func (s *Service) cacheRoot() string {
	base := s.cfg.CacheDir
	if base == "" {
		base = filepath.Join(s.cfg.DataDir, "cache")
	}
	if s.shared() {
		return filepath.Join(base, s.procID)
	}
	return base
}

// pruneCaches removes the vault caches of processes that are dead (a
// killed process cannot remove its own).
func (s *Service) pruneCaches(ctx context.Context) {
	if !s.shared() || s.cfg.Vaults != nil {
		return
	}
	root := filepath.Dir(s.cacheRoot())
	entries, err := os.ReadDir(root)
	if err != nil {
		return // none yet
	}
	for _, e := range entries {
		if e.Name() == s.procID {
			continue
		}
		if dead, err := s.core.SilentDead(ctx, e.Name(), ""); err != nil || !dead {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			s.log.Warn("remove the vault caches of a dead process", "process", e.Name(), "err", err)
		}
	}
}

// vaultOptions are the options every vault opens with. On SQLite this
// process is each vault's only writer (the data-directory lock refuses a
// second one, and the registry opens one handle per vault), so maintenance
// may reclaim space at once; where processes share the vaults, kopia's
// full safety margins protect what another process's session has just
// written, and each process maintains under its own owner name.
func (s *Service) vaultOptions() vault.Options {
	if !s.shared() {
		return vault.Options{Safety: vault.SafetySoleWriter}
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return vault.Options{Safety: vault.SafetyFull, Owner: s.procID + "@" + host}
}
