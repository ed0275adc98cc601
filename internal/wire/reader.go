package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Kind is the kind of the next value in a Reader.
type Kind uint8

// The kinds of values. Int covers every integer form, Float both float
// forms, String the str forms and Binary the bin forms (ReadString and
// ReadBytes accept both).
const (
	Invalid Kind = iota
	Nil
	Bool
	Int
	Float
	String
	Binary
	Array
	Map
)

var kindNames = [...]string{"invalid", "nil", "boolean", "integer", "float", "string", "binary", "array", "map"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + fmt.Sprint(uint8(k)) + ")"
}

// kinds maps each format byte to the kind of value it starts; Invalid
// for the never-used byte and the ext formats.
var kinds = func() (t [256]Kind) {
	for c := range t {
		switch {
		case c <= fixintMax, c >= negFixint:
			t[c] = Int
		case c < fixarray:
			t[c] = Map
		case c < fixstr:
			t[c] = Array
		case c < fmtNil:
			t[c] = String
		}
	}
	t[fmtNil] = Nil
	t[fmtFalse], t[fmtTrue] = Bool, Bool
	t[fmtBin8], t[fmtBin16], t[fmtBin32] = Binary, Binary, Binary
	t[fmtFloat32], t[fmtFloat64] = Float, Float
	for c := fmtUint8; c <= fmtInt64; c++ {
		t[c] = Int
	}
	t[fmtStr8], t[fmtStr16], t[fmtStr32] = String, String, String
	t[fmtArray16], t[fmtArray32] = Array, Array
	t[fmtMap16], t[fmtMap32] = Map, Map
	return t
}()

// A Reader reads msgpack values from a byte slice, front to back. Its
// methods check every length against the bytes that remain before
// allocating anything, return a *DecodeError for anything wrong (never
// panic), and leave the position unchanged when they fail on the first
// byte of a value (wrong kind, truncated header); after a failure inside
// a value (ReadValue, Skip) the position is unspecified.
//
// Strings are copied out of the buffer unless the Reader was made by
// NewAliasingReader. ReadBytes always returns a sub-slice of the buffer.
//
// A Reader is not safe for concurrent use. The zero Reader reads nothing.
type Reader struct {
	buf   []byte
	off   int
	alias bool
}

// NewReader returns a Reader of b. Strings it returns are copies: b may
// be reused once reading is done.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// NewAliasingReader returns a Reader of b whose strings (from ReadString,
// and ReadValue's strings and map keys) share b's memory instead of being
// copied: b must never be modified again, and any string read keeps
// all of b alive. Use it for a buffer handed over for good, such as a
// received message's payload.
func NewAliasingReader(b []byte) *Reader { return &Reader{buf: b, alias: true} }

// Reset makes r read b from its start, keeping r's string mode.
func (r *Reader) Reset(b []byte) { r.buf, r.off = b, 0 }

// Remaining is the number of bytes not read yet.
func (r *Reader) Remaining() int { return len(r.buf) - r.off }

// Offset is the position of the next byte to read.
func (r *Reader) Offset() int { return r.off }

// PeekKind returns the kind of the next value without reading it.
func (r *Reader) PeekKind() (Kind, error) {
	if r.off >= len(r.buf) {
		return Invalid, r.errAt(r.off, ErrTruncated, "no value: end of data")
	}
	c := r.buf[r.off]
	k := kinds[c]
	if k == Invalid {
		return Invalid, r.errFormat(r.off, c)
	}
	return k, nil
}

// ReadNil reads a nil.
func (r *Reader) ReadNil() error {
	if r.off < len(r.buf) && r.buf[r.off] == fmtNil {
		r.off++
		return nil
	}
	return r.errKind(Nil)
}

// ReadBool reads a boolean.
func (r *Reader) ReadBool() (bool, error) {
	if r.off < len(r.buf) {
		switch r.buf[r.off] {
		case fmtFalse:
			r.off++
			return false, nil
		case fmtTrue:
			r.off++
			return true, nil
		}
	}
	return false, r.errKind(Bool)
}

// ReadInt reads an integer of any form. An unsigned value above 2^63-1 is
// ErrRange.
func (r *Reader) ReadInt() (int64, error) {
	i, neg, n, err := r.integer()
	if err != nil {
		return 0, err
	}
	if !neg && i > math.MaxInt64 {
		return 0, r.errAt(r.off, ErrRange, fmt.Sprintf("integer %d is above 2^63-1", i))
	}
	r.off += n
	return int64(i), nil
}

// ReadUint reads a non-negative integer of any form, up to 2^64-1. A
// negative value is ErrRange.
func (r *Reader) ReadUint() (uint64, error) {
	i, neg, n, err := r.integer()
	if err != nil {
		return 0, err
	}
	if neg {
		return 0, r.errAt(r.off, ErrRange, fmt.Sprintf("integer %d is negative", int64(i)))
	}
	r.off += n
	return i, nil
}

// integer decodes the integer at the position without moving: its bits,
// whether it is negative (then the bits are an int64's), its size.
func (r *Reader) integer() (bits uint64, neg bool, size int, err error) {
	b, off := r.buf, r.off
	if off >= len(b) {
		return 0, false, 0, r.errKind(Int)
	}
	c := b[off]
	switch {
	case c <= fixintMax:
		return uint64(c), false, 1, nil
	case c >= negFixint:
		return uint64(int64(int8(c))), true, 1, nil
	}
	var need int
	switch c {
	case fmtUint8, fmtInt8:
		need = 2
	case fmtUint16, fmtInt16:
		need = 3
	case fmtUint32, fmtInt32:
		need = 5
	case fmtUint64, fmtInt64:
		need = 9
	default:
		return 0, false, 0, r.errKind(Int)
	}
	if len(b)-off < need {
		return 0, false, 0, r.errAt(off, ErrTruncated, fmt.Sprintf("integer needs %d bytes, %d left", need, len(b)-off))
	}
	p := b[off+1 : off+need]
	switch c {
	case fmtUint8:
		return uint64(p[0]), false, 2, nil
	case fmtUint16:
		return uint64(binary.BigEndian.Uint16(p)), false, 3, nil
	case fmtUint32:
		return uint64(binary.BigEndian.Uint32(p)), false, 5, nil
	case fmtUint64:
		return binary.BigEndian.Uint64(p), false, 9, nil
	case fmtInt8:
		i := int64(int8(p[0]))
		return uint64(i), i < 0, 2, nil
	case fmtInt16:
		i := int64(int16(binary.BigEndian.Uint16(p)))
		return uint64(i), i < 0, 3, nil
	case fmtInt32:
		i := int64(int32(binary.BigEndian.Uint32(p)))
		return uint64(i), i < 0, 5, nil
	}
	i := int64(binary.BigEndian.Uint64(p))
	return uint64(i), i < 0, 9, nil
}

// ReadFloat reads a float 64, or a float 32 widened to float64. Integers
// are not accepted.
func (r *Reader) ReadFloat() (float64, error) {
	b, off := r.buf, r.off
	if off < len(b) {
		switch b[off] {
		case fmtFloat64:
			if len(b)-off < 9 {
				return 0, r.errAt(off, ErrTruncated, fmt.Sprintf("float 64 needs 9 bytes, %d left", len(b)-off))
			}
			r.off += 9
			return math.Float64frombits(binary.BigEndian.Uint64(b[off+1:])), nil
		case fmtFloat32:
			if len(b)-off < 5 {
				return 0, r.errAt(off, ErrTruncated, fmt.Sprintf("float 32 needs 5 bytes, %d left", len(b)-off))
			}
			r.off += 5
			return float64(math.Float32frombits(binary.BigEndian.Uint32(b[off+1:]))), nil
		}
	}
	return 0, r.errKind(Float)
}

// ReadString reads a str or a bin as a string, byte for byte (no UTF-8
// check). It is a copy unless r is an aliasing Reader.
func (r *Reader) ReadString() (string, error) {
	p, err := r.ReadBytes()
	if err != nil {
		return "", err
	}
	return r.str(p), nil
}

// str turns bytes of the buffer into a string, as the mode says.
func (r *Reader) str(p []byte) string {
	if r.alias && len(p) > 0 {
		return unsafe.String(&p[0], len(p))
	}
	return string(p)
}

// ReadBytes reads a str or a bin. The result is a sub-slice of the
// Reader's buffer, not a copy: copy it to keep it beyond the buffer's
// life, and do not modify it.
func (r *Reader) ReadBytes() ([]byte, error) {
	k, hdr, n, err := r.head(r.off)
	if err != nil {
		return nil, err
	}
	if k != String && k != Binary {
		return nil, r.errKind(String)
	}
	start := r.off + hdr
	if n > uint64(len(r.buf)-start) {
		return nil, r.errAt(r.off, ErrTruncated, fmt.Sprintf("%s of %d bytes, %d left", k, n, len(r.buf)-start))
	}
	r.off = start + int(n)
	return r.buf[start:r.off:r.off], nil
}

// ReadArrayLen reads an array header and returns the number of elements,
// which the caller then reads. A count larger than the bytes left (each
// element takes at least one) is ErrTruncated, so the count is safe to
// allocate for.
func (r *Reader) ReadArrayLen() (int, error) { return r.collection(Array) }

// ReadMapLen reads a map header and returns the number of entries, whose
// keys and values the caller then reads, alternating. A count larger than
// half the bytes left (each key and each value takes at least one) is
// ErrTruncated, so the count is safe to allocate for.
func (r *Reader) ReadMapLen() (int, error) { return r.collection(Map) }

// collection reads the header of an Array or a Map.
func (r *Reader) collection(want Kind) (int, error) {
	k, hdr, n, err := r.head(r.off)
	if err != nil {
		return 0, err
	}
	if k != want {
		return 0, r.errKind(want)
	}
	if err := r.checkCount(r.off, k, hdr, n); err != nil {
		return 0, err
	}
	r.off += hdr
	return int(n), nil
}

// checkCount checks that n elements of a k at off with a header of hdr
// bytes fit in the bytes left: each array element takes at least one,
// each map entry two.
func (r *Reader) checkCount(off int, k Kind, hdr int, n uint64) *DecodeError {
	need := n
	if k == Map {
		need *= 2
	}
	if left := uint64(len(r.buf) - off - hdr); need > left {
		return r.errAt(off, ErrTruncated, fmt.Sprintf("%s of %d elements, %d bytes left", k, n, left))
	}
	return nil
}

// head decodes the start of the value at off: its kind, its header size
// and its count (String, Binary: bytes; Array, Map: elements). For the
// other kinds hdr is the whole value's size and n is 0. The header is
// known to fit; the count is not checked.
func (r *Reader) head(off int) (k Kind, hdr int, n uint64, err *DecodeError) {
	b := r.buf
	if off >= len(b) {
		return Invalid, 0, 0, r.errAt(off, ErrTruncated, "no value: end of data")
	}
	c := b[off]
	k = kinds[c]
	switch {
	case c <= fixintMax || c >= negFixint || c == fmtNil || c == fmtFalse || c == fmtTrue:
		return k, 1, 0, nil
	case c < fixarray:
		return k, 1, uint64(c & 0x0f), nil
	case c < fixstr:
		return k, 1, uint64(c & 0x0f), nil
	case c < fmtNil:
		return k, 1, uint64(c & 0x1f), nil
	}
	switch c {
	case fmtUint8, fmtInt8:
		hdr = 2
	case fmtUint16, fmtInt16:
		hdr = 3
	case fmtUint32, fmtInt32, fmtFloat32:
		hdr = 5
	case fmtUint64, fmtInt64, fmtFloat64:
		hdr = 9
	case fmtBin8, fmtStr8:
		hdr = 2
	case fmtBin16, fmtStr16, fmtArray16, fmtMap16:
		hdr = 3
	case fmtBin32, fmtStr32, fmtArray32, fmtMap32:
		hdr = 5
	default:
		return Invalid, 0, 0, r.errFormat(off, c)
	}
	if len(b)-off < hdr {
		return Invalid, 0, 0, r.errAt(off, ErrTruncated, fmt.Sprintf("%s needs %d bytes, %d left", k, hdr, len(b)-off))
	}
	switch k {
	case String, Binary, Array, Map:
		switch hdr {
		case 2:
			n = uint64(b[off+1])
		case 3:
			n = uint64(binary.BigEndian.Uint16(b[off+1:]))
		default:
			n = uint64(binary.BigEndian.Uint32(b[off+1:]))
		}
	}
	return k, hdr, n, nil
}

func (r *Reader) errAt(off int, err error, msg string) *DecodeError {
	return &DecodeError{Offset: off, Msg: msg, Err: err}
}

func (r *Reader) errFormat(off int, c byte) *DecodeError {
	switch {
	case c == fmtNever:
		return r.errAt(off, ErrFormat, "format byte 0xc1 is never used")
	case c >= fmtExt8 && c <= fmtExt32, c >= fmtFixext1 && c <= fmtFixext16:
		return r.errAt(off, ErrUnsupported, fmt.Sprintf("ext type (format byte 0x%02x) is not supported", c))
	}
	return r.errAt(off, ErrFormat, fmt.Sprintf("format byte 0x%02x", c))
}

// errKind is the error for finding something other than want.
func (r *Reader) errKind(want Kind) *DecodeError {
	if r.off >= len(r.buf) {
		return r.errAt(r.off, ErrTruncated, fmt.Sprintf("expected %s, found end of data", want))
	}
	c := r.buf[r.off]
	got := kinds[c]
	if got == Invalid {
		return r.errFormat(r.off, c)
	}
	return r.errAt(r.off, ErrType, fmt.Sprintf("expected %s, found %s", want, got))
}
