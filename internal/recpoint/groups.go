package recpoint

import (
	"errors"
	"io"
)

// Groups reads a record stream one key at a time, for a merge join with
// another stream or listing in the same key order: Of(key) returns the
// records of key, skipping the keys before it. It holds the records of
// one key only. A read error other than the stream's end ends it (Of
// returns nothing from then on) and is passed to onErr once.
type Groups struct {
	rd     *Reader
	ahead  *Record // next unconsumed record; nil at the end
	key    string  // key of group
	group  []Record
	sought bool // group holds the records of key
	onErr  func(error)
}

// NewGroups reads rd; onErr, if not nil, is told of a read error. A nil
// rd is an empty stream.
func NewGroups(rd *Reader, onErr func(error)) *Groups {
	g := &Groups{rd: rd, onErr: onErr}
	g.advance()
	return g
}

// advance reads the next record into g.ahead.
func (g *Groups) advance() {
	if g.rd == nil {
		g.ahead = nil
		return
	}
	var r Record
	if err := g.rd.Next(&r); err != nil {
		if !errors.Is(err, io.EOF) && g.onErr != nil {
			g.onErr(err)
		}
		g.rd, g.ahead = nil, nil
		return
	}
	g.ahead = &r
}

// Of returns the records of key (valid until the next call). Keys must
// come in the stream's order: a key before the last one asked for finds
// nothing.
func (g *Groups) Of(key string) []Record {
	if g.sought && key == g.key {
		return g.group
	}
	g.key, g.group, g.sought = key, g.group[:0], true
	for g.ahead != nil && g.ahead.Key < key {
		g.advance()
	}
	for g.ahead != nil && g.ahead.Key == key {
		g.group = append(g.group, *g.ahead)
		g.advance()
	}
	return g.group
}

// Unversioned reports whether a version id is that of an object written
// while the bucket was never versioned (or suspended): empty or "null".
func Unversioned(id string) bool { return id == "" || id == "null" }
