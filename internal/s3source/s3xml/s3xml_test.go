package s3xml

import (
	"fmt"
	"testing"
	"time"

	"github.com/cofferbackup/coffer/internal/recpoint"
)

func ent(key, vid string, latest, dm bool, t time.Time, pos int) Entry {
	return Entry{Key: key, VersionID: vid, IsLatest: latest, LastModified: t, DeleteMarker: dm, Pos: pos}
}

func TestMergeEntries(t *testing.T) {
	sec := time.Date(2024, 1, 1, 0, 0, 10, 0, time.UTC)
	// versitygw: markers first in the document, ULIDs, versions in whole
	// seconds, marker times when they were archived.
	dms := []Entry{
		ent("a", "01HZZZZZZZZZZZZZZZZZZZZZZ5", false, true, sec.Add(900*time.Millisecond), 0),
		ent("b", "01HZZZZZZZZZZZZZZZZZZZZZZ9", true, true, sec.Add(100*time.Millisecond), 1),
	}
	vs := []Entry{
		ent("a", "01HZZZZZZZZZZZZZZZZZZZZZZ7", true, false, sec, 2),
		ent("a", "01HZZZZZZZZZZZZZZZZZZZZZZ3", false, false, sec, 3),
		ent("b", "01HZZZZZZZZZZZZZZZZZZZZZZ8", false, false, sec, 4),
	}
	got := MergeEntries(vs, dms)
	want := []string{"a/7", "a/5", "a/3", "b/9", "b/8"}
	if s := entryIDs(got); s != fmt.Sprint(want) {
		t.Errorf("versitygw page merged as %s, want %v", s, want)
	}
	// Interleaving endpoints with ids that say nothing: document order
	// within a second, newest first across seconds.
	dms = []Entry{ent("k", "dm", false, true, sec.Add(500*time.Millisecond), 1)}
	vs = []Entry{
		ent("k", "new", true, false, sec.Add(600*time.Millisecond), 0),
		ent("k", "old", false, false, sec.Add(900*time.Millisecond), 2), // same second, later in the document
		ent("k", "older", false, false, sec.Add(-time.Second), 3),
	}
	got = MergeEntries(vs, dms)
	want = []string{"k/new", "k/dm", "k/old", "k/older"}
	if s := entryIDs(got); s != fmt.Sprint(want) {
		t.Errorf("interleaved page merged as %s, want %v", s, want)
	}
}

func entryIDs(es []Entry) string {
	var s []string
	for _, e := range es {
		id := e.VersionID
		if len(id) == 26 {
			id = id[25:]
		}
		s = append(s, e.Key+"/"+id)
	}
	return fmt.Sprint(s)
}

func TestIsULID(t *testing.T) {
	for s, want := range map[string]bool{
		"01M80KEP344113YF42XZ1JDQYQ": true, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ": true,
		"8ZZZZZZZZZZZZZZZZZZZZZZZZZ": false, "01M80KEP344113YF42XZ1JDQYU": false,
		"01m80kep344113yf42xz1jdqyq": false, "null": false, "8449ea39-6fc8-4d6e-b832-6352e68a96da": false,
	} {
		if isULID(s) != want {
			t.Errorf("isULID(%q) = %v", s, !want)
		}
	}
}

func TestACLXML(t *testing.T) {
	aws := `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>o1</ID><DisplayName>own</DisplayName></Owner>
<AccessControlList>
<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>o1</ID><DisplayName>own</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>
<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>
<Grant><Grantee xsi:type="AmazonCustomerByEmail"><EmailAddress>a@b.c</EmailAddress></Grantee><Permission>READ_ACP</Permission></Grant>
<Grant><Grantee><ID>untyped</ID></Grantee><Permission>WRITE_ACP</Permission></Grant>
</AccessControlList></AccessControlPolicy>`
	acl, err := DecodeACL([]byte(aws))
	if err != nil {
		t.Fatal(err)
	}
	want := recpoint.ACL{OwnerID: "o1", OwnerDisplayName: "own", Grants: []recpoint.Grant{
		{GranteeType: "CanonicalUser", GranteeID: "o1", DisplayName: "own", Permission: "FULL_CONTROL"},
		{GranteeType: "Group", GranteeURI: "http://acs.amazonaws.com/groups/global/AllUsers", Permission: "READ"},
		{GranteeType: "AmazonCustomerByEmail", Email: "a@b.c", Permission: "READ_ACP"},
		{GranteeType: "CanonicalUser", GranteeID: "untyped", Permission: "WRITE_ACP"},
	}}
	if fmt.Sprint(*acl) != fmt.Sprint(want) {
		t.Errorf("decoded\n %+v\nwant\n %+v", *acl, want)
	}
	back, err := DecodeACL(EncodeACL(acl))
	if err != nil || fmt.Sprint(*back) != fmt.Sprint(want) {
		t.Errorf("round trip: %+v %v", back, err)
	}
	odd := &recpoint.ACL{OwnerID: `<&"'>`, Grants: []recpoint.Grant{{GranteeID: "x&y", Permission: "READ"}}}
	back, err = DecodeACL(EncodeACL(odd))
	if err != nil || back.OwnerID != odd.OwnerID || back.Grants[0].GranteeID != "x&y" || back.Grants[0].GranteeType != "CanonicalUser" {
		t.Errorf("escaping: %+v %v", back, err)
	}
}
