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
// versitygw runs with its posix backend and --versioning-dir, keep-alive
// off (its default: with --keep-alive it misreads the end of aws-chunked
// bodies that minio-go sends over plain HTTP). MinIO runs single-drive with
// the console and update checks off. Servers are killed, not shut down:
// their data is thrown away.
//
// Known gaps of the servers (package s3source's doc lists all the tests
// found): versitygw has no object ACLs, lists version times in whole
// seconds and cleans key paths ("a//b" is stored as "a/b"); MinIO refuses
// keys with "//", "./" or "../" segments and cannot hold both "a" and
// "a/b"; its ACL calls are stubs.
package testserver
