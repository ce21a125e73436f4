package catalog

import (
	"strconv"
	"strings"
)

// rebind turns the catalog's `?` placeholders into PostgreSQL's `$1, $2, …`.
// Catalog SQL is written once, with `?`, for both engines; on PostgreSQL
// every statement passes through here (pgConn's Exec, Query and Prepare),
// so new SQL needs no engine-specific care. A `?` inside a string literal,
// a quoted identifier or a comment is left alone. Catalog SQL must not use
// PostgreSQL's jsonb `?` operators (River's SQL does not come through here).
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		case ch == '\'' || ch == '"':
			end := skipQuoted(query, i, ch)
			b.WriteString(query[i:end])
			i = end - 1
			continue
		case ch == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
			continue
		case ch == '/' && strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				end = len(query) - i
			} else {
				end += 4
			}
			b.WriteString(query[i : i+end])
			i += end - 1
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// skipQuoted returns the index just past the quoted text starting at
// query[start] (a doubled quote is an escaped one).
func skipQuoted(query string, start int, quote byte) int {
	for i := start + 1; i < len(query); i++ {
		if query[i] != quote {
			continue
		}
		if i+1 < len(query) && query[i+1] == quote {
			i++
			continue
		}
		return i + 1
	}
	return len(query)
}
