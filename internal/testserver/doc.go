// Package testserver starts real S3 servers (MinIO and versitygw) for
// integration tests: each on a free loopback port with its own temporary
// data folder, stopped when the test (or, for shared servers, the test
// binary) ends. The binaries are built by scripts/install-test-servers.sh
// into $COFFER_TESTBIN (default $HOME/.cache/coffer/testbin); a test that
// cannot find them fails, naming that script. It never skips.
//
// Per-test servers:
//
//	srv := testserver.Start(t, testserver.MinIO)
//
// One server per kind per test binary, isolated by unique buckets:
//
//	func TestMain(m *testing.M) { testserver.Main(m) }
//	...
//	srv := testserver.Shared(t, kind)
//	bucket := srv.NewBucket(t, true)
//
// Known gaps of the servers (see docs and the s3source tests): neither
// supports PutObjectAcl; versitygw lists version times in whole seconds;
// MinIO refuses keys with "//", "./" or "../" segments and cannot hold both
// "a" and "a/b".
package testserver
