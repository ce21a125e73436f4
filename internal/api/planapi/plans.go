package planapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/service"
)

// handlers serves the plan operations of svc.
type handlers struct {
	svc *service.Service
}

// Register routes the plan and selection operations to svc.
func Register(rt wire.Routes, svc *service.Service) {
	s := &handlers{svc: svc}
	rt.Handle("PUT /backup/plans", s.createPlan)
	rt.Handle("GET /backup/plans", s.listPlans)
	rt.Handle("GET /backup/plans/{id}", s.getPlan)
	rt.Handle("POST /backup/plans/{id}", s.updatePlan)
	rt.Handle("DELETE /backup/plans/{id}", s.deletePlan)
	rt.Handle("GET /backup/plans/{id}/versions", s.listPlanVersions)
	rt.Handle("GET /backup/plans/{id}/toTemplate", s.exportPlanTemplate)
	rt.Handle("POST /backup/template/json/toPlan", s.planFromJSON)
	rt.Handle("PUT /backup/plans/{id}/selections", s.createSelection)
	rt.Handle("GET /backup/plans/{id}/selections", s.listSelections)
	rt.Handle("GET /backup/plans/{id}/selections/{sid}", s.getSelection)
	rt.Handle("DELETE /backup/plans/{id}/selections/{sid}", s.deleteSelection)
}

type planListMember struct {
	BackupPlanArn          string
	BackupPlanId           string
	BackupPlanName         string
	VersionId              string
	CreationDate           *wire.Epoch                  `json:",omitempty"`
	DeletionDate           *wire.Epoch                  `json:",omitempty"`
	LastExecutionDate      *wire.Epoch                  `json:",omitempty"`
	CreatorRequestId       string                       `json:",omitempty"`
	AdvancedBackupSettings []plan.AdvancedBackupSetting `json:",omitempty"`
}

func toPlanListMember(p service.Plan) planListMember {
	return planListMember{BackupPlanArn: p.ARN, BackupPlanId: p.ID, BackupPlanName: p.Doc.BackupPlanName, VersionId: p.VersionID,
		CreationDate: wire.TS(p.CreatedAt), DeletionDate: wire.TS(p.DeletedAt), LastExecutionDate: wire.TS(p.LastExecutionAt),
		CreatorRequestId: p.CreatorRequestID, AdvancedBackupSettings: p.Doc.AdvancedBackupSettings}
}

func (s *handlers) createPlan(r *http.Request, body []byte) (any, error) {
	var in struct {
		BackupPlan       *plan.Document
		BackupPlanTags   map[string]string
		CreatorRequestId string
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	if in.BackupPlan == nil {
		return nil, wire.Error{Status: 400, Code: "MissingParameterValueException", Msg: "BackupPlan is required"}
	}
	p, err := s.svc.CreatePlan(r.Context(), *in.BackupPlan, in.BackupPlanTags, in.CreatorRequestId)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "CreationDate": wire.TS(p.CreatedAt), "VersionId": p.VersionID,
		"AdvancedBackupSettings": p.Doc.AdvancedBackupSettings}, nil
}

func (s *handlers) getPlan(r *http.Request, _ []byte) (any, error) {
	q := r.URL.Query()
	p, err := s.svc.Plan(r.Context(), r.PathValue("id"), q.Get("versionId"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"BackupPlan": p.Doc, "BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "VersionId": p.VersionID,
		"CreationDate": wire.TS(p.CreatedAt), "AdvancedBackupSettings": p.Doc.AdvancedBackupSettings}
	if p.CreatorRequestID != "" {
		out["CreatorRequestId"] = p.CreatorRequestID
	}
	if !p.DeletedAt.IsZero() {
		out["DeletionDate"] = wire.TS(p.DeletedAt)
	}
	if !p.LastExecutionAt.IsZero() {
		out["LastExecutionDate"] = wire.TS(p.LastExecutionAt)
	}
	if v := q.Get("MaxScheduledRunsPreview"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10 {
			return nil, wire.BadParam("MaxScheduledRunsPreview must be a number from 0 to 10, not %q", v)
		}
		runs, err := s.svc.NextRuns(r.Context(), p, n)
		if err != nil {
			return nil, err
		}
		preview := make([]map[string]any, 0, len(runs))
		for _, run := range runs {
			preview = append(preview, map[string]any{"ExecutionTime": wire.TS(run.Time), "RuleId": run.RuleID, "RuleExecutionType": "SNAPSHOTS"})
		}
		out["ScheduledRunsPreview"] = preview
	}
	return out, nil
}

func (s *handlers) updatePlan(r *http.Request, body []byte) (any, error) {
	var in struct{ BackupPlan *plan.Document }
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	if in.BackupPlan == nil {
		return nil, wire.Error{Status: 400, Code: "MissingParameterValueException", Msg: "BackupPlan is required"}
	}
	p, err := s.svc.UpdatePlan(r.Context(), r.PathValue("id"), *in.BackupPlan)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "CreationDate": wire.TS(p.CreatedAt), "VersionId": p.VersionID,
		"AdvancedBackupSettings": p.Doc.AdvancedBackupSettings}, nil
}

func (s *handlers) deletePlan(r *http.Request, _ []byte) (any, error) {
	p, err := s.svc.DeletePlan(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "DeletionDate": wire.TS(p.DeletedAt), "VersionId": p.VersionID}, nil
}

func (s *handlers) listPlans(r *http.Request, _ []byte) (any, error) {
	pg, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	incl := r.URL.Query().Get("includeDeleted") == "true"
	plans, tok, err := s.svc.ListPlans(r.Context(), incl, pg)
	if err != nil {
		return nil, err
	}
	out := make([]planListMember, 0, len(plans))
	for _, p := range plans {
		out = append(out, toPlanListMember(p))
	}
	return wire.ListOut("BackupPlansList", out, tok), nil
}

func (s *handlers) listPlanVersions(r *http.Request, _ []byte) (any, error) {
	pg, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	plans, tok, err := s.svc.ListPlanVersions(r.Context(), r.PathValue("id"), pg)
	if err != nil {
		return nil, err
	}
	out := make([]planListMember, 0, len(plans))
	for _, p := range plans {
		out = append(out, toPlanListMember(p))
	}
	return wire.ListOut("BackupPlanVersionsList", out, tok), nil
}

func (s *handlers) exportPlanTemplate(r *http.Request, _ []byte) (any, error) {
	p, err := s.svc.Plan(r.Context(), r.PathValue("id"), "")
	if err != nil {
		return nil, err
	}
	doc := p.Doc
	for i := range doc.Rules {
		doc.Rules[i].RuleId = "" // a template is a plan to create, not this plan
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupPlanTemplateJson": string(b)}, nil
}

func (s *handlers) planFromJSON(_ *http.Request, body []byte) (any, error) {
	var in struct{ BackupPlanTemplateJson string }
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	var doc plan.Document
	dec := json.NewDecoder(strings.NewReader(in.BackupPlanTemplateJson))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, wire.BadParam("BackupPlanTemplateJson is not a backup plan document: %v", err)
	}
	if err := doc.Validate(nil); err != nil {
		return nil, wire.BadParam("%v", err)
	}
	return map[string]any{"BackupPlan": doc}, nil
}

func (s *handlers) createSelection(r *http.Request, body []byte) (any, error) {
	var in struct {
		BackupSelection  *plan.Selection
		CreatorRequestId string
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	if in.BackupSelection == nil {
		return nil, wire.Error{Status: 400, Code: "MissingParameterValueException", Msg: "BackupSelection is required"}
	}
	sel, err := s.svc.CreateSelection(r.Context(), r.PathValue("id"), *in.BackupSelection, in.CreatorRequestId)
	if err != nil {
		return nil, err
	}
	return map[string]any{"SelectionId": sel.ID, "BackupPlanId": sel.PlanID, "CreationDate": wire.TS(sel.CreatedAt)}, nil
}

func (s *handlers) getSelection(r *http.Request, _ []byte) (any, error) {
	sel, err := s.svc.Selection(r.Context(), r.PathValue("id"), r.PathValue("sid"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"BackupSelection": sel.Doc, "SelectionId": sel.ID, "BackupPlanId": sel.PlanID, "CreationDate": wire.TS(sel.CreatedAt)}
	if sel.CreatorRequestID != "" {
		out["CreatorRequestId"] = sel.CreatorRequestID
	}
	return out, nil
}

func (s *handlers) listSelections(r *http.Request, _ []byte) (any, error) {
	pg, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	sels, tok, err := s.svc.ListSelections(r.Context(), r.PathValue("id"), pg)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(sels))
	for _, sel := range sels {
		m := map[string]any{"SelectionId": sel.ID, "SelectionName": sel.Name, "BackupPlanId": sel.PlanID,
			"CreationDate": wire.TS(sel.CreatedAt), "IamRoleArn": sel.Doc.IamRoleArn}
		if sel.CreatorRequestID != "" {
			m["CreatorRequestId"] = sel.CreatorRequestID
		}
		out = append(out, m)
	}
	return wire.ListOut("BackupSelectionsList", out, tok), nil
}

func (s *handlers) deleteSelection(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.DeleteSelection(r.Context(), r.PathValue("id"), r.PathValue("sid"))
}
