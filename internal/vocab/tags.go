package vocab

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxTags is the number of tags a resource may carry (AWS's limit), after
// a change: existing tags count.
const MaxTags = 50

// Tag key and value rules of AWS Backup (API reference, KeyValue): keys of
// 1 to 128 characters not starting with "aws:", values of at most 256, both
// made of Unicode letters, numbers, spaces and _ . : / = + - @. Lengths are
// in characters, not bytes.
const (
	MaxTagKeyLength   = 128
	MaxTagValueLength = 256
)

var tagCharsRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// ValidateTags checks a tag set as AWS Backup does: each key and value
// (ValidateTagKey, ValidateTagValue), and at most MaxTags of them
// (ErrLimitExceeded).
func ValidateTags(tags map[string]string) error {
	for k, v := range tags {
		if err := ValidateTagKey(k); err != nil {
			return err
		}
		if err := ValidateTagValue(k, v); err != nil {
			return err
		}
	}
	return CheckTagCount(len(tags))
}

// CheckTagCount refuses a resource that would carry n tags, more than
// MaxTags.
func CheckTagCount(n int) error {
	if n > MaxTags {
		return fmt.Errorf("%w: a resource can have at most %d tags, this one would have %d", ErrLimitExceeded, MaxTags, n)
	}
	return nil
}

// ValidateTagKey checks one tag key.
func ValidateTagKey(k string) error {
	if k == "" || utf8.RuneCountInString(k) > MaxTagKeyLength || strings.HasPrefix(strings.ToLower(k), "aws:") {
		return fmt.Errorf("%w: tag key %q must be 1 to %d characters and must not start with \"aws:\"", ErrInvalidParameter, k, MaxTagKeyLength)
	}
	if !utf8.ValidString(k) || !tagCharsRE.MatchString(k) {
		return fmt.Errorf("%w: tag key %q may hold only letters, numbers, spaces and _ . : / = + - @", ErrInvalidParameter, k)
	}
	return nil
}

// ValidateTagValue checks the value v of tag key k.
func ValidateTagValue(k, v string) error {
	if utf8.RuneCountInString(v) > MaxTagValueLength {
		return fmt.Errorf("%w: tag %q: value longer than %d characters", ErrInvalidParameter, k, MaxTagValueLength)
	}
	if !utf8.ValidString(v) || !tagCharsRE.MatchString(v) {
		return fmt.Errorf("%w: tag %q: value may hold only letters, numbers, spaces and _ . : / = + - @", ErrInvalidParameter, k)
	}
	return nil
}
