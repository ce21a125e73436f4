package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/catalog"
)

// Handler handles one operation; a returned error becomes an AWS error.
type Handler func(r *http.Request, body []byte) (any, error)

// Routes is where a handler package registers its operations (the
// server's routing table).
type Routes interface {
	// Handle routes pattern to h, whose success is a 200.
	Handle(pattern string, h Handler)
	// HandleStatus is Handle for an operation whose success is another
	// status than 200 (CancelLegalHold's 201).
	HandleStatus(pattern string, status int, h Handler)
}

// Error is an error in AWS's restJson1 form.
type Error struct {
	Status int
	Code   string
	Msg    string
	// Public: the message of a 5xx is for the caller (it names what did
	// not answer), not internal detail to keep for the log.
	Public bool
}

func (e Error) Error() string { return e.Code + ": " + e.Msg }

// BadParam is a 400 InvalidParameterValueException.
func BadParam(format string, args ...any) error {
	return Error{Status: 400, Code: "InvalidParameterValueException", Msg: fmt.Sprintf(format, args...)}
}

// Epoch marshals a time as AWS's epoch-seconds JSON number.
type Epoch time.Time

// MarshalJSON writes epoch seconds with millisecond fractions.
func (e Epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

// TS returns nil for the zero time so that omitempty drops it.
func TS(t time.Time) *Epoch {
	if t.IsZero() {
		return nil
	}
	e := Epoch(t)
	return &e
}

// Decode reads a JSON request body into v; an empty body leaves v as it is.
func Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Error{Status: 400, Code: "SerializationException", Msg: "request body is not valid JSON for this operation: " + err.Error()}
	}
	return nil
}

// Page reads nextToken and maxResults.
func Page(r *http.Request) (catalog.Page, error) {
	q := r.URL.Query()
	p := catalog.Page{Token: q.Get("nextToken")}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return p, BadParam("maxResults must be a number from 1 to 1000, not %q", v)
		}
		p.Max = n
	}
	return p, nil
}

// QueryTime parses an ISO 8601 query timestamp (the SDK's format); epoch
// seconds are accepted too.
func QueryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, BadParam("%s must be an ISO 8601 timestamp, not %q", name, v)
}

// QueryTimes parses several timestamp query parameters.
func QueryTimes(r *http.Request, dst map[string]*time.Time) error {
	for name, t := range dst {
		v, err := QueryTime(r, name)
		if err != nil {
			return err
		}
		*t = v
	}
	return nil
}

// Page0 is a first page of at most 10 items.
func Page0() catalog.Page { return catalog.Page{Max: 10} }

// ListOut is a list answer: items under name, and NextToken unless tok
// is "".
func ListOut(name string, items any, tok string) map[string]any {
	out := map[string]any{name: items}
	if tok != "" {
		out["NextToken"] = tok
	}
	return out
}

// Lifecycle is AWS's Lifecycle of a recovery point (jobs, copies,
// recovery points).
type Lifecycle struct {
	DeleteAfterDays            int64 `json:",omitempty"`
	MoveToColdStorageAfterDays int64 `json:",omitempty"`
}

// CreatedBy is the CreatedBy of a job or recovery point that a plan rule
// made; nil for on-demand ones. The plan ARN shares the vault ARN's region
// and account.
func CreatedBy(vaultARN, vaultName, planID, version, ruleID string) map[string]string {
	if planID == "" {
		return nil
	}
	return map[string]string{"BackupPlanId": planID, "BackupPlanVersion": version, "BackupRuleId": ruleID,
		"BackupPlanArn": strings.Replace(vaultARN, ":backup-vault:"+vaultName, ":backup-plan:"+planID, 1)}
}
