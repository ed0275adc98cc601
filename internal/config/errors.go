package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a configuration file. It names the file, the
// 1-based line (0 when unknown), the full dotted key (empty for syntax errors)
// and what is wrong.
type Error struct {
	File string // the file name as given to Load or Decode; may be empty
	Line int    // 1-based line, 0 when the key could not be located
	Col  int    // 1-based column, set for syntax errors only
	Key  string // full dotted path such as "exchange[2].role"; empty for syntax errors
	Msg  string // what is wrong

	err error // underlying cause, if any (for example fs.ErrNotExist)
}

// Error formats the problem as "FILE:LINE: KEY: MSG", leaving out the parts
// that are unknown: "FILE: KEY: MSG" without a line, "FILE:LINE:COL: MSG" for
// a syntax error, "line N: KEY: MSG" without a file name.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	case e.File != "":
		b.WriteString(e.File)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.err }

// Errors is every problem found in one configuration, sorted by line.
type Errors []*Error

// Error lists the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems as a slice of errors, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders the problems by line, keeping the discovery order of problems
// on the same line, and returns nil when there are none.
func (es Errors) sorted() error {
	if len(es) == 0 {
		return nil
	}
	slices.SortStableFunc(es, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	return es
}

// ExchangeError makes the Error of a problem found after decoding with
// the [[exchange]] entry Exchange[i] (0-based): key is the key inside the
// entry ("tls.cert", "tls.key", "tls.ca", "listen", ...), or "" for the
// entry as a whole. The Error names the config file, the line of the key
// (the entry's line when the key's own is not known) and the full key, as
// decoding errors do; err is its cause.
func (c *Config) ExchangeError(i int, key string, err error) *Error {
	name := c.name
	if name == "" {
		name = c.File
	}
	p := keyPath{"exchange"}.index(i)
	if key != "" {
		p = append(p, strings.Split(key, ".")...)
	}
	e := &Error{File: name, Key: p.String(), Msg: err.Error(), err: err}
	if i >= 0 && i < len(c.Exchange) {
		t := c.Exchange[i].TLS
		e.Line = map[string]int{"tls.cert": t.CertLine, "tls.key": t.KeyLine, "tls.ca": t.CALine}[key]
		if e.Line == 0 {
			e.Line = c.Exchange[i].Line
		}
	}
	return e
}
