package api

import (
	"net/http"

	"github.com/cofferbackup/coffer/internal/service"
)

// Named S3 connections (coffer extension, docs/api.md "Connections").
func (s *Server) connectionRoutes() {
	s.handle("PUT /connections/{name}", s.createConnection)
	s.handle("GET /connections", s.listConnections)
	s.handle("GET /connections/{name}", s.describeConnection)
	s.handle("DELETE /connections/{name}", s.deleteConnection)
}

type connectionJSON struct {
	ConnectionName string
	Endpoint       string
	Region         string `json:",omitempty"`
	AccessKeyId    string //nolint:revive // AWS spelling
	VirtualHosted  bool
	PrivateCA      bool
	Static         bool
	CreationDate   *epoch `json:",omitempty"`
}

func toConnectionJSON(c service.Connection) connectionJSON {
	return connectionJSON{ConnectionName: c.Name, Endpoint: c.Endpoint, Region: c.Region, AccessKeyId: c.AccessKey,
		VirtualHosted: c.VirtualHosted, PrivateCA: c.PrivateCA, Static: c.Static, CreationDate: ts(c.CreatedAt)}
}

func (s *Server) createConnection(r *http.Request, body []byte) (any, error) {
	var in struct {
		Endpoint, Region, AccessKeyId, SecretAccessKey string //nolint:revive // AWS spelling
		VirtualHosted                                  bool
		CACertificate                                  string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.svc.CreateConnection(r.Context(), service.ConnectionInput{Name: r.PathValue("name"), Endpoint: in.Endpoint,
		Region: in.Region, AccessKey: in.AccessKeyId, SecretKey: in.SecretAccessKey, VirtualHosted: in.VirtualHosted, CACertPEM: in.CACertificate})
	if err != nil {
		return nil, err
	}
	return toConnectionJSON(c), nil
}

func (s *Server) describeConnection(r *http.Request, _ []byte) (any, error) {
	c, err := s.svc.Connection(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return toConnectionJSON(c), nil
}

func (s *Server) listConnections(r *http.Request, _ []byte) (any, error) {
	p, err := page(r)
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
	return listOut("Connections", out, tok), nil
}

func (s *Server) deleteConnection(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.svc.DeleteConnection(r.Context(), r.PathValue("name"))
}
