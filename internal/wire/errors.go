package wire

import (
	"errors"
	"strconv"
)

// Reasons a value cannot be encoded or decoded. Every error of this package
// is an *EncodeError or a *DecodeError that wraps one of them.
var (
	ErrTruncated    = errors.New("wire: truncated") // data ends inside a value, or a length exceeds the bytes left
	ErrFormat       = errors.New("wire: invalid format byte")
	ErrUnsupported  = errors.New("wire: unsupported type") // ext and timestamp formats; Go types outside the value set
	ErrType         = errors.New("wire: unexpected type")  // a Reader method found another kind; a map key that is not a string
	ErrRange        = errors.New("wire: out of range")     // an integer above 2^63-1; a length above 2^32-1
	ErrDepth        = errors.New("wire: nested too deeply")
	ErrDuplicateKey = errors.New("wire: duplicate map key")
	ErrTrailing     = errors.New("wire: trailing bytes")
)

// DecodeError says what was wrong with encoded data and where.
type DecodeError struct {
	Offset int    // position in the Reader's buffer of the offending value or header
	Msg    string // e.g. "map key is an integer, not a string"
	Err    error  // one of the Err variables
}

func (e *DecodeError) Error() string {
	return "wire: at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

func (e *DecodeError) Unwrap() error { return e.Err }

// EncodeError says which part of a value cannot be encoded and why.
type EncodeError struct {
	// Path leads from the value to the offending part, in Lua's notation:
	// "" for the value itself, ".items[3]" for element 3 (counting from 1)
	// of the map entry "items", `["a b"]` for a key that is not an
	// identifier. A caller names the root itself: "content" + Path.
	Path string
	Msg  string // e.g. "chan int cannot be encoded"
	Err  error  // one of the Err variables

	segments []string // innermost first, collected while the error unwinds
}

func (e *EncodeError) Error() string { return "value" + e.Path + ": " + e.Msg }

func (e *EncodeError) Unwrap() error { return e.Err }

// finish builds Path from the collected segments.
func (e *EncodeError) finish() *EncodeError {
	n := 0
	for _, s := range e.segments {
		n += len(s)
	}
	b := make([]byte, 0, n)
	for i := len(e.segments) - 1; i >= 0; i-- {
		b = append(b, e.segments[i]...)
	}
	e.Path, e.segments = string(b), nil
	return e
}

func indexSegment(i int) string { return "[" + strconv.Itoa(i+1) + "]" }

func keySegment(k string) string {
	if isIdent(k) {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
