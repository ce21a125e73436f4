package catsql

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Scanner is a row, or the one row of QueryRow.
type Scanner interface{ Scan(...any) error }

// Where collects SQL conditions and their arguments.
type Where struct {
	Conds []string
	Args  []any
}

// Add appends condition cond with its one argument.
func (w *Where) Add(cond string, arg any) {
	w.Conds = append(w.Conds, cond)
	w.Args = append(w.Args, arg)
}

// Eq adds col = v, unless v is empty (which matches everything).
func (w *Where) Eq(col, v string) {
	if v != "" {
		w.Add(col+" = ?", v)
	}
}

// In adds col IN (vals...), unless vals is empty.
func (w *Where) In(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	w.Conds = append(w.Conds, col+" IN ("+Placeholders(len(vals))+")")
	for _, v := range vals {
		w.Args = append(w.Args, v)
	}
}

// TimeRange adds after < col < before for the bounds that are not zero.
func (w *Where) TimeRange(col string, after, before time.Time) {
	if !after.IsZero() {
		w.Add(col+" > ?", after.UnixNano())
	}
	if !before.IsZero() {
		// 0 means "not yet" (e.g. an unfinished job): never before anything.
		w.Add(col+" > 0 AND "+col+" < ?", before.UnixNano())
	}
}

// And returns the conditions to append to a statement that has a WHERE.
func (w *Where) And() string {
	if len(w.Conds) == 0 {
		return ""
	}
	return " AND " + strings.Join(w.Conds, " AND ")
}

// SQL returns the WHERE clause ("" if there is no condition).
func (w *Where) SQL() string {
	if len(w.Conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.Conds, " AND ")
}

// Placeholders returns n `?` placeholders separated by commas.
func Placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// NonEmpty returns s, or def if s is empty.
func NonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ToNanos encodes t as a column: Unix nanoseconds, 0 for the zero time.
func ToNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos decodes a ToNanos column (in UTC).
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// MustJSON encodes v, which cannot fail to encode (only maps of strings
// reach here), as a JSON column.
func MustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("catalog: marshal %T: %v", v, err)) // only maps of strings reach here
	}
	return string(b)
}

// FromJSONMap decodes a MustJSON column of a string map (empty if it is
// not one).
func FromJSONMap(s string) map[string]string {
	m := map[string]string{}
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

// Affected reports whether res changed a row.
func Affected(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("rows affected: %w", err)
	}
	return n > 0, nil
}
