package backup_test

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/cofferbackup/coffer/internal/backup"
	bt "github.com/cofferbackup/coffer/internal/backup/backuptest"
	"github.com/cofferbackup/coffer/internal/recpoint"
	"github.com/cofferbackup/coffer/internal/testserver"
)

// TestReadTagsEvery checks the ReadTagsEvery option on both endpoints:
// with N = 3, the two backups after a full read take the tags and ACLs of
// unchanged versions from the previous recovery point (no per-object
// request at all, and a tag changed meanwhile is not seen: that is what
// the option trades), say so in the probe, and the third reads them all
// again and restores exactly. New versions are read in full every time.
func TestReadTagsEvery(t *testing.T) {
	t.Parallel()
	eachServer(t, true, func(t *testing.T, srv *testserver.Server, mc *minio.Client, bucket string) {
		fillIncremental(t, mc, bucket)
		proxy := bt.NewProxy(t, srv.Endpoint)
		src := bt.Source(t, srv, proxy.URL)
		v := bt.Vault(t)
		every3 := func(o *backup.Options) { o.ReadTagsEvery = 3 }

		m1 := bt.Backup(t, src, v, bucket, nil, every3).Manifest
		if p := m1.Probe; p == nil || p.TagsCarried != 0 || !p.TagsReadAt.Equal(m1.CreatedAt) {
			t.Fatalf("first backup's probe %+v: want all tags read at %v", p, m1.CreatedAt)
		}
		oldVID := oldestVersion(t, mc, bucket, "k02")
		retag(t, mc, bucket, "k02", oldVID, map[string]string{"retagged": "old version"})
		put(t, mc, bucket, "k05b", 97, 2222, minio.PutObjectOptions{UserTags: map[string]string{"fresh": "1"}})

		prev := m1
		for i := 1; i <= 2; i++ {
			proxy.Reset()
			m := bt.Backup(t, src, v, bucket, &prev, every3).Manifest
			p := m.Probe
			if p == nil || p.TagsCarried != i || !p.TagsReadAt.Equal(m1.CreatedAt) || p.MetadataListing {
				t.Fatalf("backup %d's probe %+v: want tags carried %d times, read at %v, no metadata listing", i+1, p, i, m1.CreatedAt)
			}
			// The first carrying backup reads only the new k05b: its
			// GET and at most its tags and ACL; the second nothing.
			if got, gets := proxy.ObjectRequests(), proxy.ObjectGets(); (i == 1 && (gets != 1 || got > 3)) || (i == 2 && got != 0) {
				t.Errorf("backup %d made %d per-object requests (%d GETs)", i+1, got, gets)
			}
			recs := bt.Records(t, v, m)
			if r := find(recs, "k02", oldVID); r == nil || r.Tags["retagged"] != "" || r.Tags["v"] != "0" || r.TagsState != recpoint.StateCaptured {
				t.Errorf("backup %d: k02 %s record %+v, want its tags of the first backup", i+1, oldVID, r)
			}
			if r := latest(recs, "k05b"); r == nil || r.Tags["fresh"] != "1" {
				t.Errorf("backup %d: new k05b record %+v, want its tags read", i+1, r)
			}
			prev = m
		}

		snap := bt.Histories(bt.Snapshot(t, mc, bucket))
		m4 := bt.Backup(t, src, v, bucket, &prev, every3).Manifest
		if p := m4.Probe; p == nil || p.TagsCarried != 0 || !p.TagsReadAt.Equal(m4.CreatedAt) {
			t.Fatalf("fourth backup's probe %+v: want all tags read", p)
		}
		if r := find(bt.Records(t, v, m4), "k02", oldVID); r == nil || len(r.Tags) != 1 || r.Tags["retagged"] != "old version" {
			t.Errorf("fourth backup: k02 %s record %+v, want the new tag", oldVID, r)
		}
		restoreExact(t, srv, src, v, m4, snap.Select(0, nil))
	})
}

func oldestVersion(t *testing.T, mc *minio.Client, bucket, key string) string {
	t.Helper()
	vid := ""
	for _, o := range bt.ListVersions(t, mc, bucket) {
		if o.Key == key && !o.IsLatest {
			vid = o.VersionID // the last listed is the oldest
		}
	}
	if vid == "" {
		t.Fatalf("%s has no noncurrent version", key)
	}
	return vid
}

func retag(t *testing.T, mc *minio.Client, bucket, key, versionID string, m map[string]string) {
	t.Helper()
	tg, err := tags.NewTags(m, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.PutObjectTagging(context.Background(), bucket, key, tg, minio.PutObjectTaggingOptions{VersionID: versionID}); err != nil {
		t.Fatal(err)
	}
}

func find(recs []recpoint.Record, key, versionID string) *recpoint.Record {
	for i := range recs {
		if recs[i].Key == key && recs[i].VersionID == versionID {
			return &recs[i]
		}
	}
	return nil
}

func latest(recs []recpoint.Record, key string) *recpoint.Record {
	for i := range recs {
		if recs[i].Key == key && recs[i].IsLatest {
			return &recs[i]
		}
	}
	return nil
}
