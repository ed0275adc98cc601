package cron

import (
	"testing"
	"time"
)

// utc builds a UTC time from "2006-01-02 15:04:05".
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.DateTime, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestNext(t *testing.T) {
	tests := []struct {
		spec, from, want string // want "" means the zero Time
	}{
		// Every 15 minutes; strictly after, truncated to the minute.
		{"*/15 * * * *", "2026-01-01 10:07:00", "2026-01-01 10:15:00"},
		{"*/15 * * * *", "2026-01-01 10:15:00", "2026-01-01 10:30:00"},
		{"*/15 * * * *", "2026-01-01 10:14:59", "2026-01-01 10:15:00"},
		{"*/15 * * * *", "2026-01-01 10:59:59", "2026-01-01 11:00:00"},
		{"*/15 * * * *", "2026-01-01 23:50:00", "2026-01-02 00:00:00"},
		{"* * * * *", "2026-01-01 10:00:00", "2026-01-01 10:01:00"},
		{"* * * * *", "2026-01-01 10:00:59", "2026-01-01 10:01:00"},

		// Hours, ranges and steps.
		{"0 9-17/4 * * *", "2026-01-01 09:00:00", "2026-01-01 13:00:00"},
		{"0 9-17/4 * * *", "2026-01-01 17:00:00", "2026-01-02 09:00:00"},
		{"30 23 * * *", "2026-01-01 23:30:00", "2026-01-02 23:30:00"},

		// Month and day names. 2026-01-01 is a Thursday.
		{"0 9 * * mon-fri", "2026-01-02 09:00:00", "2026-01-05 09:00:00"},
		{"0 9 * * SAT,sun", "2026-01-01 00:00:00", "2026-01-03 09:00:00"},
		{"0 0 1 jul *", "2026-01-01 00:00:00", "2026-07-01 00:00:00"},
		{"0 0 * mar-apr tue", "2026-01-01 00:00:00", "2026-03-03 00:00:00"},
		{"0 0 * * 7", "2026-01-01 00:00:00", "2026-01-04 00:00:00"},

		// Day-of-month OR day-of-week when both are restricted.
		{"0 0 13 * fri", "2026-01-01 00:00:00", "2026-01-02 00:00:00"},
		{"0 0 13 * fri", "2026-01-09 00:00:00", "2026-01-13 00:00:00"},
		{"0 0 13 * fri", "2026-01-13 00:00:00", "2026-01-16 00:00:00"},
		// ... AND when either starts with '*': Friday the 13th, or a Sunday the 13th.
		{"0 0 13 * */5", "2026-01-01 00:00:00", "2026-02-13 00:00:00"},
		{"0 0 13 * */5", "2026-02-13 00:00:00", "2026-03-13 00:00:00"},
		{"0 0 */10 * mon", "2026-01-01 00:00:00", "2026-05-11 00:00:00"},

		// Leap years: from 2025-03-01 the next 29 February is in 2028.
		{"0 0 29 2 *", "2025-03-01 00:00:00", "2028-02-29 00:00:00"},
		{"0 0 29 2 *", "2028-02-29 00:00:00", "2032-02-29 00:00:00"},
		{"0 0 29 2 mon", "2027-01-01 00:00:00", "2027-02-01 00:00:00"},
		{"0 0 28 2 *", "2028-02-28 00:00:00", "2029-02-28 00:00:00"},

		// End of month: months without the day are passed over.
		{"0 0 31 * *", "2026-01-31 00:00:00", "2026-03-31 00:00:00"},
		{"0 0 31 * *", "2026-05-31 12:00:00", "2026-07-31 00:00:00"},
		{"0 0 30 * *", "2026-01-30 00:00:00", "2026-03-30 00:00:00"},
		{"59 23 28-31 * *", "2026-02-28 23:59:00", "2026-03-28 23:59:00"},
		{"0 12 29-31 feb *", "2026-01-01 00:00:00", "2028-02-29 12:00:00"},

		// Year rollover.
		{"0 0 1 1 *", "2026-12-31 23:59:00", "2027-01-01 00:00:00"},
		{"@yearly", "2026-01-01 00:00:00", "2027-01-01 00:00:00"},
		{"* * * * *", "2026-12-31 23:59:30", "2027-01-01 00:00:00"},
		{"0 0 * dec sat", "2026-12-26 00:00:00", "2027-12-04 00:00:00"},

		// Macros.
		{"@hourly", "2026-01-01 10:30:00", "2026-01-01 11:00:00"},
		{"@daily", "2026-01-01 10:30:00", "2026-01-02 00:00:00"},
		{"@weekly", "2026-01-01 10:30:00", "2026-01-04 00:00:00"},
		{"@monthly", "2026-01-01 10:30:00", "2026-02-01 00:00:00"},

		// Nothing within five years. 29 February next falls on a Sunday in 2032.
		{"0 0 29 2 */7", "2026-03-01 00:00:00", ""},
		{"0 0 29 2 */7", "2027-03-01 00:00:00", "2032-02-29 00:00:00"},
		{"0 0 29 2 */7", "2032-02-29 00:00:00", ""},
		// 2100 is not a leap year, so 2096 to 2104 is eight years.
		{"0 0 29 2 *", "2096-03-01 00:00:00", ""},
		// The horizon is inclusive: exactly five years later still counts.
		{"0 0 1 1 *", "2026-01-01 00:00:00", "2027-01-01 00:00:00"},
		{"0 12 1 3 */7", "2021-03-01 12:00:00", "2026-03-01 12:00:00"},
	}
	for _, tc := range tests {
		s, err := Parse(tc.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		from := utc(t, tc.from)
		var want time.Time
		if tc.want != "" {
			want = utc(t, tc.want)
		}
		if got := s.Next(from); !got.Equal(want) || got.Location() != want.Location() {
			t.Errorf("Parse(%q).Next(%s) = %s, want %s", tc.spec, tc.from, got, want)
		}
	}
}

func TestNextKeepsLocation(t *testing.T) {
	s, err := Parse("0 12 * * *")
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	from := time.Date(2026, 1, 1, 13, 0, 0, 0, zone)
	got := s.Next(from)
	if want := time.Date(2026, 1, 2, 12, 0, 0, 0, zone); !got.Equal(want) || got.Location() != zone {
		t.Errorf("Next(%s) = %s, want %s", from, got, want)
	}
}

// TestNextSecondsInZone uses a zone whose offset has seconds (local mean
// time), where truncating the instant to the minute would not truncate the
// wall clock.
func TestNextSecondsInZone(t *testing.T) {
	s, err := Parse("* * * * *")
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("LMT", -(4*3600 + 56*60 + 2))
	from := time.Date(1880, 1, 1, 10, 0, 30, 0, zone)
	if got, want := s.Next(from), time.Date(1880, 1, 1, 10, 1, 0, 0, zone); !got.Equal(want) {
		t.Errorf("Next(%s) = %s, want %s", from, got, want)
	}
}

func TestNextConcurrent(t *testing.T) {
	s, err := Parse("*/7 3-5 * * mon")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	want := s.Next(from)
	done := make(chan time.Time)
	for range 4 {
		go func() { done <- s.Next(from) }()
	}
	for range 4 {
		if got := <-done; !got.Equal(want) {
			t.Errorf("concurrent Next = %s, want %s", got, want)
		}
	}
}

func TestCivilNextMinute(t *testing.T) {
	tests := []struct{ c, want civil }{
		{civil{2026, 1, 1, 10, 7}, civil{2026, 1, 1, 10, 8}},
		{civil{2026, 1, 1, 10, 59}, civil{2026, 1, 1, 11, 0}},
		{civil{2026, 1, 31, 23, 59}, civil{2026, 2, 1, 0, 0}},
		{civil{2026, 2, 28, 23, 59}, civil{2026, 3, 1, 0, 0}},
		{civil{2028, 2, 28, 23, 59}, civil{2028, 2, 29, 0, 0}},
		{civil{2026, 4, 30, 23, 59}, civil{2026, 5, 1, 0, 0}},
		{civil{2026, 12, 31, 23, 59}, civil{2027, 1, 1, 0, 0}},
	}
	for _, tc := range tests {
		if got := tc.c.nextMinute(); got != tc.want {
			t.Errorf("%+v.nextMinute() = %+v, want %+v", tc.c, got, tc.want)
		}
	}
}
