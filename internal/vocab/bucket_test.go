package vocab

import (
	"errors"
	"testing"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

var bucketCases = []struct {
	name string
	ok   bool
}{
	{"photos", true}, {"a.b-c", true}, {"abc", true}, {"1.2.3", true}, {"1.2.3.4.5", true},
	{"ab", false}, {"Photos", false}, {"a_b", false}, {"a..b", false}, {"a.-b", false}, {"a-.b", false},
	{"-ab", false}, {"ab-", false}, {".ab", false}, {"ab.", false}, {"192.168.5.4", false},
	{"abc/d", false}, {"", false}, {"a\x00b", false}, {"ünï", false},
}

func TestValidateBucketName(t *testing.T) {
	for _, tt := range bucketCases {
		err := ValidateBucketName(tt.name)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidParameter)) {
			t.Errorf("%q: %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// FuzzBucketName: a name coffer accepts is one the S3 client accepts too
// (else the client's refusal surfaced as coffer's own 500).
func FuzzBucketName(f *testing.F) {
	for _, tt := range bucketCases {
		f.Add(tt.name)
	}
	f.Fuzz(func(t *testing.T, b string) {
		if ValidateBucketName(b) != nil {
			return
		}
		if err := s3utils.CheckValidBucketNameStrict(b); err != nil {
			t.Fatalf("%q: coffer accepts it, the S3 client refuses it: %v", b, err)
		}
	})
}
