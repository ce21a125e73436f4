// Package copyjob owns copy jobs (StartCopyJob, DescribeCopyJob,
// ListCopyJobs, and the copies plan rules' CopyActions queue after their
// backups): their validation, their run on the job core (internal/jobs)
// through the data plane of internal/vaultcopy, the destination vault
// lock's bounds on their retention, and their takeover when the process
// that ran them died (they run again from the start; a copy already
// committed to its destination vault completes instead).
package copyjob
