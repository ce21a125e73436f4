package s3source

import (
	"context"
	"slices"
	"testing"

	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/testserver"
)

func TestListBucketsAndTags(t *testing.T) {
	for _, kind := range testserver.Kinds() {
		t.Run(kind, func(t *testing.T) {
			srv := testserver.Shared(t, kind)
			c, err := New(Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			tagged, plain := srv.NewBucket(t, true), srv.NewBucket(t, false)
			tg, _ := tags.NewTags(map[string]string{"env": "prod", "backup": "true"}, false)
			if err := srv.Client(t).SetBucketTagging(ctx, tagged, tg); err != nil {
				t.Fatal(err)
			}
			names, err := c.ListBuckets(ctx)
			if err != nil || !slices.Contains(names, tagged) || !slices.Contains(names, plain) || !slices.IsSorted(names) {
				t.Fatalf("ListBuckets: %v %v", names, err)
			}
			got, err := c.BucketTags(ctx, tagged)
			if err != nil || got["env"] != "prod" || got["backup"] != "true" || len(got) != 2 {
				t.Fatalf("BucketTags(tagged): %v %v", got, err)
			}
			got, err = c.BucketTags(ctx, plain)
			if err != nil || len(got) != 0 {
				t.Fatalf("BucketTags(plain): %v %v", got, err)
			}
		})
	}
}
