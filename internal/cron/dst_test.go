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

		// New York falls back at 2026-11-01 02:00 EDT to 01:00 EST; 01:00-01:59
		// happens twice and fires only the first time.
		{"America/New_York", "30 1 * * *", "2026-11-01 04:00:00", "2026-11-01 05:30:00"},   // 00:00 EDT → 01:30 EDT
		{"America/New_York", "30 1 * * *", "2026-11-01 05:30:00", "2026-11-02 06:30:00"},   // not again at 01:30 EST
		{"America/New_York", "30 1 * * *", "2026-11-01 06:00:00", "2026-11-02 06:30:00"},   // from 01:00 EST
		{"America/New_York", "30 1 * * *", "2026-11-01 05:45:00", "2026-11-02 06:30:00"},   // from 01:45 EDT
		{"America/New_York", "*/15 * * * *", "2026-11-01 05:45:00", "2026-11-01 07:00:00"}, // 01:45 EDT → 02:00 EST
		{"America/New_York", "0 * * * *", "2026-11-01 05:00:00", "2026-11-01 07:00:00"},    // 01:00 EDT → 02:00 EST
		{"America/New_York", "0 2 * * *", "2026-11-01 04:00:00", "2026-11-01 07:00:00"},    // 02:00 exists once, in EST
		{"America/New_York", "59 0 * * *", "2026-11-01 04:00:00", "2026-11-01 04:59:00"},

		// Havana changes at midnight: on 2026-03-08 00:00-00:59 does not exist,
		// on 2026-11-01 it happens twice.
		{"America/Havana", "0 0 * * *", "2026-03-07 17:00:00", "2026-03-09 04:00:00"},
		{"America/Havana", "30 0 * * *", "2026-03-07 17:00:00", "2026-03-09 04:30:00"},
		{"America/Havana", "0 0 * * *", "2026-10-31 17:00:00", "2026-11-01 04:00:00"},
		{"America/Havana", "0 0 * * *", "2026-11-01 04:00:00", "2026-11-02 05:00:00"},
		{"America/Havana", "0 0 1 11 *", "2026-11-01 04:00:00", "2027-11-01 04:00:00"},

		// Lord Howe Island shifts by half an hour.
		// 2026-10-04 02:00 +10:30 becomes 02:30 +11: 02:00-02:29 is missing.
		{"Australia/Lord_Howe", "15 2 * * *", "2026-10-03 00:00:00", "2026-10-04 15:15:00"}, // 10-05 02:15 +11
		{"Australia/Lord_Howe", "45 2 * * *", "2026-10-03 00:00:00", "2026-10-03 15:45:00"}, // 10-04 02:45 +11
		// 2026-04-05 02:00 +11 becomes 01:30 +10:30: 01:30-01:59 repeats.
		{"Australia/Lord_Howe", "45 1 * * *", "2026-04-04 14:00:00", "2026-04-04 14:45:00"}, // 01:45 +11
		{"Australia/Lord_Howe", "45 1 * * *", "2026-04-04 14:45:00", "2026-04-05 15:15:00"}, // 04-06 01:45 +10:30
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
