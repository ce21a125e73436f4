// Package api owns coffer's HTTP API: the AWS Backup REST API (restJson1:
// same paths, JSON member names, epoch-second timestamps and error shapes,
// so the official AWS SDKs and CLI drive it), SigV4 authentication and the
// mapping of control-plane errors to AWS error codes. It holds no business
// rules; everything it does goes through package service.
package api
