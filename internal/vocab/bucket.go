package vocab

import (
	"fmt"
	"strings"
)

// ValidateBucketName checks an S3 bucket name as S3 and the S3 client
// (minio-go's strict check) do: 3 to 63 lower-case letters, digits, '-'
// and '.', starting and ending with a letter or digit, no "..", ".-" or
// "-.", not shaped like an IP address. A name the client would refuse
// must be refused here, as an input error, not fail later as coffer's own.
func ValidateBucketName(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("%w: bucket name %q must be 3 to 63 characters", ErrInvalidParameter, b)
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return fmt.Errorf("%w: bucket name %q may hold only lower-case letters, digits, '-' and '.'", ErrInvalidParameter, b)
		}
	}
	if !alnum(b[0]) || !alnum(b[len(b)-1]) {
		return fmt.Errorf("%w: bucket name %q must start and end with a letter or digit", ErrInvalidParameter, b)
	}
	if strings.Contains(b, "..") || strings.Contains(b, ".-") || strings.Contains(b, "-.") {
		return fmt.Errorf("%w: bucket name %q must not hold \"..\", \".-\" or \"-.\"", ErrInvalidParameter, b)
	}
	if ipShaped(b) {
		return fmt.Errorf("%w: bucket name %q must not be an IP address", ErrInvalidParameter, b)
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// ipShaped reports whether b is four dot-separated runs of digits.
func ipShaped(b string) bool {
	parts := strings.Split(b, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}
