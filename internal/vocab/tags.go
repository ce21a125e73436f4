package vocab

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidateTags checks tags as AWS Backup does: keys of 1 to 128
// characters not starting with "aws:", values of at most 256.
func ValidateTags(tags map[string]string) error {
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return fmt.Errorf("%w: tag key %q must be 1 to 128 characters and must not start with \"aws:\"", ErrInvalidParameter, k)
		}
		if utf8.RuneCountInString(v) > 256 {
			return fmt.Errorf("%w: tag %q: value longer than 256 characters", ErrInvalidParameter, k)
		}
	}
	return nil
}
