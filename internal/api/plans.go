package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cofferbackup/coffer/internal/plan"
	"github.com/cofferbackup/coffer/internal/service"
)

func (s *Server) planRoutes() {
	s.handle("PUT /backup/plans", s.createPlan)
	s.handle("GET /backup/plans", s.listPlans)
	s.handle("GET /backup/plans/{id}", s.getPlan)
	s.handle("POST /backup/plans/{id}", s.updatePlan)
	s.handle("DELETE /backup/plans/{id}", s.deletePlan)
	s.handle("GET /backup/plans/{id}/versions", s.listPlanVersions)
	s.handle("GET /backup/plans/{id}/toTemplate", s.exportPlanTemplate)
	s.handle("POST /backup/template/json/toPlan", s.planFromJSON)
	s.handle("PUT /backup/plans/{id}/selections", s.createSelection)
	s.handle("GET /backup/plans/{id}/selections", s.listSelections)
	s.handle("GET /backup/plans/{id}/selections/{sid}", s.getSelection)
	s.handle("DELETE /backup/plans/{id}/selections/{sid}", s.deleteSelection)
}

type planListMember struct {
	BackupPlanArn          string
	BackupPlanId           string
	BackupPlanName         string
	VersionId              string
	CreationDate           *epoch                       `json:",omitempty"`
	DeletionDate           *epoch                       `json:",omitempty"`
	LastExecutionDate      *epoch                       `json:",omitempty"`
	CreatorRequestId       string                       `json:",omitempty"`
	AdvancedBackupSettings []plan.AdvancedBackupSetting `json:",omitempty"`
}

func toPlanListMember(p service.Plan) planListMember {
	return planListMember{BackupPlanArn: p.ARN, BackupPlanId: p.ID, BackupPlanName: p.Doc.BackupPlanName, VersionId: p.VersionID,
		CreationDate: ts(p.CreatedAt), DeletionDate: ts(p.DeletedAt), LastExecutionDate: ts(p.LastExecutionAt),
		CreatorRequestId: p.CreatorRequestID, AdvancedBackupSettings: p.Doc.AdvancedBackupSettings}
}

func (s *Server) createPlan(r *http.Request, body []byte) (any, error) {
	var in struct {
		BackupPlan       *plan.Document
		BackupPlanTags   map[string]string
		CreatorRequestId string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.BackupPlan == nil {
		return nil, apiError{status: 400, code: "MissingParameterValueException", msg: "BackupPlan is required"}
	}
	p, err := s.svc.CreatePlan(r.Context(), *in.BackupPlan, in.BackupPlanTags, in.CreatorRequestId)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "CreationDate": ts(p.CreatedAt), "VersionId": p.VersionID,
		"AdvancedBackupSettings": p.Doc.AdvancedBackupSettings}, nil
}

func (s *Server) getPlan(r *http.Request, _ []byte) (any, error) {
	q := r.URL.Query()
	p, err := s.svc.Plan(r.Context(), r.PathValue("id"), q.Get("versionId"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"BackupPlan": p.Doc, "BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "VersionId": p.VersionID,
		"CreationDate": ts(p.CreatedAt), "AdvancedBackupSettings": p.Doc.AdvancedBackupSettings}
	if p.CreatorRequestID != "" {
		out["CreatorRequestId"] = p.CreatorRequestID
	}
	if !p.DeletedAt.IsZero() {
		out["DeletionDate"] = ts(p.DeletedAt)
	}
	if !p.LastExecutionAt.IsZero() {
		out["LastExecutionDate"] = ts(p.LastExecutionAt)
	}
	if v := q.Get("MaxScheduledRunsPreview"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10 {
			return nil, badParam("MaxScheduledRunsPreview must be a number from 0 to 10, not %q", v)
		}
		runs, err := s.svc.NextRuns(r.Context(), p, n)
		if err != nil {
			return nil, err
		}
		preview := make([]map[string]any, 0, len(runs))
		for _, run := range runs {
			preview = append(preview, map[string]any{"ExecutionTime": ts(run.Time), "RuleId": run.RuleID, "RuleExecutionType": "SNAPSHOTS"})
		}
		out["ScheduledRunsPreview"] = preview
	}
	return out, nil
}

func (s *Server) updatePlan(r *http.Request, body []byte) (any, error) {
	var in struct{ BackupPlan *plan.Document }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.BackupPlan == nil {
		return nil, apiError{status: 400, code: "MissingParameterValueException", msg: "BackupPlan is required"}
	}
	p, err := s.svc.UpdatePlan(r.Context(), r.PathValue("id"), *in.BackupPlan)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "CreationDate": ts(p.CreatedAt), "VersionId": p.VersionID,
		"AdvancedBackupSettings": p.Doc.AdvancedBackupSettings}, nil
}

func (s *Server) deletePlan(r *http.Request, _ []byte) (any, error) {
	p, err := s.svc.DeletePlan(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "DeletionDate": ts(p.DeletedAt), "VersionId": p.VersionID}, nil
}

func (s *Server) listPlans(r *http.Request, _ []byte) (any, error) {
	pg, err := page(r)
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
	return listOut("BackupPlansList", out, tok), nil
}

func (s *Server) listPlanVersions(r *http.Request, _ []byte) (any, error) {
	pg, err := page(r)
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
	return listOut("BackupPlanVersionsList", out, tok), nil
}

func (s *Server) exportPlanTemplate(r *http.Request, _ []byte) (any, error) {
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

func (s *Server) planFromJSON(_ *http.Request, body []byte) (any, error) {
	var in struct{ BackupPlanTemplateJson string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var doc plan.Document
	dec := json.NewDecoder(strings.NewReader(in.BackupPlanTemplateJson))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, badParam("BackupPlanTemplateJson is not a backup plan document: %v", err)
	}
	if err := doc.Validate(nil); err != nil {
		return nil, badParam("%v", err)
	}
	return map[string]any{"BackupPlan": doc}, nil
}

func (s *Server) createSelection(r *http.Request, body []byte) (any, error) {
	var in struct {
		BackupSelection  *plan.Selection
		CreatorRequestId string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.BackupSelection == nil {
		return nil, apiError{status: 400, code: "MissingParameterValueException", msg: "BackupSelection is required"}
	}
	sel, err := s.svc.CreateSelection(r.Context(), r.PathValue("id"), *in.BackupSelection, in.CreatorRequestId)
	if err != nil {
		return nil, err
	}
	return map[string]any{"SelectionId": sel.ID, "BackupPlanId": sel.PlanID, "CreationDate": ts(sel.CreatedAt)}, nil
}

func (s *Server) getSelection(r *http.Request, _ []byte) (any, error) {
	sel, err := s.svc.Selection(r.Context(), r.PathValue("id"), r.PathValue("sid"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"BackupSelection": sel.Doc, "SelectionId": sel.ID, "BackupPlanId": sel.PlanID, "CreationDate": ts(sel.CreatedAt)}
	if sel.CreatorRequestID != "" {
		out["CreatorRequestId"] = sel.CreatorRequestID
	}
	return out, nil
}

func (s *Server) listSelections(r *http.Request, _ []byte) (any, error) {
	pg, err := page(r)
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
			"CreationDate": ts(sel.CreatedAt), "IamRoleArn": sel.Doc.IamRoleArn}
		if sel.CreatorRequestID != "" {
			m["CreatorRequestId"] = sel.CreatorRequestID
		}
		out = append(out, m)
	}
	return listOut("BackupSelectionsList", out, tok), nil
}

func (s *Server) deleteSelection(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.DeleteSelection(r.Context(), r.PathValue("id"), r.PathValue("sid"))
}
