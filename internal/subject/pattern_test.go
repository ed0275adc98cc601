package subject

import (
	"slices"
	"testing"
)

func TestCompileKind(t *testing.T) {
	tests := []struct {
		pattern    string
		kind       kind
		head, tail string
		mid        []string
	}{
		{"", kindLiteral, "", "", nil},
		{"system.time", kindLiteral, "", "", nil},
		{"\xff", kindLiteral, "", "", nil},
		{"*", kindAny, "", "", nil},
		{"***", kindAny, "", "", nil},
		{"system.*", kindPrefix, "system.", "", nil},
		{"system.**", kindPrefix, "system.", "", nil},
		{"*.time", kindSuffix, "", ".time", nil},
		{"**.time", kindSuffix, "", ".time", nil},
		{"a*c", kindStars, "a", "c", nil},
		{"a*b*c", kindStars, "a", "c", []string{"b"}},
		{"*time*", kindStars, "", "", []string{"time"}},
		{"*a**b*", kindStars, "", "", []string{"a", "b"}},
		{"?", kindGeneral, "", "", nil},
		{"a*b?c*", kindGeneral, "", "", nil},
		{"\xc3*", kindGeneral, "", "", nil},
	}
	for _, tc := range tests {
		p := Compile(tc.pattern)
		if p.kind != tc.kind || p.head != tc.head || p.tail != tc.tail || !slices.Equal(p.mid, tc.mid) {
			t.Errorf("Compile(%q) = kind %d head %q tail %q mid %q, want kind %d head %q tail %q mid %q",
				tc.pattern, p.kind, p.head, p.tail, p.mid, tc.kind, tc.head, tc.tail, tc.mid)
		}
	}
}

func TestPatternAccessors(t *testing.T) {
	tests := []struct {
		pattern string
		literal bool
	}{
		{"", true},
		{"system.time", true},
		{"*", false},
		{"system.*", false},
		{"system.?", false},
		{"a*b", false},
	}
	for _, tc := range tests {
		p := Compile(tc.pattern)
		if got := p.String(); got != tc.pattern {
			t.Errorf("Compile(%q).String() = %q", tc.pattern, got)
		}
		if got := p.Literal(); got != tc.literal {
			t.Errorf("Compile(%q).Literal() = %v, want %v", tc.pattern, got, tc.literal)
		}
	}
}

func TestZeroPattern(t *testing.T) {
	var p Pattern
	if !p.Match("") || p.Match("a") {
		t.Errorf("zero Pattern should match only the empty subject")
	}
	if !p.Literal() || p.String() != "" {
		t.Errorf("zero Pattern: Literal() = %v, String() = %q", p.Literal(), p.String())
	}
}

// TestPatternConcurrent shares one Pattern between goroutines; run with -race.
func TestPatternConcurrent(t *testing.T) {
	p := Compile("a*b*c")
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 1000 {
				ok = ok && p.Match("aXbYc") && !p.Match("acb")
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("concurrent Match gave a wrong answer")
		}
	}
}
