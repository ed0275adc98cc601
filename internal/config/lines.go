package config

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// lineTable maps a full key (keyPath.String) to the 1-based line where it is
// defined: its "key =" line, its [table] or [[array]] header, or for array
// elements the line where the element starts.
type lineTable map[string]int

// lookup returns the line of p, else of its nearest parent that has one, else 0.
func (t lineTable) lookup(p keyPath) int {
	for n := len(p); n > 0; n-- {
		if line, ok := t[p[:n].String()]; ok {
			return line
		}
	}
	return 0
}

// maxKeyDepth bounds how deeply keys and values may nest (a.b.c is three
// levels, x = [[1]] three too). Real configurations stay far below it; the
// TOML decoder takes quadratic time on deep nesting, so deeper documents are
// refused before it runs.
const maxKeyDepth = 64

// scanLines maps the keys of a TOML document to lines. BurntSushi/toml does
// not report key positions, so this is a small lexer that understands just
// enough TOML (headers, dotted and quoted keys, strings, arrays, inline
// tables, comments) to follow where each key is written. It runs in linear
// time on any input, valid or not, and never fails; on invalid TOML its
// answer is a best effort. tooDeep is the first line where nesting goes
// beyond maxKeyDepth, or 0.
func scanLines(src string) (lines lineTable, tooDeep int) {
	s := &lineScanner{
		src:    strings.TrimPrefix(src, "\uFEFF"),
		line:   1,
		lines:  lineTable{},
		arrays: map[string]int{},
	}
	s.document()
	return s.lines, s.tooDeep
}

type lineScanner struct {
	src    string
	pos    int
	line   int
	lines  lineTable
	arrays map[string]int // [[header]] count per resolved path

	tooDeep int // first line nesting beyond maxKeyDepth, 0 if none
}

func (s *lineScanner) document() {
	var table keyPath
	for {
		s.skipSpace()
		if s.pos >= len(s.src) {
			return
		}
		if s.peek() == '[' {
			table = s.header()
		} else {
			s.keyValue(table)
		}
		s.skipRestOfLine()
	}
}

// header reads [a.b] or [[a.b]] and returns the resolved table path, where
// every array of tables on the way carries the index of its latest element.
func (s *lineScanner) header() keyPath {
	line := s.line
	s.pos++
	array := s.peek() == '['
	if array {
		s.pos++
	}
	names := s.key()
	var p keyPath
	for i, name := range names {
		p = s.child(p, name)
		if array && i == len(names)-1 {
			s.mark(p, line)
			s.arrays[p.String()]++
			p = s.index(p, s.arrays[p.String()]-1)
		} else if n := s.arrays[p.String()]; n > 0 {
			p = s.index(p, n-1)
		}
		s.mark(p, line)
	}
	if len(p) > 0 {
		s.lines[p.String()] = line // an explicit header beats an implicit mention
	}
	return p
}

// keyValue reads "a.b = value" inside table; it reports whether it found one.
func (s *lineScanner) keyValue(table keyPath) bool {
	line := s.line
	names := s.key()
	s.skipBlank()
	if len(names) == 0 || s.peek() != '=' {
		return false
	}
	s.pos++
	p := table
	for _, name := range names {
		p = s.child(p, name)
		s.mark(p, line)
	}
	s.skipBlank()
	s.value(p)
	return true
}

// key reads a dotted key and returns its unquoted parts.
func (s *lineScanner) key() []string {
	var names []string
	for {
		s.skipBlank()
		name, ok := s.keyPart()
		if !ok {
			return names
		}
		names = append(names, name)
		s.skipBlank()
		if s.peek() != '.' {
			return names
		}
		s.pos++
	}
}

func (s *lineScanner) keyPart() (string, bool) {
	switch s.peek() {
	case '"':
		return unescapeBasic(s.basicString()), true
	case '\'':
		return s.literalString(), true
	}
	start := s.pos
	for s.pos < len(s.src) && !strings.ContainsRune(" \t\r\n.=[]{}#,\"'", rune(s.src[s.pos])) {
		s.pos++
	}
	return s.src[start:s.pos], s.pos > start
}

// value skips one value, recording the keys of inline tables and the
// elements of arrays under p.
func (s *lineScanner) value(p keyPath) {
	if s.tooDeep != 0 {
		s.pos = len(s.src) // the document is refused; stop here
		return
	}
	switch rest := s.rest(); {
	case strings.HasPrefix(rest, `"""`):
		s.multiline(`"""`, true)
	case strings.HasPrefix(rest, `'''`):
		s.multiline(`'''`, false)
	case strings.HasPrefix(rest, `"`):
		s.basicString()
	case strings.HasPrefix(rest, `'`):
		s.literalString()
	case strings.HasPrefix(rest, `[`):
		s.array(p)
	case strings.HasPrefix(rest, `{`):
		s.inlineTable(p)
	default:
		for s.pos < len(s.src) && !strings.ContainsRune(" \t\r\n,]}#", rune(s.src[s.pos])) {
			s.pos++
		}
	}
}

func (s *lineScanner) array(p keyPath) {
	s.pos++
	for i := 0; ; i++ {
		s.skipSpace()
		if s.pos >= len(s.src) {
			return
		}
		if s.peek() == ']' {
			s.pos++
			return
		}
		elem := s.index(p, i)
		s.mark(elem, s.line)
		s.value(elem)
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return
		default:
			return
		}
	}
}

func (s *lineScanner) inlineTable(p keyPath) {
	s.pos++
	for {
		s.skipSpace()
		if s.pos >= len(s.src) {
			return
		}
		if s.peek() == '}' {
			s.pos++
			return
		}
		if !s.keyValue(p) {
			return
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return
		default:
			return
		}
	}
}

// basicString skips a "..." string and returns its raw (still escaped) text.
func (s *lineScanner) basicString() string {
	s.pos++
	start := s.pos
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case '\\':
			if s.pos+1 < len(s.src) && s.src[s.pos+1] == '\n' {
				return s.src[start:s.pos] // invalid TOML; stop at the line end
			}
			s.pos += 2
			continue
		case '"':
			raw := s.src[start:s.pos]
			s.pos++
			return raw
		case '\n':
			return s.src[start:s.pos]
		}
		s.pos++
	}
	s.pos = len(s.src)
	return s.src[start:]
}

// literalString skips a '...' string and returns its text.
func (s *lineScanner) literalString() string {
	s.pos++
	start := s.pos
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case '\'':
			text := s.src[start:s.pos]
			s.pos++
			return text
		case '\n':
			return s.src[start:s.pos]
		}
		s.pos++
	}
	return s.src[start:]
}

// multiline skips a multi-line string, basic or literal, counting its lines.
func (s *lineScanner) multiline(delim string, escapes bool) {
	s.pos += len(delim)
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case escapes && c == '\\':
			s.pos++
			if s.pos < len(s.src) {
				if s.src[s.pos] == '\n' {
					s.line++
				}
				s.pos++
			}
			continue
		case strings.HasPrefix(s.src[s.pos:], delim):
			s.pos += len(delim)
			// Up to two more quotes may close the string: """a""""" is `a""`.
			for k := 0; k < 2 && s.peek() == delim[0]; k++ {
				s.pos++
			}
			return
		case c == '\n':
			s.line++
		}
		s.pos++
	}
}

// skipSpace skips blanks, newlines and comments.
func (s *lineScanner) skipSpace() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\r':
		case '\n':
			s.line++
		case '#':
			for s.pos < len(s.src) && s.src[s.pos] != '\n' {
				s.pos++
			}
			continue
		default:
			return
		}
		s.pos++
	}
}

// skipBlank skips spaces and tabs.
func (s *lineScanner) skipBlank() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

// skipRestOfLine skips to just after the next newline (the rest of a line
// after a statement is blank or a comment).
func (s *lineScanner) skipRestOfLine() {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		s.pos++
		if c == '\n' {
			s.line++
			return
		}
	}
}

func (s *lineScanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

func (s *lineScanner) rest() string {
	if s.pos < len(s.src) {
		return s.src[s.pos:]
	}
	return ""
}

// child and index extend p like keyPath.child and keyPath.index, but stop
// growing it at maxKeyDepth, noting where, so that scanning stays linear.
func (s *lineScanner) child(p keyPath, name string) keyPath {
	return s.extend(p, quoteKey(name))
}

func (s *lineScanner) index(p keyPath, i int) keyPath {
	return s.extend(p, indexPart(i))
}

func (s *lineScanner) extend(p keyPath, part string) keyPath {
	if len(p) >= maxKeyDepth {
		if s.tooDeep == 0 {
			s.tooDeep = s.line
		}
		return p
	}
	return append(p[:len(p):len(p)], part)
}

// mark records the line of p unless it already has one.
func (s *lineScanner) mark(p keyPath, line int) {
	if _, ok := s.lines[p.String()]; !ok {
		s.lines[p.String()] = line
	}
}

// unescapeBasic decodes the escapes of a TOML basic string. Invalid escapes
// are kept as written; the decoder has rejected them already.
func unescapeBasic(raw string) string {
	if !strings.Contains(raw, `\`) {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := raw[i]; e {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case 'e':
			b.WriteByte(0x1b)
		case '"', '\\':
			b.WriteByte(e)
		case 'x', 'u', 'U':
			n := 2
			switch e {
			case 'u':
				n = 4
			case 'U':
				n = 8
			}
			if i+n < len(raw) {
				if r, err := strconv.ParseUint(raw[i+1:i+1+n], 16, 32); err == nil && utf8.ValidRune(rune(r)) {
					b.WriteRune(rune(r))
					i += n
					continue
				}
			}
			b.WriteByte('\\')
			b.WriteByte(e)
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String()
}
