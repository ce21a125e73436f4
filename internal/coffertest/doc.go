// Package coffertest starts a complete coffer server for tests: the control
// plane on a temporary data directory, the API on a real loopback HTTP
// listener, a real S3 server from package testserver as its source, and an
// official aws-sdk-go-v2 AWS Backup client signed with the root credentials.
//
// It also holds the real faults tests put under coffer: CutProxy (a TCP
// connection taken away and given back), FaultProxy (an S3 endpoint that
// throttles, resets, stalls and truncates at a seeded rate) and SmallDisk
// (a real file system that runs out of space).
package coffertest
