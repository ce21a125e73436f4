package vocab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Partition is the ARN partition coffer uses for its own resources.
const Partition = "aws"

// Names builds the ARNs of coffer's own resources in one region and
// account.
type Names struct {
	Region    string // default us-east-1
	AccountID string // default 000000000000
}

// VaultARN is the ARN of backup vault name.
func (n Names) VaultARN(name string) string {
	return fmt.Sprintf("arn:%s:backup:%s:%s:backup-vault:%s", Partition, n.Region, n.AccountID, name)
}

// RecoveryPointARN is the ARN of recovery point id.
func (n Names) RecoveryPointARN(id string) string {
	return fmt.Sprintf("arn:%s:backup:%s:%s:recovery-point:%s", Partition, n.Region, n.AccountID, id)
}

// PlanARN is the ARN of backup plan id.
func (n Names) PlanARN(id string) string {
	return fmt.Sprintf("arn:%s:backup:%s:%s:backup-plan:%s", Partition, n.Region, n.AccountID, id)
}

// LegalHoldARN is the ARN of legal hold id.
func (n Names) LegalHoldARN(id string) string {
	return fmt.Sprintf("arn:%s:backup:%s:%s:legal-hold:%s", Partition, n.Region, n.AccountID, id)
}

// NewID returns a random UUID-shaped id in upper case, as AWS job ids look.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return strings.ToUpper(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}

// DefaultConnection names the S3 connection of the COFFER_S3_*
// environment: plain arn:aws:s3:::bucket resources.
const DefaultConnection = "default"

var connectionNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$`)

// ValidateConnectionName checks the name of an S3 connection: what the
// region field of a bucket ARN may hold.
func ValidateConnectionName(name string) error {
	if !connectionNameRE.MatchString(name) {
		return fmt.Errorf("%w: connection name %q must be 1 to 63 letters, digits or '-', starting with a letter or digit", ErrInvalidParameter, name)
	}
	return nil
}

// ParseBucketARN extracts the bucket of arn:aws:s3:CONNECTION::bucket.
func ParseBucketARN(arn string) (bucket string, err error) {
	_, bucket, err = ParseS3ARN(arn)
	return bucket, err
}

// ParseS3ARN splits a bucket ARN arn:aws:s3:CONNECTION::bucket into its
// connection (the region field; empty: DefaultConnection) and bucket.
func ParseS3ARN(arn string) (conn, bucket string, err error) {
	const prefix = "arn:aws:s3:"
	rest, ok := strings.CutPrefix(arn, prefix)
	conn, bucket, ok2 := strings.Cut(rest, "::")
	if !ok || !ok2 || strings.Contains(conn, ":") {
		return "", "", fmt.Errorf("%w: resource ARN %q is not an S3 bucket ARN (arn:aws:s3:::bucket, or arn:aws:s3:CONNECTION::bucket)", ErrInvalidParameter, arn)
	}
	if conn == "" {
		conn = DefaultConnection
	} else if err := ValidateConnectionName(conn); err != nil {
		return "", "", err
	}
	if err := ValidateBucketName(bucket); err != nil {
		return "", "", err
	}
	return conn, bucket, nil
}

// BucketARN is the ARN of bucket on connection conn.
func BucketARN(conn, bucket string) string {
	if conn == DefaultConnection {
		conn = ""
	}
	return "arn:aws:s3:" + conn + "::" + bucket
}

// ARN is an Amazon Resource Name split into its fields:
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (RESOURCE may hold colons).
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// String is the ARN's text; ParseARN(a.String()) gives a back.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// ParseARN splits an ARN; it checks the shape only (six fields, a
// partition and a service), not what the resource names.
func ParseARN(s string) (ARN, error) {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] == "" || f[2] == "" {
		return ARN{}, fmt.Errorf("%w: %q is not an ARN (arn:partition:service:region:account:resource)", ErrInvalidParameter, s)
	}
	return ARN{Partition: f[1], Service: f[2], Region: f[3], Account: f[4], Resource: f[5]}, nil
}

// ParseVaultARN returns the vault name of a backup vault ARN
// (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME, NAME as
// CreateBackupVault takes it).
func ParseVaultARN(s string) (ARN, string, error) {
	a, err := ParseARN(s)
	if err != nil {
		return ARN{}, "", err
	}
	name, ok := strings.CutPrefix(a.Resource, "backup-vault:")
	if a.Partition != Partition || a.Service != "backup" || !ok || !ValidVaultName(name) {
		return ARN{}, "", fmt.Errorf("%w: %q is not a backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)", ErrInvalidParameter, s)
	}
	return a, name, nil
}

// ValidVaultName reports whether name is a backup vault name:
// ^[a-zA-Z0-9\-_]{2,50}$.
func ValidVaultName(name string) bool {
	if len(name) < 2 || len(name) > 50 {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
