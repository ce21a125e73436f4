package service

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/connections"
)

// The inputs and results of connection operations, under the names the
// API layer uses.
type (
	ConnectionInput = connections.CreateInput
	Connection      = connections.Info
)

// CreateConnection checks and stores a named S3 connection.
func (s *Service) CreateConnection(ctx context.Context, in ConnectionInput) (Connection, error) {
	return s.conns.Create(ctx, in)
}

// Connection describes one connection (never its secret).
func (s *Service) Connection(ctx context.Context, name string) (Connection, error) {
	return s.conns.Describe(ctx, name)
}

// ListConnections lists the connections by name.
func (s *Service) ListConnections(ctx context.Context, p catalog.Page) ([]Connection, string, error) {
	return s.conns.List(ctx, p)
}

// DeleteConnection removes a connection nothing uses.
func (s *Service) DeleteConnection(ctx context.Context, name string) error {
	return s.conns.Delete(ctx, name)
}
