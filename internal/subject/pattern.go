package subject

import (
	"strings"
	"unicode/utf8"
)

// Pattern is a compiled subject pattern. The zero Pattern is the empty
// pattern, which matches only the empty subject.
//
// A Pattern is cheap to copy, immutable, and safe for concurrent use.
type Pattern struct {
	src  string
	kind kind
	head string   // literal text before the first '*' (kindPrefix, kindStars)
	tail string   // literal text after the last '*' (kindSuffix, kindStars)
	mid  []string // non-empty literal runs between stars (kindStars); never written after Compile
}

// kind selects the matcher a Pattern uses.
type kind uint8

const (
	kindLiteral kind = iota // no wildcards: string equality
	kindAny                 // only stars: matches everything
	kindPrefix              // "head*"
	kindSuffix              // "*tail"
	kindStars               // "head*mid*...*tail": stars only, no '?'
	kindGeneral             // anything else: the iterative matcher
)

// Compile returns the compiled form of pattern. Every string is a valid
// pattern, so Compile cannot fail.
func Compile(pattern string) Pattern {
	p := Pattern{src: pattern}
	switch {
	case !hasWildcard(pattern):
		p.kind = kindLiteral
	case strings.Trim(pattern, "*") == "":
		p.kind = kindAny
	case strings.IndexByte(pattern, '?') >= 0 || !utf8.ValidString(pattern):
		// The substring shortcuts below rely on literal runs being valid
		// UTF-8: only then does a byte-wise match of a run always start and
		// end on character boundaries of the subject.
		p.kind = kindGeneral
	default:
		p.compileStars()
	}
	return p
}

// compileStars splits a pattern made of literal text and stars only.
func (p *Pattern) compileStars() {
	first := strings.IndexByte(p.src, '*')
	last := strings.LastIndexByte(p.src, '*')
	p.head, p.tail = p.src[:first], p.src[last+1:]
	for _, run := range strings.Split(p.src[first:last+1], "*") {
		if run != "" {
			p.mid = append(p.mid, run)
		}
	}
	switch {
	case len(p.mid) > 0:
		p.kind = kindStars
	case p.tail == "":
		p.kind = kindPrefix
	case p.head == "":
		p.kind = kindSuffix
	default:
		p.kind = kindStars
	}
}

// Match reports whether subject matches the pattern.
func (p Pattern) Match(subject string) bool {
	switch p.kind {
	case kindLiteral:
		return subject == p.src
	case kindAny:
		return true
	case kindPrefix:
		return strings.HasPrefix(subject, p.head)
	case kindSuffix:
		return strings.HasSuffix(subject, p.tail)
	case kindStars:
		return p.matchStars(subject)
	default:
		return matchGeneral(p.src, subject)
	}
}

// matchStars matches a pattern of literal runs separated by stars. With no
// '?', taking the leftmost occurrence of each middle run is always safe, so
// one forward scan decides the match.
func (p Pattern) matchStars(subject string) bool {
	if len(subject) < len(p.head)+len(p.tail) ||
		!strings.HasPrefix(subject, p.head) || !strings.HasSuffix(subject, p.tail) {
		return false
	}
	rest := subject[len(p.head) : len(subject)-len(p.tail)]
	for _, run := range p.mid {
		i := strings.Index(rest, run)
		if i < 0 {
			return false
		}
		rest = rest[i+len(run):]
	}
	return true
}

// String returns the pattern's source text.
func (p Pattern) String() string { return p.src }

// Literal reports whether the pattern has no wildcards, in which case it
// matches exactly one subject: its own text.
func (p Pattern) Literal() bool { return p.kind == kindLiteral }
