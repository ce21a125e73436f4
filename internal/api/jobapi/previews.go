package jobapi

import (
	"net/http"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/restore"
	"github.com/cofferbackup/coffer/internal/service"
)

// The restore-preview extension (docs/api.md, "Restore previews"): what a
// StartRestoreJob with the same body would write, skip and delete-mark,
// found without writing anything. The keys it lists go to the
// authenticated caller only, never to the catalog or the log.
func (s *handlers) previewRoutes(rt wire.Routes) {
	rt.Handle("POST /restore-previews", s.previewRestore)
}

type keyClassJSON struct {
	Count int64
	Keys  []string
}

type restorePreviewJSON struct {
	RecoveryPointArn      string
	DestinationBucketName string
	RestoreMode           string
	Write                 keyClassJSON
	Skip                  keyClassJSON
	DeleteMark            keyClassJSON
	Unchanged             keyClassJSON
	VersionsToWrite       int64
	DeleteMarkersToWrite  int64
	BytesToWrite          int64
	FailedCount           int64         `json:",omitempty"`
	Failures              []failureJSON `json:",omitempty"`
	Notes                 []string      `json:",omitempty"`
}

func toKeyClassJSON(c restore.KeyClass) keyClassJSON {
	keys := c.Keys
	if keys == nil {
		keys = []string{}
	}
	return keyClassJSON{Count: c.Count, Keys: keys}
}

func (s *handlers) previewRestore(r *http.Request, body []byte) (any, error) {
	var in struct {
		RecoveryPointArn string
		Metadata         map[string]string
		IamRoleArn       string
		ResourceType     string
		// MaxKeys: keys listed per class, default 100, at most 1000.
		MaxKeys int
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	p, err := s.svc.PreviewRestore(r.Context(), service.StartRestoreInput{
		RecoveryPointARN: in.RecoveryPointArn, Metadata: in.Metadata, IAMRoleARN: in.IamRoleArn, ResourceType: in.ResourceType,
	}, in.MaxKeys)
	if err != nil {
		return nil, err
	}
	mode, dest := "restore", p.Bucket
	if p.Rollback {
		mode = "rollback"
	}
	out := restorePreviewJSON{
		RecoveryPointArn: in.RecoveryPointArn, DestinationBucketName: dest, RestoreMode: mode,
		Write: toKeyClassJSON(p.Write), Skip: toKeyClassJSON(p.Skip), DeleteMark: toKeyClassJSON(p.DeleteMark),
		Unchanged: toKeyClassJSON(p.Unchanged), VersionsToWrite: p.Versions, DeleteMarkersToWrite: p.DeleteMarkers,
		BytesToWrite: p.Bytes, FailedCount: p.Failed, Notes: p.Notes,
	}
	for _, f := range p.Failures {
		out.Failures = append(out.Failures, failureJSON{Key: f.Key, VersionId: f.VersionID, Reason: f.Reason})
	}
	return out, nil
}
