package vault_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vault/vaulttest"
	"github.com/cofferbackup/coffer/internal/vaultmaint"
)

func TestDescriptorAndRecoveryPointTags(t *testing.T) {
	ctx := vaulttest.Ctx(t)
	dir := filepath.Join(t.TempDir(), "v")
	v := vaulttest.Create(t, dir)

	if _, err := v.Descriptor(ctx); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("descriptor of a new vault: %v, want vault.ErrNotFound", err)
	}

	created := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	first := vault.Descriptor{ID: "v-1", Name: "old", ARN: "arn:old", CreatedAt: created, CreatorRequestID: "req", EncryptionKeyARN: "arn:key"}
	second := first
	second.Name, second.ARN = "new", "arn:new"

	for _, d := range []vault.Descriptor{first, second} {
		if err := v.PutDescriptor(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	objs := []vaulttest.Object{{Key: "a", Data: vaulttest.RandomBytes(100, 1)}}
	vaulttest.PutRP(t, v, "rp-1", objs)
	vaulttest.PutRP(t, v, "rp-2", objs)

	tagSets := []vault.RecoveryPointTags{
		{ID: "rp-1", Tags: map[string]string{"a": "1"}, UpdatedAt: created},
		{ID: "rp-1", Tags: map[string]string{"a": "2", "b": "3"}, UpdatedAt: created.Add(time.Second)},
		{ID: "rp-2", Tags: map[string]string{}, UpdatedAt: created},
	}
	for _, ts := range tagSets {
		if err := v.PutRecoveryPointTags(ctx, ts); err != nil {
			t.Fatal(err)
		}
	}

	// Everything survives a reopen; the newest record of each kind wins.
	vaulttest.Close(t, v)
	v = vaulttest.Open(t, dir)
	defer vaulttest.Close(t, v)

	want := second
	want.Version = vault.DescriptorVersion

	got, err := v.Descriptor(ctx)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("descriptor %+v, %v; want %+v", got, err, want)
	}

	tags, err := v.AllRecoveryPointTags(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if len(tags) != 2 || !reflect.DeepEqual(tags["rp-1"].Tags, tagSets[1].Tags) || len(tags["rp-2"].Tags) != 0 {
		t.Fatalf("recovery point tags %+v", tags)
	}

	// Deleting a recovery point deletes its tag record with it.
	if err := v.DeleteRecoveryPoint(ctx, "rp-1"); err != nil {
		t.Fatal(err)
	}

	if tags, err = v.AllRecoveryPointTags(ctx); err != nil || len(tags) != 1 || tags["rp-2"].ID != "rp-2" {
		t.Fatalf("tags after delete: %+v, %v", tags, err)
	}

	// Maintenance neither deletes nor trips over these manifests.
	if _, err := vaultmaint.Maintain(ctx, v); err != nil {
		t.Fatal(err)
	}

	if got, err := v.Descriptor(ctx); err != nil || got.Name != "new" {
		t.Fatalf("descriptor after maintenance: %+v, %v", got, err)
	}
}
