package service_test

import (
	"testing"

	"github.com/cofferbackup/coffer/internal/coffertest"
)

// forEachEngine runs fn once per catalog engine (SQLite, then PostgreSQL
// in a fresh schema) with the Options.Database to start coffer with.
func forEachEngine(t *testing.T, fn func(t *testing.T, db string)) {
	t.Helper()
	for _, engine := range coffertest.Engines {
		t.Run(engine, func(t *testing.T) { fn(t, coffertest.Database(t, engine)) })
	}
}
