package service

import (
	"context"

	"github.com/cofferbackup/coffer/internal/catalog"
	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/verifyjob"
)

// StartVerificationInput is a verification job's request.
type StartVerificationInput = verifyjob.StartInput

// VerificationReport is what a verification job found.
type VerificationReport = verifyjob.Report

// StartVerificationJob validates a verification request, records the job
// and queues it.
func (s *Service) StartVerificationJob(ctx context.Context, in StartVerificationInput) (jobstore.VerificationJob, error) {
	return s.verifications.Start(ctx, in)
}

// VerificationJob describes one verification job and its report (zero
// until it ran).
func (s *Service) VerificationJob(ctx context.Context, id string) (jobstore.VerificationJob, VerificationReport, error) {
	j, err := s.verifications.Job(ctx, id)
	if err != nil {
		return j, VerificationReport{}, err
	}
	rep, err := s.verifications.Report(j)
	return j, rep, err
}

// ListVerificationJobs lists verification jobs newest first.
func (s *Service) ListVerificationJobs(ctx context.Context, f jobstore.VerificationJobFilter, p catalog.Page) ([]jobstore.VerificationJob, string, error) {
	return s.verifications.List(ctx, f, p)
}

// VerificationReportOf is the report a listed verification job holds.
func (s *Service) VerificationReportOf(j jobstore.VerificationJob) (VerificationReport, error) {
	return s.verifications.Report(j)
}
