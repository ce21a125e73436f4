package vaultapi

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/catalog/holdstore"
	"github.com/cofferbackup/coffer/internal/service"
)

func (s *handlers) lockRoutes(rt wire.Routes) {
	rt.Handle("PUT /backup-vaults/{name}/vault-lock", s.putVaultLock)
	rt.Handle("DELETE /backup-vaults/{name}/vault-lock", s.deleteVaultLock)
	rt.Handle("PUT /logically-air-gapped-backup-vaults/{name}", s.createAirGappedVault)
	rt.Handle("POST /backup-vaults/{name}/recovery-points/{arn}", s.updateRecoveryPointLifecycle)
	rt.Handle("POST /legal-holds", s.createLegalHold)
	rt.Handle("GET /legal-holds", s.listLegalHolds)
	rt.Handle("GET /legal-holds/{id}", s.getLegalHold)
	rt.HandleStatus("DELETE /legal-holds/{id}", http.StatusCreated, s.cancelLegalHold)
	rt.Handle("GET /legal-holds/{id}/recovery-points", s.listRecoveryPointsByLegalHold)
}

// epochIn is a timestamp as the SDK sends it: epoch seconds, with
// fractions.
type epochIn time.Time

func (e *epochIn) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return wire.BadParam("a timestamp must be epoch seconds, not %s", b)
	}
	sec, frac := math.Modf(f)
	*e = epochIn(time.Unix(int64(sec), int64(frac*1e9)).UTC())
	return nil
}

func (s *handlers) putVaultLock(r *http.Request, body []byte) (any, error) {
	var in struct{ MinRetentionDays, MaxRetentionDays, ChangeableForDays *int64 }
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	return struct{}{}, s.svc.PutVaultLock(r.Context(), r.PathValue("name"), service.VaultLockInput{
		MinRetentionDays: in.MinRetentionDays, MaxRetentionDays: in.MaxRetentionDays, ChangeableForDays: in.ChangeableForDays})
}

func (s *handlers) deleteVaultLock(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.DeleteVaultLock(r.Context(), r.PathValue("name"))
}

func (s *handlers) createAirGappedVault(r *http.Request, body []byte) (any, error) {
	var in struct {
		BackupVaultTags                    map[string]string
		CreatorRequestId                   string //nolint:revive // AWS spelling
		MinRetentionDays, MaxRetentionDays *int64
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	v, err := s.svc.CreateAirGappedVault(r.Context(), service.CreateVaultInput{Name: r.PathValue("name"), Tags: in.BackupVaultTags,
		CreatorRequestID: in.CreatorRequestId}, in.MinRetentionDays, in.MaxRetentionDays)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupVaultName": v.Name, "BackupVaultArn": v.ARN, "CreationDate": wire.TS(v.CreatedAt), "VaultState": "AVAILABLE"}, nil
}

func (s *handlers) updateRecoveryPointLifecycle(r *http.Request, body []byte) (any, error) {
	var in struct{ Lifecycle *wire.Lifecycle }
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	var days int64
	if in.Lifecycle != nil {
		days = in.Lifecycle.DeleteAfterDays
	}
	rp, err := s.svc.UpdateRecoveryPointLifecycle(r.Context(), r.PathValue("name"), r.PathValue("arn"), days)
	if err != nil {
		return nil, err
	}
	v, err := s.svc.Vault(r.Context(), rp.VaultName)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"BackupVaultArn": v.ARN, "RecoveryPointArn": rp.ARN}
	if rp.DeleteAfterDays > 0 {
		out["Lifecycle"] = wire.Lifecycle{DeleteAfterDays: rp.DeleteAfterDays}
		out["CalculatedLifecycle"] = map[string]any{"DeleteAt": wire.TS(rp.DeleteAt)}
	}
	return out, nil
}

type holdSelectionJSON struct {
	VaultNames          []string `json:",omitempty"`
	ResourceIdentifiers []string `json:",omitempty"`
	DateRange           *struct {
		FromDate *wire.Epoch `json:",omitempty"`
		ToDate   *wire.Epoch `json:",omitempty"`
	} `json:",omitempty"`
}

type legalHoldJSON struct {
	Title, Status, Description string
	CancelDescription          string `json:",omitempty"`
	LegalHoldId                string //nolint:revive // AWS spelling
	LegalHoldArn               string
	CreationDate               *wire.Epoch        `json:",omitempty"`
	CancellationDate           *wire.Epoch        `json:",omitempty"`
	RetainRecordUntil          *wire.Epoch        `json:",omitempty"`
	RecoveryPointSelection     *holdSelectionJSON `json:",omitempty"`
}

func toHoldJSON(h holdstore.LegalHold, withSelection bool) legalHoldJSON {
	out := legalHoldJSON{Title: h.Title, Status: h.Status, Description: h.Description, CancelDescription: h.CancelDescription,
		LegalHoldId: h.ID, LegalHoldArn: h.ARN, CreationDate: wire.TS(h.CreatedAt), CancellationDate: wire.TS(h.CancelledAt),
		RetainRecordUntil: wire.TS(h.RetainRecordUntil)}
	if withSelection {
		sel := &holdSelectionJSON{VaultNames: h.Selection.VaultNames, ResourceIdentifiers: h.Selection.ResourceARNs}
		if !h.Selection.From.IsZero() || !h.Selection.To.IsZero() {
			sel.DateRange = &struct {
				FromDate *wire.Epoch `json:",omitempty"`
				ToDate   *wire.Epoch `json:",omitempty"`
			}{wire.TS(h.Selection.From), wire.TS(h.Selection.To)}
		}
		out.RecoveryPointSelection = sel
	}
	return out
}

func (s *handlers) createLegalHold(r *http.Request, body []byte) (any, error) {
	var in struct {
		Title, Description, IdempotencyToken string
		RecoveryPointSelection               *struct {
			VaultNames          []string
			ResourceIdentifiers []string
			DateRange           *struct{ FromDate, ToDate *epochIn }
		}
		Tags map[string]string
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	hi := service.LegalHoldInput{Title: in.Title, Description: in.Description, IdempotencyToken: in.IdempotencyToken, Tags: in.Tags}
	if sel := in.RecoveryPointSelection; sel != nil {
		hi.Selection.VaultNames, hi.Selection.ResourceARNs = sel.VaultNames, sel.ResourceIdentifiers
		if dr := sel.DateRange; dr != nil {
			if dr.FromDate != nil {
				hi.Selection.From = time.Time(*dr.FromDate)
			}
			if dr.ToDate != nil {
				hi.Selection.To = time.Time(*dr.ToDate)
			}
		}
	}
	h, _, err := s.svc.CreateLegalHold(r.Context(), hi)
	if err != nil {
		return nil, err
	}
	return toHoldJSON(h, true), nil
}

func (s *handlers) getLegalHold(r *http.Request, _ []byte) (any, error) {
	h, err := s.svc.LegalHold(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return toHoldJSON(h, true), nil
}

func (s *handlers) listLegalHolds(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	hs, tok, err := s.svc.ListLegalHolds(r.Context(), p)
	if err != nil {
		return nil, err
	}
	out := make([]legalHoldJSON, 0, len(hs))
	for _, h := range hs {
		out = append(out, toHoldJSON(h, false))
	}
	return wire.ListOut("LegalHolds", out, tok), nil
}

func (s *handlers) cancelLegalHold(r *http.Request, _ []byte) (any, error) {
	q := r.URL.Query()
	var days int64
	if v := q.Get("retainRecordInDays"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, wire.BadParam("retainRecordInDays must be a number of days, not %q", v)
		}
		days = n
	}
	return struct{}{}, s.svc.CancelLegalHold(r.Context(), r.PathValue("id"), q.Get("cancelDescription"), days)
}

func (s *handlers) listRecoveryPointsByLegalHold(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	pts, tok, err := s.svc.ListRecoveryPointsByLegalHold(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return nil, err
	}
	type member struct{ RecoveryPointArn, ResourceArn, ResourceType, BackupVaultName string }
	out := make([]member, 0, len(pts))
	for _, pt := range pts {
		out = append(out, member{pt.RecoveryPointARN, pt.ResourceARN, pt.ResourceType, pt.VaultName})
	}
	return wire.ListOut("RecoveryPoints", out, tok), nil
}
