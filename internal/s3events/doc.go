// Package s3events reads the S3 event notifications endpoints send to
// coffer's POST /events/s3 (MinIO's webhook, the AWS S3 notification
// shape, EventBridge's "Object Created"/"Object Deleted", Ceph RGW's HTTP
// push) into one normalized Record each, and keeps the bearer token that
// authenticates them (COFFER_EVENTS_TOKEN or events.token in the data
// directory).
//
// Events are hints for continuous backup (docs/design/continuous-backup.md):
// a record names a version to capture from the endpoint itself, so only
// what identifies that version is kept.
package s3events
