package connstore

import (
	"github.com/cofferbackup/coffer/internal/catalog"
)

// Store is the catalog's connection table (the S3 endpoints coffer backs up).
type Store struct{ db *catalog.DB }

// New returns the store of db's connection table (the S3 endpoints coffer backs up).
func New(db *catalog.DB) *Store { return &Store{db: db} }
