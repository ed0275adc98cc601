package cron

import (
	"fmt"
	"strings"
)

// field describes one of the five fields of a spec.
type field struct {
	name     string // as used in error messages
	min, max int    // values that may be written
	top      int    // where "*" and "a/s" end; max except for day-of-week
	names    string // three-letter names for min, min+1, ... concatenated, or ""
	want     string // what a value should look like, for error messages
}

// The five fields, in spec order. Read-only.
var fields = [5]field{
	{name: "minute", min: 0, max: 59, top: 59, want: "0-59"},
	{name: "hour", min: 0, max: 23, top: 23, want: "0-23"},
	{name: "day-of-month", min: 1, max: 31, top: 31, want: "1-31"},
	{name: "month", min: 1, max: 12, top: 12, want: "1-12 or jan-dec",
		names: "janfebmaraprmayjunjulaugsepoctnovdec"},
	{name: "day-of-week", min: 0, max: 7, top: 6, want: "0-7 or sun-sat",
		names: "sunmontuewedthufrisat"},
}

// Indexes into fields.
const (
	fMinute = iota
	fHour
	fDom
	fMonth
	fDow
)

// parse returns the set of values selected by text, one bit per value.
// Day-of-week 7 is folded into 0.
func (f *field) parse(text string) (uint64, *ParseError) {
	var set uint64
	for item := range strings.SplitSeq(text, ",") {
		lo, hi, step, err := f.parseItem(item)
		if err != nil {
			err.Field, err.Value = f.name, item
			return 0, err
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	if f.max == 7 && set&(1<<7) != 0 {
		set = set&^(1<<7) | 1
	}
	return set, nil
}

// parseItem parses one list item into the values lo, lo+step, ... <= hi.
// The returned error has only Msg and Err set.
func (f *field) parseItem(item string) (lo, hi, step int, err *ParseError) {
	if item == "" {
		return 0, 0, 0, syntaxErr("empty list item")
	}
	base, stepText, hasStep := strings.Cut(item, "/")
	step = 1
	if hasStep {
		if step, err = f.parseStep(stepText); err != nil {
			return 0, 0, 0, err
		}
	}
	if base == "*" {
		return f.min, f.top, step, nil
	}
	from, to, isRange := strings.Cut(base, "-")
	if lo, err = f.parseValue(from); err != nil {
		return 0, 0, 0, err
	}
	switch {
	case isRange:
		if hi, err = f.parseValue(to); err != nil {
			return 0, 0, 0, err
		}
		if lo > hi {
			return 0, 0, 0, rangeErr("reversed range, start is after end")
		}
	case hasStep:
		hi = max(lo, f.top)
	default:
		hi = lo
	}
	return lo, hi, step, nil
}

// parseValue parses a number or, where the field has them, a name.
func (f *field) parseValue(text string) (int, *ParseError) {
	if n, ok := parseNumber(text); ok {
		if n < f.min || n > f.max {
			return 0, rangeErr(fmt.Sprintf("value out of range %d-%d", f.min, f.max))
		}
		return n, nil
	}
	if len(text) == 3 && f.names != "" {
		if i := strings.Index(f.names, strings.ToLower(text)); i >= 0 && i%3 == 0 {
			return f.min + i/3, nil
		}
	}
	return 0, syntaxErr(fmt.Sprintf("invalid value %q, want %s", text, f.want))
}

// parseStep parses the s of "*/s", "a-b/s" or "a/s".
func (f *field) parseStep(text string) (int, *ParseError) {
	n, ok := parseNumber(text)
	if !ok {
		return 0, syntaxErr(fmt.Sprintf("invalid step %q, want a number", text))
	}
	if limit := f.top - f.min + 1; n < 1 || n > limit {
		return 0, rangeErr(fmt.Sprintf("step out of range 1-%d", limit))
	}
	return n, nil
}

// parseNumber parses a non-empty run of ASCII digits. Values too large for
// any field saturate instead of overflowing, so they fail the range check.
func parseNumber(text string) (int, bool) {
	if text == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int(c-'0'), 1000)
	}
	return n, true
}

func syntaxErr(msg string) *ParseError { return &ParseError{Msg: msg, Err: ErrSyntax} }
func rangeErr(msg string) *ParseError  { return &ParseError{Msg: msg, Err: ErrRange} }
