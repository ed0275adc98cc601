package cron

import (
	"errors"
	"strconv"
)

// Sentinel errors, matched with errors.Is against an error from Parse.
var (
	// ErrSyntax: the spec or one of its fields is malformed.
	ErrSyntax = errors.New("cron: syntax error")
	// ErrRange: a value or step is outside its field's range, or a range is reversed.
	ErrRange = errors.New("cron: out of range")
	// ErrNeverFires: the spec is well formed but no date satisfies it.
	ErrNeverFires = errors.New("cron: spec never fires")
)

// ParseError describes why Parse rejected a spec.
type ParseError struct {
	Spec  string // the spec given to Parse
	Field string // "minute", "hour", "day-of-month", "month", "day-of-week", or "" for the whole spec
	Value string // the offending item of Field; unused when Field is ""
	Msg   string // what is wrong
	Err   error  // ErrSyntax, ErrRange or ErrNeverFires
}

// Error returns the message, for example
// `cron: minute field "61": value out of range 0-59`.
func (e *ParseError) Error() string {
	if e.Field == "" {
		return "cron: " + e.Msg
	}
	return "cron: " + e.Field + " field " + strconv.Quote(e.Value) + ": " + e.Msg
}

// Unwrap returns the sentinel that classifies the error.
func (e *ParseError) Unwrap() error { return e.Err }
