package s3source

import (
	"errors"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestLock reads retention and legal hold of versions on an object-lock
// bucket, and nil where there is none.
func TestLock(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		ctx := testCtx(t)
		mc := srv.Client(t)
		bucket := srv.NewBucketWith(t, testserver.BucketOptions{ObjectLock: true})
		info, err := c.Bucket(ctx, bucket)
		if err != nil || !info.ObjectLock || info.Versioning != "Enabled" {
			t.Fatalf("Bucket(lock bucket) = %+v, %v", info, err)
		}
		until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		locked := putObj(t, mc, bucket, "locked", []byte("l"), minio.PutObjectOptions{
			Mode: minio.Governance, RetainUntilDate: until, LegalHold: minio.LegalHoldEnabled,
		})
		held := putObj(t, mc, bucket, "held", []byte("h"), minio.PutObjectOptions{LegalHold: minio.LegalHoldEnabled})
		plain := putObj(t, mc, bucket, "plain", []byte("p"), minio.PutObjectOptions{})

		cases := []struct {
			key, vid string
			want     *recpoint.Lock
		}{
			{"locked", locked, &recpoint.Lock{Mode: "GOVERNANCE", RetainUntil: &until, LegalHold: true}},
			{"held", held, &recpoint.Lock{LegalHold: true}},
			{"plain", plain, nil},
		}
		for _, tc := range cases {
			got, err := c.Lock(ctx, bucket, tc.key, tc.vid)
			if err != nil {
				t.Errorf("Lock(%s): %v", tc.key, err)
				continue
			}
			if !lockEqual(got, tc.want) {
				t.Errorf("Lock(%s) = %s, want %s", tc.key, fmtLock(got), fmtLock(tc.want))
			}
		}

		plainBucket := srv.NewBucket(t, true)
		vid := putObj(t, mc, plainBucket, "k", []byte("k"), minio.PutObjectOptions{})
		if got, err := c.Lock(ctx, plainBucket, "k", vid); got != nil || err != nil {
			t.Errorf("Lock on a bucket without object lock = %s, %v", fmtLock(got), err)
		}
		// MinIO answers "Bucket is missing ObjectLockConfiguration" for a
		// missing bucket; versitygw says NoSuchBucket.
		lk, err := c.Lock(ctx, "no-such-bucket-"+srv.Kind, "k", "")
		t.Logf("%s: Lock on a missing bucket: %v, %v", srv.Kind, lk, err)
		if lk != nil || (srv.Kind == testserver.VersityGW && !errors.Is(err, ErrNoSuchBucket)) {
			t.Errorf("Lock on a missing bucket: %v, %v", lk, err)
		}
		if _, err := c.Lock(ctx, bucket, "missing", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("Lock of a missing key: %v, want ErrNotFound", err)
		}
	})
}

func lockEqual(a, b *recpoint.Lock) bool {
	if a == nil || b == nil {
		return a == b
	}
	if (a.RetainUntil == nil) != (b.RetainUntil == nil) {
		return false
	}
	if a.RetainUntil != nil && !a.RetainUntil.Equal(*b.RetainUntil) {
		return false
	}
	return a.Mode == b.Mode && a.LegalHold == b.LegalHold
}

func fmtLock(l *recpoint.Lock) string {
	if l == nil {
		return "<nil>"
	}
	u := "-"
	if l.RetainUntil != nil {
		u = l.RetainUntil.Format(time.RFC3339Nano)
	}
	return l.Mode + "/" + u + "/hold=" + map[bool]string{true: "on", false: "off"}[l.LegalHold]
}

// TestACL reports what each endpoint does with object ACLs: GetObjectAcl
// must give an ACL or ErrNotSupported, PutObjectAcl must succeed or give
// ErrNotSupported.
func TestACL(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *testserver.Server, c *Client) {
		ctx := testCtx(t)
		mc := srv.Client(t)
		bucket := srv.NewBucket(t, true)
		old := putObj(t, mc, bucket, "a c+l", []byte("1"), minio.PutObjectOptions{})
		putObj(t, mc, bucket, "a c+l", []byte("2"), minio.PutObjectOptions{})
		acl, err := c.ACL(ctx, bucket, "a c+l", old)
		switch {
		case errors.Is(err, ErrNotSupported):
			t.Logf("%s: GetObjectAcl not supported: %v", srv.Kind, err)
		case err != nil:
			t.Fatalf("ACL: %v", err)
		default:
			t.Logf("%s: GetObjectAcl gives %+v", srv.Kind, *acl)
			if len(acl.Grants) == 0 || acl.Grants[0].Permission == "" || acl.Grants[0].GranteeType == "" {
				t.Errorf("ACL without usable grants: %+v", *acl)
			}
		}
		if acl == nil {
			acl = &recpoint.ACL{OwnerID: "x", Grants: []recpoint.Grant{{GranteeType: "CanonicalUser", GranteeID: "x", Permission: "FULL_CONTROL"}}}
		}
		err = c.PutACL(ctx, bucket, "a c+l", old, acl)
		switch {
		case err == nil:
			t.Logf("%s: PutObjectAcl accepted", srv.Kind)
		case errors.Is(err, ErrNotSupported):
			t.Logf("%s: PutObjectAcl not supported: %v", srv.Kind, err)
		default:
			t.Errorf("PutACL: %v (want nil or ErrNotSupported)", err)
		}
		if _, err := c.ACL(ctx, bucket, "missing", ""); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrNotSupported) {
			t.Errorf("ACL of a missing key: %v", err)
		}
	})
}
