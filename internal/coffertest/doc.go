// Package coffertest starts a complete coffer server for tests: the control
// plane on a temporary data directory, the API on a real loopback HTTP
// listener, a real S3 server from package testserver as its source, and an
// official aws-sdk-go-v2 AWS Backup client signed with the root credentials.
package coffertest
