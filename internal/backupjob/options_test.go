package backupjob

import (
	"errors"
	"testing"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/vocab"
)

func TestValidateBackupOptions(t *testing.T) {
	for _, tt := range []struct {
		opts map[string]string
		ok   bool
	}{
		{nil, true},
		{map[string]string{OptBackupACLs: "enabled", OptBackupObjectTags: "disabled"}, true},
		{map[string]string{OptBackupACLs: "Enabled"}, false},
		{map[string]string{OptBackupObjectTags: ""}, false},
		{map[string]string{"WindowsVSS": "enabled"}, false},
		{map[string]string{vocab.OptChunking: vocab.ChunkingFixed}, true},
		{map[string]string{vocab.OptChunking: "4M"}, false},
	} {
		err := validateBackupOptions(tt.opts)
		if tt.ok != (err == nil) || err != nil && !errors.Is(err, vocab.ErrInvalidParameter) {
			t.Errorf("validateBackupOptions(%v) = %v, want ok %v", tt.opts, err, tt.ok)
		}
	}
}

func TestRecoveryPointID(t *testing.T) {
	j := jobstore.BackupJob{RecoveryPointARN: vocab.Names{Region: "eu-west-1", AccountID: "1"}.RecoveryPointARN("bkt-20261201-ab12cd34")}
	if got := recoveryPointID(j); got != "bkt-20261201-ab12cd34" {
		t.Fatalf("recoveryPointID = %q", got)
	}
}
