package vaultapi

import (
	"net/http"

	"github.com/cofferbackup/coffer/internal/api/wire"
	"github.com/cofferbackup/coffer/internal/service"
)

// Named S3 connections (coffer extension, docs/api.md "Connections").
func (s *handlers) connectionRoutes(rt wire.Routes) {
	rt.Handle("PUT /connections/{name}", s.createConnection)
	rt.Handle("GET /connections", s.listConnections)
	rt.Handle("GET /connections/{name}", s.describeConnection)
	rt.Handle("DELETE /connections/{name}", s.deleteConnection)
}

type connectionJSON struct {
	ConnectionName string
	Endpoint       string
	Region         string `json:",omitempty"`
	AccessKeyId    string //nolint:revive // AWS spelling
	VirtualHosted  bool
	PrivateCA      bool
	Static         bool
	CreationDate   *wire.Epoch `json:",omitempty"`
}

func toConnectionJSON(c service.Connection) connectionJSON {
	return connectionJSON{ConnectionName: c.Name, Endpoint: c.Endpoint, Region: c.Region, AccessKeyId: c.AccessKey,
		VirtualHosted: c.VirtualHosted, PrivateCA: c.PrivateCA, Static: c.Static, CreationDate: wire.TS(c.CreatedAt)}
}

func (s *handlers) createConnection(r *http.Request, body []byte) (any, error) {
	var in struct {
		Endpoint, Region, AccessKeyId, SecretAccessKey string //nolint:revive // AWS spelling
		VirtualHosted                                  bool
		CACertificate                                  string
	}
	if err := wire.Decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.svc.CreateConnection(r.Context(), service.ConnectionInput{Name: r.PathValue("name"), Endpoint: in.Endpoint,
		Region: in.Region, AccessKey: in.AccessKeyId, SecretKey: in.SecretAccessKey, VirtualHosted: in.VirtualHosted, CACertPEM: in.CACertificate})
	if err != nil {
		return nil, err
	}
	return toConnectionJSON(c), nil
}

func (s *handlers) describeConnection(r *http.Request, _ []byte) (any, error) {
	c, err := s.svc.Connection(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return toConnectionJSON(c), nil
}

func (s *handlers) listConnections(r *http.Request, _ []byte) (any, error) {
	p, err := wire.Page(r)
	if err != nil {
		return nil, err
	}
	cs, tok, err := s.svc.ListConnections(r.Context(), p)
	if err != nil {
		return nil, err
	}
	out := make([]connectionJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, toConnectionJSON(c))
	}
	return wire.ListOut("Connections", out, tok), nil
}

func (s *handlers) deleteConnection(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.DeleteConnection(r.Context(), r.PathValue("name"))
}
