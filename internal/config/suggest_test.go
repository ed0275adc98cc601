package config

import "testing"

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"hot_reload", "hot_reload", 0},
		{"hot_relaod", "hot_reload", 1},
		{"hot_relod", "hot_reload", 1},
		{"kitten", "sitting", 3},
		{"foo", "log", 2},
		{"ab", "ba", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"agentd", "log", "exchange", "sandbox", "config", "hot_reload", "ca"}
	for _, tc := range []struct{ key, want string }{
		{"Hot_Reload", ` (keys are case-sensitive; did you mean "hot_reload"?)`},
		{"LOG", ` (keys are case-sensitive; did you mean "log"?)`},
		{"hot_relaod", ` (did you mean "hot_reload"?)`},
		{"Hot_Relaod", ` (did you mean "hot_reload"?)`},
		{"exchanges", ` (did you mean "exchange"?)`},
		{"lgo", ` (did you mean "log"?)`},
		{"cq", ` (did you mean "ca"?)`},
		{"foo", ""},
		{"scripts", ""},
		{"x", ""},
	} {
		if got := suggest(tc.key, known); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}
