package wire

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Decode decodes the single value that b holds, which must end exactly
// where b ends (ErrTrailing otherwise), with containers nested at most
// MaxDepth levels. Strings are copies: b may be reused. See
// Reader.ReadValue for what is accepted.
func Decode(b []byte) (any, error) {
	r := Reader{buf: b}
	v, err := r.value(MaxDepth)
	if err != nil {
		return nil, err
	}
	if r.off != len(b) {
		return nil, r.errAt(r.off, ErrTrailing, fmt.Sprintf("%d bytes after the value", len(b)-r.off))
	}
	return v, nil
}

// emptyArray is every decoded empty array: a zero-length slice cannot be
// changed, so sharing it is safe and saves an allocation.
var emptyArray any = []any{}

// ReadValue reads one value as plain data, in which arrays and maps may
// nest maxDepth levels (a container inside maxDepth enclosing containers
// is ErrDepth; with maxDepth 0 only a scalar is accepted):
//
//   - nil, true and false as nil and bool;
//   - every integer form as int64; an unsigned value above 2^63-1 is ErrRange;
//   - float 64 as float64, float 32 widened to float64;
//   - str and bin as string, byte for byte;
//   - array as []any (a non-nil, possibly empty slice);
//   - map as map[string]any; a key that is not a str or bin is ErrType,
//     a key that occurs twice ErrDuplicateKey;
//   - ext types (timestamps included) are ErrUnsupported, the byte 0xc1
//     ErrFormat.
//
// The work and memory it spends are proportional to the bytes it reads.
// It recurses once per level of nesting: maxDepth is meant to be small
// (MaxDepth for content), never a bound taken from the input.
func (r *Reader) ReadValue(maxDepth int) (any, error) {
	v, err := r.value(maxDepth)
	if err != nil {
		return nil, err // not a typed nil
	}
	return v, nil
}

// value reads one value in which containers may nest depth more levels.
func (r *Reader) value(depth int) (any, *DecodeError) {
	b, off := r.buf, r.off
	if off >= len(b) {
		return nil, r.errAt(off, ErrTruncated, "no value: end of data")
	}
	// The one-byte headers first, without going through head.
	switch c := b[off]; {
	case c <= fixintMax:
		r.off++
		return int64(c), nil
	case c >= negFixint:
		r.off++
		return int64(int8(c)), nil
	case c >= fixstr && c < fmtNil:
		n := int(c & 0x1f)
		if n > len(b)-off-1 {
			return nil, r.errAt(off, ErrTruncated, fmt.Sprintf("string of %d bytes, %d left", n, len(b)-off-1))
		}
		r.off += 1 + n
		return r.str(b[off+1 : r.off]), nil
	case c == fmtNil:
		r.off++
		return nil, nil
	case c == fmtFalse:
		r.off++
		return false, nil
	case c == fmtTrue:
		r.off++
		return true, nil
	case c == fmtFloat64:
		if len(b)-off < 9 {
			return nil, r.errAt(off, ErrTruncated, fmt.Sprintf("float needs 9 bytes, %d left", len(b)-off))
		}
		r.off += 9
		return math.Float64frombits(binary.BigEndian.Uint64(b[off+1:])), nil
	}
	k, hdr, n, err := r.head(off)
	if err != nil {
		return nil, err
	}
	switch k {
	case Int:
		i, err := r.ReadInt()
		if err != nil {
			return nil, err.(*DecodeError)
		}
		return i, nil
	case Float:
		f, err := r.ReadFloat()
		if err != nil {
			return nil, err.(*DecodeError)
		}
		return f, nil
	case String, Binary:
		p, err := r.ReadBytes()
		if err != nil {
			return nil, err.(*DecodeError)
		}
		return r.str(p), nil
	}
	// Array or Map
	if depth <= 0 {
		return nil, r.errAt(off, ErrDepth, fmt.Sprintf("%s nested deeper than the limit", k))
	}
	if err := r.checkCount(off, k, hdr, n); err != nil {
		return nil, err
	}
	r.off += hdr
	if k == Array {
		if n == 0 {
			return emptyArray, nil
		}
		a := make([]any, n)
		for i := range a {
			x, err := r.value(depth - 1)
			if err != nil {
				return nil, err
			}
			a[i] = x
		}
		return a, nil
	}
	m := make(map[string]any, n)
	for i := 1; i <= int(n); i++ {
		koff := r.off
		key, err := r.key()
		if err != nil {
			return nil, err
		}
		x, err := r.value(depth - 1)
		if err != nil {
			return nil, err
		}
		m[key] = x
		if len(m) != i {
			return nil, r.errAt(koff, ErrDuplicateKey, fmt.Sprintf("map key %q occurs twice", key))
		}
	}
	return m, nil
}

// key reads a map key, which must be a string.
func (r *Reader) key() (string, *DecodeError) {
	b, off := r.buf, r.off
	if off < len(b) {
		if c := b[off]; c >= fixstr && c < fmtNil { // the common case
			n := int(c & 0x1f)
			if n <= len(b)-off-1 {
				r.off += 1 + n
				return r.str(b[off+1 : r.off]), nil
			}
		}
	}
	p, err := r.ReadBytes()
	if err != nil {
		if e := err.(*DecodeError); e.Err != ErrType {
			return "", e
		}
		k, _ := r.PeekKind()
		return "", r.errAt(off, ErrType, "map key is "+k.withArticle()+", not a string")
	}
	return r.str(p), nil
}

// withArticle names k in a sentence: "an integer", "nil".
func (k Kind) withArticle() string {
	switch k {
	case Nil:
		return "nil"
	case Int, Array:
		return "an " + k.String()
	}
	return "a " + k.String()
}

// Skip passes over the next value, whatever it holds and however deeply
// it nests, in time proportional to its size and without allocating. It
// checks that the value is complete and uses only supported formats, not
// what ReadValue checks beyond that (depth, key types, duplicate keys).
func (r *Reader) Skip() error {
	off := r.off
	for pending := uint64(1); pending > 0; pending-- {
		k, hdr, n, err := r.head(off)
		if err != nil {
			return err
		}
		switch k {
		case String, Binary:
			if n > uint64(len(r.buf)-off-hdr) {
				return r.errAt(off, ErrTruncated, fmt.Sprintf("%s of %d bytes, %d left", k, n, len(r.buf)-off-hdr))
			}
			off += int(n)
		case Array, Map:
			if err := r.checkCount(off, k, hdr, n); err != nil {
				return err
			}
			if k == Map {
				n *= 2
			}
			pending += n
			if pending-1 > uint64(len(r.buf)-off-hdr) {
				return r.errAt(off, ErrTruncated, fmt.Sprintf("%d values pending, %d bytes left", pending-1, len(r.buf)-off-hdr))
			}
		}
		off += hdr
	}
	r.off = off
	return nil
}
