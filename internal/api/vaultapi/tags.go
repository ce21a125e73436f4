package vaultapi

import (
	"net/http"
	"sort"
	"strings"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/service"
)

func (s *handlers) tagRoutes(rt wire.Routes) {
	rt.Handle("GET /tags/{arn}", s.listTags)
	rt.Handle("POST /tags/{arn}", s.tagResource)
	rt.Handle("POST /untag/{arn}", s.untagResource)
	rt.Handle("GET /resources", s.listProtectedResources)
	rt.Handle("GET /resources/{arn}", s.describeProtectedResource)
}

func (s *handlers) listTags(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	tags, err := s.svc.ListTags(r.Context(), r.PathValue("arn"))
	if err != nil {
		return nil, err
	}
	// Tags are few (AWS allows 50 per resource); paginate in memory by key.
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	start := 0
	if p.Token != "" {
		start = sort.SearchStrings(keys, strings.TrimPrefix(p.Token, "k:"))
		if !strings.HasPrefix(p.Token, "k:") {
			return nil, wire.BadParam("NextToken is not valid")
		}
	}
	limit := p.Max
	if limit == 0 {
		limit = 1000
	}
	out := map[string]string{}
	next := ""
	for i := start; i < len(keys); i++ {
		if len(out) == limit {
			next = "k:" + keys[i]
			break
		}
		out[keys[i]] = tags[keys[i]]
	}
	return wire.ListOut("Tags", out, next), nil
}

func (s *handlers) tagResource(r *http.Request, body []byte) (any, error) {
	var in struct{ Tags map[string]string }
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, wire.Error{Status: 400, Code: "MissingParameterValueException", Msg: "Tags is required"}
	}
	return struct{}{}, s.svc.TagResource(r.Context(), r.PathValue("arn"), in.Tags)
}

func (s *handlers) untagResource(r *http.Request, body []byte) (any, error) {
	var in struct{ TagKeyList []string }
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.TagKeyList) == 0 {
		return nil, wire.Error{Status: 400, Code: "MissingParameterValueException", Msg: "TagKeyList is required"}
	}
	return struct{}{}, s.svc.UntagResource(r.Context(), r.PathValue("arn"), in.TagKeyList)
}

type protectedJSON struct {
	ResourceArn          string
	ResourceType         string
	ResourceName         string
	LastBackupTime       *wire.Epoch `json:",omitempty"`
	LastBackupVaultArn   string
	LastRecoveryPointArn string
}

func (s *handlers) listProtectedResources(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	res, tok, err := s.svc.ProtectedResources(r.Context(), "", p)
	if err != nil {
		return nil, err
	}
	out := make([]protectedJSON, 0, len(res))
	for _, pr := range res {
		out = append(out, toProtectedJSON(pr))
	}
	return wire.ListOut("Results", out, tok), nil
}

func (s *handlers) describeProtectedResource(r *http.Request, _ []byte) (any, error) {
	res, _, err := s.svc.ProtectedResources(r.Context(), r.PathValue("arn"), wire.Page0())
	if err != nil {
		return nil, err
	}
	return toProtectedJSON(res[0]), nil
}

func toProtectedJSON(pr service.ProtectedResource) protectedJSON {
	return protectedJSON{ResourceArn: pr.ResourceARN, ResourceType: pr.ResourceType,
		ResourceName: strings.TrimPrefix(pr.ResourceARN, "arn:aws:s3:::"), LastBackupTime: wire.TS(pr.LastBackupTime),
		LastBackupVaultArn: pr.LastVaultARN, LastRecoveryPointArn: pr.LastRecoveryPointARN}
}
