package wire

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

func TestEpochJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"whole seconds", struct{ T *Epoch }{TS(time.Unix(1700000000, 0))}, `{"T":1700000000}`},
		{"milliseconds kept, finer dropped", struct{ T *Epoch }{TS(time.Unix(1700000000, 123456789))}, `{"T":1700000000.123}`},
		{"zero time omitted", struct {
			T *Epoch `json:",omitempty"`
		}{TS(time.Time{})}, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			if err != nil || string(b) != tc.want {
				t.Fatalf("Marshal = %s, %v; want %s", b, err, tc.want)
			}
		})
	}
}

func TestQueryParams(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		wantMax     int
		wantTime    time.Time
		wantCode    string // "" for no error
	}{
		{"none", "", 0, time.Time{}, ""},
		{"max and ISO time", "?maxResults=5&createdAfter=2026-01-02T03:04:05Z", 5, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{"epoch seconds", "?createdAfter=1700000000.5", 0, time.Unix(1700000000, 5e8).UTC(), ""},
		{"max too big", "?maxResults=1001", 0, time.Time{}, "InvalidParameterValueException"},
		{"max not a number", "?maxResults=x", 0, time.Time{}, "InvalidParameterValueException"},
		{"time not a time", "?createdAfter=yesterday", 0, time.Time{}, "InvalidParameterValueException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/backup-jobs"+tc.query, nil)
			p, err := Page(r)
			var after time.Time
			if err == nil {
				err = QueryTimes(r, map[string]*time.Time{"createdAfter": &after})
			}
			if code := errorCode(err); code != tc.wantCode {
				t.Fatalf("error %v, want code %q", err, tc.wantCode)
			}
			if tc.wantCode == "" && (p.Max != tc.wantMax || !after.Equal(tc.wantTime)) {
				t.Fatalf("max %d, createdAfter %v; want %d, %v", p.Max, after, tc.wantMax, tc.wantTime)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string
		wantCode   string
	}{
		{"empty body leaves the value", "  ", "kept", ""},
		{"field", `{"Name":"v"}`, "v", ""},
		{"not JSON", `{"Name":`, "kept", "SerializationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := struct{ Name string }{"kept"}
			err := Decode([]byte(tc.body), &in)
			if code := errorCode(err); code != tc.wantCode || (code == "" && in.Name != tc.want) {
				t.Fatalf("Decode = %q, %v; want %q, code %q", in.Name, err, tc.want, tc.wantCode)
			}
		})
	}
}

func TestCreatedBy(t *testing.T) {
	const vault = "arn:aws:backup:us-east-1:000000000000:backup-vault:v1"
	if got := CreatedBy(vault, "v1", "", "", ""); got != nil {
		t.Fatalf("on-demand: CreatedBy = %v, want nil", got)
	}
	got := CreatedBy(vault, "v1", "p1", "ver", "r1")
	if want := "arn:aws:backup:us-east-1:000000000000:backup-plan:p1"; got["BackupPlanArn"] != want || got["BackupRuleId"] != "r1" {
		t.Fatalf("CreatedBy = %v, want plan ARN %s", got, want)
	}
}

func errorCode(err error) string {
	var e Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "not a wire.Error: " + err.Error()
	}
	return ""
}
