// Package retry owns the data-plane engines' retry policy: a step that
// talks to an S3 endpoint (reading a version for a backup, writing one for
// a restore) is tried a few times with exponential backoff while its error
// may be transient, so that a dropped connection or a throttled request
// does not fail a version that a second attempt would have handled.
//
// What counts as transient is the caller's decision: only it knows which
// errors are final (access denied, a missing bucket, a vault failure).
package retry
