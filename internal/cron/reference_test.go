package cron

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// This file checks Parse and Next against deliberately naive references:
// a generator that writes random specs and works out their value sets on
// its own, and a search that tries every minute.

// matches reports whether t's wall clock satisfies s, testing each field's
// bits directly.
func (s *Schedule) matches(t time.Time) bool {
	return s.dayMatches(t) && s.hour&(1<<t.Hour()) != 0 && s.minute&(1<<t.Minute()) != 0
}

// dayMatches reports whether t's date satisfies the month and day fields.
func (s *Schedule) dayMatches(t time.Time) bool {
	if s.month&(1<<int(t.Month())) == 0 {
		return false
	}
	dom := s.dom&(1<<t.Day()) != 0
	dow := s.dow&(1<<int(t.Weekday())) != 0
	if s.dayAnd {
		return dom && dow
	}
	return dom || dow
}

// refNextUTC is Next for UTC by trying each minute, skipping only whole days
// whose date cannot match.
func refNextUTC(s *Schedule, t time.Time) time.Time {
	end := t.AddDate(horizonYears, 0, 0)
	for at := t.Truncate(time.Minute).Add(time.Minute); !at.After(end); {
		if !s.dayMatches(at) {
			y, m, d := at.Date()
			at = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if s.matches(at) {
			return at
		}
		at = at.Add(time.Minute)
	}
	return time.Time{}
}

// refNextIn is Next for any zone by trying each real minute in
// (t, t+window]: the first whose wall clock matches and which is the first
// instant to show that wall clock. ok is false when there is none.
func refNextIn(s *Schedule, t time.Time, window time.Duration) (next time.Time, ok bool) {
	for at := t.Add(time.Minute); !at.After(t.Add(window)); at = at.Add(time.Minute) {
		if s.matches(at) && firstOccurrence(at) {
			return at, true
		}
	}
	return time.Time{}, false
}

// firstOccurrence reports whether no instant in the three hours before t
// shows the same wall clock.
func firstOccurrence(t time.Time) bool {
	wall := t.Format(time.DateTime)
	for back := time.Minute; back <= 3*time.Hour; back += time.Minute {
		if t.Add(-back).Format(time.DateTime) == wall {
			return false
		}
	}
	return true
}

// genSpec writes a random valid-looking spec and the Schedule it should
// parse to, computing the value sets without the parser.
func genSpec(r *rand.Rand) (string, Schedule) {
	var texts [5]string
	var sets [5]uint64
	for i := range fields {
		texts[i], sets[i] = genField(r, &fields[i])
	}
	if sets[fDow]&(1<<7) != 0 {
		sets[fDow] = sets[fDow]&^(1<<7) | 1
	}
	return strings.Join(texts[:], " "), Schedule{
		spec:   strings.Join(texts[:], " "),
		minute: sets[fMinute], hour: sets[fHour], dom: sets[fDom], month: sets[fMonth], dow: sets[fDow],
		dayAnd: texts[fDom][0] == '*' || texts[fDow][0] == '*',
	}
}

// genField writes one field of one to three items. A quarter of fields are
// a plain "*" so that common shapes are well represented.
func genField(r *rand.Rand, f *field) (string, uint64) {
	if r.IntN(4) == 0 {
		return "*", setRange(f.min, f.top, 1)
	}
	var items []string
	var set uint64
	for range 1 + r.IntN(3) {
		text, s := genItem(r, f)
		items = append(items, text)
		set |= s
	}
	return strings.Join(items, ","), set
}

func genItem(r *rand.Rand, f *field) (string, uint64) {
	a := f.min + r.IntN(f.max-f.min+1)
	b := f.min + r.IntN(f.max-f.min+1)
	lo, hi := min(a, b), max(a, b)
	step := 1 + r.IntN(f.top-f.min+1)
	switch r.IntN(6) {
	case 0:
		return "*", setRange(f.min, f.top, 1)
	case 1:
		return fmt.Sprintf("*/%d", step), setRange(f.min, f.top, step)
	case 2:
		return genValue(r, f, a), 1 << a
	case 3:
		return genValue(r, f, lo) + "-" + genValue(r, f, hi), setRange(lo, hi, 1)
	case 4:
		return fmt.Sprintf("%s-%s/%d", genValue(r, f, lo), genValue(r, f, hi), step), setRange(lo, hi, step)
	default:
		return fmt.Sprintf("%s/%d", genValue(r, f, a), step), setRange(a, max(a, f.top), step)
	}
}

// genValue writes v as a number or, sometimes, as a name in random case.
func genValue(r *rand.Rand, f *field, v int) string {
	if i := v - f.min; f.names != "" && 3*i < len(f.names) && r.IntN(2) == 0 {
		name := []byte(f.names[3*i : 3*i+3])
		for j := range name {
			if r.IntN(2) == 0 {
				name[j] -= 'a' - 'A'
			}
		}
		return string(name)
	}
	return fmt.Sprint(v)
}

func setRange(lo, hi, step int) uint64 {
	var s uint64
	for v := lo; v <= hi; v += step {
		s |= 1 << v
	}
	return s
}

// parseGenerated parses a generated spec and checks the result. It returns
// nil when the spec rightly never fires.
func parseGenerated(t *testing.T, spec string, want Schedule) *Schedule {
	t.Helper()
	s, err := Parse(spec)
	if errors.Is(err, ErrNeverFires) {
		if refNextUTC(&want, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() &&
			refNextUTC(&want, time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
			return nil
		}
		t.Fatalf("Parse(%q): %v, but it fires", spec, err)
	}
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	if *s != want {
		t.Fatalf("Parse(%q) =\n  %+v, want\n  %+v", spec, *s, want)
	}
	return s
}

// randomTime returns a random time between 2020 and 2040, with seconds.
func randomTime(r *rand.Rand, loc *time.Location) time.Time {
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	return time.Unix(start+r.Int64N(20*365*86400), 0).In(loc)
}

func TestNextMatchesReference(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		spec, want := genSpec(r)
		s := parseGenerated(t, spec, want)
		if s == nil {
			continue
		}
		for range 3 {
			from := randomTime(r, time.UTC)
			got, ref := s.Next(from), refNextUTC(s, from)
			if !got.Equal(ref) {
				t.Fatalf("Parse(%q).Next(%s) = %s, reference %s", spec, from, got, ref)
			}
			if !got.IsZero() {
				// Chain once more from the exact firing time.
				if got2, ref2 := s.Next(got), refNextUTC(s, got); !got2.Equal(ref2) {
					t.Fatalf("Parse(%q).Next(%s) = %s, reference %s", spec, got, got2, ref2)
				}
			}
		}
	}
}

// TestNextMatchesReferenceDST compares Next with the minute-by-minute
// reference on days around New York's 2026 clock changes.
func TestNextMatchesReferenceDST(t *testing.T) {
	loc := zone(t, "America/New_York")
	n := 400
	if testing.Short() {
		n = 50
	}
	changes := []time.Time{
		time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC),
	}
	const window = 3 * 24 * time.Hour
	r := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		spec, want := genSpec(r)
		if i%2 == 0 {
			// Aim half the specs at the small hours, where the clocks change.
			h := r.IntN(4)
			spec, want.hour = replaceField(spec, fHour, fmt.Sprint(h)), 1<<h
			want.spec = spec
		}
		s := parseGenerated(t, spec, want)
		if s == nil {
			continue
		}
		change := changes[r.IntN(len(changes))]
		from := change.Add(time.Duration(r.IntN(48*60)-36*60) * time.Minute).In(loc)
		got := s.Next(from)
		ref, ok := refNextIn(s, from, window)
		switch {
		case ok && !got.Equal(ref):
			t.Fatalf("Parse(%q).Next(%s) = %s, reference %s", spec, from, got, ref)
		case !ok && !got.IsZero() && !got.After(from.Add(window)):
			t.Fatalf("Parse(%q).Next(%s) = %s, reference finds nothing before %s",
				spec, from, got, from.Add(window))
		}
	}
}

func replaceField(spec string, i int, text string) string {
	parts := strings.Fields(spec)
	parts[i] = text
	return strings.Join(parts, " ")
}
