package plancmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/cofferbackup/coffer/internal/cli"
)

// docKind describes a JSON document the CLI reads from a file: the
// request member the aws CLI takes as file:// (decoded into the SDK type,
// whose Go field names are the AWS member names) and the answer of the
// get command that prints it wrapped, which is accepted too.
type docKind struct {
	name    string       // "backup plan", for errors
	key     string       // the member of wrapper that holds the document
	wrapper reflect.Type // the SDK output of the get command
}

var (
	planDoc      = docKind{"backup plan", "BackupPlan", reflect.TypeFor[backup.GetBackupPlanOutput]()}
	selectionDoc = docKind{"backup selection", "BackupSelection", reflect.TypeFor[backup.GetBackupSelectionOutput]()}
)

// decodeDocument decodes data, either the document itself or the get
// command's answer that wraps it ({"BackupPlan": {...}, ...}), into T.
// Member names must be the AWS ones, exactly: an unknown member is an
// error naming it. Read-only members of the wrapped form (the plan's
// RuleId, the answer's ids and dates) are dropped.
func decodeDocument[T any](data []byte, kind docKind) (*T, error) {
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return nil, jsonError(data, err)
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a %s: want a JSON object", kind.name)
	}
	shape := reflect.TypeFor[T]()
	_, wrapped := obj[kind.key]
	if wrapped {
		shape = kind.wrapper
	}
	if err := checkMembers(tree, shape, ""); err != nil {
		return nil, err
	}
	if !wrapped {
		doc := new(T)
		if err := json.Unmarshal(data, doc); err != nil {
			return nil, jsonError(data, err)
		}
		return doc, nil
	}
	// Decode the wrapper's one member, so that errors give the place in
	// the whole file.
	w := reflect.New(reflect.StructOf([]reflect.StructField{{Name: kind.key, Type: reflect.TypeFor[*T]()}}))
	if err := json.Unmarshal(data, w.Interface()); err != nil {
		return nil, jsonError(data, err)
	}
	doc := w.Elem().Field(0).Interface().(*T)
	if doc == nil {
		return nil, fmt.Errorf("%s is null", kind.key)
	}
	return doc, nil
}

// checkMembers reports the first member of the decoded JSON v (in key
// order) that the type t does not have. Values of the wrong type are left
// to encoding/json.
func checkMembers(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, err := memberType(t, k, path)
			if err != nil {
				return err
			}
			if err := checkMembers(x[k], sub, joinPath(path, k, t.Kind() == reflect.Map)); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return nil
		}
		for i, e := range x {
			if err := checkMembers(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// memberType is the type of member k of a JSON object decoded into t.
func memberType(t reflect.Type, k, path string) (reflect.Type, error) {
	switch {
	case t.Kind() == reflect.Map:
		return t.Elem(), nil
	case t.Kind() != reflect.Struct || t == cli.TimeType:
		return t, nil // a type mismatch, reported by encoding/json
	}
	f, ok := t.FieldByName(k)
	if !ok || !f.IsExported() || len(f.Index) != 1 || cli.SkippedFields[k] {
		return nil, fmt.Errorf("unknown field %q", joinPath(path, k, false))
	}
	return f.Type, nil
}

func joinPath(path, k string, mapKey bool) string {
	switch {
	case mapKey:
		return fmt.Sprintf("%s[%q]", path, k)
	case path == "":
		return k
	}
	return path + "." + k
}

// jsonError makes an encoding/json error say where in data it is.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && strings.HasSuffix(syn.Error(), "end of JSON input"):
		return errors.New("invalid JSON: unexpected end of input")
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, err)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		return fmt.Errorf("field %q at line %d, column %d: JSON %s where %s is expected", typ.Field, line, col, typ.Value, typ.Type)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// position turns the offset encoding/json gives for an error (just after
// the offending character or value) into the 1-based line and column of
// that character or of the value's last one.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off-1, 0), int64(len(data)))
	before := string(data[:off])
	line = strings.Count(before, "\n") + 1
	return line, len(before) - strings.LastIndex(before, "\n")
}

// readDocument reads the file at path (a "file://" prefix is allowed, as
// the aws CLI wants it) and decodes it.
func readDocument[T any](path string, kind docKind) (*T, error) {
	path = strings.TrimPrefix(path, "file://")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", kind.name, err)
	}
	doc, err := decodeDocument[T](data, kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// fileFlag adds the required --file flag to c: c.Check reads the file,
// decoded into *doc.
func fileFlag[T any](c *cli.ClientCmd, kind docKind, doc **T) {
	path := c.FS.String("file", "", "`FILE` holding the "+kind.name+" as JSON (as the aws CLI takes it, or as get prints it)")
	cli.AddCheck(c, func() (err error) {
		if *path == "" {
			return cli.UsageError("--file is required")
		}
		*doc, err = readDocument[T](*path, kind)
		return err
	})
}
