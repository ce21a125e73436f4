// Package api owns coffer's HTTP API: the AWS Backup REST API (restJson1:
// same paths, JSON member names, epoch-second timestamps and error shapes,
// so the official AWS SDKs and CLI drive it), SigV4 authentication, the
// mapping of control-plane errors to AWS error codes, and the limits on what
// a client can hold of the server (Limits: timeouts, concurrent body reads,
// write deadlines). It holds no business rules; everything it does goes
// through package service.
package api
