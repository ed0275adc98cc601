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
// saving change skips never match. A wall time that occurs twice, because
// clocks fall back, matches at both occurrences when the hour field starts
// with '*' and only at its first occurrence otherwise. Next returns the
// zero Time when nothing matches within five years of t.
//
// The search goes one zone period at a time, a period being a span of
// instants with one UTC offset as reported by time.Time.ZoneBounds. Inside a
// period the wall clock runs steadily with the instant, so the period's first
// firing is the first matching wall time at or after the wall clock where
// the search enters it; when that wall time lies beyond the period's end,
// the search moves on to the next period, whose wall clock may start earlier
// (clocks fell back) or later (clocks sprang forward).
func (s *Schedule) Next(t time.Time) time.Time {
	loc := t.Location()
	end := t.AddDate(horizonYears, 0, 0)
	lastYear := end.Year() + 1 // wall years beyond this are certainly past end
	never := civil{lastYear + 1, 1, 1, 0, 0}

	// Wall times from lo up to but not including hi are known not to match,
	// so a period whose wall clock starts among them need not search them
	// again. Matching depends on the wall time alone.
	var lo, hi civil
	// Each round looks for the first firing at or after the wall time w in
	// the zone period that holds the instant from; w is the first whole
	// minute that from's wall clock has not yet passed, or when from is t or
	// a firing, the minute after it.
	from, w := t, wallMinute(t).nextMinute()
	for !from.After(end) {
		offset, periodEnd := 0, time.Time{} // a zero periodEnd never ends
		if loc != time.UTC {
			_, offset = from.Zone()
			_, periodEnd = from.ZoneBounds()
		}
		if !w.before(lo) && w.before(hi) {
			w = hi
		} else {
			lo = w
		}
		c, ok := s.nextCivil(w, lastYear)
		if !ok {
			if hi = never; periodEnd.IsZero() {
				return time.Time{}
			}
			from, w = periodEnd, ceilMinute(periodEnd)
			continue
		}
		hi = c
		at := time.Unix(c.unix()-int64(offset), 0).In(loc)
		switch {
		case !periodEnd.IsZero() && !at.Before(periodEnd):
			from, w = periodEnd, ceilMinute(periodEnd) // c does not occur in this period
		case at.After(end):
			return time.Time{}
		case s.hourAny || !repeated(at, c):
			return at
		default:
			from, w = at, c.nextMinute() // at is the second pass of c
		}
	}
	return time.Time{}
}

// wallMinute returns t's wall clock, less its seconds.
func wallMinute(t time.Time) civil {
	y, mo, d := t.Date()
	h, mi, _ := t.Clock()
	return civil{y, int(mo), d, h, mi}
}

// ceilMinute returns t's wall clock rounded up to the minute.
func ceilMinute(t time.Time) civil {
	c := wallMinute(t)
	if t.Second() != 0 || t.Nanosecond() != 0 {
		c = c.nextMinute()
	}
	return c
}

// nextMinute returns the wall time one minute after c, carrying into the
// hour, day, month and year.
func (c civil) nextMinute() civil {
	if c.minute < 59 {
		c.minute++
		return c
	}
	return c.nextHour()
}

// nextHour returns the start of the hour after c's, carrying into the day,
// month and year.
func (c civil) nextHour() civil {
	if c.minute, c.hour = 0, c.hour+1; c.hour < 24 {
		return c
	}
	if c.hour, c.day = 0, c.day+1; c.day <= daysIn(c.month, c.year) {
		return c
	}
	if c.day, c.month = 1, c.month+1; c.month <= 12 {
		return c
	}
	c.month, c.year = 1, c.year+1
	return c
}

// before reports whether c is earlier than d. Both must be in range.
func (c civil) before(d civil) bool {
	if c.year != d.year {
		return c.year < d.year
	}
	if c.month != d.month {
		return c.month < d.month
	}
	if c.day != d.day {
		return c.day < d.day
	}
	if c.hour != d.hour {
		return c.hour < d.hour
	}
	return c.minute < d.minute
}

// unix returns the Unix time at which a UTC clock reads c.
func (c civil) unix() int64 {
	return time.Date(c.year, time.Month(c.month), c.day, c.hour, c.minute, 0, 0, time.UTC).Unix()
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

// repeated reports whether some instant before at, which reads c in its
// Location, also read c: whether at is the second pass of a wall time that
// clocks falling back repeat.
//
// It checks the zone periods before at's own, latest first. An instant in a
// period with offset o reads c when it is c read as UTC minus o, so each
// period is asked whether that instant falls inside it. UTC offsets stay
// well within a day of zero, so two instants that read the same wall clock
// are less than two days apart, and periods that ended two days or more
// before at need no look.
func repeated(at time.Time, c civil) bool {
	u := c.unix()
	start, _ := at.ZoneBounds()
	for !start.IsZero() && at.Sub(start) < 48*time.Hour {
		last := start.Add(-time.Nanosecond) // the previous period's last instant
		prevStart, _ := last.ZoneBounds()
		_, offset := last.Zone()
		if x := u - int64(offset); x < start.Unix() && (prevStart.IsZero() || x >= prevStart.Unix()) {
			return true
		}
		start = prevStart
	}
	return false
}
