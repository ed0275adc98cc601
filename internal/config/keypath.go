package config

import (
	"strconv"
	"strings"
)

// keyPath is a full key such as exchange[2].tls.cert, kept as its rendered
// parts: names (quoted when not bare) and indexes ("[2]", 1-based). The
// validator and the line scanner both build keys this way, so a key's String
// is also its index in the line table.
type keyPath []string

// child returns p extended by the key name.
func (p keyPath) child(name string) keyPath {
	return append(p[:len(p):len(p)], quoteKey(name))
}

// index returns p extended by a 0-based array index, rendered 1-based.
func (p keyPath) index(i int) keyPath {
	return append(p[:len(p):len(p)], indexPart(i))
}

func indexPart(i int) string { return "[" + strconv.Itoa(i+1) + "]" }

func (p keyPath) String() string {
	var b strings.Builder
	for i, part := range p {
		if i > 0 && !strings.HasPrefix(part, "[") {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

// quoteKey renders a key name as TOML would accept it: bare when it only
// holds letters, digits, '_' and '-', quoted otherwise.
func quoteKey(name string) string {
	if name == "" {
		return `""`
	}
	for i := 0; i < len(name); i++ {
		if !isBareKeyByte(name[i]) {
			return strconv.Quote(name)
		}
	}
	return name
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
