//go:build !unix

package service

import (
	"errors"
	"os"
)

// ErrDataDirInUse is returned by Open when another process has the data
// directory open.
var ErrDataDirInUse = errors.New("data directory is in use by another coffer process")

// lockDir is a no-op where flock is unavailable: run one coffer per data
// directory.
func lockDir(string) (*os.File, error) { return nil, nil }
