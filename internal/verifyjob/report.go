package verifyjob

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/catalog/jobstore"
	"github.com/cofferbackup/coffer/internal/vaultverify"
)

// Problem is one problem of a report, with its recovery point's ARN.
type Problem struct {
	vaultverify.Problem
	RecoveryPointArn string `json:",omitempty"`
}

// Report is what a verification job found: vaultverify.Report with the
// affected recovery points named by their ARNs.
type Report struct {
	ReadDataPercent        float64
	Seed                   uint64
	RecoveryPoints         int64
	Records                int64
	Objects                int64
	Contents               int64
	Packs                  int64
	DeletedReferenced      int64
	ObjectsRead            int64
	BytesRead              int64
	ProblemCount           int64
	ProblemKinds           map[string]int64 `json:",omitempty"`
	AffectedRecoveryPoints []string         `json:",omitempty"` // ARNs, sorted by id
	Problems               []Problem        `json:",omitempty"`
}

// OK reports whether the verification found no problem.
func (r Report) OK() bool { return r.ProblemCount == 0 }

// errDamaged: a sealed list of problems that does not open (another
// master key, or a damaged catalog row).
var errDamaged = errors.New("the sealed list of problems does not open under this master key")

// record stores rep in j: the counts and ARNs in clear, the problems
// sealed.
func (v *Verifications) record(j *jobstore.VerificationJob, rep vaultverify.Report) error {
	out := Report{ReadDataPercent: rep.ReadDataPercent, Seed: rep.Seed, RecoveryPoints: rep.RecoveryPoints, Records: rep.Records,
		Objects: rep.Objects, Contents: rep.Contents, Packs: rep.Packs, DeletedReferenced: rep.DeletedReferenced,
		ObjectsRead: rep.ObjectsRead, BytesRead: rep.BytesRead, ProblemCount: rep.ProblemCount, ProblemKinds: rep.ProblemKinds}
	for _, id := range rep.AffectedRecoveryPoints {
		out.AffectedRecoveryPoints = append(out.AffectedRecoveryPoints, v.cfg.Names.RecoveryPointARN(id))
	}
	stats, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode verification report: %w", err)
	}
	j.Stats, j.Problems = string(stats), ""
	if len(rep.Problems) == 0 {
		return nil
	}
	plain, err := json.Marshal(rep.Problems)
	if err != nil {
		return fmt.Errorf("encode verification problems: %w", err)
	}
	if j.Problems, err = v.seal(j.ID, plain); err != nil {
		return fmt.Errorf("seal verification problems: %w", err)
	}
	return nil
}

// Report returns the report of job j (zero before it ran).
func (v *Verifications) Report(j jobstore.VerificationJob) (Report, error) {
	var rep Report
	if j.Stats != "" && j.Stats != "{}" {
		if err := json.Unmarshal([]byte(j.Stats), &rep); err != nil {
			return rep, fmt.Errorf("verification job %s: its report does not decode: %w", j.ID, err)
		}
	}
	if j.Problems == "" {
		return rep, nil
	}
	plain, err := v.open(j.ID, j.Problems)
	if err != nil {
		return rep, fmt.Errorf("verification job %s: %w", j.ID, err)
	}
	var ps []vaultverify.Problem
	if err := json.Unmarshal(plain, &ps); err != nil {
		return rep, fmt.Errorf("verification job %s: its problems do not decode: %w", j.ID, err)
	}
	for _, p := range ps {
		q := Problem{Problem: p}
		if p.RecoveryPointID != "" {
			q.RecoveryPointArn = v.cfg.Names.RecoveryPointARN(p.RecoveryPointID)
		}
		rep.Problems = append(rep.Problems, q)
	}
	return rep, nil
}

// seal encrypts plain with AES-256-GCM, bound to the job's id.
func (v *Verifications) seal(id string, plain []byte) (string, error) {
	aead, err := v.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return "v1:" + base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(id))), nil
}

func (v *Verifications) open(id, sealed string) ([]byte, error) {
	aead, err := v.aead()
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil || !strings.HasPrefix(sealed, "v1:") || len(raw) < aead.NonceSize() {
		return nil, errDamaged
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(id))
	if err != nil {
		return nil, errDamaged
	}
	return plain, nil
}

func (v *Verifications) aead() (cipher.AEAD, error) {
	b, err := aes.NewCipher(v.cfg.SealKey)
	if err != nil {
		return nil, fmt.Errorf("verification reports: %w", err)
	}
	return cipher.NewGCM(b)
}
