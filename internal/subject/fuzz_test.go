package subject

import (
	"testing"
	"unicode/utf8"
)

// chars splits s into its characters: one per UTF-8 rune, one per invalid byte.
func chars(s string) []string {
	var out []string
	for len(s) > 0 {
		_, n := utf8.DecodeRuneInString(s)
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// refMatch is the reference matcher: a textbook dynamic programme over
// characters, written for obviousness rather than speed.
// ok[i][j] reports whether pattern characters [i:] match subject characters [j:].
func refMatch(pattern, subject string) bool {
	p, s := chars(pattern), chars(subject)
	ok := make([][]bool, len(p)+1)
	for i := range ok {
		ok[i] = make([]bool, len(s)+1)
	}
	ok[len(p)][len(s)] = true
	for i := len(p) - 1; i >= 0; i-- {
		for j := len(s); j >= 0; j-- {
			switch {
			case p[i] == "*":
				// Match nothing, or swallow one subject character and stay.
				ok[i][j] = ok[i+1][j] || (j < len(s) && ok[i][j+1])
			case j == len(s):
				ok[i][j] = false
			case p[i] == "?":
				ok[i][j] = ok[i+1][j+1]
			default:
				ok[i][j] = p[i] == s[j] && ok[i+1][j+1]
			}
		}
	}
	return ok[0][0]
}

func FuzzMatch(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.pattern, tc.subject)
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		if len(pattern) > 64 || len(subject) > 256 {
			return // keep the quadratic reference cheap
		}
		got := Match(pattern, subject)
		if want := refMatch(pattern, subject); got != want {
			t.Fatalf("Match(%q, %q) = %v, reference says %v", pattern, subject, got, want)
		}
		if c := Compile(pattern).Match(subject); c != got {
			t.Fatalf("Compile(%q).Match(%q) = %v, Match = %v", pattern, subject, c, got)
		}
	})
}
