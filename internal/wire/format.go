package wire

import "math"

// MaxDepth is how many levels of arrays and maps may nest in one value:
// a container inside MaxDepth enclosing containers is refused, by the
// encoder and by the decoder. It equals luabind's limit for Lua tables, so
// every value a script can send can be encoded.
const MaxDepth = 64

// MaxLen is the largest length a string, byte string, array or map may
// declare: msgpack's length fields are at most 32 bits wide.
const MaxLen = math.MaxUint32

// Sizes of the fixed-size encodings and the largest header, for computing
// bounds on an envelope around a value.
const (
	NilSize       = 1 // nil
	BoolSize      = 1 // true, false
	FloatSize     = 9 // every float, written as float 64
	MaxIntSize    = 9 // the largest integer encoding (int 64, uint 64)
	MaxHeaderSize = 5 // the largest string, byte string, array or map header
)

// Format bytes of the msgpack specification
// (https://github.com/msgpack/msgpack/blob/master/spec.md).
const (
	fixintMax   = 0x7f // 0x00-0x7f positive fixint
	fixmap      = 0x80 // 0x80-0x8f
	fixarray    = 0x90 // 0x90-0x9f
	fixstr      = 0xa0 // 0xa0-0xbf
	fmtNil      = 0xc0
	fmtNever    = 0xc1 // never used
	fmtFalse    = 0xc2
	fmtTrue     = 0xc3
	fmtBin8     = 0xc4
	fmtBin16    = 0xc5
	fmtBin32    = 0xc6
	fmtExt8     = 0xc7
	fmtExt16    = 0xc8
	fmtExt32    = 0xc9
	fmtFloat32  = 0xca
	fmtFloat64  = 0xcb
	fmtUint8    = 0xcc
	fmtUint16   = 0xcd
	fmtUint32   = 0xce
	fmtUint64   = 0xcf
	fmtInt8     = 0xd0
	fmtInt16    = 0xd1
	fmtInt32    = 0xd2
	fmtInt64    = 0xd3
	fmtFixext1  = 0xd4 // 0xd4-0xd8 fixext 1, 2, 4, 8, 16
	fmtFixext16 = 0xd8
	fmtStr8     = 0xd9
	fmtStr16    = 0xda
	fmtStr32    = 0xdb
	fmtArray16  = 0xdc
	fmtArray32  = 0xdd
	fmtMap16    = 0xde
	fmtMap32    = 0xdf
	negFixint   = 0xe0 // 0xe0-0xff negative fixint, -32..-1
)

// IntSize is the size of the encoding of i.
func IntSize(i int64) int {
	if i >= 0 {
		return UintSize(uint64(i))
	}
	switch {
	case i >= -32:
		return 1
	case i >= math.MinInt8:
		return 2
	case i >= math.MinInt16:
		return 3
	case i >= math.MinInt32:
		return 5
	}
	return 9
}

// UintSize is the size of the encoding of u.
func UintSize(u uint64) int {
	switch {
	case u <= fixintMax:
		return 1
	case u <= math.MaxUint8:
		return 2
	case u <= math.MaxUint16:
		return 3
	case u <= math.MaxUint32:
		return 5
	}
	return 9
}

// StringHeaderSize is the size of the header of a string of n bytes
// (fixstr, str 8, str 16 or str 32); the string takes n more bytes.
func StringHeaderSize(n int) int {
	switch {
	case n <= 31:
		return 1
	case n <= math.MaxUint8:
		return 2
	case n <= math.MaxUint16:
		return 3
	}
	return 5
}

// BytesHeaderSize is the size of the header of a byte string of n bytes
// (bin 8, bin 16 or bin 32); the bytes take n more.
func BytesHeaderSize(n int) int {
	switch {
	case n <= math.MaxUint8:
		return 2
	case n <= math.MaxUint16:
		return 3
	}
	return 5
}

// ArrayHeaderSize is the size of the header of an array of n elements.
func ArrayHeaderSize(n int) int { return collectionHeaderSize(n) }

// MapHeaderSize is the size of the header of a map of n entries.
func MapHeaderSize(n int) int { return collectionHeaderSize(n) }

func collectionHeaderSize(n int) int {
	switch {
	case n <= 15:
		return 1
	case n <= math.MaxUint16:
		return 3
	}
	return 5
}
