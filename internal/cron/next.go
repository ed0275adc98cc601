package cron

import (
	"math/bits"
	"time"
)

// horizon is how far ahead Next looks before giving up.
const horizonYears = 5

// civil is a wall-clock time to the minute, with no time zone. Fields may
// temporarily run one past their range (minute 60, day 32, month 13) while
// searching; the search treats such a value as "nothing left at this level".
type civil struct {
	year, month, day, hour, minute int
}

// Next returns the first time strictly after t that matches the schedule,
// in t's Location, with seconds and below zero. Wall times that a daylight
// saving change skips are skipped; wall times that occur twice match only
// their first occurrence. Next returns the zero Time when nothing matches
// within five years of t.
func (s *Schedule) Next(t time.Time) time.Time {
	loc := t.Location()
	end := t.AddDate(horizonYears, 0, 0)
	lastYear := end.Year() + 1 // wall years beyond this are certainly past end

	y, mo, d := t.Date()
	h, mi, _ := t.Clock()
	c := civil{y, int(mo), d, h, mi + 1}
	for {
		var ok bool
		if c, ok = s.nextCivil(c, lastYear); !ok {
			return time.Time{}
		}
		if at, ok := resolve(c, loc); ok && at.After(t) {
			if at.After(end) {
				return time.Time{}
			}
			return at
		}
		c.minute++ // c does not exist, or its first occurrence is not after t
	}
}

// nextCivil returns the first wall time at or after c whose fields all
// match, or false when there is none in years up to lastYear. It moves a
// whole month, day or hour at a time when that field does not match.
func (s *Schedule) nextCivil(c civil, lastYear int) (civil, bool) {
	for c.year <= lastYear {
		mo, ok := nextBit(s.month, c.month)
		if !ok {
			c = civil{c.year + 1, 1, 1, 0, 0}
			continue
		}
		if mo != c.month {
			c = civil{c.year, mo, 1, 0, 0}
		}
		d, ok := nextBit(s.days(c.year, c.month), c.day)
		if !ok {
			c = civil{c.year, c.month + 1, 1, 0, 0}
			continue
		}
		if d != c.day {
			c.day, c.hour, c.minute = d, 0, 0
		}
		h, ok := nextBit(s.hour, c.hour)
		if !ok {
			c.day, c.hour, c.minute = c.day+1, 0, 0
			continue
		}
		if h != c.hour {
			c.hour, c.minute = h, 0
		}
		m, ok := nextBit(s.minute, c.minute)
		if !ok {
			c.hour, c.minute = c.hour+1, 0
			continue
		}
		c.minute = m
		return c, true
	}
	return civil{}, false
}

// days returns the set of days (bits 1-31) of the given month that match
// the day-of-month and day-of-week fields.
func (s *Schedule) days(year, month int) uint64 {
	valid := monthDays(daysIn(month, year))
	// week has bit k+1 set when day k+1 of the month falls on a selected
	// weekday, for k in 0-6; the pattern then repeats every seven days.
	first := int(time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC).Weekday())
	var week uint64
	for k := range 7 {
		if s.dow&(1<<((first+k)%7)) != 0 {
			week |= 1 << (k + 1)
		}
	}
	dow := (week | week<<7 | week<<14 | week<<21 | week<<28) & valid
	if s.dayAnd {
		return s.dom & dow
	}
	return (s.dom & valid) | dow
}

// nextBit returns the lowest set bit of set at or above from.
func nextBit(set uint64, from int) (int, bool) {
	if from >= 64 {
		return 0, false
	}
	rest := set >> from << from
	if rest == 0 {
		return 0, false
	}
	return bits.TrailingZeros64(rest), true
}

// monthDays returns the set with bits 1 through n.
func monthDays(n int) uint64 { return (1<<(n+1) - 1) &^ 1 }

// daysIn returns the number of days in a month of the proleptic Gregorian calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// resolve returns the first instant whose wall clock in loc reads c, or
// false when daylight saving time skips c in loc.
//
// The instant is c read as UTC minus the zone's offset at that instant.
// The offset in force is found by sampling the zone a day either side and
// at c itself: real zones change offset at most once in such a window, so
// the samples include the offset before and after any change, and each
// candidate is checked by reading its wall clock back.
func resolve(c civil, loc *time.Location) (time.Time, bool) {
	asUTC := time.Date(c.year, time.Month(c.month), c.day, c.hour, c.minute, 0, 0, time.UTC)
	if loc == time.UTC {
		return asUTC, true
	}
	u := asUTC.Unix()
	var best time.Time
	found := false
	for _, probe := range [...]int64{u - 86400, u, u + 86400} {
		_, offset := time.Unix(probe, 0).In(loc).Zone()
		at := time.Unix(u-int64(offset), 0).In(loc)
		if wallIs(at, c) && (!found || at.Before(best)) {
			best, found = at, true
		}
	}
	return best, found
}

// wallIs reports whether t's wall clock reads exactly c.
func wallIs(t time.Time, c civil) bool {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return y == c.year && int(mo) == c.month && d == c.day && h == c.hour && mi == c.minute && sec == 0
}
