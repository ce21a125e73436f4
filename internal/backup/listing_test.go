package backup_test

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestIncrementalFromListing checks that on MinIO, whose listing shows
// every version's tags, an incremental of a bucket whose versions are all
// unchanged makes no per-object request at all, yet captures a tag changed
// on a noncurrent version; and that new versions cost only their GET.
func TestIncrementalFromListing(t *testing.T) {
	t.Parallel()
	srv := testserver.Shared(t, testserver.MinIO)
	mc := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	_, versions := fillIncremental(t, mc, bucket)

	proxy := bt.NewProxy(t, srv.Endpoint)
	src := bt.Source(t, srv, proxy.URL)
	v := bt.Vault(t)
	m1 := bt.Backup(t, src, v, bucket, nil, nil).Manifest
	if p := m1.Probe; p == nil || !p.MetadataListing || p.ACLs != "fixed" || p.Server != "MinIO" {
		t.Fatalf("probe %+v, want MinIO with a metadata listing and fixed ACLs", p)
	}
	// The GETs, and one GetObjectAcl: MinIO's one fixed ACL, read once
	// and recorded for every version.
	if got := proxy.ObjectRequests(); got != int64(versions)+1 {
		t.Errorf("full backup made %d per-object requests, want %d (the GETs and one ACL)", got, versions+1)
	}
	if m1.Probe.FixedACL == nil {
		t.Fatal("probe records no fixed ACL")
	}
	for _, r := range bt.Records(t, v, m1) {
		if !r.DeleteMarker && (r.ACLState != recpoint.StateCaptured || r.ACL == nil || r.ACL.OwnerID != m1.Probe.FixedACL.OwnerID || len(r.ACL.Grants) == 0) {
			t.Fatalf("%s %s: ACL %+v (%s), want the fixed ACL captured", r.Key, r.VersionID, r.ACL, r.ACLState)
		}
	}

	// k02 has three versions: retag the oldest, which is not current.
	old := bt.ListVersions(t, mc, bucket)
	oldVID := ""
	for _, o := range old {
		if o.Key == "k02" && !o.IsLatest {
			oldVID = o.VersionID // the last listed is the oldest
		}
	}
	newTags, _ := tags.NewTags(map[string]string{"retagged": "old version"}, true)
	if err := mc.PutObjectTagging(context.Background(), bucket, "k02", newTags,
		minio.PutObjectTaggingOptions{VersionID: oldVID}); err != nil {
		t.Fatal(err)
	}
	snap := bt.Histories(bt.Snapshot(t, mc, bucket))

	proxy.Reset()
	res2 := bt.Backup(t, src, v, bucket, &m1, nil)
	if got := proxy.ObjectRequests(); got != 0 {
		t.Errorf("incremental of an unchanged bucket made %d per-object requests, want 0", got)
	}
	found := false
	for _, r := range bt.Records(t, v, res2.Manifest) {
		if r.Key == "k02" && r.VersionID == oldVID {
			found = true
			if r.TagsState != recpoint.StateCaptured || len(r.Tags) != 1 || r.Tags["retagged"] != "old version" {
				t.Errorf("k02 %s: tags %v (%s), want the new tag", oldVID, r.Tags, r.TagsState)
			}
		}
	}
	if !found {
		t.Fatalf("no record of k02 version %s", oldVID)
	}
	restoreExact(t, srv, src, v, res2.Manifest, snap.Select(0, nil))

	// A new version costs its GET and nothing else.
	put(t, mc, bucket, "k03", 7, 5000, minio.PutObjectOptions{UserTags: map[string]string{"n": "1"}})
	proxy.Reset()
	res3 := bt.Backup(t, src, v, bucket, &res2.Manifest, nil)
	if got := proxy.ObjectRequests(); got != 1 || proxy.ObjectGets() != 1 {
		t.Errorf("incremental with one new version made %d per-object requests (%d GETs), want 1", got, proxy.ObjectGets())
	}
	for _, r := range bt.Records(t, v, res3.Manifest) {
		if r.Key == "k03" && r.IsLatest && r.Tags["n"] != "1" {
			t.Errorf("new k03: tags %v", r.Tags)
		}
	}
}
