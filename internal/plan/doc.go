// Package plan owns backup plans and backup selections as AWS Backup defines
// them: their documents (the JSON shapes of CreateBackupPlan and
// CreateBackupSelection), their validation, and the matching of buckets
// against a selection's resources, tags and conditions. It stores nothing
// and runs nothing: the control plane (package service) persists plans in
// the catalog and schedules their rules.
package plan
