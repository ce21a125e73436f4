// Package s3source owns every conversation with an S3-compatible endpoint:
// streaming version listings, reading object versions with their metadata,
// tags, ACL and lock state for backups, and writing objects, versions and
// delete markers back for restores. It wraps minio-go.
package s3source
