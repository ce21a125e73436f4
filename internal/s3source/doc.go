// Package s3source owns every conversation with an S3-compatible endpoint:
// streaming version listings, reading object versions with their metadata,
// tags, ACL and lock state for backups, and writing objects, versions and
// delete markers back for restores. It wraps minio-go.
//
// Version listings are paged and parsed here (listpage.go, lister.go)
// rather than by minio-go, to keep listing order and completeness on
// endpoints that get ListObjectVersions wrong; object ACLs, retention and
// legal holds are read (and ACLs written) with SigV4-signed requests of
// its own (raw.go). What the real test servers do, found by the tests:
//
//   - versitygw v1.8.0 writes a page's DeleteMarker elements before its
//     Version elements, repeats the entry named by a current-version
//     version-id-marker, ignores encoding-type=url (so a key with a
//     character XML cannot carry, such as U+0001, is listed with U+FFFD and
//     a listing resuming from it silently ends), lists version times in
//     whole seconds and delete-marker times as when they were archived,
//     answers NotImplemented to GetObjectAcl/PutObjectAcl, names the
//     retention document ObjectLockRetention, and with --keep-alive
//     misreads the end of aws-chunked request bodies. All are handled.
//   - MinIO refuses keys with "//", "./" or "../" segments, drops a leading
//     "/", cannot hold both "a" and "a/b", and does not stack a second
//     delete marker on a deleted key; its GetObjectAcl is a single
//     FULL_CONTROL grant without grantee id, and PutObjectAcl accepts that.
//   - Neither adds a delete marker when deleting a key that never existed.
//   - Both honour If-None-Match: * (conditional.go); MinIO checks it at
//     CreateMultipartUpload and CompleteMultipartUpload, versitygw at
//     CompleteMultipartUpload only (minio-go drops the header there: the
//     transport adds it), and versitygw refuses it (412) over a key whose
//     current version is a delete marker.
//
// Every call tries once in minio-go (MaxRetries 1) and runs under the
// connection's retry policy (Config.Retry), which a caller's own loop
// (an engine step) overrides: see internal/retry. PutObject alone is
// never retried here, since its stream cannot be sent again.
//
// Version id "null" is sent as versionId=null: after versioning is enabled
// on a bucket, the null version is not the current one.
package s3source
