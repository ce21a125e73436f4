// Package api owns coffer's HTTP API: the AWS Backup REST API (restJson1:
// same paths, JSON member names, epoch-second timestamps and error shapes,
// so the official AWS SDKs and CLI drive it), SigV4 authentication, the
// mapping of control-plane errors to AWS error codes, and the limits on what
// a client can hold of the server (Limits: timeouts, concurrent body reads,
// write deadlines). It holds no business rules; everything it does goes
// through package service.
//
// This package is the server: authentication, body reading, limits,
// routing, error mapping and the writing of answers, and POST /events/s3
// (bearer-token authenticated, before routing). The operations are in one
// package per resource family, registered on the server's routes:
// jobapi (jobs, job reports, restore previews), vaultapi (vaults, recovery
// points, locks, legal holds, tags, connections) and planapi (plans and
// selections); package wire holds what they share.
package api
