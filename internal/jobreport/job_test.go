package jobreport

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/cofferbackup/coffer/internal/s3source"
)

func TestHasher(t *testing.T) {
	t.Parallel()
	a, b := NewHasher([]byte("one")), NewHasher([]byte("two"))
	k := "customers/ACME-Corp-salaries.xlsx"
	if h := a.Hash(k); len(h) != 16 || h != a.Hash(k) || h == b.Hash(k) || h == a.Hash(k+"x") {
		t.Fatalf("hash %q: want 16 hex digits, stable per secret and key", h)
	}
	if a.Digest([]string{"a", "b"}) == a.Digest([]string{"ab"}) || a.Digest([]string{"a", "b"}) == a.Digest([]string{"b", "a"}) {
		t.Fatal("digests of different lists are equal")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	h := NewHasher([]byte("secret"))
	key := "customers/ACME Corp salaries.xlsx"
	op := &s3source.OpError{Op: "put object", Bucket: "dst", Key: key, Err: errors.New("boom")}
	urlErr := &url.Error{Op: "Put", URL: "http://h/dst/" + strings.ReplaceAll(url.PathEscape(key), "%2F", "/"), Err: errors.New("reset")}
	tests := []struct {
		name  string
		err   error
		keys  []string
		found string // must remain
	}{
		{"op error", fmt.Errorf("destination bucket %q: %w", "dst", op), nil, `destination bucket "dst"`},
		{"url inside op error", &s3source.OpError{Op: "put object", Bucket: "dst", Key: key, Err: urlErr}, nil, "reset"},
		{"joined", errors.Join(errors.New("first"), op), nil, "first"},
		{"known keys", fmt.Errorf("restore item 1 %q: bad", "s3://b/"+key), []string{"s3://b/" + key}, "restore item 1"},
		{"short key left as is", errors.New("a b"), []string{"a"}, "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := h.Redact(tt.err, tt.keys...)
			if strings.Contains(got, "ACME") || !strings.Contains(got, tt.found) {
				t.Fatalf("Redact = %q", got)
			}
			if strings.Contains(tt.err.Error(), "ACME") && !strings.Contains(got, "key#"+h.Hash(key)) && !strings.Contains(got, "key#"+h.Hash("s3://b/"+key)) {
				t.Fatalf("Redact = %q: no keyed hash in place of the key", got)
			}
		})
	}
}
