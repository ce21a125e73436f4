// Package retry owns coffer's one retry policy for talking to S3
// endpoints: a step (reading a version for a backup, writing one for a
// restore, one request of a listing) is tried a bounded number of times
// with jittered exponential backoff while its error may be transient, so
// that a dropped connection or a throttled request does not fail what a
// second attempt would have handled, and so that a throttling endpoint is
// not hammered.
//
// Exactly one loop decides per request: a Do nested inside another Do (a
// client call made by an engine step that is itself retried) runs its
// function once and leaves the decision to the outer loop, so retries never
// multiply. The HTTP layer reports what the server said (a Retry-After
// header, a throttling answer) with Note; the loop waits at least that long.
//
// What counts as transient is the caller's decision: only it knows which
// errors are final (access denied, a missing bucket, a vault failure).
package retry
