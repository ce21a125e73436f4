package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"time"
)

// SkippedFields are SDK output members that are not API data.
var SkippedFields = map[string]bool{"ResultMetadata": true}

// TimeType is time.Time, printed as RFC 3339 rather than as a struct.
var TimeType = reflect.TypeOf(time.Time{})

// PrintJSON writes an SDK output (or any value) as indented JSON: the API
// member names as keys, nil and empty members left out, ResultMetadata
// dropped and times as RFC 3339 in UTC.
func PrintJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(jsonValue(reflect.ValueOf(v)), "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON output: %w", err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// jsonValue converts v into plain maps, slices and scalars.
func jsonValue(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return jsonValue(v.Elem())
	case reflect.Struct:
		if v.Type() == TimeType {
			return v.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
		}
		return jsonStruct(v)
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		m := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			m[fmt.Sprint(iter.Key().Interface())] = jsonValue(iter.Value())
		}
		return m
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface() // []byte: base64, like the wire format
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonValue(v.Index(i))
		}
		return out
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	default:
		return nil
	}
}

func jsonStruct(v reflect.Value) map[string]any {
	t := v.Type()
	m := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || SkippedFields[f.Name] {
			continue
		}
		val := jsonValue(v.Field(i))
		if isEmpty(val) {
			continue
		}
		m[f.Name] = val
	}
	return m
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		return x == nil
	case []any:
		return x == nil
	}
	return false
}
