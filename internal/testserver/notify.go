package testserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/notification"
)

// SetBucketNotification sets bucket's notification configuration on a
// MinIO, retrying while MinIO has not yet loaded the notification targets
// its environment configures: it loads them in the background after it
// answers ready, and until then names their ARNs unknown.
func (s *Server) SetBucketNotification(t testing.TB, bucket string, cfg notification.Configuration) {
	t.Helper()
	c := s.Client(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.SetBucketNotification(context.Background(), bucket, cfg)
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "destination ARN does not exist") || time.Now().After(deadline) {
			t.Fatalf("testserver: SetBucketNotification %s: %v", bucket, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
