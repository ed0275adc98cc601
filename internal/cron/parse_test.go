package cron

import (
	"errors"
	"strings"
	"testing"
)

// set returns a bitset with the given values.
func set(values ...int) uint64 {
	var s uint64
	for _, v := range values {
		s |= 1 << v
	}
	return s
}

// span returns a bitset with lo, lo+step, ... <= hi.
func span(lo, hi, step int) uint64 {
	var s uint64
	for v := lo; v <= hi; v += step {
		s |= 1 << v
	}
	return s
}

var (
	allMinutes = span(0, 59, 1)
	allHours   = span(0, 23, 1)
	allDom     = span(1, 31, 1)
	allMonths  = span(1, 12, 1)
	allDow     = span(0, 6, 1)
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec                          string
		minute, hour, dom, month, dow uint64
		dayAnd                        bool
	}{
		{"* * * * *", allMinutes, allHours, allDom, allMonths, allDow, true},
		{"*/15 * * * *", set(0, 15, 30, 45), allHours, allDom, allMonths, allDow, true},
		{"0 9-17 * * 1-5", set(0), span(9, 17, 1), allDom, allMonths, span(1, 5, 1), true},
		{"0 9-17/2 * * *", set(0), set(9, 11, 13, 15, 17), allDom, allMonths, allDow, true},
		{"5/20 * * * *", set(5, 25, 45), allHours, allDom, allMonths, allDow, true},
		{"1,2,3 0 1 1 0", set(1, 2, 3), set(0), set(1), set(1), set(0), false},
		{"0,30 0,12 1,15 */3 *", set(0, 30), set(0, 12), set(1, 15), set(1, 4, 7, 10), allDow, true},
		{"05 04 * * *", set(5), set(4), allDom, allMonths, allDow, true},
		{"59 23 31 12 7", set(59), set(23), set(31), set(12), set(0), false},

		// Names, in any case, alone, in ranges, lists and steps.
		{"0 0 * jan,JUL,Dec *", set(0), set(0), allDom, set(1, 7, 12), allDow, true},
		{"0 0 * feb-Apr mon-FRI", set(0), set(0), allDom, span(2, 4, 1), span(1, 5, 1), true},
		{"0 0 * * sun,sat", set(0), set(0), allDom, allMonths, set(0, 6), true},
		{"0 0 * jan/4 mon/2", set(0), set(0), allDom, set(1, 5, 9), set(1, 3, 5), true},

		// Day-of-week: 7 is Sunday; "*" and "a/s" stop at Saturday.
		{"0 0 * * 7", set(0), set(0), allDom, allMonths, set(0), true},
		{"0 0 * * 5-7", set(0), set(0), allDom, allMonths, set(5, 6, 0), true},
		{"0 0 * * 0-7", set(0), set(0), allDom, allMonths, allDow, true},
		{"0 0 * * */2", set(0), set(0), allDom, allMonths, set(0, 2, 4, 6), true},
		{"0 0 * * 1/2", set(0), set(0), allDom, allMonths, set(1, 3, 5), true},
		{"0 0 * * 7/2", set(0), set(0), allDom, allMonths, set(0), true},
		{"0 0 * * */7", set(0), set(0), allDom, allMonths, set(0), true},

		// The Vixie rule looks only at whether the field starts with '*'.
		{"0 0 13 * 5", set(0), set(0), set(13), allMonths, set(5), false},
		{"0 0 */2 * 5", set(0), set(0), span(1, 31, 2), allMonths, set(5), true},
		{"0 0 13 * */5", set(0), set(0), set(13), allMonths, set(0, 5), true},
		{"0 0 1-31 * 0-6", set(0), set(0), allDom, allMonths, allDow, false},

		// Steps as large as the field; single-value steps.
		{"*/60 */24 */31 */12 */7", set(0), set(0), set(1), set(1), set(0), true},
		{"30/60 * * * *", set(30), allHours, allDom, allMonths, allDow, true},
		{"10-10/5 * * * *", set(10), allHours, allDom, allMonths, allDow, true},

		// White space.
		{"  0\t0  *   * \t*  ", set(0), set(0), allDom, allMonths, allDow, true},
		{"0 0 * * *\n", set(0), set(0), allDom, allMonths, allDow, true},

		// Macros.
		{"@yearly", set(0), set(0), set(1), set(1), allDow, true},
		{"@annually", set(0), set(0), set(1), set(1), allDow, true},
		{"@monthly", set(0), set(0), set(1), allMonths, allDow, true},
		{"@weekly", set(0), set(0), allDom, allMonths, set(0), true},
		{"@daily", set(0), set(0), allDom, allMonths, allDow, true},
		{"@midnight", set(0), set(0), allDom, allMonths, allDow, true},
		{"@hourly", set(0), allHours, allDom, allMonths, allDow, true},
		{" @Daily ", set(0), set(0), allDom, allMonths, allDow, true},

		// Feb 29 is possible.
		{"0 0 29 2 *", set(0), set(0), set(29), set(2), allDow, true},
		{"0 0 30,31 1-2 *", set(0), set(0), set(30, 31), set(1, 2), allDow, true},
		// Both day fields restricted: Fridays in February rescue day 31.
		{"0 0 31 2 fri", set(0), set(0), set(31), set(2), set(5), false},
	}
	for _, tc := range tests {
		s, err := Parse(tc.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		want := Schedule{spec: tc.spec, minute: tc.minute, hour: tc.hour, dom: tc.dom,
			month: tc.month, dow: tc.dow, dayAnd: tc.dayAnd,
			hourAny: s.hourAny} // TestParseHourAny checks hourAny
		if *s != want {
			t.Errorf("Parse(%q) =\n  %+v, want\n  %+v", tc.spec, *s, want)
		}
		if s.String() != tc.spec {
			t.Errorf("Parse(%q).String() = %q", tc.spec, s.String())
		}
	}
}

// TestParseHourAny checks which hour fields count as unrestricted for the
// fall-back rule: like dayAnd, it looks only at whether the text starts
// with '*'.
func TestParseHourAny(t *testing.T) {
	tests := []struct {
		spec string
		want bool
	}{
		{"* * * * *", true},
		{"*/15 * * * *", true},
		{"0 */2 * * *", true},
		{"0 */1 * * *", true},
		{"0 */2,1 * * *", true},
		{"0 \t*/3 * * *", true},
		{"@hourly", true},
		{"0 0-23 * * *", false}, // every hour, but written as a range
		{"30 1 * * *", false},
		{"0 1/2 * * *", false},
		{"0 1,*/2 * * *", false},
		{"* 0 * * *", false},
		{"@daily", false},
		{"@weekly", false},
	}
	for _, tc := range tests {
		s, err := Parse(tc.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		if s.hourAny != tc.want {
			t.Errorf("Parse(%q).hourAny = %v, want %v", tc.spec, s.hourAny, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec string
		want string // the whole message, or a fragment of it when it ends in "…"
		is   error
	}{
		{"61 * * * *", `cron: minute field "61": value out of range 0-59`, ErrRange},
		{"* * * *", `cron: expected 5 fields, got 4 in "* * * *"`, ErrSyntax},
		{"* * * * * *", `cron: expected 5 fields, got 6 in "* * * * * *"`, ErrSyntax},
		{"", `cron: expected 5 fields, got 0 in ""`, ErrSyntax},
		{"   ", `cron: expected 5 fields, got 0 in "   "`, ErrSyntax},
		{"* 24 * * *", `cron: hour field "24": value out of range 0-23`, ErrRange},
		{"* * 0 * *", `cron: day-of-month field "0": value out of range 1-31`, ErrRange},
		{"* * 32 * *", `cron: day-of-month field "32": value out of range 1-31`, ErrRange},
		{"* * * 0 *", `cron: month field "0": value out of range 1-12`, ErrRange},
		{"* * * 13 *", `cron: month field "13": value out of range 1-12`, ErrRange},
		{"* * * * 8", `cron: day-of-week field "8": value out of range 0-7`, ErrRange},
		{"1,61 * * * *", `cron: minute field "61": value out of range 0-59`, ErrRange},
		{"5-99 * * * *", `cron: minute field "5-99": value out of range 0-59`, ErrRange},
		{"99999999999999999999999 * * * *", `cron: minute field "99999999999999999999999": value out of range 0-59`, ErrRange},

		// Steps.
		{"*/0 * * * *", `cron: minute field "*/0": step out of range 1-60`, ErrRange},
		{"*/61 * * * *", `cron: minute field "*/61": step out of range 1-60`, ErrRange},
		{"* */25 * * *", `cron: hour field "*/25": step out of range 1-24`, ErrRange},
		{"* * * * */8", `cron: day-of-week field "*/8": step out of range 1-7`, ErrRange},
		{"1-5/0 * * * *", `cron: minute field "1-5/0": step out of range 1-60`, ErrRange},
		{"*/ * * * *", `cron: minute field "*/": invalid step "", want a number`, ErrSyntax},
		{"*/x * * * *", `cron: minute field "*/x": invalid step "x", want a number`, ErrSyntax},
		{"*/-1 * * * *", `cron: minute field "*/-1": invalid step "-1", want a number`, ErrSyntax},
		{"*/2/2 * * * *", `cron: minute field "*/2/2": invalid step "2/2", want a number`, ErrSyntax},
		{"/5 * * * *", `cron: minute field "/5": invalid value "", want 0-59`, ErrSyntax},

		// Ranges.
		{"5-1 * * * *", `cron: minute field "5-1": reversed range, start is after end`, ErrRange},
		{"* * * dec-jan *", `cron: month field "dec-jan": reversed range, start is after end`, ErrRange},
		{"* * * * fri-sun", `cron: day-of-week field "fri-sun": reversed range, start is after end`, ErrRange},
		{"5- * * * *", `cron: minute field "5-": invalid value "", want 0-59`, ErrSyntax},
		{"-5 * * * *", `cron: minute field "-5": invalid value "", want 0-59`, ErrSyntax},
		{"1-2-3 * * * *", `cron: minute field "1-2-3": invalid value "2-3", want 0-59`, ErrSyntax},
		{"*-5 * * * *", `cron: minute field "*-5": invalid value "*", want 0-59`, ErrSyntax},

		// Lists.
		{"1,,2 * * * *", `cron: minute field "": empty list item`, ErrSyntax},
		{"1, * * * *", `cron: minute field "": empty list item`, ErrSyntax},
		{",1 * * * *", `cron: minute field "": empty list item`, ErrSyntax},

		// Names.
		{"* * * foo *", `cron: month field "foo": invalid value "foo", want 1-12 or jan-dec`, ErrSyntax},
		{"* * * january *", `cron: month field "january": invalid value "january", want 1-12 or jan-dec`, ErrSyntax},
		{"* * * * sunday", `cron: day-of-week field "sunday": invalid value "sunday", want 0-7 or sun-sat`, ErrSyntax},
		{"* * * anf *", `cron: month field "anf": invalid value "anf", want 1-12 or jan-dec`, ErrSyntax},
		{"* * * mon *", `cron: month field "mon": invalid value "mon", want 1-12 or jan-dec`, ErrSyntax},
		{"* * * * jan", `cron: day-of-week field "jan": invalid value "jan", want 0-7 or sun-sat`, ErrSyntax},
		{"jan * * * *", `cron: minute field "jan": invalid value "jan", want 0-59`, ErrSyntax},
		{"* * * * */mon", `cron: day-of-week field "*/mon": invalid step "mon", want a number`, ErrSyntax},

		// Other syntax.
		{"+5 * * * *", `cron: minute field "+5": invalid value "+5", want 0-59`, ErrSyntax},
		{"? * * * *", `cron: minute field "?": invalid value "?", want 0-59`, ErrSyntax},
		{"* * ? * *", `cron: day-of-month field "?": invalid value "?", want 1-31`, ErrSyntax},
		{"* * L * *", `cron: day-of-month field "L": invalid value "L", want 1-31`, ErrSyntax},
		{"0 0\n* * * *", `cron: hour field "0\n*": invalid value "0\n*", want 0-23`, ErrSyntax}, // newline does not separate fields
		{"٣ * * * *", `cron: minute field "٣": invalid value "٣", want 0-59`, ErrSyntax},

		// Macros.
		{"@every 5m", `cron: unknown macro "@every 5m", want @yearly, …`, ErrSyntax},
		{"@reboot", `cron: unknown macro "@reboot", …`, ErrSyntax},
		{"@daily *", `cron: unknown macro "@daily *", …`, ErrSyntax},
		{"@", `cron: unknown macro "@", …`, ErrSyntax},

		// Never fires.
		{"0 0 31 2 *", `cron: "0 0 31 2 *" never fires: day-of-month "31" does not occur in month "2"`, ErrNeverFires},
		{"0 0 30 2 *", `cron: "0 0 30 2 *" never fires: …`, ErrNeverFires},
		{"0 0 31 4,6,9,11 *", `cron: "0 0 31 4,6,9,11 *" never fires: …`, ErrNeverFires},
		{"0 0 30-31 feb */2", `cron: "0 0 30-31 feb */2" never fires: …`, ErrNeverFires},
	}
	for _, tc := range tests {
		s, err := Parse(tc.spec)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want error %q", tc.spec, *s, tc.want)
			continue
		}
		msg := err.Error()
		if prefix, ok := strings.CutSuffix(tc.want, "…"); ok {
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("Parse(%q) error %q, want it to start %q", tc.spec, msg, prefix)
			}
		} else if msg != tc.want {
			t.Errorf("Parse(%q) error\n  %q, want\n  %q", tc.spec, msg, tc.want)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Parse(%q) error %q is not %v", tc.spec, msg, tc.is)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Spec != tc.spec {
			t.Errorf("Parse(%q) error %#v is not a *ParseError for the spec", tc.spec, err)
		}
	}
}
