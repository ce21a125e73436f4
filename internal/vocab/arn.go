package vocab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
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

// ParseBucketARN extracts the bucket of arn:aws:s3:::bucket.
func ParseBucketARN(arn string) (bucket string, err error) {
	const prefix = "arn:aws:s3:::"
	if !strings.HasPrefix(arn, prefix) {
		return "", fmt.Errorf("%w: resource ARN %q is not an S3 bucket ARN (arn:aws:s3:::bucket)", ErrInvalidParameter, arn)
	}
	bucket = strings.TrimPrefix(arn, prefix)
	if err := ValidateBucketName(bucket); err != nil {
		return "", err
	}
	return bucket, nil
}

// ValidateBucketName checks b against S3's bucket naming rules.
func ValidateBucketName(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("%w: bucket name %q must be 3 to 63 characters", ErrInvalidParameter, b)
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return fmt.Errorf("%w: bucket name %q may hold only lower-case letters, digits, '-' and '.'", ErrInvalidParameter, b)
		}
	}
	return nil
}
