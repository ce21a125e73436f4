package recpoint

import "time"

// Recovery point statuses, as AWS Backup names them.
const (
	StatusCompleted = "COMPLETED"
	StatusPartial   = "PARTIAL"
)

// Manifest is what a vault registers for each recovery point. Together with
// its record stream it is enough to list and restore the recovery point
// without the catalog database.
type Manifest struct {
	ID            string    `json:"id"` // recovery point id (last part of its ARN)
	ARN           string    `json:"arn"`
	VaultName     string    `json:"vault_name"`
	ResourceARN   string    `json:"resource_arn"`
	ResourceType  string    `json:"resource_type"` // "S3"
	Connection    string    `json:"connection"`    // source connection name ("default")
	Endpoint      string    `json:"endpoint"`      // source endpoint URL, informational
	Bucket        string    `json:"bucket"`
	BackupJobID   string    `json:"backup_job_id"`
	Status        string    `json:"status"`
	StatusMessage string    `json:"status_message,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	CompletedAt   time.Time `json:"completed_at"`
	// DeleteAfterDays is the retention given at backup time; 0 keeps forever.
	DeleteAfterDays int64             `json:"delete_after_days,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	Versioned       bool              `json:"versioned"`

	Records      string   `json:"records"` // vault object id of the record stream
	RecordCount  int64    `json:"record_count"`
	ObjectCount  int64    `json:"object_count"` // versions with data (not delete markers)
	TotalBytes   int64    `json:"total_bytes"`  // sum of object sizes
	FailedCount  int64    `json:"failed_count"`
	FailedSample []string `json:"failed_sample,omitempty"` // first failed keys with reasons
	// Probe is what the backup found the endpoint can do; nil in recovery
	// points made before it was recorded.
	Probe *Probe `json:"probe,omitempty"`

	// A copy (a copy job's recovery point) names where it was copied from:
	// the source vault's ARN (DescribeRecoveryPoint's SourceBackupVaultArn),
	// the source recovery point and the copy job; empty for backups.
	SourceBackupVaultARN   string `json:"source_backup_vault_arn,omitempty"`
	SourceRecoveryPointARN string `json:"source_recovery_point_arn,omitempty"`
	CopyJobID              string `json:"copy_job_id,omitempty"`
}

// Probe is what a backup asked the endpoint once for the whole run.
type Probe struct {
	Server string `json:"server,omitempty"` // the endpoint's Server header
	// ACLs is "fixed" if the endpoint answers one ACL it cannot change
	// (read once, FixedACL, and recorded for every version), "read" if ACLs
	// were read per version, "" if ACL capture was off.
	ACLs string `json:"acls,omitempty"`
	// FixedACL is that one ACL; the next backup starts from it instead of
	// asking again.
	FixedACL   *ACL `json:"fixed_acl,omitempty"`
	ObjectLock bool `json:"object_lock,omitempty"` // lock enabled on the bucket: lock state read per version
	// MetadataListing: versions were listed with their tags (MinIO's
	// metadata=true), so unchanged versions cost no request.
	MetadataListing bool `json:"metadata_listing,omitempty"`
	// TagsCarried counts the backups in a row, this one included, that
	// took the tags and ACLs of unchanged versions from the previous
	// recovery point instead of reading them (BackupOptions
	// ReadTagsEvery); 0 when this backup read them all. TagsReadAt is
	// when they were last all read: the records' tags and ACLs of
	// unchanged versions are as of then.
	TagsCarried int       `json:"tags_carried,omitempty"`
	TagsReadAt  time.Time `json:"tags_read_at,omitzero"`
}
