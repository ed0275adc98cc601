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

// refNextIn is Next for any zone whose offsets are whole minutes, by
// stepping through real time a minute at a time over (t, t+window]: the
// first instant whose wall clock matches, and, when the hour field is
// restricted, which is the first instant to show that wall clock. A spec
// whose hour field starts with '*' fires at every instant whose wall clock
// matches, so in both passes of a repeated hour. ok is false when there is
// none.
func refNextIn(s *Schedule, t time.Time, window time.Duration) (next time.Time, ok bool) {
	for at := t.Truncate(time.Minute).Add(time.Minute); !at.After(t.Add(window)); at = at.Add(time.Minute) {
		if at.Second() == 0 && s.matches(at) && (s.hourAny || firstOccurrence(at)) {
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
		dayAnd:  texts[fDom][0] == '*' || texts[fDow][0] == '*',
		hourAny: texts[fHour][0] == '*',
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
// reference around the 2026 clock changes of three zones: New York (an hour
// at 02:00), Havana (an hour at midnight) and Lord Howe Island (half an
// hour). Specs are aimed at the small hours, with a restricted hour field
// for some and an unrestricted one for others, and each result is chained
// once more from the firing it found.
func TestNextMatchesReferenceDST(t *testing.T) {
	changes := []struct {
		zone string
		at   []time.Time // UTC instants at which the offset changes
	}{
		{"America/New_York", []time.Time{
			time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC),  // 02:00 EST → 03:00 EDT
			time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC), // 02:00 EDT → 01:00 EST
		}},
		{"America/Havana", []time.Time{
			time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC),  // 00:00 CST → 01:00 CDT
			time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC), // 01:00 CDT → 00:00 CST
		}},
		{"Australia/Lord_Howe", []time.Time{
			time.Date(2026, 4, 4, 15, 0, 0, 0, time.UTC),   // 02:00 +11 → 01:30 +10:30
			time.Date(2026, 10, 3, 15, 30, 0, 0, time.UTC), // 02:00 +10:30 → 02:30 +11
		}},
	}
	n := 600
	if testing.Short() {
		n = 60
	}
	const window = 3 * 24 * time.Hour
	r := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		z := changes[i%len(changes)]
		loc := zone(t, z.zone)
		change := z.at[r.IntN(len(z.at))]
		_, before := change.Add(-time.Second).In(loc).Zone()
		if _, after := change.In(loc).Zone(); before == after {
			t.Fatalf("%s: no change of offset at %s", z.zone, change)
		}

		spec, want := genSpec(r)
		switch i / len(changes) % 3 {
		case 0: // a restricted hour in the small hours
			h := r.IntN(4)
			spec, want.hour, want.hourAny = replaceField(spec, fHour, fmt.Sprint(h)), 1<<h, false
		case 1: // an unrestricted hour
			texts := []string{"*", "*/2", "*/3", "*/2,1", "*/5,3"}
			sets := []uint64{setRange(0, 23, 1), setRange(0, 23, 2), setRange(0, 23, 3),
				setRange(0, 23, 2) | 1<<1, setRange(0, 23, 5) | 1<<3}
			k := r.IntN(len(texts))
			spec, want.hour, want.hourAny = replaceField(spec, fHour, texts[k]), sets[k], true
		}
		if r.IntN(2) == 0 { // every day, so that the day of the change counts
			for _, f := range []int{fDom, fMonth, fDow} {
				spec = replaceField(spec, f, "*")
			}
			want.dom, want.month, want.dow, want.dayAnd = setRange(1, 31, 1), setRange(1, 12, 1), setRange(0, 6, 1), true
		}
		want.spec = spec
		s := parseGenerated(t, spec, want)
		if s == nil {
			continue
		}
		// Start within two hours of the change half the time, else from a
		// day and a half before it to half a day after.
		from := change.Add(time.Duration(r.IntN(4*60)-2*60) * time.Minute)
		if r.IntN(2) == 0 {
			from = change.Add(time.Duration(r.IntN(48*60)-36*60) * time.Minute)
		}
		if r.IntN(4) == 0 {
			from = from.Add(time.Duration(r.IntN(60)) * time.Second)
		}
		from = from.In(loc)
		for range 2 {
			got := s.Next(from)
			ref, ok := refNextIn(s, from, window)
			if !ok {
				if !got.IsZero() && !got.After(from.Add(window)) {
					t.Fatalf("%s: Parse(%q).Next(%s) = %s, reference finds nothing before %s",
						z.zone, spec, from, got, from.Add(window))
				}
				break
			}
			if !got.Equal(ref) || got.Location() != loc {
				t.Fatalf("%s: Parse(%q).Next(%s) = %s, reference %s", z.zone, spec, from, got, ref)
			}
			from = got // chain once more from the exact firing time
		}
	}
}

func replaceField(spec string, i int, text string) string {
	parts := strings.Fields(spec)
	parts[i] = text
	return strings.Join(parts, " ")
}
