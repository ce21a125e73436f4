package service

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/copyjob"
)

// StartCopyInput is StartCopyJob's input.
type StartCopyInput = copyjob.StartCopyInput

// StartCopyJob validates a copy request, records it and queues it.
func (s *Service) StartCopyJob(ctx context.Context, in StartCopyInput) (jobstore.CopyJob, error) {
	return s.copies.Start(ctx, in)
}

// CopyJob describes one copy job.
func (s *Service) CopyJob(ctx context.Context, id string) (jobstore.CopyJob, error) {
	return s.copies.Job(ctx, id)
}

// ListCopyJobs lists copy jobs newest first.
func (s *Service) ListCopyJobs(ctx context.Context, f jobstore.CopyJobFilter, p catalog.Page) ([]jobstore.CopyJob, string, error) {
	return s.jobStore.ListCopyJobs(ctx, f, p)
}
