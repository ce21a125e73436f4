package s3xml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

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

// DecodeACL parses an AccessControlPolicy document.
func DecodeACL(data []byte) (*recpoint.ACL, error) {
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

// EncodeACL writes an AccessControlPolicy document.
func EncodeACL(acl *recpoint.ACL) []byte {
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
