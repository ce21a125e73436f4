// Package connections owns the named S3 connections: the `default` one
// of the COFFER_S3_* environment and those created through the API
// (`coffer connection create`), whose secret keys the catalog holds sealed
// under a key derived from the master key and no call ever returns. It
// hands out one client per connection; a bucket on connection C is the
// resource arn:aws:s3:C::bucket (vocab.ParseS3ARN).
package connections
