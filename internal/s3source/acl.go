package s3source

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

// minio-go has no PutObjectAcl, and its GetObjectACL ignores version ids
// and adds a HEAD of the current version; so object ACLs are read and
// written here with SigV4-signed requests of their own.

// ACL returns a version's ACL; ErrNotSupported if the endpoint lacks GetObjectAcl.
func (c *Client) ACL(ctx context.Context, bucket, key, versionID string) (*recpoint.ACL, error) {
	q := url.Values{"acl": {""}}
	if v := versionParam(versionID); v != "" {
		q.Set("versionId", v)
	}
	body, err := c.rawRequest(ctx, http.MethodGet, bucket, key, q, nil)
	if err != nil {
		return nil, wrapErr("get object acl", bucket, key, versionID, err)
	}
	acl, err := decodeACL(body)
	if err != nil {
		return nil, wrapErr("get object acl", bucket, key, versionID, err)
	}
	return acl, nil
}

// PutACL sets a version's ACL; ErrNotSupported if the endpoint lacks PutObjectAcl.
func (c *Client) PutACL(ctx context.Context, bucket, key, versionID string, acl *recpoint.ACL) error {
	if acl == nil {
		return fmt.Errorf("s3source: put object acl %s/%q: nil ACL", bucket, key)
	}
	q := url.Values{"acl": {""}}
	if v := versionParam(versionID); v != "" {
		q.Set("versionId", v)
	}
	if _, err := c.rawRequest(ctx, http.MethodPut, bucket, key, q, encodeACL(acl)); err != nil {
		return wrapErr("put object acl", bucket, key, versionID, err)
	}
	return nil
}

// errorFromResponse decodes an S3 error body, or makes one from the status.
func errorFromResponse(status int, data []byte, bucket, key string) minio.ErrorResponse {
	var er minio.ErrorResponse
	if err := xml.Unmarshal(data, &er); err != nil || er.Code == "" {
		er = minio.ErrorResponse{Message: http.StatusText(status)}
		switch status {
		case http.StatusNotFound:
			er.Code = "NoSuchKey"
		case http.StatusForbidden:
			er.Code = "AccessDenied"
		case http.StatusNotImplemented:
			er.Code = "NotImplemented"
		case http.StatusMethodNotAllowed:
			er.Code = "MethodNotAllowed"
		default:
			er.Code = fmt.Sprintf("HTTP%d", status)
		}
	}
	er.StatusCode = status
	if er.BucketName == "" {
		er.BucketName = bucket
	}
	if er.Key == "" {
		er.Key = key
	}
	return er
}

type xmlACLPolicy struct {
	Owner struct {
		ID          string `xml:"ID"`
		DisplayName string `xml:"DisplayName"`
	} `xml:"Owner"`
	Grants []xmlGrant `xml:"AccessControlList>Grant"`
}

type xmlGrant struct {
	Grantee struct {
		Attrs       []xml.Attr `xml:",any,attr"`
		ID          string     `xml:"ID"`
		DisplayName string     `xml:"DisplayName"`
		URI         string     `xml:"URI"`
		Email       string     `xml:"EmailAddress"`
	} `xml:"Grantee"`
	Permission string `xml:"Permission"`
}

// decodeACL parses an AccessControlPolicy document.
func decodeACL(data []byte) (*recpoint.ACL, error) {
	var p xmlACLPolicy
	if err := xml.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode AccessControlPolicy: %w", err)
	}
	acl := &recpoint.ACL{OwnerID: p.Owner.ID, OwnerDisplayName: p.Owner.DisplayName}
	for _, g := range p.Grants {
		gr := recpoint.Grant{
			GranteeID:   g.Grantee.ID,
			GranteeURI:  g.Grantee.URI,
			Email:       g.Grantee.Email,
			DisplayName: g.Grantee.DisplayName,
			Permission:  g.Permission,
		}
		for _, a := range g.Grantee.Attrs {
			if a.Name.Local == "type" {
				gr.GranteeType = a.Value
			}
		}
		if gr.GranteeType == "" {
			gr.GranteeType = guessGranteeType(gr)
		}
		acl.Grants = append(acl.Grants, gr)
	}
	return acl, nil
}

func guessGranteeType(g recpoint.Grant) string {
	switch {
	case g.GranteeURI != "":
		return "Group"
	case g.Email != "":
		return "AmazonCustomerByEmail"
	default:
		return "CanonicalUser"
	}
}

// encodeACL writes an AccessControlPolicy document.
func encodeACL(acl *recpoint.ACL) []byte {
	var b strings.Builder
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	b.WriteString("<Owner><ID>" + esc(acl.OwnerID) + "</ID>")
	if acl.OwnerDisplayName != "" {
		b.WriteString("<DisplayName>" + esc(acl.OwnerDisplayName) + "</DisplayName>")
	}
	b.WriteString("</Owner><AccessControlList>")
	for _, g := range acl.Grants {
		typ := g.GranteeType
		if typ == "" {
			typ = guessGranteeType(g)
		}
		b.WriteString(`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="` + esc(typ) + `">`)
		switch typ {
		case "Group":
			b.WriteString("<URI>" + esc(g.GranteeURI) + "</URI>")
		case "AmazonCustomerByEmail":
			b.WriteString("<EmailAddress>" + esc(g.Email) + "</EmailAddress>")
		default:
			b.WriteString("<ID>" + esc(g.GranteeID) + "</ID>")
			if g.DisplayName != "" {
				b.WriteString("<DisplayName>" + esc(g.DisplayName) + "</DisplayName>")
			}
		}
		b.WriteString("</Grantee><Permission>" + esc(g.Permission) + "</Permission></Grant>")
	}
	b.WriteString("</AccessControlList></AccessControlPolicy>")
	return []byte(b.String())
}
