package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// AppendNil appends nil.
func AppendNil(dst []byte) []byte { return append(dst, fmtNil) }

// AppendBool appends true or false.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, fmtTrue)
	}
	return append(dst, fmtFalse)
}

// AppendInt appends i in the smallest integer form: a fixint, else the
// unsigned forms for i ≥ 0 and the signed forms for i < 0.
func AppendInt(dst []byte, i int64) []byte {
	if i >= 0 {
		return AppendUint(dst, uint64(i))
	}
	switch {
	case i >= -32:
		return append(dst, byte(i))
	case i >= math.MinInt8:
		return append(dst, fmtInt8, byte(i))
	case i >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(dst, fmtInt16), uint16(i))
	case i >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(dst, fmtInt32), uint32(i))
	}
	return binary.BigEndian.AppendUint64(append(dst, fmtInt64), uint64(i))
}

// AppendUint appends u in the smallest unsigned form. Values above
// 2^63-1 are valid msgpack and read back by ReadUint, but ReadInt and
// ReadValue refuse them.
func AppendUint(dst []byte, u uint64) []byte {
	switch {
	case u <= fixintMax:
		return append(dst, byte(u))
	case u <= math.MaxUint8:
		return append(dst, fmtUint8, byte(u))
	case u <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, fmtUint16), uint16(u))
	case u <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, fmtUint32), uint32(u))
	}
	return binary.BigEndian.AppendUint64(append(dst, fmtUint64), u)
}

// AppendFloat appends f as a float 64, bit for bit (NaN payloads and the
// sign of zero included), whether or not its value is integral.
func AppendFloat(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, fmtFloat64), math.Float64bits(f))
}

// AppendString appends s as a msgpack str, byte for byte: s need not be
// valid UTF-8. It panics if s is longer than MaxLen (AppendValue returns
// an error instead).
func AppendString(dst []byte, s string) []byte {
	return append(appendStringHeader(dst, len(s)), s...)
}

// AppendBytes appends b as a msgpack bin. It panics if b is longer than
// MaxLen. A decoder of this package reads it back as a string too.
func AppendBytes(dst []byte, b []byte) []byte {
	n := len(b)
	switch {
	case n <= math.MaxUint8:
		dst = append(dst, fmtBin8, byte(n))
	case n <= math.MaxUint16:
		dst = binary.BigEndian.AppendUint16(append(dst, fmtBin16), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, fmtBin32), checkLen(n))
	}
	return append(dst, b...)
}

// AppendArrayHeader appends the header of an array of n elements; the
// caller appends the n elements after it. It panics if n is negative or
// above MaxLen.
func AppendArrayHeader(dst []byte, n int) []byte {
	switch {
	case n >= 0 && n <= 15:
		return append(dst, fixarray|byte(n))
	case n >= 0 && n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, fmtArray16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, fmtArray32), checkLen(n))
}

// AppendMapHeader appends the header of a map of n entries; the caller
// appends n keys and values after it, alternating. It panics if n is
// negative or above MaxLen.
func AppendMapHeader(dst []byte, n int) []byte {
	switch {
	case n >= 0 && n <= 15:
		return append(dst, fixmap|byte(n))
	case n >= 0 && n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, fmtMap16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, fmtMap32), checkLen(n))
}

func appendStringHeader(dst []byte, n int) []byte {
	switch {
	case n <= 31:
		return append(dst, fixstr|byte(n))
	case n <= math.MaxUint8:
		return append(dst, fmtStr8, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, fmtStr16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, fmtStr32), checkLen(n))
}

func checkLen(n int) uint32 {
	if n < 0 || uint64(n) > MaxLen {
		panic(fmt.Sprintf("wire: length %d outside 0..2^32-1", n))
	}
	return uint32(n)
}

// Encode returns the encoding of v in a new slice of the exact size; see
// AppendValue.
func Encode(v any) ([]byte, error) {
	n, ok := SizeWithin(v, math.MaxInt)
	if !ok {
		return AppendValue(nil, v) // the error
	}
	return AppendValue(make([]byte, 0, n), v)
}

// AppendValue appends the encoding of v, which must be plain data: nil,
// bool, int64, float64, string, []any, map[string]any, nested at most
// MaxDepth levels; for convenience also int, int32, uint64 up to 2^63-1,
// float32 and []string, which decode as int64, float64 and []any. Map
// entries are written with their keys in increasing byte order, so equal
// values have equal encodings. Anything else is an *EncodeError naming the
// part of v at fault, and dst is returned as it was (its spare capacity
// may have been written to).
func AppendValue(dst []byte, v any) ([]byte, error) {
	out, err := appendValue(dst, v, MaxDepth)
	if err != nil {
		return dst, err.finish()
	}
	return out, nil
}

// appendValue appends v, in which containers may nest depth more levels.
func appendValue(dst []byte, v any, depth int) ([]byte, *EncodeError) {
	switch v := v.(type) {
	case nil:
		return append(dst, fmtNil), nil
	case bool:
		return AppendBool(dst, v), nil
	case int64:
		return AppendInt(dst, v), nil
	case float64:
		return AppendFloat(dst, v), nil
	case string:
		if uint64(len(v)) > MaxLen {
			return dst, errTooLong("string", len(v))
		}
		return AppendString(dst, v), nil
	case map[string]any:
		if depth <= 0 {
			return dst, errTooDeep()
		}
		return appendMap(dst, v, depth-1)
	case []any:
		if depth <= 0 {
			return dst, errTooDeep()
		}
		if uint64(len(v)) > MaxLen {
			return dst, errTooLong("array", len(v))
		}
		dst = AppendArrayHeader(dst, len(v))
		for i, x := range v {
			var err *EncodeError
			if dst, err = appendValue(dst, x, depth-1); err != nil {
				err.segments = append(err.segments, indexSegment(i))
				return dst, err
			}
		}
		return dst, nil
	case int:
		return AppendInt(dst, int64(v)), nil
	case int32:
		return AppendInt(dst, int64(v)), nil
	case uint64:
		if v > math.MaxInt64 {
			return dst, &EncodeError{Msg: fmt.Sprintf("uint64 %d is above 2^63-1", v), Err: ErrRange}
		}
		return AppendUint(dst, v), nil
	case float32:
		return AppendFloat(dst, float64(v)), nil
	case []string:
		if depth <= 0 {
			return dst, errTooDeep()
		}
		if uint64(len(v)) > MaxLen {
			return dst, errTooLong("array", len(v))
		}
		dst = AppendArrayHeader(dst, len(v))
		for i, s := range v {
			if uint64(len(s)) > MaxLen {
				err := errTooLong("string", len(s))
				err.segments = append(err.segments, indexSegment(i))
				return dst, err
			}
			dst = AppendString(dst, s)
		}
		return dst, nil
	}
	return dst, errUnsupported(v)
}

// entry is a map entry, for sorting.
type entry struct {
	k string
	v any
}

// entriesOnStack is how many entries a map may have for its sorted entry
// list to live on the stack.
const entriesOnStack = 16

// appendMap appends m with its keys in increasing byte order. Sorting
// (key, value) pairs rather than keys saves looking every value up again.
func appendMap(dst []byte, m map[string]any, depth int) ([]byte, *EncodeError) {
	if uint64(len(m)) > MaxLen {
		return dst, errTooLong("map", len(m))
	}
	dst = AppendMapHeader(dst, len(m))
	var buf [entriesOnStack]entry
	es := buf[:0]
	if len(m) > len(buf) {
		es = make([]entry, 0, len(m))
	}
	for k, v := range m {
		es = append(es, entry{k, v})
	}
	if len(es) <= entriesOnStack {
		for i := 1; i < len(es); i++ { // insertion sort: fastest for a few
			for j := i; j > 0 && es[j].k < es[j-1].k; j-- {
				es[j], es[j-1] = es[j-1], es[j]
			}
		}
	} else {
		slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.k, b.k) })
	}
	for _, e := range es {
		if uint64(len(e.k)) > MaxLen {
			err := errTooLong("key", len(e.k))
			err.segments = append(err.segments, keySegment(e.k))
			return dst, err
		}
		dst = AppendString(dst, e.k)
		var err *EncodeError
		if dst, err = appendValue(dst, e.v, depth); err != nil {
			err.segments = append(err.segments, keySegment(e.k))
			return dst, err
		}
	}
	return dst, nil
}

func errTooDeep() *EncodeError {
	return &EncodeError{Msg: fmt.Sprintf("nested deeper than %d levels (or contains itself)", MaxDepth), Err: ErrDepth}
}

func errTooLong(what string, n int) *EncodeError {
	return &EncodeError{Msg: fmt.Sprintf("%s of length %d is longer than 2^32-1", what, n), Err: ErrRange}
}

func errUnsupported(v any) *EncodeError {
	return &EncodeError{Msg: fmt.Sprintf("%T cannot be encoded", v), Err: ErrUnsupported}
}
