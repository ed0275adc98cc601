package cron

import (
	"fmt"
	"strings"
)

// Schedule is a parsed cron spec. It is immutable after Parse and safe for
// concurrent use.
type Schedule struct {
	spec   string
	minute uint64 // bit n set: minute n selected
	hour   uint64
	dom    uint64 // bits 1-31
	month  uint64 // bits 1-12
	dow    uint64 // bits 0-6, 0 is Sunday
	// dayAnd is true when a day must match both day-of-month and
	// day-of-week, false when either suffices (both fields restricted).
	dayAnd bool
	// hourAny is true when the hour field starts with '*': the schedule
	// then fires in both passes of a wall time that clocks falling back
	// repeat, and otherwise only in the first.
	hourAny bool
}

// macro returns the spec a macro such as "@daily" stands for.
func macro(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "@yearly", "@annually":
		return "0 0 1 1 *", true
	case "@monthly":
		return "0 0 1 * *", true
	case "@weekly":
		return "0 0 * * 0", true
	case "@daily", "@midnight":
		return "0 0 * * *", true
	case "@hourly":
		return "0 * * * *", true
	}
	return "", false
}

// Parse parses a five-field cron spec or a macro such as "@daily". On
// failure it returns a *ParseError, which wraps ErrSyntax, ErrRange or
// ErrNeverFires.
func Parse(spec string) (*Schedule, error) {
	s, err := parse(spec)
	if err != nil {
		err.Spec = spec
		return nil, err
	}
	return s, nil
}

func parse(spec string) (*Schedule, *ParseError) {
	text := strings.TrimSpace(spec)
	if strings.HasPrefix(text, "@") {
		expansion, ok := macro(text)
		if !ok {
			return nil, syntaxErr(fmt.Sprintf("unknown macro %q, want @yearly, @annually, "+
				"@monthly, @weekly, @daily, @midnight or @hourly", text))
		}
		text = expansion
	}
	parts := splitFields(text)
	if len(parts) != len(fields) {
		return nil, syntaxErr(fmt.Sprintf("expected %d fields, got %d in %q", len(fields), len(parts), spec))
	}
	var sets [len(fields)]uint64
	for i := range fields {
		set, err := fields[i].parse(parts[i])
		if err != nil {
			return nil, err
		}
		sets[i] = set
	}
	s := &Schedule{
		spec:    spec,
		minute:  sets[fMinute],
		hour:    sets[fHour],
		dom:     sets[fDom],
		month:   sets[fMonth],
		dow:     sets[fDow],
		dayAnd:  strings.HasPrefix(parts[fDom], "*") || strings.HasPrefix(parts[fDow], "*"),
		hourAny: strings.HasPrefix(parts[fHour], "*"),
	}
	if !s.canFire() {
		return nil, &ParseError{
			Msg: fmt.Sprintf("%q never fires: day-of-month %q does not occur in month %q",
				spec, parts[fDom], parts[fMonth]),
			Err: ErrNeverFires,
		}
	}
	return s, nil
}

// splitFields splits text at runs of spaces and tabs.
func splitFields(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\t' })
}

// canFire reports whether some date satisfies the day fields. Only the
// pairing of day-of-month with month can be impossible, and only when the
// day-of-week cannot rescue it: every (month, day) pair that exists in the
// calendar falls on each weekday in some year.
func (s *Schedule) canFire() bool {
	if !s.dayAnd {
		return true
	}
	for m := 1; m <= 12; m++ {
		if s.month&(1<<m) != 0 && s.dom&monthDays(daysIn(m, 2000)) != 0 {
			return true // 2000 is a leap year, so February counts 29 days
		}
	}
	return false
}

// String returns the spec exactly as given to Parse.
func (s *Schedule) String() string { return s.spec }
