package subject

import "testing"

// matchCases pins the matching semantics. Every case is checked through
// Match, through a compiled Pattern, and against the reference matcher.
var matchCases = []struct {
	pattern, subject string
	want             bool
}{
	// Empty pattern and subject.
	{"", "", true},
	{"", "a", false},
	{"a", "", false},
	{"*", "", true},
	{"?", "", false},
	{"**", "", true},
	{"*?", "", false},

	// A lone star matches everything, dots included.
	{"*", "a", true},
	{"*", "system.time", true},
	{"*", "...", true},

	// Literals: the whole subject, case-sensitive.
	{"system", "system", true},
	{"system", "system.time", false},
	{"system.time", "system", false},
	{"system.time", "system.time", true},
	{"System.Time", "system.time", false},
	{"system.time", "system.tim", false},
	{"abc", "abd", false},

	// Trailing stars.
	{"system.*", "system.time", true},
	{"system.*", "system.", true},
	{"system.*", "system", false},
	{"system.*", "system.a.b.c", true},
	{"system*", "system", true},
	{"system*", "systemd", true},
	{"system.**", "system.x", true},
	{"SYSTEM.*", "system.time", false},

	// Leading stars.
	{"*.time", "system.time", true},
	{"*.time", ".time", true},
	{"*.time", "time", false},
	{"*.time", "system.time.zone", false},
	{"*time", "time", true},
	{"*.TIME", "system.time", false},

	// Stars on both sides.
	{"*.*", "a.b", true},
	{"*.*", ".", true},
	{"*.*", "ab", false},
	{"*.*", "a.b.c", true},
	{"*time*", "the time is", true},
	{"*time*", "tim", false},
	{"*a*", "a", true},

	// Several stars.
	{"a*b*c", "abc", true},
	{"a*b*c", "aXbYc", true},
	{"a*b*c", "aXXbYYbZZc", true},
	{"a*b*c", "acb", false},
	{"a*b*c", "abcX", false},
	{"a*b*c", "ab", false},
	{"a*a", "a", false},
	{"a*a", "aa", true},
	{"ab*ba", "aba", false},
	{"ab*ba", "abba", true},
	{"a*b*c*d", "abdc", false},
	{"*a*b*", "xxbxxaxx", false},
	{"*a*b*", "xxaxxbxx", true},
	{"**a**", "a", true},
	{"a**b", "ab", true},

	// Question marks: exactly one character.
	{"?", "a", true},
	{"?", "ab", false},
	{"??", "ab", true},
	{"system.?", "system.x", true},
	{"system.?", "system.xy", false},
	{"system.?", "system.", false},
	{"?ystem", "system", true},
	{"a?c", "a.c", true},
	{"a?c", "ac", false},

	// Question marks with multibyte runes: one rune is one character.
	{"?", "é", true},
	{"??", "é", false},
	{"?", "日", true},
	{"?", "😀", true},
	{"??", "日本", true},
	{"?本", "日本", true},
	{"日?", "日本", true},
	{"caf?", "café", true},
	{"caf??", "café", false},
	{"*?", "é", true},
	{"*??", "é", false},
	{"é*", "éa", true},
	{"*é", "aé", true},
	{"?é?", "aéb", true},

	// Invalid UTF-8: each bad byte is one character of its own.
	{"?", "\xff", true},
	{"??", "\xff\xfe", true},
	{"?", "\xff\xfe", false},
	{"\xff", "\xff", true},
	{"\xc3?", "é", false},    // é is one character; the pattern needs two
	{"*\xa9", "é", false},    // a stray continuation byte is not the end of é
	{"\xc3*", "é", false},    // nor is a stray lead byte its start
	{"\xc3*", "\xc3x", true}, // but it does match itself
	{"?\xa9", "\xc3\xa9", false},

	// Mixed.
	{"a*b?c*", "aXbYc", true},
	{"a*b?c*", "abYcZZ", true},
	{"a*b?c*", "abc", false},
	{"*?.time", "x.time", true},
	{"*?.time", ".time", false},
	{"?*?", "a", false},
	{"?*?", "ab", true},
	{"*?*?*", "ab", true},
	{"a*?", "a", false},
	{"a*?", "ab", true},

	// Pathological shapes stay fast.
	{"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	{"*?a*?a*?a*?a*?b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
}

func TestMatch(t *testing.T) {
	for _, tc := range matchCases {
		if got := Match(tc.pattern, tc.subject); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.subject, got, tc.want)
		}
		if got := Compile(tc.pattern).Match(tc.subject); got != tc.want {
			t.Errorf("Compile(%q).Match(%q) = %v, want %v", tc.pattern, tc.subject, got, tc.want)
		}
		if got := refMatch(tc.pattern, tc.subject); got != tc.want {
			t.Errorf("refMatch(%q, %q) = %v, want %v (the table or the reference is wrong)",
				tc.pattern, tc.subject, got, tc.want)
		}
	}
}

func TestMatchNoAllocs(t *testing.T) {
	for _, tc := range matchCases {
		p := Compile(tc.pattern)
		if n := testing.AllocsPerRun(20, func() { p.Match(tc.subject) }); n != 0 {
			t.Errorf("Compile(%q).Match(%q) allocates %v times", tc.pattern, tc.subject, n)
		}
		if n := testing.AllocsPerRun(20, func() { Match(tc.pattern, tc.subject) }); n != 0 {
			t.Errorf("Match(%q, %q) allocates %v times", tc.pattern, tc.subject, n)
		}
	}
}
