package cron

import (
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"* * * * *", "*/15 * * * *", "0 9-17/2 * jan-mar mon-fri", "0 0 13 * fri",
		"0 0 29 2 *", "0 0 31 2 *", "5/20 1,2,3 */10 * 7", "@daily", "@hourly",
		"61 * * * *", "* * * *", "1-5/0 * * * *", "  0\t0 * * sun ",
	} {
		f.Add(seed)
	}
	from := time.Date(2026, 1, 15, 10, 20, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q) returned a Schedule and error %v", spec, err)
			}
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse(%q) error %T is not *ParseError", spec, err)
			}
			return
		}
		if s.String() != spec {
			t.Fatalf("Parse(%q).String() = %q", spec, s.String())
		}
		got := s.Next(from)
		if !got.IsZero() && (!got.After(from) || !s.matches(got)) {
			t.Fatalf("Parse(%q).Next(%s) = %s, not a later matching time", spec, from, got)
		}
		if ref := refNextUTC(s, from); !got.Equal(ref) {
			t.Fatalf("Parse(%q).Next(%s) = %s, reference %s", spec, from, got, ref)
		}
	})
}
