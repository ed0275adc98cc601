package config

import (
	"fmt"
	"slices"
	"time"
)

// A Document is a TOML file other than config.toml that agentd decodes with
// the same strictness and the same errors (a script pack's pack.toml, for
// one). ParseDocument reads the text and finds the line of every key; the
// caller walks Root with the typed readers below, which record a problem
// for every value of the wrong type, and Err returns them all at the end,
// sorted by line, as Errors.
//
// A Document is used by one goroutine.
type Document struct {
	Root map[string]any // the decoded top-level table

	d *decoder
}

// A Key is the full path of a key in a Document, such as requires.base or
// scripts[2]; the zero Key is the top level.
type Key struct{ p keyPath }

// Child returns the key name inside k.
func (k Key) Child(name string) Key { return Key{k.p.child(name)} }

// Index returns the element i (0-based; shown 1-based) of the array k.
func (k Key) Index(i int) Key { return Key{k.p.index(i)} }

// String renders the key as errors show it.
func (k Key) String() string { return k.p.String() }

// ParseDocument parses data, the content of the file named file (the name is
// used in messages as given). A syntax error, or nesting deeper than 64
// levels, is returned as Errors.
func ParseDocument(file string, data []byte) (*Document, error) {
	lines, tooDeep := scanLines(string(data))
	if tooDeep > 0 {
		return nil, Errors{{File: file, Line: tooDeep, Msg: fmt.Sprintf("keys or values nested more than %d levels deep", maxKeyDepth)}}
	}
	root, err := parseTOML(data)
	if err != nil {
		return nil, Errors{syntaxError(file, err)}
	}
	if root == nil {
		root = map[string]any{}
	}
	return &Document{Root: root, d: &decoder{name: file, lines: lines}}, nil
}

// Errorf records a problem with the key k.
func (doc *Document) Errorf(k Key, format string, args ...any) { doc.d.errorf(k.p, format, args...) }

// Line returns the line where k is written, else the line of its nearest
// parent, else 0.
func (doc *Document) Line(k Key) int { return doc.d.lines.lookup(k.p) }

// Err returns every problem recorded so far, sorted by line, as Errors, or
// nil when there is none.
func (doc *Document) Err() error {
	errs := slices.Clone(doc.d.errs)
	return errs.sorted()
}

// Field is a known key of a table and what reads its value.
type Field struct {
	Name string
	Read func(k Key, v any)
}

// Table reads the entries of m, the table at k, with fields; any other key
// is recorded as unknown, with the known key it was probably meant to be.
func (doc *Document) Table(k Key, m map[string]any, fields ...Field) {
	fs := make([]field, len(fields))
	for i, f := range fields {
		read := f.Read
		fs[i] = field{name: f.Name, read: func(p keyPath, v any) { read(Key{p}, v) }}
	}
	doc.d.table(k.p, m, fs)
}

// String returns v if it is a string, else records a problem.
func (doc *Document) String(k Key, v any) (string, bool) { return doc.d.str(k.p, v) }

// Bool returns v if it is a boolean, else records a problem.
func (doc *Document) Bool(k Key, v any) (bool, bool) { return doc.d.boolean(k.p, v) }

// Int returns v if it is an integer, else records a problem.
func (doc *Document) Int(k Key, v any) (int64, bool) { return doc.d.integer(k.p, v) }

// Duration returns v if it is a duration string such as "5s" (a bare
// number is refused, as in config.toml), else records a problem.
func (doc *Document) Duration(k Key, v any) (d time.Duration, ok bool) { return doc.d.duration(k.p, v) }

// TableValue returns v if it is a table, else records a problem.
func (doc *Document) TableValue(k Key, v any) (map[string]any, bool) { return doc.d.tableValue(k.p, v) }

// Strings returns v if it is an array of strings; want describes the
// expected value in the message when it is not an array. A non-string
// element is recorded as a problem of its own and left out.
func (doc *Document) Strings(k Key, v any, want string) ([]string, bool) {
	list, ok := doc.d.list(k.p, v, want)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	all := true
	for i, e := range list {
		if s, ok := doc.d.str(k.p.index(i), e); ok {
			out = append(out, s)
		} else {
			all = false
		}
	}
	return out, all
}

// Plain returns a free-form table as plain values, as [config.NAME] tables
// are kept: bool, int64, float64, string, []any and map[string]any, with
// datetimes as RFC 3339 strings.
func Plain(m map[string]any) map[string]any { return plainTable(m) }

// SortedKeys returns the keys of a table in order, for decoding its
// entries deterministically.
func SortedKeys(m map[string]any) []string { return sortedKeys(m) }
