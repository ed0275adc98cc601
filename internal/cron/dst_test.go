package cron

import (
	"testing"
	"time"
	_ "time/tzdata" // so the zones below exist even without /usr/share/zoneinfo
)

// zone loads a time zone, skipping the test when it is unavailable.
func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s unavailable: %v", name, err)
	}
	return loc
}

func TestNextDST(t *testing.T) {
	// UTC instants are unambiguous; comments give the wall clock.
	tests := []struct {
		zone, spec, from, want string // from and want in UTC
	}{
		// New York springs forward at 2026-03-08 02:00 EST to 03:00 EDT.
		// 02:30 does not exist that day, so the daily job skips it.
		{"America/New_York", "30 2 * * *", "2026-03-07 08:00:00", "2026-03-09 06:30:00"}, // 03-07 03:00 EST → 03-09 02:30 EDT
		{"America/New_York", "30 2 * * *", "2026-03-07 07:30:00", "2026-03-09 06:30:00"}, // from 03-07 02:30 EST itself
		{"America/New_York", "0 2 * * *", "2026-03-08 05:00:00", "2026-03-09 06:00:00"},
		{"America/New_York", "*/15 * * * *", "2026-03-08 06:45:00", "2026-03-08 07:00:00"}, // 01:45 EST → 03:00 EDT
		{"America/New_York", "0 3 * * *", "2026-03-08 06:00:00", "2026-03-08 07:00:00"},    // 01:00 EST → 03:00 EDT
		{"America/New_York", "59 1 * * *", "2026-03-08 05:00:00", "2026-03-08 06:59:00"},   // last minute before the gap
		{"America/New_York", "* 2 * * *", "2026-03-08 05:00:00", "2026-03-09 06:00:00"},    // the whole hour is missing
		// An unrestricted hour field skips the gap too.
		{"America/New_York", "30 */2 * * *", "2026-03-08 06:00:00", "2026-03-08 08:30:00"}, // 01:00 EST → 04:30 EDT
		{"America/New_York", "* * * * *", "2026-03-08 06:59:00", "2026-03-08 07:00:00"},    // 01:59 EST → 03:00 EDT

		// New York falls back at 2026-11-01 02:00 EDT to 01:00 EST; 01:00-01:59
		// happens twice. A restricted hour field fires only the first time.
		{"America/New_York", "30 1 * * *", "2026-11-01 04:00:00", "2026-11-01 05:30:00"},   // 00:00 EDT → 01:30 EDT
		{"America/New_York", "30 1 * * *", "2026-11-01 05:30:00", "2026-11-02 06:30:00"},   // not again at 01:30 EST
		{"America/New_York", "30 1 * * *", "2026-11-01 06:00:00", "2026-11-02 06:30:00"},   // from 01:00 EST
		{"America/New_York", "30 1 * * *", "2026-11-01 05:45:00", "2026-11-02 06:30:00"},   // from 01:45 EDT
		{"America/New_York", "* 1 * * *", "2026-11-01 05:59:00", "2026-11-02 06:00:00"},    // 01:59 EDT → 11-02 01:00 EST
		{"America/New_York", "* 1 * * *", "2026-11-01 06:30:00", "2026-11-02 06:00:00"},    // from 01:30 EST
		{"America/New_York", "0 0-23 * * *", "2026-11-01 05:00:00", "2026-11-01 07:00:00"}, // every hour, but restricted
		{"America/New_York", "@daily", "2026-11-01 03:00:00", "2026-11-01 04:00:00"},
		{"America/New_York", "0 2 * * *", "2026-11-01 04:00:00", "2026-11-01 07:00:00"}, // 02:00 exists once, in EST
		{"America/New_York", "59 0 * * *", "2026-11-01 04:00:00", "2026-11-01 04:59:00"},
		// An unrestricted hour field fires in both passes.
		{"America/New_York", "*/15 * * * *", "2026-11-01 05:45:00", "2026-11-01 06:00:00"}, // 01:45 EDT → 01:00 EST
		{"America/New_York", "*/15 * * * *", "2026-11-01 06:45:00", "2026-11-01 07:00:00"}, // 01:45 EST → 02:00 EST
		{"America/New_York", "*/15 * * * *", "2026-11-01 06:20:30", "2026-11-01 06:30:00"}, // 01:20:30 EST → 01:30 EST
		{"America/New_York", "0 * * * *", "2026-11-01 05:00:00", "2026-11-01 06:00:00"},    // 01:00 EDT → 01:00 EST
		{"America/New_York", "0 * * * *", "2026-11-01 06:00:00", "2026-11-01 07:00:00"},    // 01:00 EST → 02:00 EST
		{"America/New_York", "@hourly", "2026-11-01 05:00:00", "2026-11-01 06:00:00"},      // "0 * * * *"
		{"America/New_York", "* * * * *", "2026-11-01 05:59:00", "2026-11-01 06:00:00"},    // 01:59 EDT → 01:00 EST
		{"America/New_York", "30 1 * 11 *", "2026-11-01 05:30:00", "2026-11-02 06:30:00"},  // restricted: once
		// ... but only at the hours it selects: "*/2" has no 1.
		{"America/New_York", "0 */2 * * *", "2026-11-01 04:00:00", "2026-11-01 07:00:00"},   // 00:00 EDT → 02:00 EST
		{"America/New_York", "0 */2,1 * * *", "2026-11-01 05:00:00", "2026-11-01 06:00:00"}, // 01:00 EDT → 01:00 EST
		{"America/New_York", "0 1,*/2 * * *", "2026-11-01 05:00:00", "2026-11-01 07:00:00"}, // starts with "1": restricted

		// New York left local mean time (-4:56:02) for EST at 1883-11-18
		// 12:03:58 LMT, which became 12:00:00 EST: 12:00-12:03 repeat, and
		// the offset has seconds.
		{"America/New_York", "* * * * *", "1883-11-18 16:59:30", "1883-11-18 17:00:00"},  // 12:03:28 LMT → 12:00 EST
		{"America/New_York", "3 * * * *", "1883-11-18 16:59:30", "1883-11-18 17:03:00"},  // → 12:03 EST
		{"America/New_York", "* 12 * * *", "1883-11-18 16:59:30", "1883-11-18 17:04:00"}, // 12:00-12:03 EST repeat
		{"America/New_York", "3 12 * * *", "1883-11-18 16:59:30", "1883-11-19 17:03:00"}, // 11-19 12:03 EST

		// Havana changes at midnight: on 2026-03-08 00:00-00:59 does not exist,
		// on 2026-11-01 it happens twice.
		{"America/Havana", "0 0 * * *", "2026-03-07 17:00:00", "2026-03-09 04:00:00"},
		{"America/Havana", "30 0 * * *", "2026-03-07 17:00:00", "2026-03-09 04:30:00"},
		{"America/Havana", "0 0 * * *", "2026-10-31 17:00:00", "2026-11-01 04:00:00"},
		{"America/Havana", "0 0 * * *", "2026-11-01 04:00:00", "2026-11-02 05:00:00"},
		{"America/Havana", "0 0 1 11 *", "2026-11-01 04:00:00", "2027-11-01 04:00:00"},
		{"America/Havana", "30 */2 * * *", "2026-11-01 04:00:00", "2026-11-01 04:30:00"}, // 00:30 CDT
		{"America/Havana", "30 */2 * * *", "2026-11-01 04:30:00", "2026-11-01 05:30:00"}, // 00:30 CST
		{"America/Havana", "30 */2 * * *", "2026-11-01 05:30:00", "2026-11-01 07:30:00"}, // 02:30 CST
		{"America/Havana", "0 * 1 11 *", "2026-11-01 04:00:00", "2026-11-01 05:00:00"},   // 00:00 CDT → 00:00 CST
		{"America/Havana", "0 * 1 11 *", "2026-11-01 05:00:00", "2026-11-01 06:00:00"},   // → 01:00 CST

		// Lord Howe Island shifts by half an hour.
		// 2026-10-04 02:00 +10:30 becomes 02:30 +11: 02:00-02:29 is missing.
		{"Australia/Lord_Howe", "15 2 * * *", "2026-10-03 00:00:00", "2026-10-04 15:15:00"},   // 10-05 02:15 +11
		{"Australia/Lord_Howe", "45 2 * * *", "2026-10-03 00:00:00", "2026-10-03 15:45:00"},   // 10-04 02:45 +11
		{"Australia/Lord_Howe", "*/15 * * * *", "2026-10-03 15:15:00", "2026-10-03 15:30:00"}, // 01:45 +10:30 → 02:30 +11
		// 2026-04-05 02:00 +11 becomes 01:30 +10:30: 01:30-01:59 repeats.
		{"Australia/Lord_Howe", "45 1 * * *", "2026-04-04 14:00:00", "2026-04-04 14:45:00"}, // 01:45 +11
		{"Australia/Lord_Howe", "45 1 * * *", "2026-04-04 14:45:00", "2026-04-05 15:15:00"}, // 04-06 01:45 +10:30
		{"Australia/Lord_Howe", "45 * * * *", "2026-04-04 14:45:00", "2026-04-04 15:15:00"}, // 01:45 +10:30
		{"Australia/Lord_Howe", "45 * * * *", "2026-04-04 15:15:00", "2026-04-04 16:15:00"}, // 02:45 +10:30
		{"Australia/Lord_Howe", "0 * * * *", "2026-04-04 14:00:00", "2026-04-04 15:30:00"},  // 01:00 +11 → 02:00 +10:30
		{"Australia/Lord_Howe", "15 * * * *", "2026-04-04 14:15:00", "2026-04-04 15:45:00"}, // 01:15 does not repeat
	}
	for _, tc := range tests {
		loc := zone(t, tc.zone)
		s, err := Parse(tc.spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.spec, err)
		}
		from := utc(t, tc.from).In(loc)
		want := utc(t, tc.want).In(loc)
		got := s.Next(from)
		if !got.Equal(want) || got.Location() != loc {
			t.Errorf("%s: Parse(%q).Next(%s) = %s, want %s", tc.zone, tc.spec, from, got, want)
		}
	}
}

// TestNextFallBackFiresOnce walks a daily schedule across the New York
// fall-back night and counts the firings.
func TestNextFallBackFiresOnce(t *testing.T) {
	loc := zone(t, "America/New_York")
	s, err := Parse("30 1 * * *")
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	for at := time.Date(2026, 10, 31, 0, 0, 0, 0, loc); len(got) < 3; {
		at = s.Next(at)
		got = append(got, at)
	}
	want := []time.Time{
		time.Date(2026, 10, 31, 5, 30, 0, 0, time.UTC), // 01:30 EDT
		time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),  // 01:30 EDT, first occurrence
		time.Date(2026, 11, 2, 6, 30, 0, 0, time.UTC),  // 01:30 EST
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("firing %d = %s, want %s", i, got[i], want[i].In(loc))
		}
	}
}

// TestNextClockChangeSequence chains Next through a night when clocks
// change and lists every firing, in UTC.
func TestNextClockChangeSequence(t *testing.T) {
	tests := []struct {
		zone, spec, from string // from in UTC
		want             []string
	}{
		// New York falls back at 2026-11-01 02:00 EDT to 01:00 EST. The hour
		// field "*" fires in both passes of 01:00-01:59, so every 15 minutes
		// of real time, from 00:45 EDT to 02:15 EST.
		{"America/New_York", "*/15 * * * *", "2026-11-01 04:30:00", []string{
			"2026-11-01 04:45:00", // 00:45 EDT
			"2026-11-01 05:00:00", // 01:00 EDT
			"2026-11-01 05:15:00", // 01:15 EDT
			"2026-11-01 05:30:00", // 01:30 EDT
			"2026-11-01 05:45:00", // 01:45 EDT
			"2026-11-01 06:00:00", // 01:00 EST
			"2026-11-01 06:15:00", // 01:15 EST
			"2026-11-01 06:30:00", // 01:30 EST
			"2026-11-01 06:45:00", // 01:45 EST
			"2026-11-01 07:00:00", // 02:00 EST
			"2026-11-01 07:15:00", // 02:15 EST
		}},
		{"America/New_York", "0 * * * *", "2026-11-01 04:00:00", []string{
			"2026-11-01 05:00:00", // 01:00 EDT
			"2026-11-01 06:00:00", // 01:00 EST
			"2026-11-01 07:00:00", // 02:00 EST
		}},
		// A restricted hour field fires once: "30 1 * * *" is in
		// TestNextFallBackFiresOnce.
		{"America/New_York", "*/20 1 * * *", "2026-11-01 04:00:00", []string{
			"2026-11-01 05:00:00", // 01:00 EDT
			"2026-11-01 05:20:00", // 01:20 EDT
			"2026-11-01 05:40:00", // 01:40 EDT
			"2026-11-02 06:00:00", // 11-02 01:00 EST
		}},
		// New York springs forward at 2026-03-08 02:00 EST to 03:00 EDT, the
		// same for both kinds of hour field: 02:00-02:59 does not exist.
		{"America/New_York", "*/15 * * * *", "2026-03-08 06:15:00", []string{
			"2026-03-08 06:30:00", // 01:30 EST
			"2026-03-08 06:45:00", // 01:45 EST
			"2026-03-08 07:00:00", // 03:00 EDT
			"2026-03-08 07:15:00", // 03:15 EDT
		}},
		{"America/New_York", "30 2 * * *", "2026-03-07 04:00:00", []string{
			"2026-03-07 07:30:00", // 02:30 EST
			"2026-03-09 06:30:00", // 02:30 EDT; none on 03-08
		}},

		// Lord Howe Island falls back half an hour at 2026-04-05 02:00 +11 to
		// 01:30 +10:30, so only 01:30-01:59 repeats.
		{"Australia/Lord_Howe", "*/15 * * * *", "2026-04-04 14:00:00", []string{
			"2026-04-04 14:15:00", // 01:15 +11
			"2026-04-04 14:30:00", // 01:30 +11
			"2026-04-04 14:45:00", // 01:45 +11
			"2026-04-04 15:00:00", // 01:30 +10:30
			"2026-04-04 15:15:00", // 01:45 +10:30
			"2026-04-04 15:30:00", // 02:00 +10:30
			"2026-04-04 15:45:00", // 02:15 +10:30
		}},
		{"Australia/Lord_Howe", "45 1 * * *", "2026-04-03 14:00:00", []string{
			"2026-04-03 14:45:00", // 04-04 01:45 +11
			"2026-04-04 14:45:00", // 04-05 01:45 +11, the first occurrence
			"2026-04-05 15:15:00", // 04-06 01:45 +10:30
		}},
	}
	for _, tc := range tests {
		loc := zone(t, tc.zone)
		s, err := Parse(tc.spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.spec, err)
		}
		at := utc(t, tc.from).In(loc)
		for i, w := range tc.want {
			next := s.Next(at)
			if want := utc(t, w); !next.Equal(want) {
				t.Errorf("%s: Parse(%q): firing %d, Next(%s) = %s, want %s",
					tc.zone, tc.spec, i, at, next, want.In(loc))
				break
			}
			at = next
		}
	}
}

// TestNextSteadyThroughYear walks schedules through a whole year of clock
// changes. Both zones change offset by a multiple of 15 minutes, so
// "*/15 * * * *", firing in both passes of a repeated period and skipping
// only wall times that do not exist, fires every 15 minutes of real time;
// in New York "0 * * * *" fires every hour.
func TestNextSteadyThroughYear(t *testing.T) {
	tests := []struct {
		zone, spec string
		step       time.Duration
	}{
		{"America/New_York", "*/15 * * * *", 15 * time.Minute},
		{"Australia/Lord_Howe", "*/15 * * * *", 15 * time.Minute},
		{"America/New_York", "0 * * * *", time.Hour},
	}
	for _, tc := range tests {
		loc := zone(t, tc.zone)
		s, err := Parse(tc.spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.spec, err)
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		to := from.AddDate(1, 0, 0)
		for at := from; at.Before(to); {
			next := s.Next(at)
			if next.Sub(at) != tc.step {
				t.Fatalf("%s: Parse(%q).Next(%s) = %s, want %s later", tc.zone, tc.spec, at, next, tc.step)
			}
			at = next
		}
	}
}

// TestNextHorizonInZone checks the five-year limit where the search crosses
// many clock changes.
func TestNextHorizonInZone(t *testing.T) {
	loc := zone(t, "America/New_York")
	s, err := Parse("0 0 29 2 */7") // 29 February on a Sunday: 2032
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Next(time.Date(2026, 3, 1, 0, 0, 0, 0, loc)); !got.IsZero() {
		t.Errorf("Next from 2026-03-01 = %s, want the zero Time", got)
	}
	from := time.Date(2027, 3, 1, 0, 0, 0, 0, loc)
	if got, want := s.Next(from), time.Date(2032, 2, 29, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("Next(%s) = %s, want %s", from, got, want)
	}
}
