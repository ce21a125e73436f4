// Package jobapi owns the API's job operations: backup, restore, copy,
// verification and maintenance jobs (start, describe, list, stop), the
// job reports and the restore previews, in AWS Backup's JSON shapes with
// coffer's extensions (docs/api.md). It holds no business rules; every
// operation goes through package service.
package jobapi
